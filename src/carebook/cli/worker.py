"""What each ``carebook serve --workers N`` worker process starts from.

uvicorn starts every worker as a fresh interpreter that imports the application by name. The
name is this module's factory, not :func:`carebook.app.app_from_environment` itself, so that
the collector is told to hold its collections off before the application's modules are
imported (:func:`carebook.gc_pauses.quiet_startup`): the import runs in the factory, after.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from carebook.gc_pauses import quiet_startup

if TYPE_CHECKING:
    from starlette.applications import Starlette


def app_from_environment() -> Starlette:
    """The worker's application (settings from CAREBOOK_* variables)."""
    quiet_startup()
    # Imported here, not above: the point of this module is what happens before the import.
    from carebook.app import app_from_environment as build

    return build()
