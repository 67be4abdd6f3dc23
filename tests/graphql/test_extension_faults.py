"""A fault in an extension's hook before the operation runs (here: validating) reaches the
client as any fault does: INTERNAL_SERVER_ERROR with a request id, never the exception's text,
which is logged no more than any fault's (graphql/errors.py, hide_faults_outside_the_operation).
Strawberry turns such an exception into an error after the operation's hooks have ended, so the
error-shaping extension never saw it: its text went to the client, without a code."""

from __future__ import annotations

import logging

import pytest
from tests.support.api import Api
from tests.support.world import World

from carebook.graphql import extensions

SECRET = "patient Jane Doe born 1990-01-01"  # what an exception's text may quote


def _fails(*args: object, **kwargs: object) -> object:
    raise RuntimeError(SECRET)


async def test_a_fault_while_validating_is_an_internal_error(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(extensions._Validations, "errors", _fails)
    patient = api.with_token(world.a.patient_token)
    with caplog.at_level(logging.INFO):
        response = await patient.client.post(
            "/graphql", json={"query": "{ currentUser { id } }"}, headers=patient.headers
        )
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert (
        error["message"]
        == f"Internal server error (request id {error['extensions']['request_id']})"
    )
    assert error["extensions"]["request_id"] == response.headers["x-request-id"]
    assert SECRET not in response.text
    assert SECRET not in caplog.text
    assert "RuntimeError" in caplog.text  # the fault is logged, by type and frames
