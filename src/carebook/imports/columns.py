"""Which columns an import file may have: Healthie's field names, or others mapped onto them.

The names are those of ``createClient``'s input (and so of :class:`carebook.users.inputs.Profile`),
so a file exported from Healthie, or written from its documentation, needs no mapping. A
``--map`` file (a JSON object, ``{"Their header": "healthie_field"}``) names the others; a
header mapped to ``""`` is left out on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path

from carebook.users.inputs import Profile

# Every field of the patient record a row may set. Not ``password`` (an import does not choose
# anyone's password: the welcome email's link does) nor ``active`` (archiving is its own act).
FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Profile) if f.name not in ("password", "active")
)
BOOLEAN_FIELDS = frozenset({"skipped_email"})
# The fields whose values may hold line breaks (in a quoted CSV cell); every other field is one
# line, so a line break in it is a stray quote's doing.
MULTILINE_FIELDS = frozenset({"quick_notes", "metadata"})
# A new patient needs these (and ``email`` unless ``skipped_email``), as in createClient.
REQUIRED = ("first_name", "last_name")
IGNORED = ""


class FileProblem(Exception):
    """The file as a whole cannot be imported (nothing is written); the message says why."""


def load_map(path: Path | None) -> dict[str, str]:
    """The ``--map`` file: header -> Healthie field name (``""``: leave the column out)."""
    if path is None:
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise FileProblem(f"the map file {path} is not a readable JSON object: {error}") from None
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in loaded.items()
    ):
        raise FileProblem(f'the map file {path} must be a JSON object of "header": "field"')
    unknown = sorted(value for value in loaded.values() if value and value not in FIELDS)
    if unknown:
        raise FileProblem(f"the map file names unknown fields: {', '.join(unknown)}")
    return {key.strip(): value for key, value in loaded.items()}


def field_of(header: str, mapping: Mapping[str, str]) -> str | None:
    """The Healthie field a header stands for (``IGNORED`` when mapped away); None: unknown.

    Headers match the field names case-insensitively, spaces read as underscores ("First
    Name" is ``first_name``), so the common spellings need no map.
    """
    text = header.strip()
    if text in mapping:
        return mapping[text]
    normal = "_".join(text.lower().replace("-", " ").split())
    return normal if normal in FIELDS else None


def resolve_headers(headers: Iterable[str], mapping: Mapping[str, str]) -> list[str]:
    """The field of each header (``IGNORED`` for left-out columns); a FileProblem for unknown,
    repeated or missing required columns."""
    resolved: list[str] = []
    unknown: list[str] = []
    for header in headers:
        name = field_of(header, mapping)
        if name is None:
            unknown.append(header)
        resolved.append(name or IGNORED)
    if unknown:
        listed = ", ".join(repr(h[:40]) for h in unknown)
        raise FileProblem(
            f"unknown column(s) {listed}: name Healthie's fields (docs/import.md) or map them "
            'with --map (a header mapped to "" is left out)'
        )
    named = [name for name in resolved if name]
    repeated = sorted({name for name in named if named.count(name) > 1})
    if repeated:
        raise FileProblem(f"several columns are {', '.join(repeated)}: keep one of each")
    missing = [name for name in REQUIRED if name not in named]
    if "email" not in named and "skipped_email" not in named:
        missing.append("email")
    if missing:
        raise FileProblem(f"missing column(s): {', '.join(missing)}")
    return resolved
