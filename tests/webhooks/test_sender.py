"""The sender connects to the address it checked, and still speaks TLS to the URL's host name."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from carebook.config import Settings
from carebook.webhooks import sender
from carebook.webhooks.connections import Connections
from tests.support.webhook_receiver import receiving

HEADERS = {"Content-Type": "application/json"}


def _certificate(directory: Path, host: str) -> tuple[ssl.SSLContext, ssl.SSLContext, list[str]]:
    """(server context, client context trusting it, the server names clients asked for)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
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
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    asked: list[str] = []
    server.sni_callback = lambda _socket, name, _context: asked.append(str(name)) and None
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client, asked


async def test_https_to_the_checked_address_verifies_the_hosts_certificate(
    settings: Settings, tmp_path: Path
) -> None:
    private = settings.model_copy(update={"webhook_allow_private_urls": True})
    server_tls, client_tls, asked = _certificate(tmp_path, "localhost")
    async with receiving(server_tls) as receiver:
        url = f"https://localhost:{receiver.port}/hook"
        outcome = await sender.post(
            url, body=b"{}", headers=HEADERS, settings=private, tls=client_tls
        )
    assert outcome.delivered
    assert asked == ["localhost"]  # SNI names the host, though the connection went to an IP
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"


async def test_a_certificate_for_another_host_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    private = settings.model_copy(update={"webhook_allow_private_urls": True})
    server_tls, client_tls, _ = _certificate(tmp_path, "other.example")
    async with receiving(server_tls) as receiver:
        url = f"https://localhost:{receiver.port}/hook"
        outcome = await sender.post(
            url, body=b"{}", headers=HEADERS, settings=private, tls=client_tls
        )
    assert not outcome.delivered and outcome.status is None
    assert receiver.requests == []


async def test_a_url_the_guard_refuses_opens_no_connection(settings: Settings) -> None:
    async with receiving() as receiver:
        for url in (receiver.url(), f"https://127.0.0.1:{receiver.port}/hook"):
            outcome = await sender.post(url, body=b"{}", headers=HEADERS, settings=settings)
            assert outcome.error == "unsafe_url"
    assert receiver.connections == 0


async def test_a_refused_checked_address_gives_way_to_the_next(settings: Settings) -> None:
    """A connection refused at one checked address is a ConnectError, and the next checked
    address is tried (127.0.0.2 is loopback too, but nothing listens there)."""
    private = settings.model_copy(update={"webhook_allow_private_urls": True})
    kept = Connections()
    try:
        async with receiving() as receiver:
            url = receiver.url()
            kept.remember(url, ["127.0.0.2"], allow_private=True)
            refused = await sender.post(
                url, body=b"{}", headers=HEADERS, settings=private, connections=kept, lane=1
            )
            kept.remember(url, ["127.0.0.2", "127.0.0.1"], allow_private=True)
            outcome = await sender.post(
                url, body=b"{}", headers=HEADERS, settings=private, connections=kept, lane=1
            )
    finally:
        await kept.aclose()
    assert refused.status is None and refused.error == "ConnectError"
    assert outcome.delivered and len(receiver.requests) == 1


async def test_the_clients_keep_no_cookie_jar() -> None:
    """Receivers' cookies are dropped by the client itself (a DummyCookieJar), not only because
    the requests go to IP addresses, whose cookies aiohttp's default jar happens to refuse."""
    import aiohttp
    import yarl

    kept = Connections()
    try:
        async with kept.client(yarl.URL("https://hooks.example/in"), None, 1) as client:
            assert isinstance(client.cookie_jar, aiohttp.DummyCookieJar)
    finally:
        await kept.aclose()


async def test_a_small_answer_keeps_its_connection_a_large_one_closes_it(
    settings: Settings,
) -> None:
    """An answer's body is read (and dropped) up to DRAIN_LIMIT so its connection is used
    again; a larger one is not read on, and its connection is closed instead. (An answer that
    has all arrived by then, under the client's own buffer, leaves the connection usable: the
    large answer here is far bigger than any buffer.)"""
    private = settings.model_copy(update={"webhook_allow_private_urls": True})
    kept = Connections()
    try:
        async with receiving() as receiver:
            receiver.keep_alive = True

            async def send() -> sender.Outcome:
                return await sender.post(
                    receiver.url(),
                    body=b"{}",
                    headers=HEADERS,
                    settings=private,
                    connections=kept,
                    lane=1,
                )

            small = [await send(), await send()]
            opened_small = receiver.connections
            receiver.answer = b"x" * (sender.DRAIN_LIMIT * 256)  # 16 MiB
            large = [await send(), await send()]
    finally:
        await kept.aclose()
    assert all(outcome.delivered for outcome in small + large)
    assert opened_small == 1  # the second small answer came on the first one's connection
    # The first large answer came on the kept connection and closed it: the second opened
    # another (kept, it would have come on the first connection again).
    assert receiver.connections == 2
