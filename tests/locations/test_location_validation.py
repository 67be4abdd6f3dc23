"""The location field rules on their own (no database): states, ZIP codes, countries, NPIs."""

from __future__ import annotations

import pytest

from carebook.errors import Invalid
from carebook.locations.inputs import LocationFields
from carebook.locations.validation import (
    US_STATES,
    clean_country,
    clean_location,
    clean_npi,
    clean_state,
    clean_zip,
)

FIFTY_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY",
)  # fmt: skip


def test_every_state_dc_and_territory_is_a_us_state_code() -> None:
    assert len(FIFTY_STATES) == 50
    for code in [*FIFTY_STATES, "DC", "PR", "GU", "VI", "AS", "MP", "FM", "MH", "PW"]:
        assert clean_state(code.lower(), "US") == code
        assert clean_state(US_STATES[code].upper(), "US") == code


@pytest.mark.parametrize("value", ["XX", "N", "NYC", "Calif.", "Québec", "12"])
def test_other_values_are_not_us_state_codes(value: str) -> None:
    with pytest.raises(Invalid) as caught:
        clean_state(value, "US")
    assert [m.field for m in caught.value.messages] == ["state"]


@pytest.mark.parametrize(
    ("value", "stored"),
    [("10001", "10001"), ("10001-1234", "10001-1234"), ("100011234", "10001-1234"), (" ", None)],
)
def test_us_zip_codes(value: str, stored: str | None) -> None:
    assert clean_zip(value, "US") == stored


@pytest.mark.parametrize("value", ["1000", "1000a", "10001-", "10001 1234", "10001-12345"])
def test_malformed_us_zip_codes(value: str) -> None:
    with pytest.raises(Invalid):
        clean_zip(value, "US")


def test_countries() -> None:
    assert clean_country(None) == "US"
    assert clean_country("") == "US"
    assert clean_country("usa") == "US"
    assert clean_country("gb") == "GB"
    assert clean_country("AQ") == "AQ"
    for bad in ("UK", "XYZ", "Germany", "1"):
        with pytest.raises(Invalid):
            clean_country(bad)


def test_npi_check_digit() -> None:
    assert clean_npi("1234567893") == "1234567893"  # CMS's own example
    for bad in ("1234567890", "123456789", "12345678931", "abcdefghij"):
        with pytest.raises(Invalid):
            clean_npi(bad)


def test_changing_the_country_rechecks_stored_values() -> None:
    current = {"line1": "1 Main", "state": "Ontario", "zip": "K1A 0B1", "country": "CA"}
    with pytest.raises(Invalid) as caught:
        clean_location(current, LocationFields(country="US"))
    assert [m.field for m in caught.value.messages] == ["state", "zip"]
    assert clean_location(current, LocationFields(line2="Unit 5"))["state"] == "Ontario"
