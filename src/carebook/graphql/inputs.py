"""Helpers for declaring input fields tersely, each with its description."""

from __future__ import annotations

from typing import Any

import strawberry


def opt(description: str, default: Any = strawberry.UNSET) -> Any:
    """An optional input field; absent (UNSET) unless the client sends it."""
    return strawberry.field(description=description, default=default)
