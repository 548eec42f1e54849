from tests.orders.conftest import World


async def test_world_builds(world: World) -> None:
    order = await world.order()
    assert order["state"] == "submitted"
