"""The contracts between services: one place for every event, checked against the code.

An event type written as a string anywhere in `src/` but the contracts would be a seam the
type checker cannot see; the catalogue of subscribers must be what the services really
subscribe; the contracts depend on nothing but the kit's event base and pydantic.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from click.testing import CliRunner

from clearway import contracts
from clearway.cli import main
from clearway.contracts import catalogue, common, identity, orders
from clearway.kit.bus.events import BATCH_SUFFIX
from clearway.runtime.platform import Platform
from clearway.services.identity import domain as identity_domain
from clearway.services.orders import domain as orders_domain
from tests.conftest import Api, test_settings

SRC = Path(__file__).parent.parent / "src" / "clearway"
CONTRACTS = SRC / "contracts"
TYPES = {event.TYPE for event in contracts.EVENTS}
# Anything shaped like an event of a family the contracts know, so a type added elsewhere
# (not yet a contract) is caught as well.
FAMILIES = sorted({kind.split(".")[0] for kind in TYPES})
LOOKS_LIKE_AN_EVENT = re.compile(rf"^({'|'.join(FAMILIES)})\.[a-z_]+(\.batch)?$")


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_event_type_is_written_outside_the_contracts() -> None:
    found = [
        f"{path.relative_to(SRC.parent)}:{line}: {value!r}"
        for path in sorted(SRC.rglob("*.py"))
        if CONTRACTS not in path.parents
        for line, value in _strings(path)
        if value in TYPES or LOOKS_LIKE_AN_EVENT.match(value)
    ]
    assert found == [], "use the event classes of clearway.contracts:\n" + "\n".join(found)


def test_the_literal_check_would_see_one() -> None:
    # The check above proves something only if it recognises what it looks for.
    assert LOOKS_LIKE_AN_EVENT.match("order.created")
    assert LOOKS_LIKE_AN_EVENT.match("order.archived")  # a new type, not yet a contract
    assert LOOKS_LIKE_AN_EVENT.match("gateway.request" + BATCH_SUFFIX)
    assert not LOOKS_LIKE_AN_EVENT.match("clearway.orders")


def test_contracts_import_only_the_event_base_pydantic_and_the_standard_library() -> None:
    allowed = ("clearway.contracts", "clearway.kit.bus.contract", "pydantic")
    stdlib = {"__future__", "collections.abc", "datetime", "typing", "urllib.parse", "enum"}
    wrong = []
    for path in sorted(CONTRACTS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                if module not in stdlib and not module.startswith(allowed):
                    wrong.append(f"{path.name}: {module}")
    assert wrong == []


def test_every_event_is_declared_once_with_its_attributes() -> None:
    assert len(TYPES) == len(contracts.EVENTS)
    for event in contracts.EVENTS:
        assert event.SOURCE.startswith("/clearway/"), event
        assert event.VERSION >= 1, event
        assert event.SUBJECT is None or event.SUBJECT in event.model_fields, event
        assert contracts.publisher_of(event) in event.SOURCE
        assert contracts.subscribers_of(event), f"{event.TYPE} has no subscriber"


def test_the_contract_enums_are_the_services_own() -> None:
    assert set(get_args(orders.OrderState)) == {s.value for s in orders_domain.State}
    assert set(get_args(orders.Party)) == {p.value for p in orders_domain.Party}
    assert set(get_args(orders.ProviderStatus)) == {s.value for s in orders_domain.ProviderStatus}
    assert set(get_args(identity.AccountStatus)) == {s.value for s in identity_domain.Status}
    assert set(get_args(contracts.identity.Role)) == {r.value for r in identity_domain.Role}
    assert set(orders_domain.EVENT_OF.values()) == {
        e for e in orders.EVENTS if issubclass(e, orders.OrderTransitioned)
    }


def test_the_catalogue_of_subscribers_is_what_the_services_subscribe(tmp_path: Path) -> None:
    platform = Platform(test_settings(tmp_path))
    for name, host in platform.hosted.items():
        subscribed = {e for s in host.service.subscriptions for e in s.events}
        batched = {e for s in host.service.batch_subscriptions for e in s.events}
        assert subscribed | batched == set(contracts.SUBSCRIBERS[name]), name
    # The runtime itself consumes key rotations for every service it hosts.
    assert contracts.SUBSCRIBERS["runtime"] == (common.KeyRotated,)


# --- the generated catalogue ---------------------------------------------------------------

ROOT = SRC.parent.parent


def test_the_committed_event_documents_are_current() -> None:
    wanted = catalogue.documents(lambda name: (ROOT / name).read_text(encoding="utf-8"))
    stale = [n for n, text in wanted.items() if (ROOT / n).read_text(encoding="utf-8") != text]
    assert stale == [], "run `clearway docs events` and commit the result"


def test_the_docs_command_rewrites_stale_documents_and_checks(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    architecture = (ROOT / catalogue.ARCHITECTURE_DOC).read_text(encoding="utf-8")
    stale_picture = architecture.replace('"| monitor', '"| nobody')
    assert stale_picture != architecture
    (tmp_path / catalogue.ARCHITECTURE_DOC).write_text(stale_picture, encoding="utf-8")
    runner = CliRunner()

    checked = runner.invoke(main, ["docs", "events", "--root", str(tmp_path), "--check"])
    assert checked.exit_code != 0
    assert "docs/events.md" in checked.output and "docs/architecture.md" in checked.output

    written = runner.invoke(main, ["docs", "events", "--root", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert (tmp_path / catalogue.ARCHITECTURE_DOC).read_text(encoding="utf-8") == architecture
    events = (tmp_path / catalogue.EVENTS_DOC).read_text(encoding="utf-8")
    assert events == (ROOT / catalogue.EVENTS_DOC).read_text(encoding="utf-8")
    assert (
        runner.invoke(main, ["docs", "events", "--root", str(tmp_path), "--check"]).exit_code == 0
    )


def test_the_picture_shows_every_publisher_and_subscriber() -> None:
    picture = catalogue.flows_mermaid()
    standing = "<br/>".join(e.TYPE for e in contracts.ACCOUNT_STANDING)
    assert f'identity -->|"{standing}"| orders' in picture
    assert 'common -->|"mail.requested"| common' in picture
    assert 'gateway -->|"gateway.request<br/>admin.request"| monitor' in picture


async def test_the_asyncapi_document_is_public_and_describes_every_event(api: Api) -> None:
    response = await api.client.get("/api/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"].startswith("3.")
    channels = document["channels"]
    assert {c["address"] for c in channels.values()} == {e.TYPE for e in contracts.EVENTS}
    created = channels["order-created"]
    message = document["components"]["messages"]["OrderCreated"]
    assert created["messages"]["OrderCreated"] == {"$ref": "#/components/messages/OrderCreated"}
    assert message["payload"] == {"$ref": "#/components/schemas/OrderCreated"}
    schema = document["components"]["schemas"]["OrderCreated"]
    assert {"order_id", "customer_id", "provider_id", "notify"} <= set(schema["required"])
    operations = document["operations"]
    assert operations["orders-sends-order-created"]["action"] == "send"
    assert operations["common-receives-order-created"]["action"] == "receive"
    assert operations["monitor-receives-order-created"]["channel"] == {
        "$ref": "#/channels/order-created"
    }
    # Every reference resolves inside the document.
    for ref in re.findall(r'"\$ref":\s*"#/([^"]+)"', response.text):
        node: object = document
        for part in ref.split("/"):
            assert isinstance(node, dict) and part in node, ref
            node = node[part]
