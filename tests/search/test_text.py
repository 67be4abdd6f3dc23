"""The matching rules, as pure functions (the database index must agree with them)."""

from datetime import date

from carebook.search.text import (
    Searchable,
    fold,
    matches,
    parse_keywords,
    shared_prefixes,
    tokens_of,
)

JONAS = Searchable(
    first_name="Jonas", last_name="Salk", legal_name=None, email="jonas.salk@example.com",
    record_identifier="MRN-0042", npi=None, dob=date(2002, 1, 1),
)  # fmt: skip


def _hit(keywords: str, fields: Searchable = JONAS, user_id: int = 9900) -> bool:
    return matches(user_id, fields, parse_keywords(keywords))


def test_fold_removes_case_accents_and_control_characters() -> None:
    assert fold("José ÅSTRÖM\x01") == "jose astrom"
    assert fold("Straße") == "strasse"


def test_names_and_emails_match_by_prefix_of_any_word() -> None:
    assert _hit("jon") and _hit("SALK") and _hit("salk@") and _hit("jonas.salk")
    assert _hit("example.com") and not _hit("onas") and not _hit("@example")


def test_every_term_must_match_some_field() -> None:
    assert _hit("John Doe 2002-01-01", JONAS) is False
    assert _hit("jonas salk 2002-01-01") and _hit("jonas 01/01/2002")
    assert not _hit("jonas 2002-01-02")


def test_ids_match_exactly_and_identifiers_by_prefix() -> None:
    assert _hit("9900") and not _hit("990") and _hit("mrn-00") and not _hit("0042")


def test_accents_fold_both_ways() -> None:
    jose = Searchable("José", "García", None, None, None, None, None)
    assert _hit("jose garcia", jose) and _hit("JOSÉ", jose) and _hit("garcía", jose)


def test_terms_of_only_accents_are_ignored_and_dates_are_not_prefixes() -> None:
    assert parse_keywords("\u0301 jonas") == parse_keywords("jonas")
    assert not _hit("2002-01")
    assert all(not t.startswith("2002") for t in tokens_of(JONAS))


def test_shared_prefixes_pick_one_token_per_user_for_any_prefix() -> None:
    tokens = sorted(["mariana", "mariano", "maria", "mar@x.com", "zed", "x.com", "com"])
    shared = shared_prefixes(tokens)
    assert shared[0] == 0
    assert dict(zip(tokens, shared, strict=True))["mariano"] == len("marian")
    for prefix in ("m", "mar", "maria", "marian", "mariano", "x", "c", "zz"):
        first_of_run = [
            t
            for t, length in zip(tokens, shared, strict=True)
            if t.startswith(prefix) and length < len(prefix)
        ]
        assert len(first_of_run) == (1 if any(t.startswith(prefix) for t in tokens) else 0)
