"""Scoring one pair of patients: how alike, and why, in words a staff member can check.

A pair is a likely duplicate when both names agree (straight or with first and last transposed)
and at least one identifier agrees: the date of birth (exactly, or with the day and month swapped,
or one digit off), the email, the phone number or the address. Names alone never make a duplicate
(two John Smiths), nor identifiers alone (twins share a birthday, a family shares a phone).

How common the names are in the organization weighs too, as in Fellegi-Sunter record linkage:
among the patients who share a name, some are born on (or a typo away from) any given day by
chance. A date of birth alone is evidence only while few enough patients share the pair's names
(NAMESAKES_ALLOWED); beyond, it needs a second identifier that agrees (a phone, an address).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from carebook.duplicates.names import fold, nickname_related, phonetic

# Each name must reach this similarity (see _name), the pair's names on average NAME_PAIR.
NAME_EACH = 0.84
NAME_PAIR = 0.88
# One identifier's weight (combined as independent evidence: 1 - product of 1 - weight). A
# birthday one digit off has about 45 neighbours: at a million patients namesakes among them
# outnumber the typos (precision 0.77 when it counted alone). It weighs DOB_CONTRADICTED, below
# EVIDENCE, when the two records' phone numbers or addresses differ (two people, likely).
DOB_SAME, DOB_TYPO, DOB_CONTRADICTED, EMAIL, PHONE, ADDRESS = 1.0, 0.75, 0.6, 1.0, 0.9, 0.6
EVIDENCE = 0.75
# A date of birth counts alone only while at most this many active patients of the organization
# share the pair's names (the more common of the two records' names: duplicates/keys.py's name
# tally). Each of N namesakes lands on a given birthday with a chance of about 1 in 29,000 (80
# years of days), a digit away from it about 30 in 29,000, so the chance a coincidence passes for
# a typo grows with N; a swapped day and month is a rare typo, so it needs rarer names than the
# same date. Set where each kind's matches stopped being mostly true ones on bench.duplicates'
# million-patient set (docs/duplicates.md). Beyond, the date weighs DOB_COMMON: below EVIDENCE.
NAMESAKES_ALLOWED = {"same": 200, "swapped": 50, "digit": 10}
DOB_COMMON = 0.5
# A changed last name is forgiven when the first names agree this well and the evidence is
# overwhelming (see _names).
CHANGED_LAST_FIRST = 0.93
# A match at or above this score, on two identifiers or more, is "strong"
# (CAREBOOK_DUPLICATES_BLOCK_STRONG refuses those).
STRONG = 0.95


@dataclass(frozen=True)
class Person:
    """What the matcher compares of a patient (names raw; email as its key; phone in E.164)."""

    id: int
    first_name: str
    last_name: str
    dob: date | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    # Active patients of the organization who share these names (their phonetic keys), this one
    # included: 1 when unknown (a small count changes nothing, see NAMESAKES_ALLOWED).
    namesakes: int = 1


@dataclass(frozen=True)
class Match:
    """A likely duplicate: the score (0 to 1) and the reasons, most telling first."""

    score: float
    reasons: tuple[str, ...]
    identifiers: int = 1

    @property
    def strong(self) -> bool:
        """True for a match strong enough to refuse a creation when the setting says so."""
        return self.score >= STRONG and self.identifiers >= 2

    @property
    def summary(self) -> str:
        """The reasons in one phrase: "same date of birth and phonetic last name"."""
        if len(self.reasons) == 1:
            return self.reasons[0]
        return ", ".join(self.reasons[:-1]) + " and " + self.reasons[-1]


# What the matcher compares of one patient, as a plain tuple (a whole organization's scan
# compares hundreds of thousands of pairs straight from the rows, without a Person each):
# (first name, last name, date of birth, email key, phone, address key, namesakes), names raw.
Facts = tuple[str, str, date | None, str | None, str | None, str | None, int]

SAME_DOB = "same date of birth"
SWAPPED_DOB = "date of birth with day and month swapped"
DIGIT_OFF_DOB = "date of birth one digit off"


@functools.lru_cache(maxsize=65536)
def address_key(line1: str | None, zip_code: str | None) -> str | None:
    """An address made comparable: the folded first line and the first five of the zip code."""
    street = "".join(c for c in (line1 or "").casefold() if c.isalnum())
    return f"{street}|{(zip_code or '').strip()[:5]}" if street else None


def facts_of(person: Person) -> Facts:
    """The facts of a person, as :func:`compare_facts` takes them."""
    return (
        person.first_name,
        person.last_name,
        person.dob,
        person.email,
        person.phone,
        person.address,
        person.namesakes,
    )


# Each comparison of two folded names is worked out once: a scan meets the same pairs of common
# names (Robert and Bob, Smith and Smyth) thousands of times.
@functools.lru_cache(maxsize=262144)
def _folded(fa: str, fb: str, first: bool) -> tuple[float, str]:
    """The similarity of two folded names and its reason (none when either is empty)."""
    if not fa or not fb:
        return 0.0, ""
    kind = "first" if first else "last"
    if fa == fb:
        return 1.0, f"same {kind} name"
    if first and nickname_related(fa, fb):
        return 0.97, f"{kind} name a nickname of the other"
    if phonetic(fa) == phonetic(fb):
        return 0.93, f"phonetic {kind} name"
    # Imported here, not at start-up: only duplicate checks need it (docs/performance.md,
    # "Start-up").
    from rapidfuzz.distance import JaroWinkler

    return JaroWinkler.similarity(fa, fb), f"similar {kind} name"


def _names(a: Facts, b: Facts, overwhelming: bool) -> tuple[float, list[str]] | None:
    """The better of the straight and transposed comparisons, if the names agree.

    With ``overwhelming`` evidence (two identifiers, the birthday or the email among them) the
    first names alone may agree: a last name changes with a marriage, or is badly mistyped.
    """
    a_first, a_last, b_first, b_last = fold(a[0]), fold(a[1]), fold(b[0]), fold(b[1])
    best: tuple[float, list[str]] | None = None
    for transposed in (False, True):
        if transposed:
            b_first, b_last = b_last, b_first
        first, why_first = _folded(a_first, b_first, True)
        last, why_last = _folded(a_last, b_last, False)
        agree = min(first, last) >= NAME_EACH and (first + last) / 2 >= NAME_PAIR
        changed_last = overwhelming and not transposed and first >= CHANGED_LAST_FIRST
        if not agree and not changed_last:
            continue
        reasons = [why_last if last >= NAME_EACH else "different last name", why_first]
        if transposed:
            reasons.append("first and last names transposed")
        if best is None or (first + last) / 2 > best[0]:
            best = ((first + last) / 2, reasons)
    return best


def _digits_off(x: int, y: int) -> int:
    """How many decimal digits of x and y differ (zero-padded alike, as in an ISO date)."""
    count = 0
    while x or y:
        count += x % 10 != y % 10
        x, y = x // 10, y // 10
    return count


def _one_digit_off(a: date, b: date) -> bool:
    """True when the two dates' ISO forms differ in exactly one digit."""
    return (
        _digits_off(a.year, b.year) + _digits_off(a.month, b.month) + _digits_off(a.day, b.day) == 1
    )


