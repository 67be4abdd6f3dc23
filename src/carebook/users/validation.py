"""Field rules for user data, shared by every write path (create, update, sign-up, bulk)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from carebook.auth.password_strength import password_problem
from carebook.db import lengths
from carebook.errors import Invalid
from carebook.times import is_zone

MAX_NAME = lengths.PERSON_NAME
MAX_ID = 2**31 - 1
MAX_TEXT = lengths.USER_TEXT
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
# C0 control characters: a NUL is refused by PostgreSQL (not by SQLite), and none of them belongs
# in a name. Free text keeps tab and line breaks (notes, descriptions).
_NAME_CONTROLS = re.compile(r"[\x00-\x1f]")
_TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_name(field: str, value: str | None, *, required: bool) -> str:
    """A trimmed name; required names must not be blank."""
    text = (value or "").strip()
    if required and not text:
        raise Invalid.field(field, f"{_label(field)} can't be blank")
    _refuse_controls(field, text, _NAME_CONTROLS)
    if len(text) > MAX_NAME:
        raise Invalid.field(field, f"{_label(field)} is too long (at most {MAX_NAME} characters)")
    return text


def clean_text(field: str, value: str | None, *, limit: int = MAX_TEXT) -> str | None:
    """Optional free text: trimmed, blank becomes null, bounded length."""
    text = (value or "").strip()
    if len(text) > limit:
        raise Invalid.field(field, f"{_label(field)} is too long (at most {limit} characters)")
    _refuse_controls(field, text, _TEXT_CONTROLS)
    return text or None


def _refuse_controls(field: str, text: str, controls: re.Pattern[str]) -> None:
    """A control character (a NUL byte, an escape...) is refused, naming its code, not the text."""
    found = controls.search(text)
    if found is not None:
        raise Invalid.field(
            field,
            f"{_label(field)} contains a control character (U+{ord(found.group()):04X}): remove it",
        )


def clean_email(value: str | None, field: str = "email") -> str:
    """A syntactically valid email, normalized (domain lower-cased); no DNS lookup."""
    text = (value or "").strip()
    if not text:
        raise Invalid.field(field, "Email can't be blank")
    quick = _plain_email(text)
    if quick is not None:
        return quick
    # Imported here, not at start-up: only writes check addresses (docs/performance.md,
    # "Start-up").
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid.field(field, f"'{text[:80]}' is not a valid email address") from None


# The shape of most addresses: an ASCII dot-atom before the @ (email_validator's own ATEXT),
# ASCII letters, digits, dots and hyphens after it.
_ATEXT = r"a-zA-Z0-9_!#$%&'*+\-/=?^`{|}~"
_PLAIN_EMAIL = re.compile(rf"([{_ATEXT}]+(?:\.[{_ATEXT}]+)*)@([A-Za-z0-9.-]+)")
# email_validator's limit on a whole address, and the mailbox names it lower-cases
# (postmaster, abuse...): those take the library's path.
_EMAIL_MAX_LENGTH = 254


def _plain_email(text: str) -> str | None:
    """What email_validator returns for an address of the plain shape, without its per-address
    work; None: not that shape (or a domain it refuses), so the library decides.

    The local part of such an address is kept as given and only the domain is checked and
    normalized, so the domain's verdict is the library's own, remembered per domain (an import
    of 100,000 patients has a few dozen domains). tests/users/test_email_rule.py compares the
    two on generated addresses.
    """
    found = _PLAIN_EMAIL.fullmatch(text)
    if found is None or len(text) > _EMAIL_MAX_LENGTH:
        return None
    local, domain = found.groups()
    if local.lower() in _case_insensitive_mailboxes():
        return None
    normalized = _plain_domain(domain)
    return None if normalized is None else f"{local}@{normalized}"


@functools.cache
def _case_insensitive_mailboxes() -> frozenset[str]:
    from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

    return frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


@functools.lru_cache(maxsize=4096)
def _plain_domain(domain: str) -> str | None:
    """The domain as email_validator normalizes it, when it accepts it and it stays ASCII."""
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    normal = checked.domain
    return normal if normal == checked.ascii_domain and normal.isascii() else None


def email_key(email: str | None) -> str | None:
    """The case-insensitive form used for uniqueness and sign-in."""
    return email.strip().lower() if email else None


# +1 and ten digits, or the ten alone, the first of them 2-9 (so no national prefix "1" to strip).
# tests/users/test_phone_rule.py compares this path with phonenumbers'.
_PLAIN_US_PHONE = re.compile(r"(?:\+1)?([2-9]\d{9})")


def clean_phone(value: str | None, field: str = "phone_number") -> str | None:
    """A phone number in E.164 form (``+15554442244``); US is assumed without a country code.

    Accepts any *possible* number rather than only currently assigned ones, so that test and
    fictional numbers such as 555 ones (used throughout Healthie's documentation) are kept.
    """
    text = (value or "").strip()
    if not text:
        return None
    plain = _PLAIN_US_PHONE.fullmatch(text)
    if plain is not None:
        # A US number already in E.164, or its ten digits alone: what phonenumbers would
        # answer (a possible NANP number, formatted +1 and the ten digits), without parsing.
        return f"+1{plain.group(1)}"
    import phonenumbers  # on first use, as email_validator in clean_email

    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        raise Invalid.field(field, f"'{text[:40]}' is not a valid phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid.field(field, f"'{text[:40]}' is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def clean_measure(field: str, value: str | None, *, unit: str, most: float) -> float | None:
    """A body measure (``height`` in inches, ``weight`` in pounds) from a decimal number;
    blank clears it."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    # Also refuses nan and inf, which float() accepts.
    if not 0 < number <= most:
        raise Invalid.field(
            field, f"{_label(field)} must be a number of {unit} between 0 and {most:g}"
        )
    return number


def clean_dob(value: str | None, field: str = "dob") -> date | None:
    """A date of birth from ``YYYY-MM-DD`` (or ``MM/DD/YYYY``), not in the future."""
    text = (value or "").strip()
    if not text:
        return None
    parsed = _parse_date(text)
    if parsed is None:
        raise Invalid.field(field, f"'{text[:40]}' is not a date (use YYYY-MM-DD)")
    if parsed > date.today() or parsed.year < 1900:
        raise Invalid.field(field, "Date of birth must be between 1900 and today")
    return parsed


def _parse_date(text: str) -> date | None:
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
        us = _US_DATE.match(text)
        if us:
            month, day, year = (int(part) for part in us.groups())
            return date(year, month, day)
    except ValueError:
        return None
    return None


def clean_timezone(value: str | None, field: str = "timezone") -> str | None:
    """An IANA time zone name such as ``America/New_York``."""
    text = (value or "").strip()
    if not text:
        return None
    if not is_zone(text):
        raise Invalid.field(
            field, f"'{text[:64]}' is not a known time zone (e.g. America/New_York)"
        )
    return text


def clean_metadata(value: str | None, field: str = "metadata") -> str | None:
    """Healthie's metadata: a JSON object serialized as a string."""
    if value is None or not value.strip():
        return None
    # The length first: the decoder's work (and its recursion) stays bounded by it.
    if len(value) > lengths.METADATA:
        raise Invalid.field(
            field, f"Metadata is too large (at most {lengths.METADATA:,} characters)"
        )
    too_deep = f"Metadata is nested too deeply (at most {METADATA_MAX_DEPTH} levels)"
    try:
        parsed = json.loads(value)
    except RecursionError:  # "[[[[..." a few thousand deep: the decoder's own stack runs out
        raise Invalid.field(field, too_deep) from None
    except ValueError:
        raise Invalid.field(field, "Metadata must be a JSON object") from None
    if not isinstance(parsed, dict):
        raise Invalid.field(field, "Metadata must be a JSON object")
    if _deeper_than(parsed, METADATA_MAX_DEPTH):
        raise Invalid.field(field, too_deep)
    return value


# As deep as a whole request may be (carebook.web.request_body.MAX_DEPTH): whatever later walks
# stored metadata recursively cannot exhaust its stack either.
METADATA_MAX_DEPTH = 64


def _deeper_than(value: object, limit: int) -> bool:
    """Whether ``value`` nests objects or arrays past ``limit`` levels (a loop, no recursion)."""
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


def check_password(value: str | None, field: str = "password") -> str:
    """A password that passes the length and strength rule."""
    problem = password_problem(value or "")
    if problem:
        raise Invalid.field(field, problem)
    return value or ""


def parse_id(value: str | int | None, field: str) -> int | None:
    """An ID argument as an integer; blank is None; anything else is a message."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    # Ids are 32-bit INTEGER columns: a larger number names nothing (and PostgreSQL rejects it).
    # isascii: str.isdigit also accepts digits like '²' that int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        raise Invalid.field(field, f"'{text[:40]}' is not a valid id")
    return int(text)


def parse_ids(ids: Sequence[str | int | None], *, most: int, too_many: str) -> list[int]:
    """A list of ID arguments (``ids``) as distinct integers in the order given.

    Empty (or only blanks) is "Ids can't be blank"; over ``most`` entries is ``too_many``.
    """
    if not ids:
        raise Invalid.field("ids", "Ids can't be blank")
    if len(ids) > most:
        raise Invalid.field("ids", too_many)
    parsed = [parse_id(raw, "ids") for raw in ids]
    unique = list(dict.fromkeys(pid for pid in parsed if pid is not None))
    if not unique:
        raise Invalid.field("ids", "Ids can't be blank")
    return unique


def parse_id_list(
    value: str | None, field: str, *, kinds: Sequence[str] = ("user",)
) -> dict[str, list[int]]:
    """A comma-separated list of ids, as Healthie writes its ``String`` id lists.

    ``"1,2"``, ``"user-1, user-2"`` and, where ``kinds`` allows, ``"group-3"`` or ``"tag-4"``
    (Healthie's ``recipient_ids`` and ``simple_added_users`` take such lists). A bare number is
    of the first kind. Returns the distinct ids of each kind in the order given (every kind of
    ``kinds`` is a key); an entry of another kind, or not an id, is a message on ``field``.
    """
    found: dict[str, list[int]] = {kind: [] for kind in kinds}
    for item in (value or "").split(","):
        text = item.strip()
        if not text:
            continue
        prefix, dash, number = text.rpartition("-")
        kind = prefix.strip().lower() if dash else kinds[0]  # "-5" has an empty kind: refused
        if kind not in found:
            accepted = " or ".join(f"'{k}-1'" for k in kinds)
            raise Invalid.field(field, f"'{text[:40]}' is not accepted here (use 1 or {accepted})")
        row_id = parse_id(number, field)
        if row_id is None:
            raise Invalid.field(field, f"'{text[:40]}' is not a valid id")
        if row_id not in found[kind]:
            found[kind].append(row_id)
    return found


def name_key(name: str) -> str:
    """How names of tags, groups and flows are compared: case-folded, inner spaces collapsed."""
    return " ".join(name.split()).casefold()


def clean_label(value: Any, limit: int, field: str = "name") -> str:
    """A required one-line name (tag, group, flow): inner whitespace collapsed, bounded."""
    text = " ".join(str(value or "").split())
    if not text:
        raise Invalid.field(field, f"{_label(field)} can't be blank")
    if len(text) > limit:
        raise Invalid.field(field, f"{_label(field)} is too long (at most {limit} characters)")
    return text


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()
