"""Kept search answers: the same bytes for the same query, an event per search, and never stale
after a publish, a retirement or the moment a version enters or leaves force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from clearway.services.rules.answers import Answer, Answers, Key
from clearway.services.rules.domain import Invalid
from tests.conftest import Api, bearer
from tests.rules.conftest import Served
from tests.rules.support import MARKET, codes, create, publish, search
from tests.support import capture_published


async def body(api: Api, **params: Any) -> bytes:
    params.setdefault("market", MARKET)
    response = await api.client.get("/api/rules/search", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.content


async def test_the_same_search_gives_the_same_bytes_and_an_event_each_time(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = served.api
    published = capture_published(api.platform, monkeypatch)
    token = await api.customer("twice@example.com")
    params = {"market": "EU", "hs_code": "8518.22"}
    first = await api.client.get("/api/rules/search", params=params)
    second = await api.client.get("/api/rules/search", params=params, headers=bearer(token))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert "EU-RED" in codes(second.json())
    assert len(served.rules.snapshot.answers) == 1  # the second was the kept answer
    await api.platform.hosted["rules"].telemetry.flush()
    searches = [e.data for e in published if e.type == "search.performed"]
    assert len(searches) == 2
    assert [s["role"] for s in searches] == ["anonymous", "customer"]  # per search, not kept
    for search_event in searches:
        assert search_event["hs_code"] == "851822" and search_event["market"] == "EU"


async def test_publishing_and_retiring_change_the_next_answer(api: Api) -> None:
    admin = await api.admin_token()
    assert codes(await search(api, hs_code="8518")) == []
    await create(api, admin, code="T-NEW")
    assert codes(await search(api, hs_code="8518")) == []  # a draft changes nothing
    await publish(api, admin, "T-NEW")
    assert codes(await search(api, hs_code="8518")) == ["T-NEW"]
    retired = await api.client.post("/api/rules/admin/rules/T-NEW/retire", headers=bearer(admin))
    assert retired.status_code == 200
    assert codes(await search(api, hs_code="8518")) == []


async def test_an_answer_changes_when_a_version_enters_or_leaves_force(served: Served) -> None:
    api = served.api
    admin = await api.admin_token()
    now = datetime.now(UTC)
    starts, ends = now + timedelta(minutes=5), now + timedelta(minutes=10)
    await create(api, admin, code="T-SOON")
    await publish(
        api, admin, "T-SOON", effective_from=starts.isoformat(), effective_to=ends.isoformat()
    )
    answers = served.rules.snapshot.answers
    assert codes(await search(api, hs_code="8518")) == []
    assert codes(await search(api, hs_code="8518")) == []  # kept, still right

    answers.clock = lambda: starts  # no publish in between: only time passes
    [item] = (await search(api, hs_code="8518"))["items"]
    assert item["code"] == "T-SOON"
    assert item["effective_from"].startswith(starts.isoformat()[:19])

    answers.clock = lambda: ends  # in force until `effective_to`, exclusive
    assert codes(await search(api, hs_code="8518")) == []

    answers.clock = lambda: starts + timedelta(minutes=1)  # a clock set back is not trusted
    assert codes(await search(api, hs_code="8518")) == ["T-SOON"]


async def test_limit_offset_market_and_the_query_as_typed_are_separate_answers(api: Api) -> None:
    admin = await api.admin_token()
    for code, hs in (("T-A", "85"), ("T-B", "8518"), ("T-C", "851822")):
        await create(api, admin, code=code, hs_codes=[hs])
        await publish(api, admin, code)
    whole = await search(api, hs_code="851822")
    assert codes(whole) == ["T-C", "T-B", "T-A"]
    first = await search(api, hs_code="851822", limit=1)
    second = await search(api, hs_code="851822", limit=1, offset=1)
    assert codes(first) == ["T-C"] and codes(second) == ["T-B"]
    assert (first["limit"], second["offset"]) == (1, 1)
    eu = await search(api, market="EU", hs_code="851822")
    assert eu["market"]["code"] == "EU" and "T-C" not in codes(eu)

    # The body echoes the query as typed, so spellings of one code are separate answers.
    dotted = await search(api, hs_code="8518.22")
    typed = await search(api, q="8518.22")
    assert codes(dotted) == codes(typed) == codes(whole)
    assert whole["query"]["hs_code"] == "851822" and dotted["query"]["hs_code"] == "8518.22"
    assert typed["query"] == {"q": "8518.22", "hs_code": "851822", "category": None}
    assert len({await body(api, hs_code=h) for h in ("851822", "8518.22", "8518 22")}) == 3


async def test_bad_input_is_refused_each_time_and_never_kept(served: Served) -> None:
    api = served.api
    for _ in range(2):
        response = await api.client.get(
            "/api/rules/search", params={"market": "Atlantis", "hs_code": "8518"}
        )
        assert response.status_code == 422
    assert len(served.rules.snapshot.answers) == 0


# --- the cache on its own ----------------------------------------------------------------


def key(n: int) -> Key:
    return (MARKET, "8518", None, None, 20, n)


def test_the_number_of_answers_is_bounded_least_recently_used_first() -> None:
    answers = Answers(size=3)
    rendered: list[int] = []

    def get(n: int) -> Answer:
        def render(now: datetime) -> Answer:
            rendered.append(n)
            return Answer(f"a{n}".encode(), None, None, MARKET)

        return answers.get(key(n), render)

    for n in (0, 1, 2, 0, 3):  # 0 used again, so 1 is the least recently used when 3 comes
        get(n)
    assert rendered == [0, 1, 2, 3] and len(answers) == 3
    for n in (0, 2, 3):
        assert get(n).body == f"a{n}".encode()
    assert rendered == [0, 1, 2, 3]  # kept
    get(1)
    assert rendered == [0, 1, 2, 3, 1] and len(answers) == 3  # 1 went, and came back


def test_an_error_while_rendering_keeps_nothing() -> None:
    answers = Answers()

    def fail(now: datetime) -> Answer:
        raise Invalid("unknown-market", "no such market")

    with pytest.raises(Invalid):
        answers.get(key(0), fail)
    assert len(answers) == 0
