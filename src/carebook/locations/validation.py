"""Field rules for locations: US state codes and ZIP codes, country codes, NPIs, lengths.

All problems of one request are collected and raised together, each with its input field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial

from carebook.db import lengths
from carebook.errors import FieldMessage, Invalid
from carebook.locations.inputs import LocationFields
from carebook.users.validation import clean_text

DEFAULT_COUNTRY = "US"

# USPS codes: the 50 states, DC, the territories, the freely associated states and the
# armed forces "states" of military addresses.
US_STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
    "FM": "Federated States of Micronesia",
    "MH": "Marshall Islands",
    "PW": "Palau",
    "AA": "Armed Forces Americas",
    "AE": "Armed Forces Europe",
    "AP": "Armed Forces Pacific",
}
_STATE_BY_NAME = {name.casefold(): code for code, name in US_STATES.items()}
_STATE_BY_NAME["virgin islands"] = "VI"

_US_ALIASES = {"usa", "u.s.", "u.s.a.", "united states", "united states of america"}
# Regions without a telephone numbering plan, which phonenumbers therefore does not list.
_EXTRA_COUNTRIES = {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}
_ZIP = re.compile(r"^(\d{5})(?:-?(\d{4}))?$")

# State and zip are checked by clean_state and clean_zip (free text only outside the US).
TEXT_LIMITS = {
    field: limit for field, limit in lengths.LOCATION_TEXT.items() if field not in ("state", "zip")
}
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "state", "zip")
FIELDS = (*TEXT_LIMITS, "state", "zip", "country", "npi")


def clean_country(value: str | None) -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased; blank means the US."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_COUNTRY
    if text.casefold() in _US_ALIASES:
        return DEFAULT_COUNTRY
    # Imported here, not at start-up: only writes of a location check a country (docs/
    # performance.md, "Start-up").
    import phonenumbers

    code = text.upper()
    if len(code) != 2 or not (code in phonenumbers.SUPPORTED_REGIONS or code in _EXTRA_COUNTRIES):
        raise Invalid.field(
            "country", f"'{text[:40]}' is not a two-letter country code (e.g. US, CA, GB)"
        )
    return code


def clean_state(value: str | None, country: str) -> str | None:
    """In the US, a USPS state code (a full state name is turned into its code)."""
    text = (value or "").strip()
    if not text:
        return None
    if country != DEFAULT_COUNTRY:
        return clean_text("state", text, limit=lengths.LOCATION_TEXT["state"])
    code = text.upper() if text.upper() in US_STATES else _STATE_BY_NAME.get(text.casefold())
    if code is None:
        raise Invalid.field(
            "state", f"'{text[:40]}' is not a US state code (use two letters, e.g. NY or CA)"
        )
    return code


def clean_zip(value: str | None, country: str) -> str | None:
    """In the US, a ZIP code ``12345`` or ZIP+4 ``12345-6789``; elsewhere any postal code."""
    text = (value or "").strip()
    if not text:
        return None
    if country != DEFAULT_COUNTRY:
        return clean_text("zip", text, limit=lengths.LOCATION_TEXT["zip"])
    match = _ZIP.match(text)
    if match is None:
        raise Invalid.field("zip", f"'{text[:40]}' is not a US ZIP code (12345 or 12345-6789)")
    five, four = match.groups()
    return f"{five}-{four}" if four else five


def clean_npi(value: str | None) -> str | None:
    """A National Provider Identifier: ten digits whose last is the Luhn check digit."""
    text = (value or "").strip()
    if not text:
        return None
    # isascii: str.isdigit also accepts digits like '²' that int() refuses.
    if not (len(text) == 10 and text.isascii() and text.isdigit()) or not _npi_check_digit_ok(text):
        raise Invalid.field("npi", f"'{text[:40]}' is not a valid NPI (ten digits)")
    return text


def _npi_check_digit_ok(npi: str) -> bool:
    # The NPI check digit is the Luhn digit of the number prefixed with 80840 (CMS's rule).
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def clean_location(
    current: Mapping[str, str | None], changes: LocationFields
) -> dict[str, str | None]:
    """``current`` with ``changes`` applied, every rule checked; all problems raised together.

    A field of ``changes`` that is ``None`` was not given and keeps its current value. State and
    ZIP are checked against the resulting country, so changing only the country to the US
    re-checks the stored state and ZIP.
    """
    values: dict[str, str | None] = {field: current.get(field) for field in FIELDS}
    problems: list[FieldMessage] = []

    def attempt(field: str, clean: Callable[[], str | None]) -> None:
        try:
            values[field] = clean()
        except Invalid as error:
            problems.extend(error.messages)

    for field, limit in TEXT_LIMITS.items():
        if (text := getattr(changes, field)) is not None:
            attempt(field, partial(clean_text, field, text, limit=limit))
    if changes.npi is not None:
        attempt("npi", partial(clean_npi, changes.npi))
    country_changed = changes.country is not None
    if country_changed or values["country"] is None:
        attempt("country", partial(clean_country, changes.country))
    country = values["country"] or DEFAULT_COUNTRY
    if changes.state is not None or country_changed:
        state = values["state"] if changes.state is None else changes.state
        attempt("state", partial(clean_state, state, country))
    if changes.zip is not None or country_changed:
        zip_code = values["zip"] if changes.zip is None else changes.zip
        attempt("zip", partial(clean_zip, zip_code, country))
    if not problems and not any(values[field] for field in ADDRESS_FIELDS):
        problems.append(
            FieldMessage("line1", "A location needs an address (line1, city, state, zip) or a name")
        )
    if problems:
        raise Invalid(*problems)
    return values
