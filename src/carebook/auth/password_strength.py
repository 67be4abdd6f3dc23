"""The password strength rule: a port of the Ruby gem StrongPassword 0.0.10 (default settings).

Healthie accepts a password when it is at least 8 characters long and passes the strength check of
``bdmac/strong_password`` 0.0.10 with its defaults (minimum entropy 18, dictionary check off).
Carebook must give the same verdicts, so this module copies the gem's arithmetic step by step,
including its quirks, rather than improving on it. Each quirk is marked "Gem quirk" below.

Where ``shared/spec/PASSWORD_STRENGTH.md`` and the gem's code disagree, the code wins; those places
are marked "Spec note".

Two deliberate departures from the gem that do not change any verdict:

* The gem memoises bonus bits in a class-level hash keyed by the password, which keeps every
  password it has ever seen in memory. Nothing here caches anything derived from a password.
* The gem's ``EntropyCalculator`` scores any length; here every public function scores only the
  first 1,000 code points, as the gem's ``StrengthChecker`` does, so that no entry point does work
  proportional to an attacker-chosen length.
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from collections.abc import Callable, Iterator

MIN_LENGTH = 8
"""Fewest code points a password may have (Healthie's length rule, checked before strength)."""

MIN_ENTROPY = 18.0
"""The gem's default ``min_entropy``; a score equal to it passes."""

TOO_SHORT_MESSAGE = f"Password must be at least {MIN_LENGTH} characters long."
TOO_WEAK_MESSAGE = (
    "Password is too weak: make it longer, mix upper and lower case letters, digits and symbols "
    "or several words, and avoid keyboard runs such as 'qwerty' or '1234'."
)

# The gem's StrengthChecker::PASSWORD_LIMIT: only this many leading characters are scored. The whole
# password is still what gets hashed; this only bounds the work and matches the gem's verdicts.
_SCORED_CODE_POINTS = 1_000

# EntropyCalculator: the first character is worth a flat 4 bits; every use of a character multiplies
# that character's future worth by 0.75, so repeats add less and less.
_FIRST_POSITION_BITS = 4.0
_REPEAT_WEAKENING_FACTOR = 0.75

# QwertyAdjuster::QWERTY_STRINGS, in the gem's order. The order matters: all runs are tried as one
# ordered alternation, so an earlier sequence's short run beats a later sequence's long run.
# Spec note: the spec calls these "the rows ... and the reverses of these"; the gem's list has no
# reversed letter or number rows. Reversed typing is caught by also masking the reversed password.
_KEYBOARD_SEQUENCES: tuple[str, ...] = (
    "1234567890-",
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]:?_{\"+}",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmik,ol.p;/-['=]:?_{\"+}",
    "qazwsxedcrfvtgbyhnujmikolp",
    ']"/=[;.-pl,0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1',
    "pl0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1",
    ']"/[;.pl,okmijnuhbygvtfcrdxeszwaq',
    "plokmijnuhbygvtfcrdxeszwaq",
    "014725836914702583697894561230258/369*+-*/",
    "abcdefghijklmnopqrstuvwxyz",
)
_LONGEST_RUN = 6
_SHORTEST_RUN = 3

# NistBonusBits: `other` is /[^a-zA-Z0-9 ]/, so only ASCII letters, ASCII digits and the ASCII space
# are "not other"; an accented letter is both lower case and other.
_NOT_OTHER = frozenset(string.ascii_letters + string.digits + " ")
# Ruby's /\s/ is ASCII-only: space, \t, \n, \v, \f, \r.
_RUBY_WHITESPACE_RUN = re.compile(r"[ \t\n\v\f\r]+")
_WORDS_FOR_PASSPHRASE_BONUS = 3  # more fields than this earn +1


def _keyboard_runs(sequence: str) -> Iterator[str]:
    """Yield the gem's runs of ``sequence``: lengths 6 down to 3, each left to right."""
    for length in range(_LONGEST_RUN, _SHORTEST_RUN - 1, -1):
        for start in range(len(sequence) - length + 1):
            yield sequence[start : start + length]


def _gem_run_literal(run: str) -> str:
    """The literal text the gem actually searches for, for one run.

    Gem quirk: ``gen_qw_strings`` does ``run.sub('-', '\\\\-')``, meaning to escape the hyphen for a
    regex, but ``Regexp.union`` then escapes the backslash too. The run therefore only matches text
    with a backslash before its (first) hyphen, e.g. ``90\\-``, and never ordinary ``90-``.
    Spec note: the spec says such runs "never match ordinary text"; they do match ``\\-``.
    """
    return run.replace("-", "\\-", 1)


@functools.cache
def _keyboard_run() -> re.Pattern[str]:
    """One ordered, case-sensitive alternation of every run, like the gem's ``Regexp.union``.

    Compiled once, on the first password checked: it depends on no password, so it is not a
    password cache. Not at import: compiling took 45-100 ms of every worker's start
    (docs/production.md, "Workers").
    """
    literals = (
        _gem_run_literal(run)
        for sequence in _KEYBOARD_SEQUENCES
        for run in _keyboard_runs(sequence)
    )
    return re.compile("|".join(re.escape(literal) for literal in literals))


def _scored_part(password: str) -> str:
    """The part of ``password`` that is scored: its first 1,000 code points."""
    return password[:_SCORED_CODE_POINTS]


def _position_bits(position: int, multiplier: float) -> float:
    """Bits one character adds at ``position``, given its current repeat multiplier."""
    if position > 19:
        return multiplier
    if position > 7:
        return multiplier * 1.5
    if position > 0:
        return multiplier * 2
    # Gem quirk: position 0 is a flat 4 bits, yet the character's multiplier is still weakened.
    return _FIRST_POSITION_BITS


def _weighted_bits(password: str) -> float:
    """E(p) without bonus bits: NIST length weights, each repeat worth 0.75 of the previous use.

    Summed left to right from 0 in floating point, exactly as the gem's ``inject`` does, so the
    results are bit-for-bit the gem's (e.g. 8 identical characters give 9.1990966796875).
    """
    multipliers: dict[str, float] = {}
    bits = 0.0
    for position, char in enumerate(password):
        multiplier = multipliers.get(char, 1.0)
        multipliers[char] = multiplier * _REPEAT_WEAKENING_FACTOR
        bits += _position_bits(position, multiplier)
    return bits


def _character_mix_bits(*, upper: bool, lower: bool, digit: bool, other: bool) -> int:
    """NistBonusBits' reward for mixing character classes (and penalty for digits alone)."""
    if upper and lower and other and digit:
        return 6
    if upper and lower and other:
        return 5
    if digit and other and not upper and not lower:
        return -2
    if digit and not other and not upper and not lower:
        return -6
    return 0


def _ruby_whitespace_split(password: str) -> list[str]:
    """``password.split(/\\s+/)`` as Ruby does it: a leading empty field stays, trailing ones go."""
    fields = _RUBY_WHITESPACE_RUN.split(password)
    while fields and not fields[-1]:
        fields.pop()
    return fields


def _spacing_bits(password: str) -> int:
    """-2 without an ASCII space; +1 for a passphrase of more than three whitespace-split fields."""
    if " " not in password:
        return -2
    if len(_ruby_whitespace_split(password)) > _WORDS_FOR_PASSPHRASE_BONUS:
        return 1
    return 0


def _bonus_bits(password: str) -> int:
    """The gem's ``NistBonusBits.calculate_bonus_bits_for`` (without its per-password cache).

    Ruby's [[:upper:]], [[:lower:]] and [[:digit:]] on UTF-8 text are the Unicode properties
    Uppercase, Lowercase and General_Category=Nd; Python's one-character ``isupper``/``islower``
    read the same Uppercase/Lowercase properties.
    """
    mix = _character_mix_bits(
        upper=any(char.isupper() for char in password),
        lower=any(char.islower() for char in password),
        digit=any(unicodedata.category(char) == "Nd" for char in password),
        other=any(char not in _NOT_OTHER for char in password),
    )
    return mix + _spacing_bits(password)


def _entropy(password: str) -> float:
    """The gem's ``EntropyCalculator.calculate``: weighted bits plus bonus bits, no truncation."""
    return _weighted_bits(password) + _bonus_bits(password)


def _ruby_downcase(password: str) -> str:
    """Ruby's ``String#downcase``: full Unicode lower-casing, one code point at a time.

    Ruby applies no context-dependent mappings, so a final capital sigma (U+03A3) becomes the
    ordinary small sigma (U+03C3), where Python's ``str.lower`` would give the final form
    (U+03C2); lowering each code point alone avoids that context. Full mappings still apply: the
    dotted capital I (U+0130) becomes two code points, as in Ruby.
    """
    return "".join(char.lower() for char in password)


def _mask_keyboard_runs(password: str) -> str:
    """Replace each keyboard or alphabet run with ``*``, as the gem's ``mask_qwerty_strings``.

    Matching is leftmost first; at one position the first run in the gem's order wins, which is
    per sequence longest first, but an earlier sequence beats a later one whatever the lengths
    (``qazwsx`` becomes ``**``: ``qaz`` of the fifth sequence is tried before ``qazwsx`` of the
    seventh). Case-sensitive: upper-case runs are left alone.
    Spec note: the spec's "longer runs tried before shorter" holds only within one sequence.
    """
    return _keyboard_run().sub("*", password)


def _keyboard_adjusted(
    password: str,
    threshold: float,
    measure: Callable[[str], float] = _entropy,
) -> float:
    """The gem's ``QwertyAdjuster#adjusted_entropy`` with ``entropy_threshhold`` = ``threshold``.

    ``measure`` is the entropy function; the gem's own spec stubs the bonus bits to 0, which the
    tests reproduce by passing ``_weighted_bits``.

    Gem quirk: it stops as soon as the lowest value so far is below the threshold, so the value
    returned is then not always the lowest of the four strings, only proof of weakness.
    Spec note: the spec says the lowest of the four strings once the first pair passes; the gem
    also stops after the forward masked password when that one is already below the threshold.
    """
    reversed_password = password[::-1]
    lowest = min(measure(password), measure(reversed_password))
    if lowest < threshold:
        return lowest

    masked = _mask_keyboard_runs(password)
    if masked != password:
        lowest = min(lowest, measure(masked))
    if lowest < threshold:
        return lowest

    masked_reversed = _mask_keyboard_runs(reversed_password)
    if masked_reversed != reversed_password:
        lowest = min(lowest, measure(masked_reversed))
    return lowest


def _is_strong(scored: str, min_entropy: float) -> bool:
    """The gem's ``StrengthChecker#is_strong?`` without the dictionary, on an already cut password.

    Weak when the password, its lower-case form, or its keyboard-adjusted form scores below the
    minimum. The lower-case form is not cut again: like the gem, it may exceed 1,000 code points.
    """
    weak = (
        _entropy(scored) < min_entropy
        or _entropy(_ruby_downcase(scored)) < min_entropy
        or _keyboard_adjusted(scored, min_entropy) < min_entropy
    )
    return not weak


def entropy(password: str) -> float:
    """E(p) with bonus bits, as the gem's ``EntropyCalculator.calculate``, of the scored part."""
    return _entropy(_scored_part(password))


def keyboard_adjusted_entropy(password: str) -> float:
    """The gem's keyboard-adjusted entropy at the default threshold, of the scored part.

    Below ``MIN_ENTROPY`` exactly when the keyboard part of the check rejects the password.
    """
    return _keyboard_adjusted(_scored_part(password), MIN_ENTROPY)


def is_strong(password: str) -> bool:
    """The gem's default strength verdict (minimum entropy 18, no dictionary, no length rule)."""
    return _is_strong(_scored_part(password), MIN_ENTROPY)


def password_problem(password: str) -> str | None:
    """None when ``password`` is acceptable, else a message saying how to make it acceptable.

    The message never mentions the score or how it is computed.
    """
    if len(password) < MIN_LENGTH:
        return TOO_SHORT_MESSAGE
    if not is_strong(password):
        return TOO_WEAK_MESSAGE
    return None
