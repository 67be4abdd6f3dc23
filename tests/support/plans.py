"""PostgreSQL's executed plans, as tests read them."""

from __future__ import annotations

import json
from typing import Any


def plan_nodes(raw: Any) -> list[dict[str, Any]]:
    """Every node of an ``EXPLAIN (ANALYZE, FORMAT JSON)`` answer (text or decoded), the root
    first."""
    document = json.loads(raw) if isinstance(raw, str) else raw
    return _nodes(document[0]["Plan"])


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]
