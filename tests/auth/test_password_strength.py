"""Tests for the port of StrongPassword 0.0.10's strength check (carebook.auth.password_strength).

Sources of the expected values, cited at each table:
* shared/spec/PASSWORD_STRENGTH.md, the project's description of the rule;
* the gem's own spec folder, bdmac/strong_password ``spec/`` (and its README);
* the gem's 0.0.10 ``lib/`` code run under Ruby 3.1 (a transcription of the code, not the gem
  package), for cases that pin the quirks down.

Private helpers are imported where the gem's spec tests a piece of the algorithm on its own (for
example with the bonus bits stubbed to 0, or with another minimum entropy).
"""

from __future__ import annotations

import pytest

from carebook.auth import password_strength as ps
from carebook.auth.password_strength import (
    MIN_ENTROPY,
    MIN_LENGTH,
    TOO_SHORT_MESSAGE,
    TOO_WEAK_MESSAGE,
    entropy,
    is_strong,
    keyboard_adjusted_entropy,
    password_problem,
)

# --- shared/spec/PASSWORD_STRENGTH.md -------------------------------------------------------------


def test_constants() -> None:
    assert MIN_LENGTH == 8
    assert MIN_ENTROPY == 18.0


# PASSWORD_STRENGTH.md, "Examples (default settings)".
@pytest.mark.parametrize(
    ("password", "strong"),
    [
        ("password", False),
        ("qwertyuiop", False),
        ("QWERTYUIOP", True),
        ("Kx9#mQ2v", False),
        ("bdfhjlnpr", False),
        ("bdfhjlnprt", True),
        ("ab1 xk9z", True),
        ("b@se3ball rocks", True),
        ("f0bar plus baz", True),
        ("correct horse battery staple", True),
    ],
)
def test_spec_document_verdicts(password: str, strong: bool) -> None:
    assert is_strong(password) is strong


# PASSWORD_STRENGTH.md, the notes column of the examples table.
@pytest.mark.parametrize(
    ("password", "expected"),
    [("bdfhjlnpr", 17.5), ("bdfhjlnprt", 19.0)],
)
def test_spec_document_entropies(password: str, expected: float) -> None:
    assert entropy(password) == expected


def test_spec_document_lower_case_entropy_of_kx9() -> None:
    # "8 characters, no space: lower-case entropy is 16".
    assert ps._entropy(ps._ruby_downcase("Kx9#mQ2v")) == 16.0
    assert entropy("Kx9#mQ2v") == 22.0


def test_spec_document_qwertyuiop_is_masked_but_upper_case_is_not() -> None:
    assert keyboard_adjusted_entropy("qwertyuiop") < MIN_ENTROPY
    assert ps._mask_keyboard_runs("QWERTYUIOP") == "QWERTYUIOP"


# PASSWORD_STRENGTH.md: "Entropies without bonus bits" (exact floating-point values).
@pytest.mark.parametrize(
    ("password", "expected"),
    [("**", 5.5), ("****", 7.46875), ("********", 9.1990966796875)],
)
def test_spec_document_weighted_bits_are_exact(password: str, expected: float) -> None:
    assert ps._weighted_bits(password) == expected


# --- spec/strong_password/entropy_calculator_spec.rb ----------------------------------------------


# entropy_calculator_spec.rb, describe '.bits_with_repeats_weakened', with NistBonusBits stubbed to
# 0. The '********' case is from the file's earlier version (commit 239fb35); later versions
# dropped it.
@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("", 0),
        ("*", 4),
        ("**", 5.5),
        ("***", 6.625),
        ("****", 7.46875),
        ("****a", 9.46875),
        ("********", 9.1990966796875),
    ],
)
def test_gem_bits_with_repeats_weakened(password: str, expected: float) -> None:
    assert ps._weighted_bits(password) == expected


def test_gem_same_value_for_repeated_calls() -> None:
    # entropy_calculator_spec.rb: "returns the same value for repeated calls on a password".
    # Here it also shows that no state leaks from one call to the next.
    initial = entropy("password")
    for _ in range(5):
        assert entropy("password") == initial


