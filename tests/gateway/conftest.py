from tests.orders.conftest import world
from tests.support import shared_api

__all__ = ["shared_api", "world"]
