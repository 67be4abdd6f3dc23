"""Blocking keys: the few values under which two records of one person likely meet.

Only patients who share a key are ever compared, never all pairs. Each key tolerates the
variations the matcher forgives, one at a time:

- the date of birth with the phonetic key of either name, for each name form (a nickname keys
  under its canonical names too): catches a changed, misspelt or nicknamed first or last name,
  and transposed names (both names key in one namespace);
- both names' phonetic keys (sorted, so transposition keys alike) with the year of birth, and
  again with its month and day: a date mistyped by one digit keeps one of the two, a day and
  month swapped keeps the year (names alone would make blocks of thousands of John Smiths);
- the email, the phone number.

Keys are stored as signed 64-bit hashes (a compact, fast index); a collision only costs one
extra comparison.

Beside the keys, each patient has one **name tally** (:func:`tally_text`): both names' phonetic
keys, stored in a table of its own (``duplicate_name_keys``, duplicates/models.py's NameKey).
Counting the rows of a tally says how many patients of the organization share those names: the
matcher trusts a date of birth alone less for names many patients share (duplicates/matcher.py).
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from carebook.duplicates.names import first_name_forms, fold, phonetic


def hashed(text: str) -> int:
    """A stable signed 64-bit hash of a key (the same in every process, unlike hash())."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def key_texts(
    first_name: str | None,
    last_name: str | None,
    dob: date | None,
    email_key: str | None,
    phone: str | None,
) -> set[str]:
    """The keys of one patient, readable (hashed before they are stored)."""
    last = phonetic(fold(last_name))
    firsts = {phonetic(form) for form in first_name_forms(fold(first_name))} - {""}
    keys: set[str] = set()
    if dob is not None:
        day = dob.isoformat()
        keys.update(f"d|{day}|{name}" for name in firsts | {last} if name)
    if last and dob is not None:
        for name in firsts:
            both = "|".join(sorted((name, last)))
            keys.add(f"y|{dob.year}|{both}")
            keys.add(f"m|{dob.month}-{dob.day}|{both}")
    if email_key:
        keys.add(f"e|{email_key}")
    if phone:
        keys.add(f"p|{phone}")
    return keys


def tally_text(first_name: str | None, last_name: str | None) -> str | None:
    """The name tally of a patient: both names' phonetic keys, in either order (transposed
    names count as the same names); None without both names. Migration 0039 computes it too
    (a frozen copy): change it and ``carebook duplicates reindex`` must rewrite the tallies."""
    first, last = phonetic(fold(first_name)), phonetic(fold(last_name))
    if not first or not last:
        return None
    return "n|" + "|".join(sorted((first, last)))


def tally_of(row: Any) -> int | None:
    """The hashed name tally of a user row (as :func:`keys_of` takes it) or a matcher's Person
    (anything with ``first_name`` and ``last_name``), or None."""
    text = tally_text(row.first_name, row.last_name)
    return hashed(text) if text is not None else None


def keys_of(row: Any) -> set[int]:
    """The hashed keys of a user row (ORM object or Core row with the same attribute names)."""
    texts = key_texts(row.first_name, row.last_name, row.dob, row.email_key, row.phone_number)
    return {hashed(text) for text in texts}
