"""Registry rules from DOMAIN §1–§2, table-driven, with no database or document."""

from __future__ import annotations

from datetime import date

import pytest

from node.domain.identifiers import format_bce, is_valid_bce
from node.domain.registry import (
    Address,
    Association,
    DistributionKey,
    Lot,
    LotType,
    Occupant,
    Ownership,
    Person,
    Registry,
    Right,
    council_mandatory,
    facts,
    full_accounting_mandatory,
    legal_lot_count,
    parse_share,
)
from node.domain.validation import validate
from node.errors import InputError

# -- BCE/KBO enterprise numbers: 97 - (first8 % 97) == last2 (DOMAIN §1) --------


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("0842331568", True),  # 97 - 08423315 % 97 = 68
        ("0842.331.568", True),
        ("BE 0842.331.568", True),
        ("0842331569", False),  # last digit off by one
        ("0751234514", True),
        ("084233156", False),  # nine digits
        ("", False),
    ],
)
def test_bce_check_digits(number: str, valid: bool) -> None:
    assert is_valid_bce(number) is valid


def test_bce_is_printed_with_dots() -> None:
    assert format_bce("0842331568") == "0842.331.568"


# -- legal lot count and thresholds (art. 3.90; AR 12/07/2012) ---------------------


def lots(**counts: int) -> list[Lot]:
    made = []
    for type_name, count in counts.items():
        for i in range(count):
            made.append(Lot(f"{type_name}{i}", f"{type_name}-{i}", LotType(type_name), 10))
    return made


@pytest.mark.parametrize(
    ("counts", "legal", "council", "full_accounting"),
    [
        ({"apartment": 19}, 19, False, False),
        ({"apartment": 20}, 20, True, True),
        # cellars, garages and parkings do not count (DOMAIN §1)
        ({"apartment": 19, "cellar": 5, "garage": 3, "parking": 2}, 19, False, False),
        ({"apartment": 15, "commercial": 3, "office": 1, "house": 1}, 20, True, True),
        ({"apartment": 18, "other": 2, "cellar": 30}, 20, True, True),
        ({}, 0, False, False),
    ],
)
def test_thresholds_count_lots_without_cellars_garages_parkings(
    counts: dict[str, int], legal: int, council: bool, full_accounting: bool
) -> None:
    made = lots(**counts)
    assert legal_lot_count(made) == legal
    assert council_mandatory(made) is council
    assert full_accounting_mandatory(made) is full_accounting


# -- values are checked when built -----------------------------------------------


@pytest.mark.parametrize(
    ("build", "message_part"),
    [
        (lambda: Lot("x", "A1", LotType.APARTMENT, -1), "quota"),
        (lambda: Lot("x", " ", LotType.APARTMENT, 1), "number"),
        (lambda: Association("ACP", 0), "quota total"),
        (lambda: Association("", 1000), "name"),
        (lambda: Association("ACP", 1000, fiscal_year_start="13-01"), "MM-DD"),
        (lambda: Person("x", "Ann", email="not-an-address"), "e-mail"),
        (lambda: Person("x", "Ann", language="es"), "language"),
        (lambda: Person("x", "Ann", email_consent=True), "e-mail address"),
        (lambda: Ownership("x", "l", "p", 0), "share"),
        (lambda: Ownership("x", "l", "p", 10_001), "share"),
        (lambda: Address(postal_code="123"), "postal code"),
        (lambda: DistributionKey("k", "Lift", {"l": -1}), "weights"),
        (lambda: Association("ACP", 1000, iban="BE68 5390 0754 7035"), "not a valid IBAN"),
        (lambda: Association("ACP", 1000, bic="GKC"), "not a BIC"),
    ],
)
def test_bad_values_are_refused_with_a_readable_message(build, message_part: str) -> None:
    with pytest.raises(InputError, match=message_part):
        build()


@pytest.mark.parametrize(
    ("text", "hundredths"),
    [("100", 10_000), ("50", 5_000), ("33.33", 3_333), ("33,34 %", 3_334), ("0.01", 1)],
)
def test_share_parsing(text: str, hundredths: int) -> None:
    assert parse_share(text) == hundredths


@pytest.mark.parametrize("text", ["0", "100.01", "-5", "33.333", "half", ""])
def test_bad_shares_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_share(text)


# -- validation: problems listed, nothing fixed -------------------------------------


A = Association("ACP Test", 1000, provisional_acceptance=date(2020, 1, 1))
ANN = Person("p1", "Ann")
BOB = Person("p2", "Bob")
CAROL = Person("p3", "Carol")


def registry(lot_list, ownerships, keys=(), association=A, persons=(ANN, BOB, CAROL), occupants=()):
    return Registry(
        association=association,
        lots=tuple(lot_list),
        persons=tuple(persons),
        ownerships=tuple(ownerships),
        keys=tuple(keys),
        occupants=tuple(occupants),
    )


L1 = Lot("l1", "1", LotType.APARTMENT, 600)
L2 = Lot("l2", "2", LotType.APARTMENT, 400)


def own(id_, lot, person, share, right=Right.FULL, voting=False):
    return Ownership(id_, lot.id, person.id, share, right, voting)


