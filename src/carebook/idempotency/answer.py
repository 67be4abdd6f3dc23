"""The plaintext of a stored answer: the response body, and the patients it disclosed.

A replay hands out the first answer again, so it must be audited like the first one: the
patient records the first request's audit trail recorded as allowed (reads and writes) are kept
next to the body, inside the sealed (encrypted) record, and read back on replay.

Layout: ``_MAGIC``, a JSON list of ``[organization_id, record_id, operation]``, a newline, then
the body. Records stored before this layout hold the bare body, a JSON object that starts with
``{`` and never with the NUL-led magic, so they still replay (with no patients to record).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

_MAGIC = b"\x00carebook-answer-v2\n"

# (organization_id of the event, patient record id, root field that disclosed it)
Disclosed = tuple[int, int, str]


def pack(body: bytes, disclosed: Iterable[Disclosed]) -> bytes:
    """The plaintext to seal for ``body`` and the patients it disclosed."""
    # Compact JSON escapes newlines inside strings, so the first newline ends the list.
    listing = json.dumps([list(item) for item in disclosed], separators=(",", ":"))
    return _MAGIC + listing.encode() + b"\n" + body


def unpack(plain: bytes) -> tuple[bytes, list[Disclosed]]:
    """The body and its disclosed patients; an older record's body discloses none."""
    if not plain.startswith(_MAGIC):
        return plain, []
    listing, _, body = plain[len(_MAGIC) :].partition(b"\n")
    return body, [_item(entry) for entry in json.loads(listing)]


def _item(entry: list[object]) -> Disclosed:
    organization_id, record_id, operation = entry
    return int(str(organization_id)), int(str(record_id)), str(operation)
