"""One log format for Carebook and uvicorn: text or JSON lines (``CAREBOOK_LOG_FORMAT``).

:func:`logging_config` returns a :func:`logging.config.dictConfig` dictionary; ``carebook
serve`` applies it and hands it to uvicorn as ``log_config`` (so every worker process applies it
too), which routes uvicorn's own records through the same handler. uvicorn's access log stays
off: Carebook's (``carebook.access``, carebook.web.access_log) replaces it, with the request id
and the GraphQL operation name.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]
ACCESS_LOGGER = "carebook.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# Libraries that quote SQL parameters (patient data) in their DEBUG or INFO lines: kept at
# WARNING whatever CAREBOOK_LOG_LEVEL says (aiosqlite logs every statement with its parameters
# at DEBUG; SQLAlchemy's engine logger does at INFO when echo is on).
# HTTP clients' request logging (httpx logs each URL at INFO): a webhook URL may carry the
# receiver's token in its query, so the webhook sender's requests (aiohttp) are never logged by
# a library (Carebook logs ids and statuses).
PINNED_LEVELS = {
    "aiosqlite": "WARNING",
    "sqlalchemy.engine": "WARNING",
    "httpx": "WARNING",
    "aiohttp": "WARNING",
}

# Attributes every LogRecord has: the rest were given with ``extra=`` and are the record's fields.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    # uvicorn's duplicate of the message with terminal colours.
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The dictConfig of a server process: one stderr handler in ``log_format`` at ``level``.

    The access log is at INFO whatever ``level`` says: it is turned off by its own setting
    (``CAREBOOK_ACCESS_LOG``), so a quieter level for the rest keeps it.
    """
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"} if log_format == "json" else {"format": TEXT_FORMAT}
    )
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"carebook": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "carebook",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            # uvicorn's loggers hand their records to the root's handler (one format).
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ACCESS_LOGGER: {"level": "INFO"},
            **{name: {"level": pinned} for name, pinned in PINNED_LEVELS.items()},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }
