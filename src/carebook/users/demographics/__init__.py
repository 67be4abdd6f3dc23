"""The code systems of the demographics Healthie keeps for US reporting, and their field rules.

Healthie is certified for the ONC demographics criterion (45 CFR 170.315(a)(5)), which names the
code systems: race and ethnicity from the CDC Race & Ethnicity Code Set (170.207(f)), preferred
language from ISO 639 / RFC 5646 (170.207(g)), sexual orientation and gender identity from
SNOMED CT with HL7 null flavours (170.207(o)). Carebook accepts exactly those codes and shows the
name of each (``primary_race`` for ``primary_race_code``, ...).

- Race and ethnicity: ``cdc_race.csv`` and ``cdc_ethnicity.csv`` beside this file, the 921 race
  and 43 ethnicity concepts of the CDC code set (OID 2.16.840.1.113883.6.238) as HL7's
  terminology publishes them under CC0 (``CodeSystem/v3-Race`` and ``v3-Ethnicity``, the same
  codes); plus ``ASKU`` (the patient declined to say) and ``UNK`` (unknown), which the
  criterion requires to be recordable.
- Language: any ISO 639 language (``pycountry``): its two-letter code (639-1), three-letter
  code (639-2/T, 639-3) or 639-2/B code, optionally with an ISO 3166 region (``en-US``).
- Sexual orientation and gender identity: the short value sets of the criterion (below).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from carebook.errors import Invalid

if TYPE_CHECKING:
    import pycountry

# HL7 null flavours the criterion uses for answers that are not a category.
DECLINED = "ASKU"
UNKNOWN = "UNK"
OTHER = "OTH"


@dataclass(frozen=True)
class CodeSystem:
    """The codes a field accepts, with the name each one reads as."""

    label: str  # "race", for messages
    example: str  # a valid code and its name, for messages
    names: Mapping[str, str]

    def name(self, code: str | None) -> str | None:
        """The name of a stored code (None for none)."""
        return self.names.get(code) if code else None


def _cdc(file: str) -> dict[str, str]:
    text = resources.files(__package__).joinpath(file).read_text(encoding="utf-8")
    return {row["code"]: row["display"] for row in csv.DictReader(text.splitlines())}


@cache
def race() -> CodeSystem:
    """CDC race codes (``2106-3`` White, ``2054-5`` Black or African American, ...)."""
    names = _cdc("cdc_race.csv") | {DECLINED: "Declined to specify", UNKNOWN: "Unknown"}
    return CodeSystem("CDC race", "2106-3 (White)", names)


@cache
def ethnicity() -> CodeSystem:
    """CDC ethnicity codes (``2135-2`` Hispanic or Latino, ``2186-5`` Not Hispanic or Latino)."""
    names = _cdc("cdc_ethnicity.csv") | {DECLINED: "Declined to specify", UNKNOWN: "Unknown"}
    return CodeSystem("CDC ethnicity", "2186-5 (Not Hispanic or Latino)", names)


# 170.207(o)(1): SNOMED CT and HL7 null flavours, named as the criterion names them.
SEXUAL_ORIENTATION = CodeSystem(
    "sexual orientation",
    "20430005 (Straight or heterosexual)",
    {
        "38628009": "Lesbian, gay or homosexual",
        "20430005": "Straight or heterosexual",
        "42035005": "Bisexual",
        OTHER: "Something else, please describe",
        UNKNOWN: "Don't know",
        DECLINED: "Choose not to disclose",
    },
)

# 170.207(o)(2), and HL7's current gender-identity value set's non-binary concept.
GENDER_IDENTITY = CodeSystem(
    "gender identity",
    "446141000124107 (Identifies as female)",
    {
        "446151000124109": "Identifies as male",
        "446141000124107": "Identifies as female",
        "407377005": "Female-to-male transsexual (transgender male)",
        "407376001": "Male-to-female transsexual (transgender female)",
        "446131000124102": "Identifies as non-conforming gender (genderqueer)",
        "33791000087105": "Non-binary gender identity",
        OTHER: "Additional gender category or other, please specify",
        UNKNOWN: "Unknown",
        DECLINED: "Choose not to disclose",
    },
)

_CDC_DIGITS = re.compile(r"^\d{5}$")
_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?$")


def clean_code(system: CodeSystem, field: str, value: str | int | None) -> str | None:
    """A code of ``system`` as stored; blank clears it; anything else is a message.

    Null flavours are matched in any case (``asku``). An integer is a CDC code without its
    hyphen (``21352`` for ``2135-2``): Healthie's updateUserInput types
    ``secondary_ethnicity_code`` Int, and a CDC code has five digits with a check digit last.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)
        text = f"{digits[:-1]}-{digits[-1]}" if _CDC_DIGITS.match(digits) else digits
    else:
        text = value.strip() if isinstance(value, str) else ""
    if not text:
        return None
    code = text.upper() if text.upper() in (DECLINED, UNKNOWN, OTHER) else text
    if code not in system.names:
        raise Invalid.field(
            field, f"'{text[:40]}' is not a {system.label} code (for example {system.example})"
        )
    return code


def clean_language(value: str | None, field: str = "preferred_language_code") -> str | None:
    """An ISO 639 language code, as stored: the shortest code of the language (``en`` for
    ``eng``, as RFC 5646 asks), with its region if one was given (``en-US``)."""
    text = (value or "").strip()
    if not text:
        return None
    # Imported here, not at start-up: only writes of a language check it (docs/performance.md,
    # "Start-up"); _language imports it first.
    import pycountry

    match = _LANGUAGE.match(text)
    language = _language(match.group(1)) if match else None
    region = match.group(2) if match else None
    if language is None or (region and pycountry.countries.get(alpha_2=region) is None):
        raise Invalid.field(
            field, f"'{text[:40]}' is not an ISO 639 language code (for example en, es or en-US)"
        )
    code = getattr(language, "alpha_2", None) or language.alpha_3
    return f"{code}-{region.upper()}" if region else str(code)


def _language(code: str) -> pycountry.db.Data | None:
    import pycountry  # on first use, as in clean_language

    code = code.lower()
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code)
    return pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)


def language_name(code: str | None) -> str | None:
    """The English name of a stored language code (``en-US`` -> English)."""
    if not code:
        return None
    language = _language(code.split("-")[0])
    return str(language.name) if language is not None else None
