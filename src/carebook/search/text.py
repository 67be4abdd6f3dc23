"""The matching rules of keyword search, as pure functions shared by the index and the queries.

A user is indexed as a set of tokens:
- for first_name, last_name, legal_name and email: every suffix of the folded value that starts at
  the beginning of a word (a letter or digit after a non-alphanumeric character, or the start);
- for record_identifier and npi: the whole folded value;
- for dob: ``\\x01YYYY-MM-DD`` (a prefix no text token can have).
A keyword term matches a user when a text token starts with the folded term, when the term is a
date equal to dob, or when the term is a number equal to the id. Every term must match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MAX_TOKEN = 100
MAX_TERMS = 8
# Control characters are dropped by fold(), so no text token or term can start with this.
DOB_PREFIX = "\x01"
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# For ASCII text (most names and emails): its control characters, and the starts of its words.
_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_WORD_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]")


def fold(text: str) -> str:
    """Case- and accent-insensitive form (José -> jose, Straße -> strasse), without controls."""
    if text.isascii():
        # The same result without the Unicode passes: ASCII has no accents, its case folding
        # is lower(), and its control characters (category Cc) are these.
        return _ASCII_CONTROLS.sub("", text.lower())
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cc"
    )
    return unicodedata.normalize("NFC", stripped.casefold())


def word_suffixes(value: str | None) -> set[str]:
    """Every suffix of the folded value that starts a word, cut to MAX_TOKEN characters."""
    if not value:
        return set()
    folded = fold(value)
    if folded.isascii():  # str.isalnum() is [A-Za-z0-9] there: one regex pass finds the starts
        return {folded[m.start() :][:MAX_TOKEN] for m in _ASCII_WORD_START.finditer(folded)}
    starts = [
        i for i, ch in enumerate(folded) if ch.isalnum() and (i == 0 or not folded[i - 1].isalnum())
    ]
    return {folded[i:][:MAX_TOKEN] for i in starts}


def whole_value(value: str | None) -> set[str]:
    """The folded value as one token (identifiers match by prefix of the whole value)."""
    if not value or not value.strip():
        return set()
    return {fold(value.strip())[:MAX_TOKEN]}


def dob_token(value: date) -> str:
    """The token that an exact date of birth is indexed under."""
    return f"{DOB_PREFIX}{value.isoformat()}"


def parse_date(term: str) -> date | None:
    """A search term as a date: ``YYYY-MM-DD`` or ``MM/DD/YYYY``."""
    try:
        if m := _ISO.match(term):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _US.match(term):
            return date(int(m[3]), int(m[1]), int(m[2]))
    except ValueError:
        return None
    return None


@dataclass(frozen=True)
class Term:
    """One keyword term, prepared for matching."""

    prefix: str
    dob: date | None
    user_id: int | None


def parse_keywords(keywords: str | None) -> list[Term]:
    """The terms of a keywords string (whitespace separated; at most MAX_TERMS are used)."""
    terms = []
    for raw in (keywords or "").split()[:MAX_TERMS]:
        folded = fold(raw)[:MAX_TOKEN]
        if not folded:  # a term of only accents or control characters says nothing
            continue
        digits = raw.isascii() and raw.isdigit() and len(raw) <= 18  # '²'.isdigit() is True
        terms.append(Term(prefix=folded, dob=parse_date(raw), user_id=int(raw) if digits else None))
    return terms


def prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix`` (code point order)."""
    return prefix + "\U0010ffff"


@dataclass(frozen=True)
class Searchable:
    """The indexed fields of one user."""

    first_name: str | None
    last_name: str | None
    legal_name: str | None
    email: str | None
    record_identifier: str | None
    npi: str | None
    dob: date | None


def tokens_of(fields: Searchable) -> set[str]:
    """Every token a user is indexed under."""
    tokens: set[str] = set()
    for value in (fields.first_name, fields.last_name, fields.legal_name, fields.email):
        tokens |= word_suffixes(value)
    tokens |= whole_value(fields.record_identifier) | whole_value(fields.npi)
    if fields.dob is not None:
        tokens.add(dob_token(fields.dob))
    return tokens


def shared_prefixes(tokens: Sequence[str]) -> list[int]:
    """For sorted ``tokens``, how many leading characters each shares with the one before it.

    The tokens of one user that start with a prefix ``p`` are consecutive in sorted order, and
    only the first of them shares fewer than ``len(p)`` characters with its predecessor (which
    does not start with ``p``). So among a term's index rows, those whose value is below the
    prefix's length hold each matching user exactly once: counts need no DISTINCT.
    """
    return [shared_length(a, b) for a, b in zip(["", *tokens], tokens, strict=False)]


def shared_length(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` have in common."""
    most, i = min(len(a), len(b)), 0
    while i < most and a[i] == b[i]:  # a plain loop: tokens share a few characters at most
        i += 1
    return i


def matches(user_id: int, fields: Searchable, terms: list[Term]) -> bool:
    """The brute-force definition of a match (used by tests as the oracle)."""
    tokens = tokens_of(fields)
    return all(
        (term.prefix != "" and any(token.startswith(term.prefix) for token in tokens))
        or (term.dob is not None and fields.dob == term.dob)
        or term.user_id == user_id
        for term in terms
    )
