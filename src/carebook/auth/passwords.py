"""Password hashing with argon2id, off the event loop.

An argon2id hash or verification costs tens of milliseconds of CPU and memory by design. Run on
the event loop it would stall every request of the process meanwhile, so both run on worker
threads (argon2-cffi releases the GIL while it computes). The threads are the process's own
pool, as many as its CPUs: concurrent sign-ins queue for a thread instead of sharing the CPUs
ever more thinly, memory stays bounded (one argon2 buffer per thread), and Python's default
pool, which the database layer also uses, is never filled by hashing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache, cached_property
from typing import TYPE_CHECKING, TypeVar

from carebook.config import Settings

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# A hash of a random password, verified against when no account matches, so that signIn takes the
# same time whether or not the email exists.
_DUMMY_PASSWORD = "carebook-dummy-password-never-valid"  # noqa: S105

T = TypeVar("T")


@cache
def _hashing_threads() -> ThreadPoolExecutor:
    """The process's argon2 threads, made on first use (threads are started as needed)."""
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="carebook-argon2")


async def _off_the_loop(work: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hashing_threads(), work)


class Passwords:
    """Hashes and verifies passwords with the configured argon2id cost, on worker threads."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    # The hasher and the dummy hash are made on first use, on a hashing thread: a server whose
    # callers use API keys never pays for them, and a worker starts sooner (one argon2id hash,
    # 19 MiB, and the argon2 import: docs/performance.md, "Start-up").
    @cached_property
    def _hasher(self) -> PasswordHasher:
        from argon2 import PasswordHasher

        return PasswordHasher(
            time_cost=self._settings.argon2_time_cost,
            memory_cost=self._settings.argon2_memory_cost_kib,
            parallelism=self._settings.argon2_parallelism,
        )

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(_DUMMY_PASSWORD)

    async def hash(self, password: str) -> str:
        """An argon2id hash of ``password``."""
        return await _off_the_loop(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; burns the same time when there is no hash."""
        return await _off_the_loop(lambda: self._verify_now(password_hash, password))

    def _verify_now(self, password_hash: str | None, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError  # as in _hasher

        # Made by the first verification whether or not it needs it: the first signIn of a
        # process costs the same whether or not the email exists.
        dummy_hash = self._dummy_hash
        try:
            return self._hasher.verify(password_hash or dummy_hash, password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False
