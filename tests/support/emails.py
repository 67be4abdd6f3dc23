"""GraphQL documents and helpers of the email, activation and form request tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from carebook.config import Settings
from carebook.db.engine import Database
from carebook.notifications.delivery import DeliveryReport, deliver_pending
from carebook.notifications.models import OutboxMessage
from tests.support.api import Api

CREATE_CLIENT = """mutation($input: createClientInput) {
  createClient(input: $input) { user { id set_password_link } messages { field message } } }"""
UPDATE_CLIENT = """mutation($input: updateClientInput) {
  updateClient(input: $input) { user { id first_name last_name } messages { field message } } }"""
REQUEST_FORM = """mutation($input: createRequestedFormInput) {
  createRequestedFormCompletion(input: $input) {
    requestedFormCompletion { id status custom_module_form_id recipient_id sender_id item_type
      recipient { id } }
    messages { field message } } }"""
LIST_REQUESTS = """query($user_id: ID, $status: String) {
  requestedFormCompletions(user_id: $user_id, status: $status) { id recipient_id status } }"""
SIGN_IN_WITH_TOKEN = """mutation($t: String, $p: String) {
  signIn(input: {reset_token: $t, password: $p}) { token user { id } messages { field message } }
}"""
SIGN_IN = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { token messages { field message } } }"""
VALIDATE = "query($t: String) { validateSignupToken(token: $t) }"
USER_LINK = "query($id: ID) { user(id: $id) { id set_password_link has_created_password } }"
NEW_PASSWORD = "tall-Purple-kettle-93"


def with_smtp(settings: Settings, url: str, **more: Any) -> Settings:
    """The test settings delivering to ``url``, with fast retries."""
    update = {"smtp_url": url, "email_retry_base_seconds": 60.0, "smtp_timeout_seconds": 5.0}
    update.update(more)
    return settings.model_copy(update=update)


async def deliver(database: Database, settings: Settings) -> DeliveryReport:
    """One delivery pass."""
    return await deliver_pending(database, settings)


async def outbox_rows(database: Database) -> list[OutboxMessage]:
    """Every outbox message, oldest first."""
    async with database.read_sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        return list((await session.execute(query)).scalars())


async def create_client(api: Api, **fields: Any) -> dict[str, Any]:
    """createClient's payload."""
    data = await api.data(CREATE_CLIENT, {"input": fields})
    payload: dict[str, Any] = data["createClient"]
    return payload


def token_of(link: str) -> str:
    """The token in a set-password link."""
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(link).query)["token"][0]