# --- spec/strong_password/nist_bonus_bits_spec.rb -------------------------------------------------


# nist_bonus_bits_spec.rb, describe '.calculate_bonus_bits_for'.
@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Ab$9", 4),
        ("Ab $9", 6),
        ("A b $ 9", 7),
        ("Ab$", 3),
        ("Ab $", 5),
        ("A b $ c d", 6),
        ("1!", -4),
        ("1 !", -2),
        ("1 ! 2 # 3 $", -1),
        ("123", -8),
        ("1 23", -6),
        ("1 2 3 4 5 6", -5),
        ("blah", -2),
        ("blah blah", 0),
        ("blah blah blah blah", 1),
    ],
)
def test_gem_bonus_bits(password: str, expected: int) -> None:
    assert ps._bonus_bits(password) == expected


# Bonus-bit details the gem's regexes imply (checked against the gem's code under Ruby 3.1).
@pytest.mark.parametrize(
    ("password", "expected"),
    [
        # A leading empty field counts: " a b c".split(/\s+/) is ["", "a", "b", "c"].
        (" a b c", 1),
        # Trailing empty fields do not: "a b c ".split(/\s+/) is ["a", "b", "c"].
        ("a b c ", 0),
        # Tabs split fields but only an ASCII space avoids the -2; a tab is an "other" character.
        ("a\tb\tc\td", -2),
        ("a\tb c\td", 1),
        # A no-break space is neither a space nor whitespace to Ruby: just "other".
        ("a\u00a0b c", 0),
        # Unicode classes: an accented capital is upper (and other); Arabic-Indic digits are digits.
        ("\u00c9cole1", 4),
        ("\u0663\u0664\u0665", -4),
        # Superscript two is not a decimal digit.
        ("ab\u00b2", -2),
    ],
)
def test_bonus_bits_character_classes_and_splitting(password: str, expected: int) -> None:
    assert ps._bonus_bits(password) == expected


# --- spec/strong_password/qwerty_adjuster_spec.rb -------------------------------------------------


# qwerty_adjuster_spec.rb, describe '#adjusted_entropy', with QwertyAdjuster.new(entropy_threshhold:
# 0) and NistBonusBits stubbed to 0.
@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("qwertyuio", 5.5),
        ("1234567", 6),
        ("lkjhgfd", 6),
        ("0987654321", 5.5),
        ("zxcvbnm", 6),
        ("/.,mnbvcx", 5.5),
        ("password", 17.5),  # "Ensure that we don't qwerty-adjust 'password'"
    ],
)
def test_gem_qwerty_adjusted_entropy(password: str, expected: float) -> None:
    assert ps._keyboard_adjusted(password, 0, ps._weighted_bits) == expected


def test_gem_qwerty_default_threshold_returns_before_masking() -> None:
    # qwerty_adjuster_spec.rb, 'with a default entropy threshhold': with the threshold at the
    # default 18, '1234567' scores 16 unmasked and the adjuster stops there instead of reaching 6.
    assert ps._keyboard_adjusted("1234567", MIN_ENTROPY, ps._weighted_bits) == 16


# --- spec/strong_password/strength_checker_spec.rb ------------------------------------------------


# strength_checker_spec.rb, 'with lowered entropy requirement and no dictionary checking'
# (min_entropy: 12).
@pytest.mark.parametrize(
    ("password", "strong"),
    [
        ("blahblah", True),
        ("password", True),
        ("wwwwwwww", False),
        ("adamruge", True),
        ("aB$1", False),
    ],
)
def test_gem_strength_checker_min_entropy_12(password: str, strong: bool) -> None:
    assert ps._is_strong(password, 12) is strong


