"""Optional OpenTelemetry tracing (CAREBOOK_OTEL; the carebook[otel] extra; docs/production.md).

The OpenTelemetry packages are an extra, so this module never imports them itself: with tracing
on it loads :mod:`carebook.web.otel`, and says in the log when the extra is missing rather than
refusing to serve.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from starlette.applications import Starlette

from carebook.db.engine import Database

logger = logging.getLogger("carebook")


def trace(
    app: Starlette,
    database: Database,
    *,
    paths: frozenset[str],
    tracer_provider: Any = None,
) -> bool:
    """Instrument ``app`` and ``database``'s engines; False when the extra is not installed.

    ``tracer_provider``: the one spans go to (tests pass one with an in-memory exporter); by
    default the global one, configured from OTEL_* variables when nothing configured it.
    """
    try:
        otel = importlib.import_module("carebook.web.otel")
    except ImportError as missing:
        logger.warning(
            "CAREBOOK_OTEL is on but OpenTelemetry is not installed (%s): install carebook[otel]."
            " Serving without traces.",
            missing.name,
        )
        return False
    otel.instrument(app, database, paths=paths, tracer_provider=tracer_provider)
    return True
