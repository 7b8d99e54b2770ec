"""Structured communications, IBANs and euro amounts (DOMAIN §8), table-driven."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban

from node import i18n
from node.domain.payments import (
    call_reference,
    check_iban,
    format_eur,
    format_iban,
    is_valid_iban,
    is_valid_structured_reference,
    make_structured_reference,
    normalize_iban,
    parse_eur,
    parse_structured_reference,
    split_call_reference,
)
from node.errors import InputError

# -- structured communications: first ten digits mod 97, 0 written as 97 ----------------


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("+++123/4567/89002+++", True),  # DOMAIN §8: 1234567890 % 97 = 2
        ("+++012/3456/78939+++", True),  # DOMAIN §8: 0123456789 % 97 = 39
        ("+++000/0000/00097+++", True),  # DOMAIN §8: 0 % 97 = 0, written 97
        ("+++123/4567/89003+++", False),  # DOMAIN §8: check digits off by one
        ("***123/4567/89002***", True),  # the asterisks some banks print
        ("123/4567/89002", True),
        ("123 4567 89002", True),
        ("123456789002", True),
        ("  +++ 123/4567/89002 +++ ", True),
        ("+++000/0000/00000+++", False),  # 0 is written 97, never 00
        ("+++123/4567/8900+++", False),  # eleven digits
        ("+++123/4567/890022+++", False),  # thirteen digits
        ("+++123/4567/89002***", False),  # mismatched markers
        ("+++12A/4567/89002+++", False),
        ("", False),
    ],
)
def test_structured_reference_check_digits(text: str, valid: bool) -> None:
    assert is_valid_structured_reference(text) is valid


@pytest.mark.parametrize(
    ("base10", "formatted"),
    [
        (1234567890, "+++123/4567/89002+++"),
        (123456789, "+++012/3456/78939+++"),
        (0, "+++000/0000/00097+++"),
        (9999999999, "+++999/9999/99948+++"),  # 9999999999 % 97 = 48
    ],
)
def test_make_structured_reference(base10: int, formatted: str) -> None:
    assert make_structured_reference(base10) == formatted


@pytest.mark.parametrize("base10", [-1, 10**10, 1.5, True])
def test_make_structured_reference_refuses_what_is_not_ten_digits(base10) -> None:
    with pytest.raises(InputError, match="at most ten digits"):
        make_structured_reference(base10)


def test_parse_returns_the_twelve_digits() -> None:
    assert parse_structured_reference("***012/3456/78939***") == "012345678939"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("+++123/4567/89003+++", "+++123/4567/89003+++ has wrong check digits"),
        ("12345", "'12345' is not a structured communication: it has twelve digits"),
        ("hello", "'hello' is not a structured communication"),
    ],
)
def test_parse_explains_a_bad_reference(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_structured_reference(text)
    assert message in str(raised.value)


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_every_made_reference_is_valid_and_keeps_its_digits(base10: int) -> None:
    digits = parse_structured_reference(make_structured_reference(base10))
    assert int(digits[:10]) == base10
    assert int(digits[10:]) == (base10 % 97 or 97)


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_a_single_changed_digit_is_caught(number: int) -> None:
    digits = f"{number:012d}"
    reference = digits[:10] + f"{int(digits[:10]) % 97 or 97:02d}"
    for position in range(12):
        changed = str((int(reference[position]) + 1) % 10)
        mistyped = reference[:position] + changed + reference[position + 1 :]
        assert not is_valid_structured_reference(mistyped), mistyped


# -- a reference per (fiscal year, call, payer) ----------------------------------------


@pytest.mark.parametrize(
    ("year", "call", "payer", "reference"),
    [
        (2025, 3, 12, "+++202/5030/01206+++"),  # 2025030012 % 97 = 6
        (2025, 1, 1, "+++202/5010/00174+++"),  # 2025010001 % 97 = 74
        (2026, 12, 9999, "+++202/6129/99913+++"),  # 2026129999 % 97 = 13
    ],
)
def test_call_reference_reads_year_call_payer(
    year: int, call: int, payer: int, reference: str
) -> None:
    assert call_reference(year, call, payer) == reference
    assert split_call_reference(reference) == (year, call, payer)


@given(
    st.tuples(st.integers(1000, 9999), st.integers(1, 99), st.integers(1, 9999)),
    st.tuples(st.integers(1000, 9999), st.integers(1, 99), st.integers(1, 9999)),
)
def test_call_references_are_unique(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    assert (call_reference(*a) == call_reference(*b)) is (a == b)


@pytest.mark.parametrize(
    ("year", "call", "payer", "message"),
    [
        (25, 1, 1, "four digits"),
        (2025, 0, 1, "from 1 to 99"),
        (2025, 100, 1, "from 1 to 99"),
        (2025, 1, 0, "from 1 to 9999"),
        (2025, 1, 10000, "from 1 to 9999"),
    ],
)
def test_call_reference_limits(year: int, call: int, payer: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        call_reference(year, call, payer)


def test_a_reference_not_made_for_a_call_is_named() -> None:
    with pytest.raises(InputError, match="not made for a call for funds"):
        split_call_reference("+++000/0000/00097+++")


# -- IBAN: ISO 13616 mod 97; an unknown Belgian bank code is only a warning -----------


def _iban(country: str, bban: str) -> str:
    return country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban


@pytest.mark.parametrize(
    ("text", "valid", "warned"),
    [
        ("BE68 5390 0754 7034", True, True),  # DOMAIN §8: valid, bank code 539 unknown
        ("BE68 5390 0754 7035", False, False),  # DOMAIN §8: wrong checksum
        ("be68539007547034", True, True),
        ("BE71 0961 2345 6769", True, False),  # Belfius, a known bank code
        ("BE32 1234 5678 9002", True, False),
        (_iban("BE", "123456789001"), False, False),  # ISO digits right, Belgian ones wrong
        ("NL91 ABNA 0417 1643 00", True, False),
        ("FR14 2004 1010 0505 0001 3M02 606", True, False),
        ("BE68 5390 0754 703", False, False),  # one digit short
        ("not an iban", False, False),
        ("", False, False),
    ],
)
def test_iban(text: str, valid: bool, warned: bool) -> None:
    result = check_iban(text)
    assert result.valid is valid
    assert is_valid_iban(text) is valid
    assert bool(result.warnings) is warned
    assert bool(result.problem) is not valid


def test_an_unknown_bank_code_is_explained_not_refused() -> None:
    result = check_iban("BE68 5390 0754 7034")
    assert result.iban == "BE68539007547034"
    assert result.warnings == (
        "The bank code 539 of BE68 5390 0754 7034 is not in the list of Belgian banks "
        "KoproGo knows; check the number with the owner.",
    )
    assert normalize_iban("be68 5390 0754 7034") == "BE68539007547034"


def test_normalize_refuses_a_wrong_iban_readably() -> None:
    with pytest.raises(InputError, match="'BE68 5390 0754 7035' is not a valid IBAN"):
        normalize_iban("BE68 5390 0754 7035")
    with pytest.raises(InputError, match="not a valid Belgian account number"):
        normalize_iban(_iban("BE", "123456789001"))


@pytest.mark.parametrize(
    ("text", "formatted"),
    [
        ("BE68539007547034", "BE68 5390 0754 7034"),
        ("be68 5390 0754 7034", "BE68 5390 0754 7034"),
        ("FR1420041010050500013M02606", "FR14 2004 1010 0505 0001 3M02 606"),
    ],
)
def test_format_iban_in_groups_of_four(text: str, formatted: str) -> None:
    assert format_iban(text) == formatted


# -- euros: integer cents in, the language's writing out, and back -------------------


@pytest.mark.parametrize(
    ("cents", "language", "text"),
    [
        (123456, "fr", "1\u202f234,56\u00a0€"),
        (123456, "nl", "€\u00a01.234,56"),
        (123456, "de", "1.234,56\u00a0€"),
        (123456, "en", "€1,234.56"),
        (5, "fr", "0,05\u00a0€"),
        (-200000, "de", "-2.000,00\u00a0€"),
        (0, "en", "€0.00"),
    ],
)
def test_format_eur(cents: int, language: str, text: str) -> None:
    assert format_eur(cents, language) == text


def test_format_eur_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError):
        format_eur(100, "es")


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456),
        ("1234.56", 123456),
        ("1 234,56 €", 123456),
        ("1\u202f234,56\u00a0€", 123456),
        ("€ 1.234,56", 123456),
        ("€1,234.56", 123456),
        ("1,234.56", 123456),
        ("1234,5", 123450),
        ("12", 1200),
        ("0,05", 5),
        ("1.234.567", 123456700),
        ("1.234.567,89", 123456789),
        ("1 234", 123400),
        ("EUR 20", 2000),
        ("20 eur", 2000),
        ("-12,30", -1230),
        ("−12,30 €", -1230),
        ("-€5.00", -500),
        ("+7", 700),
    ],
)
def test_parse_eur(text: str, cents: int) -> None:
    assert parse_eur(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1.234", "'1.234' is ambiguous"),
        ("1,234", "'1,234' is ambiguous"),
        ("12,345", "'12,345' is ambiguous"),
        ("1234.567", "more than two decimals"),
        ("1.234,567", "more than two decimals"),
        ("1,234.5678", "more than two decimals"),
        ("1.234.56", "is not an amount"),
        ("12 34", "is not an amount"),
        ("1.23.456", "is not an amount"),
        ("1,2.3", "is not an amount"),
        ("12,", "is not an amount"),
        (",50", "is not an amount"),
        ("", "is not an amount"),
        ("abc", "is not an amount"),
        ("12 € 50", "is not an amount"),
    ],
)
def test_parse_eur_refuses_ambiguity_readably(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_eur(text)
    assert message in str(raised.value)


def test_the_ambiguity_message_shows_the_amount_in_the_reader_s_language() -> None:
    i18n.set_language("en")
    with pytest.raises(InputError, match=r"e\.g\. €1,234\.00"):
        parse_eur("1.234")


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(i18n.LANGUAGES))
def test_what_is_formatted_parses_back(cents: int, language: str) -> None:
    assert parse_eur(format_eur(cents, language)) == cents
