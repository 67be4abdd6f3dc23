"""GET /livez (the process answers) and GET /readyz (its database can serve; /healthz too).

Readiness is carebook.db.health's three probes. A failure answers 503 with the cause in plain
words, and is logged once when it starts or its cause changes (orchestrators ask every few
seconds), with the cause and the exception's type only: never its text, which can carry SQL, a
host or a user name. The return to ready is logged too.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from carebook.db.engine import Database
from carebook.db.health import NotReady, readiness

logger = logging.getLogger("carebook.health")


async def live(_: Request) -> Response:
    """200 while the process serves requests: nothing is probed."""
    return JSONResponse({"status": "ok"})


class Health:
    """The readiness route of one application, remembering the last cause it logged."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.last: NotReady | None = None

    async def ready(self, _: Request) -> Response:
        """200 ``{"status": "ok"}``, or 503 ``{"status": "unavailable", "reason": ...}``."""
        problem = await readiness(self.database)
        self._log_change(problem)
        if problem is None:
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable", "reason": problem.reason}, status_code=503)

    def _log_change(self, problem: NotReady | None) -> None:
        if problem == self.last:
            return
        if problem is None:
            logger.warning("ready again: the database answers")
        else:
            logger.error("not ready: %s (%s)", problem.reason, problem.error or "no error")
        self.last = problem
