"""Typed inputs of the merges (Healthie's names)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeClients:
    """``mergeClients``: the patients of ``ids`` (the target among them or not) merged into
    ``target_user_id``, whose email becomes ``target_email`` when given."""

    ids: Sequence[str | int | None] | None = None
    target_user_id: str | int | None = None
    target_email: str | None = None