def test_gem_strength_checker_standard_entropy() -> None:
    # strength_checker_spec.rb, 'with standard entropy requirement and dictionary checking':
    # 'correct horse battery staple' is strong even with the dictionary on, so it passes the
    # checks before the dictionary too. (The 'false' rows there may be the dictionary's doing.)
    assert is_strong("correct horse battery staple")
    # The same file's 'false' rows also fail before the dictionary: all score below 18 there.
    for password in ("blahblah", "password", "wwwwwwww", "adamruge", "aB$1"):
        assert not is_strong(password)


def test_gem_strength_checker_crazy_entropy() -> None:
    # strength_checker_spec.rb, 'with crazy entropy requirement and dictionary checking'
    # (min_entropy: 40): this one is strong even with the dictionary on.
    assert ps._is_strong("c0rr#ct h0rs3 Batt$ry st@pl3 is Gr34t", 40)


def test_gem_strength_checker_long_password_is_truncated() -> None:
    # strength_checker_spec.rb, 'with long password': the score of "ba" * 500_000 equals the
    # score of its first PASSWORD_LIMIT (1,000) characters.
    password = "ba" * 500_000
    prefix = password[:1000]
    assert entropy(password) == entropy(prefix)
    assert keyboard_adjusted_entropy(password) == keyboard_adjusted_entropy(prefix)
    assert is_strong(password) is is_strong(prefix)


# --- spec/validation/strength_validator_spec.rb ---------------------------------------------------


# strength_validator_spec.rb, 'base strength' and 'alternative usage' (default options; the
# validator has no length rule of its own).
@pytest.mark.parametrize(
    ("password", "strong"),
    [
        ("password", False),
        ("1234", False),
        ("f0bar", False),
        ("b@s3", False),
        ("p@ssw0fdsafsdafrd", True),
        ("b@se3ball rocks", True),
        ("f0bar plus baz", True),
        ("b@s3_9123as##!1?", True),
    ],
)
def test_gem_validator_base_strength(password: str, strong: bool) -> None:
    assert is_strong(password) is strong


# strength_validator_spec.rb, 'lowered entropy' ({min_entropy: 1, use_dictionary: true}) and
# 'extra words' (weak_entropy accepts 'mcmanus'): valid even with the dictionary, so these pass the
# checks before the dictionary at a minimum of 1.
@pytest.mark.parametrize("password", ["password", "1234", "f0bar", "b@s3", "mcmanus"])
def test_gem_validator_lowered_entropy(password: str) -> None:
    assert ps._is_strong(password, 1)


def test_gem_readme_standalone_example() -> None:
    # README.md, "Standalone": 'password' is weak, strong at min_entropy 2, and its
    # calculate_entropy (the lowest of the three scores, dictionary off) is 15.5.
    assert not is_strong("password")
    assert ps._is_strong("password", 2)
    lowest = min(
        entropy("password"),
        ps._entropy(ps._ruby_downcase("password")),
        keyboard_adjusted_entropy("password"),
    )
    assert lowest == 15.5


# --- Values from running the gem's 0.0.10 code (Ruby 3.1) -----------------------------------------


