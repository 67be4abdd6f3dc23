"""``carebook serve``."""

from __future__ import annotations

import logging
import logging.config

import typer
import uvicorn

from carebook.app import create_app
from carebook.cli.common import load_settings
from carebook.client_address import uvicorn_proxy_options
from carebook.db.migrate import upgrade
from carebook.logs import logging_config


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
    # One format for Carebook's lines and uvicorn's, in this process and in every worker.
    log_config = logging_config(settings.log_format, settings.log_level)
    logging.config.dictConfig(log_config)
    if migrate:
        upgrade(settings.database_url)
    # Every worker gets these options: forwarding headers only from the listed proxies.
    proxies = uvicorn_proxy_options(settings.trusted_proxies)
    if workers > 1:
        # Each worker builds its own app (and engine) from the same environment.
        import os

        os.environ["CAREBOOK_DATABASE_URL"] = settings.database_url
        uvicorn.run(
            "carebook.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # replaced by Carebook's (carebook.web.access_log)
            log_config=log_config,
            **proxies,
        )
        return
    uvicorn.run(
        create_app(settings, serving=True),
        host=host,
        port=port,
        access_log=False,
        log_config=log_config,
        **proxies,
    )
