"""Forwarding headers are believed only from the proxies in ``CAREBOOK_TRUSTED_PROXIES``.

Against a real ``carebook serve`` (uvicorn's own default trusts X-Forwarded-For from 127.0.0.1,
which let a client rotating the header escape every per-address limit and forge its audit
address): with no proxy listed, a rotated header changes neither the address rate limits count
nor the one the audit trail records; with the loopback listed, the header is the address.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import carebook
from carebook.audit.models import AuditEvent
from carebook.client_address import uvicorn_proxy_options
from carebook.config import Settings
from carebook.db.engine import Database
from tests.support.serving import wait_until_healthy
from tests.support.world import PATIENT_PASSWORD, World
from tests.test_serve_e2e import _cli, _env, _free_port

SIGN_IN = """mutation($e: String, $p: String) {
  signIn(input: {email: $e, password: $p}) { user { id } token messages { message } } }"""
PATIENT = "patient.a@example.com"
SIGN_UP = """mutation($e: String) {
  signUp(input: {email: $e, password: "x", role: "provider"}) { messages { message } } }"""
LIMIT = 3  # signIn, and signUp, attempts per client address in the servers below


@contextmanager
def serving(database_url: str, *, workers: int, **env: str) -> Iterator[str]:
    """``carebook serve`` with a low per-address signIn limit and ``env``; its URL."""
    port = _free_port()
    settings = {
        "CAREBOOK_SIGN_IN_ADDRESS_LIMIT": str(LIMIT),
        "CAREBOOK_SIGN_IN_ACCOUNT_LIMIT": "0",
        "CAREBOOK_SIGN_UP_ADDRESS_LIMIT": str(LIMIT),
        **env,
    }
    process = subprocess.Popen(
        _cli("serve", "--port", str(port), "--workers", str(workers), "--no-migrate"),
        env={**_env(database_url), **settings},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign_in(url: str, forwarded_for: str, email: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{url}/graphql",
        json={"query": SIGN_IN, "variables": {"e": email, "p": password}},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )


def sign_up(url: str, forwarded_for: str, email: str) -> int:
    response = httpx.post(
        f"{url}/graphql",
        json={"query": SIGN_UP, "variables": {"e": email}},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )
    return response.status_code


async def recorded_addresses(database: Database) -> list[str | None]:
    async with database.read_sessions() as session:
        query = select(AuditEvent.client_address).where(AuditEvent.operation == "signIn")
        return list((await session.execute(query)).scalars())


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_rotated_forwarded_for_is_ignored_by_default(
    database_url: str, database: Database, world: World, workers: int
) -> None:
    # uvicorn reads this variable when not told otherwise; carebook serve always tells it.
    with serving(database_url, workers=workers, FORWARDED_ALLOW_IPS="*") as url:
        signed_in = sign_in(url, "198.51.100.1", PATIENT, PATIENT_PASSWORD)
        assert signed_in.json()["data"]["signIn"]["token"]
        statuses = [
            sign_in(url, f"198.51.100.{i}", f"guess{i}@example.com", "x").status_code
            for i in range(2, 6)
        ]
        sign_ups = [
            sign_up(url, f"198.51.100.{i}", f"new{i}@example.com") for i in range(LIMIT + 1)
        ]
    # Every attempt came from 127.0.0.1, whatever the header said: the limits trip.
    assert statuses == [200, 200, 429, 429]
    assert sign_ups == [200] * LIMIT + [429]
    assert await recorded_addresses(database) == ["127.0.0.1"]


async def test_the_header_of_a_listed_proxy_gives_the_address(
    database_url: str, database: Database, world: World
) -> None:
    with serving(database_url, workers=2, CAREBOOK_TRUSTED_PROXIES="127.0.0.1") as url:
        signed_in = sign_in(url, "198.51.100.1", PATIENT, PATIENT_PASSWORD)
        assert signed_in.json()["data"]["signIn"]["token"]
        rotated = [
            sign_in(url, f"198.51.100.{i}", f"guess{i}@example.com", "x").status_code
            for i in range(2, 8)
        ]
        repeated = [
            sign_in(url, "203.0.113.9", f"again{i}@example.com", "x").status_code
            for i in range(LIMIT + 1)
        ]
    assert rotated == [200] * 6  # each forwarded address is its own client
    assert repeated == [200] * LIMIT + [429]
    assert await recorded_addresses(database) == ["198.51.100.1"]


def test_the_setting_takes_addresses_and_networks_only() -> None:
    settings = Settings(trusted_proxies=" 10.0.0.1, 192.168.0.0/16 ,::1,")
    assert settings.trusted_proxies == "10.0.0.1,192.168.0.0/16,::1"
    assert uvicorn_proxy_options(settings.trusted_proxies) == {
        "proxy_headers": True,
        "forwarded_allow_ips": "10.0.0.1,192.168.0.0/16,::1",
    }
    assert uvicorn_proxy_options(Settings().trusted_proxies)["proxy_headers"] is False
    for bad in ("*", "proxy.internal", "10.0.0.300"):
        with pytest.raises(ValueError, match="not an IP address or network"):
            Settings(trusted_proxies=bad)
    # Networks of every address trust everyone, as "*" does.
    for everyone in ("0.0.0.0/0", "::/0", "10.0.0.1, 1.2.3.4/0"):
        with pytest.raises(ValueError, match="trusts every address"):
            Settings(trusted_proxies=everyone)
    assert Settings(trusted_proxies="0.0.0.0/1").trusted_proxies == "0.0.0.0/1"


def test_the_installable_uvicorn_takes_networks() -> None:
    # uvicorn reads CIDR networks in forwarded_allow_ips from 0.31 on; before, it compares each
    # entry with the peer's address as a string, and a listed network trusts nobody.
    pyproject = tomllib.loads((Path(carebook.__file__).parents[2] / "pyproject.toml").read_text())
    [floor] = [
        dependency.split(">=")[1]
        for dependency in pyproject["project"]["dependencies"]
        if dependency.startswith("uvicorn")
    ]
    assert tuple(int(part) for part in floor.split(".")) >= (0, 31)


def test_no_code_reads_a_forwarding_header_itself() -> None:
    # The address comes from request.client only (carebook.client_address); a header
    # name in the code would be a second, forgeable source of it.
    header = re.compile(r"""["'](x-forwarded-for|x-real-ip|forwarded|x-forwarded-host)["']""", re.I)
    root = Path(carebook.__file__).parent
    readers = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if header.search(path.read_text(encoding="utf-8"))
    ]
    assert readers == []
