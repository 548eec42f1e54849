"""AWS clients for the engines that run on AWS (bus, keys, files), made from the settings.

boto3 is imported only here and only when a client is made: the embedded platform never loads
it. A client takes tens of milliseconds to build, so each is built once per process (one per
Lambda execution environment) and shared; boto3 clients are safe to use from many threads.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from clearway.settings import Settings


def aws_client(service: str, settings: Settings) -> Any:
    """The boto3 client for `service` in the configured region (and stand-in, if any)."""
    return _client(service, settings.aws_region, settings.aws_endpoint_url)


@cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region, endpoint_url=endpoint_url)