# Columns: password, entropy, entropy of the Ruby-downcased password, keyboard-adjusted entropy
# (threshold 18), verdict. All five columns were produced by the gem's code.
GEM_RUN_CASES = [
    # The gem stops once the forward masked password is below 18 (17.5) and so never reaches the
    # lower reverse masked one (11.5); the spec document's "lowest of the four strings" would not.
    ("poiulkjhasdf", 22.0, 22.0, 17.5, False),
    # Only the reversed password contains a run ("qwertyuiop").
    ("poiuytrewq", 19.0, 19.0, 3.5, False),
    # Ordered alternation: 'qaz' (5th sequence) wins over 'qazwsx' (7th), giving "**" not "*".
    ("qazwsx", 12.0, 12.0, 12.0, False),
    ("qazwsxedc", 17.5, 17.5, 17.5, False),
    # The hyphen quirk: "90\-" is a run, "90-" is not.
    ("x90\\-y", 12.0, 12.0, 12.0, False),
    ("7890-", 8.0, 8.0, 8.0, False),
    # Case-sensitive masking.
    ("QWERTYUIOP", 19.0, 19.0, 19.0, True),
    ("Qwertyuiop", 19.0, 19.0, 5.5, False),
    ("qwertyUIOP", 19.0, 19.0, 10.0, False),
    ("ZXCVBNM,./", 19.0, 19.0, 16.0, False),
    ("password", 15.5, 15.5, 15.5, False),
    ("Password1!", 24.5, 18.5, 24.5, True),
    ("P@ssw0rd", 21.5, 15.5, 21.5, False),
    ("Tr0ub4dor&3", 26.125, 20.125, 26.125, True),
    ("correct horse battery staple", 37.5703125, 37.5703125, 37.5703125, True),
    ("correcthorsebatterystaple", 32.2578125, 32.2578125, 32.2578125, True),
    ("CorrectHorse9", 21.59375, 21.09375, 21.59375, True),
    ("aaaaaaaaaaaaaaaaaaaa", 7.780746898288271, 7.780746898288271, 7.780746898288271, False),
    ("1234567890", 13.0, 13.0, 13.0, False),
    ("123456789012", 15.25, 15.25, 15.25, False),
    ("abcdefghijklmnop", 28.0, 28.0, 4.625, False),
    ("zyxwvutsrqponmlk", 28.0, 28.0, 4.625, False),
    ("Kx9#mQ2v", 22.0, 16.0, 22.0, False),
    ("kx9#mq2v", 16.0, 16.0, 16.0, False),
    ("ab1 xk9z", 18.0, 18.0, 18.0, True),
    ("a b c d e f g h", 23.5662841796875, 23.5662841796875, 23.5662841796875, True),
    ("  leading spaces here", 33.6171875, 33.6171875, 32.3984375, True),
    ("tabs\tand\tno\tspaces", 27.40625, 27.40625, 27.40625, True),
    ("tab\tand a space", 27.1015625, 27.1015625, 26.9765625, True),
    ("1qaz2wsx3edc", 22.0, 22.0, 3.5, False),
    ("zaq1xsw2cde3", 22.0, 22.0, 4.625, False),
    ("!QAZ2wsx#EDC", 28.0, 22.0, 17.5, False),
    ("hunter2hunter2", 22.25, 22.25, 16.75, False),
    ("b@s3_9123as##!1?", 26.5, 26.5, 24.25, True),
    ("p@ssw0fdsafsdafrd", 25.0390625, 25.0390625, 22.96875, True),
    ("mcmanus", 13.5, 13.5, 13.5, False),
    # Greek capitals: Ruby's downcase has no final-sigma rule.
    ("\u03a3\u0391\u03a3 \u0391\u0392\u0393 \u0394", 18.0, 18.0, 18.0, True),
    # Dotted capital I lower-cases to two code points.
    ("\u0130stanbul1!", 25.0, 20.5, 25.0, True),
    ("\u00c9COLE \u00e9cole 2024", 35.25, 27.125, 35.125, True),
    ("\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662", 17.0, 17.0, 17.0, False),
]


@pytest.mark.parametrize(
    ("password", "expected_entropy", "expected_lower", "expected_keyboard", "strong"),
    GEM_RUN_CASES,
)
def test_values_from_the_gem(
    password: str,
    expected_entropy: float,
    expected_lower: float,
    expected_keyboard: float,
    strong: bool,
) -> None:
    assert entropy(password) == expected_entropy
    assert ps._entropy(ps._ruby_downcase(password)) == expected_lower
    assert keyboard_adjusted_entropy(password) == expected_keyboard
    assert is_strong(password) is strong


