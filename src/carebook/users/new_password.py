"""A new password's hash, computed before the write transaction that stores it.

argon2 takes tens of milliseconds on a worker thread (carebook.auth.passwords). Inside a write
transaction that time would hold the database's write lock (SQLite has one), so every other
writer would wait for the hash: a flow that stores a new password hashes it first with
:func:`prehash`, and the write uses that hash with :func:`password_hash_of` when the password
is still the one given. The rule is checked in the write as before, so its message comes with
the write's other messages; a password that breaks it is never hashed ahead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carebook.auth.passwords import Passwords
from carebook.errors import Invalid
from carebook.users import validation as v


@dataclass(frozen=True)
class Prehashed:
    """A password that passes the rule, and its hash (neither shown by ``repr``: a logged
    object must not carry them)."""

    password: str = field(repr=False)
    password_hash: str = field(repr=False)


async def prehash(passwords: Passwords, password: Any) -> Prehashed | None:
    """The hash of ``password`` ahead of its write; None when it breaks the rule (or is not a
    string), which the write then reports."""
    if not isinstance(password, str):
        return None
    try:
        checked = v.check_password(password)
    except Invalid:
        return None
    return Prehashed(checked, await passwords.hash(checked))


async def password_hash_of(
    passwords: Passwords, password: Any, prehashed: Prehashed | None, field: str = "password"
) -> str:
    """The hash to store for ``password`` (checked against the rule): the one made ahead when
    it is for this password, else made now."""
    if prehashed is not None and prehashed.password == password:
        # The rule passed on this very string when it was hashed (:func:`prehash`); the check
        # (a few hundred regex alternatives) is not run a second time.
        return prehashed.password_hash
    return await passwords.hash(v.check_password(password, field))
