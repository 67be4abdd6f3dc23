"""ASCII text takes a shorter way through fold() and word_suffixes(): the same tokens either way."""

from __future__ import annotations

import random
import unicodedata

from carebook.search import text


def _fold(value: str) -> str:
    """fold() as written for any text (the Unicode passes)."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cc"
    )
    return unicodedata.normalize("NFC", stripped.casefold())


def _suffixes(value: str) -> set[str]:
    folded = _fold(value)
    starts = [
        i for i, ch in enumerate(folded) if ch.isalnum() and (i == 0 or not folded[i - 1].isalnum())
    ]
    return {folded[i:][: text.MAX_TOKEN] for i in starts}


def test_ascii_text_folds_and_splits_as_any_text_does() -> None:
    rng = random.Random(26)
    ascii_chars = [chr(code) for code in range(128)]
    samples = ["", "O'Brien-Smith", "x.y+z@Example.COM", "MRN-0042", "a" * 150 + " b", "\x7fA\x00b"]
    samples += ["".join(rng.choice(ascii_chars) for _ in range(rng.randint(1, 16)))
                for _ in range(20_000)]  # fmt: skip
    for value in samples:
        assert value.isascii()
        assert text.fold(value) == _fold(value), repr(value)
        assert text.word_suffixes(value) == (_suffixes(value) if value else set()), repr(value)


def test_other_text_keeps_the_unicode_rules() -> None:
    for value in ("José Álvarez", "Straße", "Ǆemal", "ﬁrst", "Zoë-Anne"):
        assert text.fold(value) == _fold(value)
        assert text.word_suffixes(value) == _suffixes(value)
