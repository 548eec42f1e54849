"""Every shipped requirement cites its official text with a link to that text, not to a
publisher's front door.

The rule applied: a requirement's `url` fails when it is only a site's root (no path, or `/`) or
one of the known generic pages below (a publisher's home or search page, which names no act).
A deep link is the act's own address on the official publisher: a Fedlex ELI
(`https://www.fedlex.admin.ch/eli/cc/<year>/<number>/<lang>`), a Federal Register of
Legislation ID (`https://www.legislation.gov.au/<ID>/latest/text`), a Légifrance
`JORFTEXT` or a Normattiva URN, the Eurasian Economic Commission's page of one technical
regulation, a State Council document page, and so on. Several requirements may share one link
when they cite the same act.

`UNRESOLVED` lists the requirements whose act could not be given its exact official address
from evidence yet, each with the reason. It may only shrink: a test fails when an entry is no
longer needed (its link was deepened, or the rule is gone), so the list never hides a fix.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import yaml

from clearway.services.rules.rule_files import rule_files
from clearway.services.rules.snapshot import DATA

# Pages that name no act: a publisher's home or search page under a path.
GENERIC_PAGES = {
    ("openstd.samr.gov.cn", "/bzgk/gb/index"),  # national standards full-text system: search
    ("www.gov.br", "/inmetro/pt-br"),  # INMETRO home page
    ("eec.eaeunion.org", "/comission/department/deptexreg/tr/tr_general.php"),  # all TRs
}

_EEC = "no EEC page or EAEU legal portal address found: the sources searched name the decision only"
_GB = (
    "GB standard: no source ties it to its openstd.samr.gov.cn hcno or its std.samr.gov.cn page"
    " (public code searched for the standard number, its Chinese title and openstd links)"
)

UNRESOLVED: dict[str, str] = {
    # Eurasian Economic Union
    "EAEU-TR-EAEU-037": _EEC + " (TR EAEU 037/2016, Decision No. 113)",
    "EAEU-TR-CU-008": _EEC + " (TR CU 008/2011, Decision No. 798)",
    "EAEU-TR-CU-005": _EEC + " (TR CU 005/2011, Decision No. 769)",
    "EAEU-TR-CU-019": _EEC + " (TR CU 019/2011, Decision No. 878)",
    # China
    "CN-TOYS": _GB + " (GB 6675.1-2014 to GB 6675.4-2014)",
    "CN-TEXTILE": _GB + " (GB 18401-2010)",
    "CN-CHILD-TEXTILE": _GB + " (GB 31701-2015)",
    "CN-EXCESSIVE-PACKAGING": _GB + " (GB 23350-2021)",
    "CN-LEATHER": _GB + " (GB 20400-2006)",
    # Brazil
    "BR-INMETRO-APPLIANCES": (
        "address of the text of Portaria Inmetro nº 148/2022 (RTAC002961) not found"
    ),
}


def _shipped_sources() -> dict[str, str]:
    """Each shipped requirement's code and source URL, straight from the rule files."""
    sources: dict[str, str] = {}
    for path in rule_files(DATA / "rules"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in document.get("rules") or []:
            sources[rule["code"]] = rule["url"]
    return sources


def _is_generic(url: str) -> bool:
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower()
    return not path or (parts.netloc.lower(), path) in GENERIC_PAGES


SOURCES = _shipped_sources()


@pytest.mark.parametrize(
    ("url", "generic"),
    [
        ("https://www.fedlex.admin.ch/", True),
        ("http://www.customs.gov.cn", True),
        ("https://openstd.samr.gov.cn/bzgk/gb/index", True),
        ("https://www.fedlex.admin.ch/eli/cc/2016/24/de", False),
        ("https://www.legislation.gov.au/F2020L01656/latest/text", False),
    ],
)
def test_the_rule_tells_a_front_door_from_a_deep_link(url: str, generic: bool) -> None:
    assert _is_generic(url) is generic


def test_the_rule_base_is_read() -> None:
    assert len(SOURCES) > 250


def test_every_requirement_links_to_its_official_text() -> None:
    generic = {code: url for code, url in SOURCES.items() if _is_generic(url)}
    unlisted = {code: url for code, url in generic.items() if code not in UNRESOLVED}
    assert not unlisted, f"link to the act's own text, not to the publisher: {unlisted}"


def test_the_unresolved_list_only_shrinks() -> None:
    stale = sorted(code for code in UNRESOLVED if not _is_generic(SOURCES.get(code, "x:/deep")))
    assert not stale, f"deepened or removed: drop from UNRESOLVED: {stale}"
