"""The route table and the services agree: every entry is served, every external route listed.

A route a service serves but the table lacks is unreachable; an entry no service serves is a
404 from the service behind a route the gateway promises. Internal routes (for other
services) live under `/internal/` and never appear in the table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from clearway.gateway.routes import ROUTES, Route, RouteTable, route
from clearway.runtime.platform import Platform
from tests.conftest import test_settings

INTERNAL = "/internal/"


def _routes(api: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route of a service app, through included routers too."""
    contexts: Iterable[Any]
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that keeps included routes flat
        contexts = api.routes
    else:
        contexts = iter_route_contexts(api.routes)
    for served in contexts:
        for method in getattr(served, "methods", None) or ():
            yield method, served.path


def _served(tmp_path: Path) -> Counter[tuple[str, str, str]]:
    """(service, method, path) of every route the services serve, with how often."""
    platform = Platform(test_settings(tmp_path))
    return Counter(
        (name, method, path)
        for name, host in platform.hosted.items()
        for method, path in _routes(host.service.api)
    )


def unserved(routes: Sequence[Route], served: Counter[tuple[str, str, str]]) -> list[str]:
    """Entries not served by exactly one route, of their service, with their method and path."""
    anywhere = Counter[tuple[str, str]]()
    for (_, method, path), count in served.items():
        anywhere[(method, path)] += count
    return [
        f"{r.method} {r.path} ({r.service})"
        for r in routes
        if served[(r.service, r.method, r.path)] != 1 or anywhere[(r.method, r.path)] != 1
    ]


def unlisted(routes: Sequence[Route], served: Counter[tuple[str, str, str]]) -> list[str]:
    """External service routes without an entry."""
    listed = {(r.service, r.method, r.path) for r in routes}
    return [
        f"{method} {path} ({service})"
        for service, method, path in served
        if not path.startswith(INTERNAL) and (service, method, path) not in listed
    ]


def test_the_route_table_and_the_services_agree(tmp_path: Path) -> None:
    served = _served(tmp_path)
    assert unserved(ROUTES, served) == []
    assert unlisted(ROUTES, served) == []
    assert not [r for r in ROUTES if r.path.startswith(INTERNAL)]
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES), "an entry is listed twice"


def test_the_check_would_see_a_missing_entry_or_a_missing_route(tmp_path: Path) -> None:
    served = _served(tmp_path)
    assert ("identity", "GET", "/internal/identity/revocations") in served
    orders = next(r for r in ROUTES if (r.method, r.path) == ("POST", "/api/orders/orders"))
    assert unlisted([r for r in ROUTES if r is not orders], served) == [
        "POST /api/orders/orders (orders)"
    ]
    assert unserved(ROUTES, served - Counter({("orders", "POST", "/api/orders/orders"): 1})) == [
        "POST /api/orders/orders (orders)"
    ]
    moved = route("POST", "/api/orders/orders", "rules", orders.allow)
    assert unserved([moved], served) == ["POST /api/orders/orders (rules)"]
    twice = served + Counter({("rules", "POST", "/api/orders/orders"): 1})
    assert unserved([orders], twice) == ["POST /api/orders/orders (orders)"]


def test_match_finds_a_route_or_none_and_methods_tell_405_from_404() -> None:
    table = RouteTable()
    found = table.match("GET", "/api/orders/orders/o1")
    assert found is not None
    assert (found.service, found.path) == ("orders", "/api/orders/orders/{order_id}")
    assert table.match("GET", "/api/identity/login") is None
    assert table.methods_for("/api/identity/login") == ["POST"]
    assert table.match("GET", "/api/no/such/route") is None
    assert table.methods_for("/api/no/such/route") == []