def _dob(a: date | None, b: date | None) -> tuple[float, str, str] | None:
    """The dates' agreement: (weight, reason, kind as in NAMESAKES_ALLOWED), or None."""
    if a is None or b is None:
        return None
    if a == b:
        return DOB_SAME, SAME_DOB, "same"
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return DOB_TYPO, SWAPPED_DOB, "swapped"
    if _one_digit_off(a, b):
        return DOB_TYPO, DIGIT_OFF_DOB, "digit"
    return None


def _contradicted(a: Facts, b: Facts) -> bool:
    """True when both records have a phone number, or an address, and they differ."""
    return bool(a[4] and b[4] and a[4] != b[4]) or bool(a[5] and b[5] and a[5] != b[5])


def _dob_weight(a: Facts, b: Facts) -> tuple[float, str] | None:
    """The date of birth's weight and reason: less when another fact says two people (a typo
    only), or when the names are too common for the date to tell namesakes apart."""
    dob = _dob(a[2], b[2])
    if dob is None:
        return None
    weight, reason, kind = dob
    if kind == "digit" and _contradicted(a, b):
        weight = DOB_CONTRADICTED
    if max(a[6], b[6]) > NAMESAKES_ALLOWED[kind]:
        weight = min(weight, DOB_COMMON)
    return weight, reason


def _identifiers(a: Facts, b: Facts) -> list[tuple[float, str]]:
    found = []
    dob = _dob_weight(a, b)
    if dob:
        found.append(dob)
    if a[3] and a[3] == b[3]:
        found.append((EMAIL, "same email"))
    if a[4] and a[4] == b[4]:
        found.append((PHONE, "same phone number"))
    if a[5] and a[5] == b[5]:
        found.append((ADDRESS, "same address"))
    return found


def compare_facts(a: Facts, b: Facts) -> Match | None:
    """The match of two patients' facts, or None when they are not likely the same person."""
    found = _identifiers(a, b)
    missing = 1.0
    for weight, _ in found:
        missing *= 1.0 - weight
    evidence = 1.0 - missing
    if evidence < EVIDENCE:
        return None
    kinds = {why for _, why in found}
    overwhelming = len(found) >= 2 and bool(kinds & {SAME_DOB, "same email"})
    names = _names(a, b, overwhelming)
    if names is None:
        return None
    name_score, name_reasons = names
    score = round(0.5 * name_score + 0.5 * evidence, 4)
    reasons = (*(why for _, why in found), *name_reasons)
    return Match(score=score, reasons=reasons, identifiers=len(found))


def compare(a: Person, b: Person) -> Match | None:
    """The match of two patients, or None when they are not likely the same person."""
    return compare_facts(facts_of(a), facts_of(b))
