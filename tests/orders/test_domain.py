"""The order rules on their own: the state machine, ranking, clearance assessment, file checks."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from clearway.services.orders import domain, scanning
from clearway.services.orders.domain import Action, Party, State


def test_every_action_names_its_parties_and_sources() -> None:
    assert domain.decide(State.SUBMITTED, Action.QUOTE, Party.PROVIDER, None) is State.QUOTED
    with pytest.raises(domain.Forbidden):
        domain.decide(State.SUBMITTED, Action.QUOTE, Party.CUSTOMER, None)
    with pytest.raises(domain.Conflict):
        domain.decide(State.COMPLETED, Action.CANCEL, Party.ADMIN, "x")
    with pytest.raises(domain.Invalid):
        domain.decide(State.SUBMITTED, Action.CANCEL, Party.CUSTOMER, "  ")
    for action, transition in domain.TRANSITIONS.items():
        assert action in domain.EVENT_OF
        for sources in transition.allowed.values():
            assert not sources & domain.TERMINAL, action


def test_ranking_prefers_coverage_then_market_then_turnaround() -> None:
    needed = [domain.Requirement(c, c, "test_report", True, True) for c in ("A", "B")]

    def provider(
        pid: str, codes: set[str], markets: set[str], days: int
    ) -> domain.ProviderCoverage:
        return domain.ProviderCoverage(pid, frozenset(codes), frozenset(), frozenset(markets), days)

    ranked = domain.rank_providers(
        [
            provider("slow-full", {"A", "B"}, {"EU"}, 30),
            provider("fast-full", {"A", "B"}, {"EU"}, 3),
            provider("full-elsewhere", {"A", "B"}, {"US"}, 1),
            provider("half", {"A"}, {"EU"}, 1),
            provider("none", {"Z"}, {"EU"}, 1),
        ],
        needed,
        "EU",
    )
    assert [m.provider_id for m in ranked] == ["fast-full", "slow-full", "full-elsewhere", "half"]
    evidence_type = domain.ProviderCoverage("t", frozenset(), frozenset({"test_report"}),
                                            frozenset(), None)  # fmt: skip
    assert domain.covers(evidence_type, needed[0])


def test_assessment_uses_only_valid_reports() -> None:
    checklist = domain.Checklist("c", "o", "EU", "851822", (
        domain.Requirement("A", "A", "t", True, True),
        domain.Requirement("B", "B", "t", False, False),  # conditional, does not apply
    ))  # fmt: skip
    today = date(2030, 1, 1)
    done = domain.State.COMPLETED
    good = domain.Evidence("r1", frozenset({"A"}), "EU", "851822", date(2031, 1, 1), False, done)
    elsewhere = domain.Evidence(
        "r2", frozenset({"A"}), "US", "851822", date(2031, 1, 1), False, done
    )
    old = domain.Evidence("r3", frozenset({"A"}), "EU", "851822", date(2029, 1, 1), False, done)
    running = domain.Evidence(
        "r4", frozenset({"A"}), "EU", "851822", date(2031, 1, 1), False, domain.State.IN_PROGRESS
    )
    assert domain.assess_clearance(checklist, [good], today).complete
    refused = domain.assess_clearance(checklist, [elsewhere, old, running], today)
    assert [r.code for r in refused.missing] == ["A"]
    assert set(refused.rejected) == {"r2", "r3", "r4"}
    # Nothing applies: nothing a clearance could rest on.
    uncovered = domain.Checklist("c", "o", "AQ", "851822", checklist.requirements[1:])
    with pytest.raises(domain.Invalid) as refusal:
        domain.assess_clearance(uncovered, [good], today)
    assert refusal.value.code == "cannot-clear"


def _office(folder: str, extra: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(f"{folder}/document.xml", "<x/>")
        if extra:
            archive.writestr(extra, "x")
    return buffer.getvalue()


async def test_office_files_are_sniffed_and_macros_refused() -> None:
    assert scanning.sniff(_office("word")) == scanning.DOCX
    assert scanning.sniff(_office("xl")) == scanning.XLSX
    assert scanning.sniff(b"PK\x03\x04broken") is None
    upload = scanning.check_upload("report.docx", scanning.DOCX, _office("word"), 10_000)
    assert (await scanning.SignatureScanner().scan(upload)).clean
    macro = scanning.check_upload(
        "m.docx", scanning.DOCX, _office("word", "word/vbaProject.bin"), 10_000
    )
    assert not (await scanning.SignatureScanner().scan(macro)).clean
    csv = scanning.check_upload("data.csv", "text/csv; charset=utf-8", b"a,b\n1,2\n", 100)
    assert csv.content_type == "text/csv"
