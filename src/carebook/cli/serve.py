"""``carebook serve``."""

from __future__ import annotations

import contextlib
import logging
import logging.config
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import typer
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from carebook.app import create_app
from carebook.cli import worker
from carebook.cli.common import load_settings
from carebook.cli.delivery import DeliveryProcess
from carebook.cli.termination import Termination
from carebook.client_address import uvicorn_proxy_options
from carebook.db.create import ensure_database
from carebook.db.migrate import upgrade
from carebook.logs import logging_config
from carebook.startup import UnsafeSettings, check_metrics_token, check_read_url
from carebook.webhooks.worker import DELIVERY_PROCESS_MARK

# How long uvicorn's supervisor waits for a new worker to answer its health check before it
# kills it (uvicorn's default: 5 s). A spawned worker first imports the whole application,
# about 0.9 s on an idle 2-core machine but 5.3 s on a loaded one, which cost a worker at start
# (docs/production.md, "Workers"). A hung worker is still replaced, only later.
WORKER_HEALTHCHECK_SECONDS = 30


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    database_url: str | None = typer.Option(None, help="Overrides CAREBOOK_DATABASE_URL."),
    workers: int = typer.Option(1, help="Worker processes (see README, production)."),
    migrate: bool = typer.Option(True, help="Apply migrations before serving."),
) -> None:
    """Run the API server (migrating the database first)."""
    # In production, a default secret key is refused here, before migrating (create_app warns
    # outside production).
    settings = load_settings(database_url)
    # Here, not only in each worker's create_app: a worker that refuses is started again.
    try:
        check_metrics_token(settings)
        check_read_url(settings)
    except UnsafeSettings as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1) from None
    # One format for Carebook's lines and uvicorn's, in this process and in every worker.
    log_config = logging_config(settings.log_format, settings.log_level)
    logging.config.dictConfig(log_config)
    if migrate:
        ensure_database(settings.database_url)
        upgrade(settings.database_url)
    # Every worker gets these options: forwarding headers only from the listed proxies.
    proxies = uvicorn_proxy_options(settings.trusted_proxies)
    # Each worker (and the delivery process) builds its own engine from the same environment.
    os.environ["CAREBOOK_DATABASE_URL"] = settings.database_url
    if workers > 1:
        # uvicorn's supervisor handles SIGTERM itself and returns: the blocks exit. A SIGTERM
        # before it is in place ends the process at once; the delivery process then stops
        # on its own (its lifeline, cli/delivery.py).
        with _delivery(settings.webhook_delivery), _shared_metrics(enabled=settings.metrics):
            _run_workers(host, port, workers, log_config, proxies)
        return
    with Termination() as termination, _delivery(settings.webhook_delivery):
        config = uvicorn.Config(
            create_app(settings, serving=True),
            host=host,
            port=port,
            access_log=False,
            log_config=log_config,
            **proxies,
        )
        _run_server(uvicorn.Server(config), termination)


def _run_server(server: uvicorn.Server, termination: Termination) -> None:
    """What ``uvicorn.run`` does with one process, with the server reachable by SIGTERM before
    uvicorn's own handler is in place (cli/termination.py)."""

    def stop() -> None:
        server.should_exit = True

    termination.stops(stop)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C: a clean stop, as uvicorn.run has it
        server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


@contextlib.contextmanager
def _delivery(mode: str) -> Iterator[None]:
    """With ``CAREBOOK_WEBHOOK_DELIVERY=process``, the webhook delivery process runs while the
    server does (the workers then deliver nothing themselves, carebook.app); with ``inline``,
    every worker delivers on its own event loop and no process is started."""
    if mode != "process":
        yield
        return
    # Read by every server process's app (carebook.app), this one's and the workers' (they
    # inherit the environment): the delivery is this process's, none of theirs.
    os.environ[DELIVERY_PROCESS_MARK] = "1"
    try:
        with DeliveryProcess():
            yield
    finally:
        os.environ.pop(DELIVERY_PROCESS_MARK, None)


def _run_workers(
    host: str, port: int, workers: int, log_config: dict[str, Any], proxies: dict[str, Any]
) -> None:
    with _light_main():
        _run_uvicorn_workers(host, port, workers, log_config, proxies)


@contextlib.contextmanager
def _light_main() -> Iterator[None]:
    """While uvicorn starts (and restarts) workers, ``__main__`` is :mod:`carebook.cli.worker`.

    A worker is a fresh interpreter (multiprocessing's spawn), which first imports the parent's
    ``__main__`` module: for ``carebook serve`` the whole command line (Typer, Alembic and every
    command's modules), in every worker, before the application; measured: 4 automatic full
    collections and about 25 MB per worker (docs/performance.md, "Start-up"). With the worker's
    own small module as ``__main__``, a worker imports only what serving needs.
    """
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = worker
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def _run_uvicorn_workers(
    host: str, port: int, workers: int, log_config: dict[str, Any], proxies: dict[str, Any]
) -> None:
    uvicorn.run(
        "carebook.cli.worker:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        access_log=False,  # replaced by Carebook's (carebook.web.access_log)
        log_config=log_config,
        **proxies,
    )


@contextlib.contextmanager
def _shared_metrics(*, enabled: bool) -> Iterator[None]:
    """With metrics on, the workers keep their values in files of one directory, which any
    worker's /metrics sums (prometheus-client's multiprocess mode, read when a worker imports
    it). The directory is emptied first: files of a previous run would be counted again.
    One given in PROMETHEUS_MULTIPROC_DIR is used (emptied of its .db files); otherwise a fresh
    temporary one, removed when the server stops."""
    if not enabled:
        yield
        return
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield
        return
    made = tempfile.mkdtemp(prefix="carebook-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    try:
        yield
    finally:
        shutil.rmtree(made, ignore_errors=True)