# Masking as the gem's mask_qwerty_strings does it (outputs produced by the gem's code).
@pytest.mark.parametrize(
    ("password", "masked"),
    [
        ("qazwsx", "**"),
        ("qazwsxedc", "***"),
        ("x90\\-y", "x*y"),
        ("x90-y", "x90-y"),
        ("7890-", "*-"),
        ("Qwertyuiop", "Q**"),
        ("qwertyUIOP", "*UIOP"),
        ("ZXCVBNM,./", "ZXCVBNM*"),
        ("123456789012", "**12"),
        ("abcdefghijklmnop", "***"),
        ("zaq1xsw2cde3", "zaq1xsw2*3"),
        ("password", "password"),
    ],
)
def test_mask_keyboard_runs(password: str, masked: str) -> None:
    assert ps._mask_keyboard_runs(password) == masked


def test_ruby_downcase_has_no_context() -> None:
    assert ps._ruby_downcase("\u03a3\u0391\u03a3") == "\u03c3\u03b1\u03c3"
    assert ps._ruby_downcase("\u0130") == "i\u0307"


# --- Truncation at 1,000 code points -------------------------------------------------------------


def test_only_first_thousand_code_points_are_scored() -> None:
    weak_prefix = "1" * 1000
    tail = "Tr0ub4dor&3 correct horse"
    password = weak_prefix + tail
    # Scored whole, the tail would make it strong; the gem (and this port) never look at it.
    assert ps._is_strong(password, MIN_ENTROPY)
    assert not is_strong(password)
    assert entropy(password) == entropy(weak_prefix)
    assert keyboard_adjusted_entropy(password) == keyboard_adjusted_entropy(weak_prefix)
    assert password_problem(password) == TOO_WEAK_MESSAGE


def test_code_point_one_thousand_is_the_last_scored() -> None:
    base = "ab" * 499 + "c"  # 999 code points
    assert entropy(base + "Z") != entropy(base)
    assert entropy(base + "Z" + "Q") == entropy(base + "Z")


def test_lower_case_form_is_not_cut_again() -> None:
    # Like the gem, the cut happens once; "İ" lower-cases to two code points, so the lower-case
    # form of 1,000 of them has 2,000 code points and is scored whole.
    password = "\u0130" * 1000
    lowered = ps._ruby_downcase(password[:1000])
    assert len(lowered) == 2000
    assert not is_strong(password)


# --- password_problem ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "Xk9#mQ2", "a b c", "\u0130" * 7])
def test_short_password_message(password: str) -> None:
    assert password_problem(password) == TOO_SHORT_MESSAGE
    assert password_problem(password) == "Password must be at least 8 characters long."


@pytest.mark.parametrize("password", ["password", "qwertyuiop", "Kx9#mQ2v", "bdfhjlnpr", "1" * 50])
def test_weak_password_message(password: str) -> None:
    assert password_problem(password) == TOO_WEAK_MESSAGE


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "ab1 xk9z", "bdfhjlnprt", "QWERTYUIOP", "Tr0ub4dor&3"],
)
def test_good_password_has_no_problem(password: str) -> None:
    assert password_problem(password) is None


def test_messages_say_what_to_do_without_the_formula() -> None:
    assert "8 characters" in TOO_SHORT_MESSAGE
    lowered = TOO_WEAK_MESSAGE.lower()
    for advice in ("longer", "upper and lower case", "digits", "symbols", "words", "keyboard"):
        assert advice in lowered
    for secret in ("entropy", "bit", "18", "score"):
        assert secret not in lowered


def test_length_rule_comes_before_strength() -> None:
    # Seven characters is too short even though the first seven of a strong password are typed.
    assert password_problem("Tr0ub4d") == TOO_SHORT_MESSAGE


def test_nothing_is_cached_by_password() -> None:
    secret = "unique Secret 4711 for the cache test"
    assert password_problem(secret) is None
    for function in (entropy, keyboard_adjusted_entropy, is_strong, password_problem):
        assert not hasattr(function, "cache_info")
    module_state = [value for name, value in vars(ps).items() if not name.startswith("__")]
    for value in module_state:
        if isinstance(value, dict | list | set | frozenset | tuple):
            assert secret not in value
            assert secret[:1000] not in value
