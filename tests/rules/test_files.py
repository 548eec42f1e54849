"""Rule files: errors with file and line, all or nothing, dry run, round trip, hostile files."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Api, bearer
from tests.rules.support import codes, search

GOOD = """\
format: clearway-rules/1
questions:
  waterproof: Is the product waterproof?
rules:
  - code: T-FILE-1
    market: NZ
    title: First
    legal_reference: Test Act 2024, section 1
    authority: Test authority
    evidence_type: certificate
    issuers: [Lab]
    hs_codes: ["8518"]
    conditions: {waterproof: yes}
  - code: T-FILE-2
    market: NZ
    title: Second
    legal_reference: Test Act 2024, section 2
    authority: Test authority
    evidence_type: labelling
    issuers: [Maker]
    categories: [toys]
    status: draft
"""


async def upload(
    api: Api, admin: str, body: bytes | str, filename: str = "rules.yaml", dry_run: bool = False
) -> httpx.Response:
    return await api.client.post(
        "/api/rules/admin/import",
        params={"filename": filename, "dry_run": str(dry_run).lower()},
        content=body.encode() if isinstance(body, str) else body,
        headers=bearer(admin),
    )


async def test_dry_run_shows_changes_and_stores_nothing(api: Api) -> None:
    admin = await api.admin_token()
    response = await upload(api, admin, GOOD, dry_run=True)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()
    assert report["dry_run"] and report["counts"] == {"create": 2}
    assert report["items"][0]["line"] == 5
    assert codes(await search(api, hs_code="8518")) == []
    applied = await upload(api, admin, GOOD)
    assert applied.json()["counts"] == {"create": 2}
    [found] = (await search(api, hs_code="8518"))["items"]
    assert (
        found["code"] == "T-FILE-1"
        and found["questions"][0]["text"] == "Is the product waterproof?"
    )
    assert (await upload(api, admin, GOOD)).json()["counts"] == {"unchanged": 2}


async def test_errors_name_file_and_line_and_nothing_is_stored(api: Api) -> None:
    admin = await api.admin_token()
    broken = GOOD.replace('hs_codes: ["8518"]', 'hs_codes: ["85x"]').replace(
        "categories: [toys]", "categories: [rockets]"
    )
    response = await upload(api, admin, broken, filename="bad.yaml")
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["file"], e["line"]) for e in errors] == [("bad.yaml", 12), ("bad.yaml", 21)]
    assert "85x" in errors[0]["message"] and "rockets" in errors[1]["message"]
    assert codes(await search(api, hs_code="8518")) == []
    csv = "code,market,title\nT-C1,NZ,One\nT-C2,Narnia,Two\n"
    response = await upload(api, admin, csv, filename="bad.csv")
    assert response.status_code == 422
    lines = {e["line"] for e in response.json()["errors"]}
    assert 3 in lines and 2 in lines  # T-C1 lacks required fields; T-C2 also has a bad market


async def test_export_imports_back_unchanged_in_both_formats(api: Api) -> None:
    admin = await api.admin_token()
    await upload(api, admin, GOOD)
    for fmt in ("yaml", "csv"):
        exported = await api.client.get(
            "/api/rules/admin/export", params={"format": fmt}, headers=bearer(admin)
        )
        assert exported.status_code == 200
        report = await upload(api, admin, exported.content, filename=f"all.{fmt}", dry_run=True)
        assert report.status_code == 200, report.text
        assert set(report.json()["counts"]) == {"unchanged"}, report.json()["counts"]
        assert report.json()["counts"]["unchanged"] > 100


async def test_hostile_files_are_refused(api: Api) -> None:
    admin = await api.admin_token()
    nested = "rules:\n" + "".join("  " * i + "- \n" for i in range(1, 40))
    laughs = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nrules: [*c]\n'
    for body, name, status in (
        (nested, "deep.yaml", 422),
        ("[" * 5000 + "]" * 5000, "flow.yaml", 422),
        (laughs, "laughs.yaml", 422),
        ("!!python/object/apply:os.system ['true']", "evil.yaml", 422),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image.yaml", 415),
        (b"\xff\xfe\xfa", "latin.csv", 415),
        ("x" * 2_000_000, "huge.yaml", 413),
        ("rules: []", "rules.exe", 415),
    ):
        response = await upload(api, admin, body, filename=name)
        assert response.status_code == status, (name, response.text[:200])
        assert response.headers["content-type"] == "application/problem+json"
