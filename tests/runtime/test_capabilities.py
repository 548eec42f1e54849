"""What a service gets beyond its own data is what its package declares it needs, whatever its
name: key administration and the dead letters only for a service that asks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

import clearway.services.common
import clearway.services.orders
from clearway.kit.service import Capability
from clearway.runtime.foundation import Foundation
from clearway.runtime.service_host import Alone, ServiceHost
from tests.conftest import test_settings


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[Callable[[str], ServiceHost]]:
    """Builds a service on one foundation (nothing started); disposes what it opened."""
    base = Foundation(test_settings(tmp_path))
    built: list[ServiceHost] = []

    def build(name: str) -> ServiceHost:
        built.append(ServiceHost(name, base, Alone()))
        return built[-1]

    yield build
    for service in built:
        await service.context.db.dispose()


async def test_only_the_service_that_declares_them_gets_key_administration_and_dead_letters(
    host: Callable[[str], ServiceHost],
) -> None:
    common = host("common")
    assert common.context.key_admin is common.base.keystore
    assert common.context.dead_letters is common.base.bus
    for name in ("identity", "rules", "orders", "monitor"):
        context = host(name).context
        assert context.key_admin is None, name
        assert context.dead_letters is None, name


async def test_a_service_gets_exactly_the_capabilities_it_declares(
    host: Callable[[str], ServiceHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    needs = frozenset({Capability.DEAD_LETTERS})
    monkeypatch.setattr(clearway.services.orders, "NEEDS", needs, raising=False)
    orders = host("orders")
    assert orders.context.dead_letters is orders.base.bus
    assert orders.context.key_admin is None


async def test_a_service_that_does_not_declare_key_administration_is_not_given_it(
    host: Callable[[str], ServiceHost], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(clearway.services.common, "NEEDS")
    with pytest.raises(RuntimeError, match="key service"):
        host("common")  # common refuses to run without the key store it did not declare


def test_an_unknown_service_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no service 'billing'"):
        ServiceHost("billing", Foundation(test_settings(tmp_path)), Alone())
