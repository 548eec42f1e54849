from tests.support import shared_api

__all__ = ["shared_api"]
