"""Typed inputs of the group and onboarding-flow services (scheme: carebook.graphql.inputs).

``None`` is a field the caller did not give. Ids are raw (``str`` from GraphQL, ``int`` from
code) and checked by the service, so a malformed id is a message on its field.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class NewGroup:
    """``createGroup``: the name, unique in the organization."""

    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupChanges:
    """``updateUserGroup``: a new name and/or onboarding flow (``""`` detaches the flow)."""

    id: str | int | None = None
    name: str | None = None
    onboarding_flow_id: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupDeletion:
    """``deleteUserGroup``: the group, and the group that receives its patients (blank: none)."""

    id: str | int | None = None
    group_to_receive_clients: str | int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFlow:
    """``createOnboardingFlow``: a name, and the groups that use it ("1,2,3")."""

    name: str | None = None
    groups_to_use_onboarding_flow: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FlowChanges:
    """``updateOnboardingFlow``: a new name and/or exactly the groups that use it."""

    id: str | int | None = None
    name: str | None = None
    groups_to_use_onboarding_flow: str | None = None
