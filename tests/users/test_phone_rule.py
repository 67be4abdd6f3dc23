"""The phone rule's quick path (US numbers in E.164 or as ten digits) answers as phonenumbers."""

from __future__ import annotations

import random

import phonenumbers

from carebook.errors import Invalid
from carebook.users import validation as v


def _library(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _rule(text: str) -> str | None:
    try:
        return v.clean_phone(text)
    except Invalid:
        return None


def test_the_quick_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(28)
    samples: list[str] = []
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(9, 11)))
        samples.append(rng.choice(("+1", "", "+", "+44", "1")) + digits)
    quick = [s for s in samples if v._PLAIN_US_PHONE.fullmatch(s)]
    assert len(quick) > 1_500  # the quick path is exercised, and so is the library's
    for text in samples:
        assert _rule(text) == _library(text), text