VALID = [own("o1", L1, ANN, 10_000, voting=True), own("o2", L2, BOB, 10_000, voting=True)]


def codes(reg: Registry) -> list[str]:
    return [p.code for p in validate(reg)]


@pytest.mark.parametrize(
    ("case", "reg", "expected"),
    [
        ("valid", registry([L1, L2], VALID), []),
        ("no association", registry([L1, L2], VALID, association=None), ["association_missing"]),
        (
            "quotas under the deed total",
            registry([L1, Lot("l2", "2", LotType.APARTMENT, 300)], VALID),
            ["quota_total_mismatch"],
        ),
        (
            "duplicate lot numbers",
            registry([L1, Lot("l2", "1", LotType.APARTMENT, 400)], VALID),
            ["duplicate_lot_number"],
        ),
        ("lot without holders", registry([L1, L2], VALID[:1]), ["lot_without_holders"]),
        (
            "co-owners' shares make 90 %",
            registry(
                [L1, L2],
                [VALID[0], own("o2", L2, BOB, 5_000, voting=True), own("o3", L2, CAROL, 4_000)],
            ),
            ["holder_shares_not_100"],
        ),
        (
            "no voting holder",
            registry([L1, L2], [VALID[0], own("o2", L2, BOB, 10_000)]),
            ["lot_without_voting_holder"],
        ),
        (
            "two voting holders",
            registry(
                [L1, L2],
                [
                    VALID[0],
                    own("o2", L2, BOB, 5_000, voting=True),
                    own("o3", L2, CAROL, 5_000, voting=True),
                ],
            ),
            ["several_voting_holders"],
        ),
        (
            "usufruct 100 % and bare ownership 50/50 is complete",
            registry(
                [L1, L2],
                [
                    VALID[0],
                    own("o2", L2, ANN, 10_000, Right.USUFRUCT, voting=True),
                    own("o3", L2, BOB, 5_000, Right.BARE),
                    own("o4", L2, CAROL, 5_000, Right.BARE),
                ],
            ),
            [],
        ),
        (
            "bare ownership without usufruct",
            registry(
                [L1, L2],
                [VALID[0], own("o2", L2, BOB, 10_000, Right.BARE, voting=True)],
            ),
            ["holder_shares_not_100"],
        ),
        (
            "a person entered twice on one lot",
            registry(
                [L1, L2],
                [VALID[0], own("o2", L2, BOB, 5_000, voting=True), own("o3", L2, BOB, 5_000)],
            ),
            ["duplicate_holder"],
        ),
        (
            "holding of a deleted person",
            registry([L1, L2], VALID, persons=(ANN,)),
            ["unknown_person_reference"],
        ),
        (
            "occupant who is a deleted person (an erasure undone by an offline device)",
            registry([L1, L2], VALID, occupants=[Occupant("c1", L1.id, "gone")]),
            ["unknown_person_reference"],
        ),
        (
            "special key over no lot",
            registry([L1, L2], VALID, keys=[DistributionKey("k", "Lift", {})]),
            ["key_empty"],
        ),
        (
            "special key naming a deleted lot",
            registry([L1, L2], VALID, keys=[DistributionKey("k", "Lift", {"l1": 1, "gone": 2})]),
            ["key_unknown_lot"],
        ),
    ],
)
def test_validation_lists_problems(case: str, reg: Registry, expected: list[str]) -> None:
    assert codes(reg) == expected, case


def test_problem_messages_are_readable_and_name_the_lot() -> None:
    reg = registry(
        [L1, L2],
        [
            VALID[0],
            own("o2", L2, BOB, 5_000, voting=True),
            own("o3", L2, CAROL, 5_000, voting=True),
        ],
    )
    (problem,) = validate(reg)
    assert problem.message == "Lot 2 has 2 holders designated to vote: Bob, Carol."
    assert set(problem.subjects) == {"l2", "p2", "p3"}


def test_quota_message_gives_both_totals() -> None:
    reg = registry([L1, Lot("l2", "2", LotType.APARTMENT, 450)], VALID)
    assert validate(reg)[0].message == (
        "The lots' quotas add up to 1,050, but the deed's total is 1,000 (+50)."
    )


def test_facts_report_counts_and_thresholds() -> None:
    f = facts(registry([L1, L2, Lot("c", "C1", LotType.CELLAR, 0)], VALID))
    assert (f.lot_count, f.legal_lot_count, f.quota_sum, f.quota_total) == (3, 2, 1000, 1000)
    assert (f.council_mandatory, f.full_accounting_mandatory) == (False, False)
    assert (f.council_threshold, f.full_accounting_threshold) == (20, 20)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "1,050"), ("fr", "1\u202f050"), ("nl", "1.050"), ("de", "1.050")],
)
def test_numbers_in_messages_follow_the_language(language: str, expected: str) -> None:
    from node import i18n

    i18n.set_language(language)
    reg = registry([L1, Lot("l2", "2", LotType.APARTMENT, 450)], VALID)
    assert expected in validate(reg)[0].message


def test_association_bank_accounts_are_kept_compact():
    a = Association("ACP", 1000, iban="be68 5390 0754 7034", bic="gkcc be bb")
    assert (a.iban, a.bic) == ("BE68539007547034", "GKCCBEBB")
