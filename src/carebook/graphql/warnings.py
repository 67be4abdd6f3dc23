"""Warnings: non-blocking notes to the caller in the response's ``extensions.warnings``.

A payload's ``messages`` mean the mutation failed, and a GraphQL error means a field failed;
neither fits an answer that succeeded but did not do all that was asked (docs/api.md,
"Warnings"). Resolvers call :func:`warn`; :class:`WarningsExtension` adds what was collected
to the response.
"""

from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from carebook.graphql.context import Context

# bulkUpdateClients with user_group_id: active_status is not applied (Healthie's rule).
ACTIVE_STATUS_IGNORED = "ACTIVE_STATUS_IGNORED"


def warn(info: Info[Context, Any], *, code: str, message: str) -> None:
    """Note a warning about the field being resolved (its path names it)."""
    path = info.path.as_list()
    info.context.warnings.append({"code": code, "message": message, "path": path})


class WarningsExtension(SchemaExtension):
    """Puts the request's warnings in ``extensions.warnings``; nothing when there are none."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        warnings = getattr(context, "warnings", None)
        return {"warnings": list(warnings)} if warnings else {}
