"""The Lambda entry points; the template names them (`clearway.runtime.aws.handlers.<name>`).

- `gateway`: API Gateway HTTP API (v2) events → the gateway (`lambda_part` "gateway");
- `service`: the same events, invoked by the gateway → one service (`lambda_part` names it);
- `worker`: one service's SQS batches (partial batch failures) and scheduled jobs;
- `keys`: the key service: KMS Decrypt of a wrapped data key, for the functions that may not;
- `migrate`: the deploy step: migrations and first start of every service, never on a cold
  start.

Each execution environment is built on its first invocation and kept for the next ones (one
per thread, so a local harness may run several functions in one process).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

from clearway.kit.aws import aws_client
from clearway.kit.bus.sns_sqs import SnsSqsBus
from clearway.kit.crypto.kms import kms_decrypt
from clearway.runtime.aws.environment import Environment
from clearway.runtime.aws.invoke import Invoke
from clearway.runtime.foundation import Foundation
from clearway.runtime.platform import host_services
from clearway.settings import Settings

_local = threading.local()


def configure(settings: Settings, invoke: Invoke | None = None) -> None:
    """Settings (and an Invoke) for the functions run on this thread, instead of the `CLEARWAY_*`
    variables and Lambda's Invoke: for a local harness that runs several functions at once."""
    _local.settings = settings
    _local.invoke = invoke


def current_settings() -> Settings:
    configured: Settings | None = getattr(_local, "settings", None)
    return configured or Settings()


def environment() -> Environment:
    """This execution environment, built on its first invocation from the settings."""
    built: Environment | None = getattr(_local, "environment", None)
    if built is None:
        settings = current_settings()
        built = Environment(settings, settings.lambda_part, getattr(_local, "invoke", None))
        _local.environment = built
    return built


def gateway(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An HTTP API (v2) event from API Gateway, into the gateway."""
    return environment().http(event, context)


# The same event shape, from the gateway's Invoke, into one service: one code path, two names,
# so the template says which function is which.
service = gateway


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS batches (`Records` from `aws:sqs`) or a scheduled job (`{"job": name}`)."""
    if "Records" in event:
        return environment().sqs(event)
    return environment().job(event)


def keys(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Decrypt one wrapped data key with a Clearway master key; nothing else.

    Only this function's role may call KMS Decrypt (the key policy); IAM lets only Clearway's
    functions invoke it. It returns the plaintext with its binding, which the caller checks
    against the context only it knows.
    """
    settings = current_settings()
    key = event.get("key")
    if not isinstance(key, str) or not key.startswith(settings.kms_alias_prefix.rstrip("/") + "/"):
        raise ValueError("not a Clearway master key")
    ciphertext = base64.b64decode(event["ciphertext"], validate=True)
    plaintext = kms_decrypt(aws_client("kms", settings))(key, ciphertext)
    return {"plaintext": base64.b64encode(plaintext).decode()}


def migrate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The deploy step: the bus's queues and filters as the code subscribes, every service's
    migrations, the first start (administrator, shipped rule base), publishing what that
    wrote. Run once per deploy (`aws lambda invoke`), never on a cold start."""
    return asyncio.run(_migrate(current_settings()))


async def _migrate(settings: Settings) -> dict[str, Any]:
    base = Foundation(settings)
    upstreams, hosted = host_services(base)
    try:
        for host in hosted.values():
            host.wire()
        if isinstance(base.bus, SnsSqsBus):
            # Queues and filters as the code subscribes, before first-start events are sent.
            await base.bus.declare()
        for host in hosted.values():
            await host.migrate()
        for host in hosted.values():
            for hook in host.service.on_start:
                await hook()
        published = 0
        for host in hosted.values():
            published += await host.relay.flush()
        return {"migrated": sorted(hosted), "published": published}
    finally:
        await upstreams.close()
        for host in hosted.values():
            await host.context.db.dispose()
