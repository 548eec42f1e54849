"""Running Clearway: the whole platform (`up`), one part of it (`serve`), and its OpenAPI
document without a server (`openapi`)."""

from __future__ import annotations

import signal
import sys
from typing import Any

import click
import uvicorn

from clearway.settings import SERVICES, Settings


def _settings(**overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**values)


@click.command()
@click.option("--host", default=None, help="Address to listen on (CLEARWAY_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (CLEARWAY_PORT).")
@click.option("--demo", is_flag=True, default=None, help="Also seed a demo customer and provider.")
@click.option(
    "--processes",
    is_flag=True,
    help="The gateway and each service in its own process, over HTTP (CLEARWAY_SERVICE_URLS).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run N identical processes of the whole platform on the port, one per core"
    " (CLEARWAY_WORKERS; default 1).",
)
def up(
    host: str | None, port: int | None, demo: bool | None, processes: bool, workers: int | None
) -> None:
    """Run the gateway and all services in one process (N workers, or one process each) on the
    embedded engines."""
    from clearway.kit.logging import configure_logging
    from clearway.runtime.platform import Platform
    from clearway.runtime.server import server_config, warn_if_backlog_capped

    settings = _settings(host=host, port=port, demo=demo, workers=workers)
    configure_logging(settings.log_level, json=settings.log_json)
    warn_if_backlog_capped(settings)
    if processes and settings.workers > 1:
        raise click.UsageError("--workers applies to the one-process mode, not to --processes")
    if settings.workers > 1:
        from clearway.runtime.workers import Workers

        click.echo(f"Clearway: {settings.workers} workers (data in {settings.resolved_data_dir})")
        raise SystemExit(Workers(settings).run())
    if processes:
        from clearway.runtime.processes import Processes

        command = [sys.executable, "-c", "from clearway.cli import main; main()"]
        click.echo(f"Clearway: one process per service (data in {settings.resolved_data_dir})")
        raise SystemExit(Processes(settings, command).run())
    platform = Platform(settings)
    address = f"http://{settings.host}:{settings.port}"
    click.echo(f"Clearway on {address}  (data in {settings.resolved_data_dir})")
    # uvicorn re-raises SIGTERM once its graceful shutdown is over; by then every in-flight
    # request has finished and every outbox is flushed, so that is a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(server_config(platform, settings)).run()


@click.command()
@click.argument("part", type=click.Choice(["gateway", *SERVICES]))
@click.option("--host", default=None, help="Address to listen on (CLEARWAY_HOST).")
@click.option(
    "--port",
    type=int,
    default=None,
    help="Port (default: CLEARWAY_PORT for the "
    "gateway, the port of the service's URL in CLEARWAY_SERVICE_URLS for a service).",
)
def serve(part: str, host: str | None, port: int | None) -> None:
    """Run the gateway or one service alone, for a supervisor of your choice."""
    from clearway.kit.logging import configure_logging
    from clearway.runtime.processes import serve as serve_part
    from clearway.runtime.server import warn_if_backlog_capped

    settings = _settings(host=host)
    configure_logging(settings.log_level, json=settings.log_json)
    warn_if_backlog_capped(settings)
    serve_part(settings, part, port)


@click.command()
def openapi() -> None:
    """Print the gateway's OpenAPI document (what /api/openapi.json serves), without a server.

    The web app's API client is generated from it: `clearway openapi > web/openapi.json`.
    """
    import asyncio
    import json
    import tempfile

    from clearway.gateway.docs import merge
    from clearway.runtime.platform import Platform

    with tempfile.TemporaryDirectory() as scratch:
        platform = Platform(_settings(data_dir=scratch))
        documents = asyncio.run(platform.documents())
        click.echo(json.dumps(merge(platform.routes.routes, documents), indent=2, sort_keys=True))
