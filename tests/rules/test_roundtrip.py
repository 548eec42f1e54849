"""Export -> import is the identity for every state a rule can reach (property-based), the
CLI writes a clean file to stdout, and what export and PATCH accept is what they should."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearway.settings import Settings
from tests.conftest import Api, bearer
from tests.rules.support import MARKET, create
from tests.rules.test_files import upload

PAST, FUTURE, LATER = "2020-03-01T00:00:00Z", "2031-06-01T00:00:00Z", "2033-01-01T00:00:00Z"

# One step of a rule's life as an administrator can take it; refused steps (409/422: e.g.
# publishing what is not a draft) leave the rule as it was, which is a state too.
steps = st.one_of(
    st.tuples(
        st.just("publish"),
        st.sampled_from([None, PAST, FUTURE]),  # effective_from (None: now)
        st.sampled_from([None, LATER]),  # effective_to
    ),
    st.tuples(st.just("retire"), st.sampled_from([None, FUTURE, LATER]), st.none()),
    st.tuples(st.just("edit"), st.sampled_from(["notes", "url", "validity_months"]), st.none()),
)
codes = itertools.count(1)


async def _take(api: Api, admin: str, code: str, step: tuple[str, Any, Any]) -> None:
    action, first, second = step
    path = f"/api/rules/admin/rules/{code}"
    if action == "publish":
        window = {k: v for k, v in (("effective_from", first), ("effective_to", second)) if v}
        response = await api.client.post(f"{path}/publish", json=window, headers=bearer(admin))
    elif action == "retire":
        body = {"effective_to": first} if first else {}
        response = await api.client.post(f"{path}/retire", json=body, headers=bearer(admin))
    else:
        value = {"notes": "Changed.", "url": "https://example.org/x", "validity_months": 12}
        response = await api.client.patch(path, json={first: value[first]}, headers=bearer(admin))
    assert response.status_code in (200, 409, 422), response.text


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(lives=st.lists(st.lists(steps, max_size=4), min_size=1, max_size=3))
async def test_export_then_import_changes_nothing_whatever_the_rules_went_through(
    api: Api, lives: list[list[tuple[str, Any, Any]]]
) -> None:
    admin = await api.admin_token()
    made = []
    for life in lives:
        code = f"T-LIFE-{next(codes)}"
        await create(api, admin, code=code, measure="labelling")
        for step in life:
            await _take(api, admin, code, step)
        made.append(code)
    for fmt in ("yaml", "csv"):
        exported = await api.client.get(
            "/api/rules/admin/export",
            params={"format": fmt, "market": MARKET},
            headers=bearer(admin),
        )
        assert exported.status_code == 200
        text = exported.text
        report = await upload(api, admin, text, filename=f"again.{fmt}", dry_run=True)
        assert report.status_code == 200, (fmt, text, report.text)
        actions = {item["code"]: item["action"] for item in report.json()["items"]}
        assert all(actions[code] == "unchanged" for code in made), (fmt, actions, text)


async def test_a_future_rule_retired_before_it_starts_exports_a_valid_window(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-NEVER")
    await api.client.post(
        "/api/rules/admin/rules/T-NEVER/publish",
        json={"effective_from": FUTURE},
        headers=bearer(admin),
    )
    retired = await api.client.post(
        "/api/rules/admin/rules/T-NEVER/retire", json={}, headers=bearer(admin)
    )
    assert retired.status_code == 200
    [version] = retired.json()["versions"]
    assert version["status"] == "retired" and version["effective_to"] is None
    exported = await api.client.get(
        "/api/rules/admin/export", params={"market": "NZ"}, headers=bearer(admin)
    )
    assert "effective_to" not in exported.text and "effective_from: 2031-06-01" in exported.text
    report = await upload(api, admin, exported.text, filename="again.yaml", dry_run=True)
    assert report.json()["counts"] == {"unchanged": 1}


async def test_export_of_an_unknown_market_is_422_like_search(api: Api) -> None:
    admin = await api.admin_token()
    for market in ("XX", "Narnia"):
        for path in ("/api/rules/admin/export", "/api/rules/admin/rules"):
            response = await api.client.get(path, params={"market": market}, headers=bearer(admin))
            assert response.status_code == 422, (path, market)
            assert response.headers["content-type"] == "application/problem+json"
    germany = await api.client.get(
        "/api/rules/admin/rules", params={"market": "eu"}, headers=bearer(admin)
    )
    assert germany.status_code == 200 and germany.json()["total"] > 0


async def test_patch_tells_absent_from_null(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-PATCH", notes="Keep me.", url="https://example.org/a")
    path = "/api/rules/admin/rules/T-PATCH"
    # absent: unchanged
    same = await api.client.patch(
        path, json={"title": "Requirement T-PATCH"}, headers=bearer(admin)
    )
    assert same.status_code == 200 and same.json()["notes"] == "Keep me."
    # null on an optional field clears it, the others stay
    cleared = await api.client.patch(path, json={"notes": None}, headers=bearer(admin))
    assert cleared.status_code == 200
    assert cleared.json()["notes"] is None and cleared.json()["url"] == "https://example.org/a"
    # null on a required field is refused, and nothing changes
    for field in ("title", "issuers", "market", "evidence_type"):
        refused = await api.client.patch(path, json={field: None}, headers=bearer(admin))
        assert refused.status_code == 422, field
        assert field in refused.text
    # null operators fall back to the default, as when absent at creation
    reset = await api.client.patch(path, json={"operators": None}, headers=bearer(admin))
    assert reset.json()["operators"] == ["manufacturer", "importer"]
    current = await api.client.get(path, headers=bearer(admin))
    assert current.json()["versions"][-1]["title"] == "Requirement T-PATCH"


CLI = [sys.executable, "-c", "from clearway.cli import main; main()"]


def test_cli_export_writes_only_the_file_to_stdout_and_it_imports_back(
    settings: Settings, tmp_path: Path
) -> None:
    env = {**os.environ, "CLEARWAY_DATA_DIR": str(settings.data_dir)}
    # The command opens the rules service on the platform's key store, as the platform does.
    assert settings.root_secret is not None
    env["CLEARWAY_ROOT_SECRET"] = settings.root_secret.get_secret_value()
    if settings.database_url:
        env["CLEARWAY_DATABASE_URL"] = settings.database_url
    exported = subprocess.run(
        [*CLI, "rules", "export", "--format", "csv"],
        capture_output=True,
        env=env,
        timeout=300,
        check=True,
    )
    text = exported.stdout.decode()
    assert text.startswith("code,market,title,"), text[:80]
    path = tmp_path / "f.csv"
    path.write_bytes(exported.stdout)
    again = subprocess.run(
        [*CLI, "rules", "import", "--dry-run", str(path)],
        capture_output=True,
        env={**env, "COLUMNS": "200"},
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stdout.decode() + again.stderr.decode()
    rules = text.count("\n") - 1
    assert f"{rules} rules read, 0 would change." in again.stdout.decode()


async def test_dates_outside_1900_to_2100_are_refused(api: Api) -> None:
    admin = await api.admin_token()
    await create(api, admin, code="T-FAR")
    path = "/api/rules/admin/rules/T-FAR"
    for window in ({"effective_to": "9999-12-31T00:00:00Z"}, {"effective_from": "0001-01-01"}):
        response = await api.client.post(f"{path}/publish", json=window, headers=bearer(admin))
        assert response.status_code == 422, window
    far = await api.client.post(
        f"{path}/retire", json={"effective_to": "9999-12-31T00:00:00Z"}, headers=bearer(admin)
    )
    assert far.status_code == 422
    patched = await api.client.patch(
        path, json={"last_verified": "9999-12-31"}, headers=bearer(admin)
    )
    assert patched.status_code == 422
    exported = await api.client.get(
        "/api/rules/admin/export", params={"market": MARKET}, headers=bearer(admin)
    )
    forged = exported.text.replace("status: draft", "status: draft\n  effective_to: 9999-12-31")
    report = await upload(api, admin, forged, filename="far.yaml", dry_run=True)
    assert report.status_code == 422 and "1900 to 2100" in report.text
