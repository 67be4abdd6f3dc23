"""Delivery to servers that require credentials, and STARTTLS (with a throwaway certificate)."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from tests.support.api import Api
from tests.support.emails import create_client, deliver, outbox_rows, with_smtp
from tests.support.mailbox import Mailbox, run_mailbox
from tests.support.world import World

from carebook.config import Settings
from carebook.db.engine import Database

CREDENTIALS = ("mailer", "s3cret-pass")
# aiosmtpd warns about AUTH without TLS: that is the point of the plain-connection tests.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def _server_tls(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture
def auth_mailbox() -> Iterator[Mailbox]:
    """A server that wants a login (over a plain connection, as test servers may)."""
    yield from run_mailbox(credentials=CREDENTIALS)


@pytest.fixture
def tls_mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A server that requires STARTTLS and a login over it."""
    yield from run_mailbox(
        credentials=CREDENTIALS,
        tls_context=_server_tls(tmp_path),
        url_query="?starttls=required&verify=false",
    )


async def _invite(api: Api, world: World) -> None:
    await create_client(
        api.with_key(world.a.provider.api_key),
        first_name="Alan",
        last_name="Turing",
        email="alan@example.com",
    )


async def test_credentials_are_used(
    api: Api, world: World, database: Database, settings: Settings, auth_mailbox: Mailbox
) -> None:
    await _invite(api, world)
    assert (await deliver(database, with_smtp(settings, auth_mailbox.url))).sent == 1
    assert [m.rcpt_tos for m in auth_mailbox.received] == [["alan@example.com"]]


async def test_missing_credentials_fail_permanently(
    api: Api, world: World, database: Database, settings: Settings, auth_mailbox: Mailbox
) -> None:
    await _invite(api, world)
    anonymous = auth_mailbox.url.replace("mailer:s3cret-pass@", "")
    assert (await deliver(database, with_smtp(settings, anonymous))).failed == 1
    [row] = await outbox_rows(database)
    assert row.status == "failed"
    assert row.last_error == "SMTPSenderRefused 530"
    assert auth_mailbox.received == []


async def test_starttls_with_credentials(
    api: Api, world: World, database: Database, settings: Settings, tls_mailbox: Mailbox
) -> None:
    await _invite(api, world)
    assert (await deliver(database, with_smtp(settings, tls_mailbox.url))).sent == 1
    assert len(tls_mailbox.received) == 1


async def test_starttls_refused_without_verify_false_on_a_self_signed_server(
    api: Api, world: World, database: Database, settings: Settings, tls_mailbox: Mailbox
) -> None:
    await _invite(api, world)
    strict = tls_mailbox.url.replace("&verify=false", "")
    report = await deliver(database, with_smtp(settings, strict))
    assert report.sent == 0
    assert tls_mailbox.received == []
