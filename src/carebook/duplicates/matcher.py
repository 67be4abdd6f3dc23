"""Scoring one pair of patients: how alike, and why, in words a staff member can check.

A pair is a likely duplicate when both names agree (straight or with first and last transposed)
and at least one identifier agrees: the date of birth (exactly, or with the day and month swapped,
or one digit off), the email, the phone number or the address. Names alone never make a duplicate
(two John Smiths), nor identifiers alone (twins share a birthday, a family shares a phone).
"""

from __future__ import annotations

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


def address_key(line1: str | None, zip_code: str | None) -> str | None:
    """An address made comparable: the folded first line and the first five of the zip code."""
    street = "".join(c for c in (line1 or "").casefold() if c.isalnum())
    return f"{street}|{(zip_code or '').strip()[:5]}" if street else None


def _name(a: str, b: str, kind: str, first: bool) -> tuple[float, str]:
    """The similarity of two names and its reason."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0, ""
    if fa == fb:
        return 1.0, f"same {kind} name"
    if first and nickname_related(fa, fb):
        return 0.97, f"{kind} name a nickname of the other"
    if phonetic(fa) == phonetic(fb):
        return 0.93, f"phonetic {kind} name"
    # Imported here, not at start-up: only duplicate checks need it (docs/performance.md,
    # "Start-up").
    from rapidfuzz.distance import JaroWinkler

    similarity = JaroWinkler.similarity(fa, fb)
    return similarity, f"similar {kind} name"


def _names(a: Person, b: Person, overwhelming: bool) -> tuple[float, list[str]] | None:
    """The better of the straight and transposed comparisons, if the names agree.

    With ``overwhelming`` evidence (two identifiers, the birthday or the email among them) the
    first names alone may agree: a last name changes with a marriage, or is badly mistyped.
    """
    best: tuple[float, list[str]] | None = None
    for transposed in (False, True):
        b_first, b_last = (b.last_name, b.first_name) if transposed else (b.first_name, b.last_name)
        first, why_first = _name(a.first_name, b_first, "first", first=True)
        last, why_last = _name(a.last_name, b_last, "last", first=False)
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


def _one_digit_off(a: date, b: date) -> bool:
    wa, wb = a.isoformat(), b.isoformat()
    return sum(x != y for x, y in zip(wa, wb, strict=True)) == 1


def _dob(a: date | None, b: date | None) -> tuple[float, str] | None:
    if a is None or b is None:
        return None
    if a == b:
        return DOB_SAME, "same date of birth"
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return DOB_TYPO, "date of birth with day and month swapped"
    if _one_digit_off(a, b):
        return DOB_TYPO, "date of birth one digit off"
    return None


def _contradicted(a: Person, b: Person) -> bool:
    """True when both records have a phone number, or an address, and they differ."""
    return bool(a.phone and b.phone and a.phone != b.phone) or bool(
        a.address and b.address and a.address != b.address
    )


def _identifiers(a: Person, b: Person) -> list[tuple[float, str]]:
    found = []
    dob = _dob(a.dob, b.dob)
    if dob and dob[1] == "date of birth one digit off" and _contradicted(a, b):
        dob = (DOB_CONTRADICTED, dob[1])
    if dob:
        found.append(dob)
    if a.email and a.email == b.email:
        found.append((EMAIL, "same email"))
    if a.phone and a.phone == b.phone:
        found.append((PHONE, "same phone number"))
    if a.address and a.address == b.address:
        found.append((ADDRESS, "same address"))
    return found


def compare(a: Person, b: Person) -> Match | None:
    """The match of two patients, or None when they are not likely the same person."""
    found = _identifiers(a, b)
    missing = 1.0
    for weight, _ in found:
        missing *= 1.0 - weight
    evidence = 1.0 - missing
    if evidence < EVIDENCE:
        return None
    kinds = {why for _, why in found}
    overwhelming = len(found) >= 2 and bool(kinds & {"same date of birth", "same email"})
    names = _names(a, b, overwhelming)
    if names is None:
        return None
    name_score, name_reasons = names
    score = round(0.5 * name_score + 0.5 * evidence, 4)
    reasons = (*(why for _, why in found), *name_reasons)
    return Match(score=score, reasons=reasons, identifiers=len(found))
