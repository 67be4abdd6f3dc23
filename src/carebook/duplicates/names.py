"""Names made comparable: accents folded, nicknames related, phonetic keys.

The nicknames are the ``nicknames`` package's hand-curated table (Carlton Northern's English
names and nicknames, Apache-2.0): "Bob" relates to "Robert" through the canonical names it lists.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nicknames import NickNamer

# A nickname with many canonical names ("Al": Albert, Alfred, Alan, ...) keys under a few only,
# so one patient never spreads over dozens of blocks.
MAX_FORMS = 4


@functools.lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Lower-case letters only, accents removed: "José-María " -> "josemaria"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalpha() and not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def phonetic(folded: str) -> str:
    """The Metaphone key of a folded name ("smith" and "smyth" -> "SM0")."""
    # Imported here, not at start-up: only duplicate checks need it (docs/performance.md,
    # "Start-up"); the cache above makes the import statement rare.
    import jellyfish

    return jellyfish.metaphone(folded) if folded else ""


@functools.lru_cache(maxsize=65536)
def canonicals(folded: str) -> frozenset[str]:
    """The canonical names a (folded) first name may be a nickname of ("bob" -> robert, ...)."""
    if not folded:
        return frozenset()
    return frozenset(fold(name) for name in _namer().canonicals_of(folded))


@functools.cache
def _namer() -> NickNamer:
    """The nicknames table, read on the first duplicate check rather than at start-up."""
    from nicknames import NickNamer

    return NickNamer()


def first_name_forms(folded: str) -> tuple[str, ...]:
    """The name itself, then at most a few canonical names it may stand for, sorted."""
    if not folded:
        return ()
    others = sorted(canonicals(folded) - {folded})[: MAX_FORMS - 1]
    return (folded, *others)


def nickname_related(a: str, b: str) -> bool:
    """True when one folded first name is a nickname of the other, or both of one name."""
    if not a or not b or a == b:
        return False
    ca, cb = canonicals(a), canonicals(b)
    return a in cb or b in ca or bool(ca & cb)
