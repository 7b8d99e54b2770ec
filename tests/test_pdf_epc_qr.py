"""The EPC payment QR code (EPC069-12): the payload against the standard's
example, the Belgian structured communication, the limits and refusals,
and the QR code decoding back to its payload."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from node.errors import InputError
from node.pdf.epc_qr import (
    MAX_PAYLOAD_BYTES,
    CreditTransfer,
    epc_payload,
    qr_matrix,
    transfer_problems,
)
from tests.test_pdf_helpers import decode_qr_image, qr_tools  # noqa: F401 (fixture)

# EPC069-12, section 4 ("Example of an EPC QR code"), also on Wikipedia's
# "EPC QR code" page: €1 to the Belgian Red Cross.
STANDARD_EXAMPLE = (
    "BCD\n001\n1\nSCT\nBPOTBEB1\nRed Cross of Belgium\nBE72000000001616\nEUR1\nCHAR\n\n"
    "Urgency fund\nSample EPC QR code"
)


def transfer(**changes: object) -> CreditTransfer:
    values: dict[str, object] = {
        "beneficiary": "ACP Résidence Les Tilleuls",
        "iban": "BE68 5390 0754 7034",
        "amount_cents": 123_456,
        "reference": "+++123/4567/89002+++",
    }
    values.update(changes)
    return CreditTransfer(**values)  # type: ignore[arg-type]


def test_the_standards_example():
    payload = epc_payload(
        CreditTransfer(
            beneficiary="Red Cross of Belgium",
            iban="BE72000000001616",
            amount_cents=100,
            bic="BPOTBEB1",
            purpose="CHAR",
            text="Urgency fund",
            information="Sample EPC QR code",
            version="001",
        )
    )
    # The one deliberate difference: amounts always have two decimals
    # ("EUR1.00"), which the standard allows ("EUR" then up to 12 characters).
    assert payload == STANDARD_EXAMPLE.replace("EUR1\n", "EUR1.00\n")


def test_a_belgian_structured_communication_goes_in_the_structured_field_as_12_digits():
    lines = epc_payload(transfer()).split("\n")
    assert lines == [
        "BCD",
        "002",
        "1",  # UTF-8
        "SCT",
        "",  # no BIC: allowed in version 002
        "ACP Résidence Les Tilleuls",
        "BE68539007547034",
        "EUR1234.56",
        "",  # no purpose code
        "123456789002",  # Febelfin's digital form of +++123/4567/89002+++
    ]  # nothing after the last filled element, not even a line feed


@pytest.mark.parametrize(
    "written",
    ["+++123/4567/89002+++", "***123/4567/89002***", "123/4567/89002", "123456789002"],
)
def test_any_usual_writing_of_the_communication_gives_the_same_digits(written: str):
    assert epc_payload(transfer(reference=written)).endswith("\n123456789002")


def test_a_bic_and_an_rf_creditor_reference():
    payload = epc_payload(transfer(bic="gkcc be bb", reference="RF18 5390 0754 7034"))
    assert payload.split("\n")[4] == "GKCCBEBB"
    assert payload.endswith("\nRF18539007547034")


def test_a_free_communication_goes_in_the_text_field():
    payload = epc_payload(transfer(reference="", text="Charges lot A3"))
    assert payload.endswith("\nEUR1234.56\n\n\nCharges lot A3")


@pytest.mark.parametrize(
    ("cents", "written"),
    [
        (1, "EUR0.01"),
        (100, "EUR1.00"),
        (123_450, "EUR1234.50"),
        (99_999_999_999, "EUR999999999.99"),
    ],
)
def test_amounts_have_two_decimals_within_the_standards_range(cents: int, written: str):
    assert epc_payload(transfer(amount_cents=cents)).split("\n")[7] == written


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"amount_cents": 0}, "€0.01 to €999,999,999.99"),
        ({"amount_cents": -500}, "€0.01 to €999,999,999.99"),
        ({"amount_cents": 100_000_000_000}, "€0.01 to €999,999,999.99"),
        ({"iban": "BE68 5390 0754 7035"}, "not a valid IBAN"),
        ({"iban": "hello"}, "not a valid IBAN"),
        ({"beneficiary": "x" * 71}, "71 characters; a payment QR code allows 70"),
        ({"beneficiary": "  "}, "needs the beneficiary's name"),
        ({"reference": "+++123/4567/89003+++"}, "wrong check digits"),
        ({"reference": "+++123/4567/8900+++"}, "not a structured communication"),
        ({"reference": "RF19 5390 0754 7034"}, "not a valid RF creditor reference"),
        ({"bic": "NOTABIC"}, "not a valid BIC"),
        ({"version": "001"}, "needs the bank's BIC"),
        ({"text": "also this"}, "not both"),
        ({"reference": "", "text": "x" * 141}, "at most 140 characters"),
        ({"purpose": "CHARITY"}, "four letters"),
        ({"beneficiary": "ACP\nLes Tilleuls"}, "on one line each"),
    ],
)
def test_refusals_are_readable(changes: dict, words: str):
    bad = transfer(**changes)
    assert any(words in problem for problem in transfer_problems(bad))
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(".", r"\.")):
        epc_payload(bad)


def test_every_problem_is_reported_at_once():
    problems = transfer_problems(transfer(amount_cents=0, iban="BE00", beneficiary=""))
    assert len(problems) == 3


def test_the_payload_is_at_most_331_bytes_of_utf8():
    # 70 two-byte letters and 140 three-byte euro signs: 630 bytes of text
    big = transfer(beneficiary="é" * 70, reference="", text="€" * 140)
    assert any("331 bytes" in p for p in transfer_problems(big))
    fitting = transfer(beneficiary="é" * 70, reference="", text="x" * 140)
    assert len(epc_payload(fitting).encode("utf-8")) <= MAX_PAYLOAD_BYTES


def _format_information(matrix: list[list[bool]]) -> int:
    """The 15 format bits read from the column beside the top-left finder
    pattern (ISO/IEC 18004 §7.9), unmasked."""
    rows = [0, 1, 2, 3, 4, 5, 7, 8] + [len(matrix) - 7 + i for i in range(7)]
    bits = sum(int(matrix[row][8]) << i for i, row in enumerate(rows))
    return bits ^ 0b101010000010010


def test_the_qr_code_uses_error_correction_m_and_version_13_at_most():
    without_note = transfer(beneficiary="é" * 60, reference="", text="x" * 140, bic="GEBABEBBXXX")
    room = MAX_PAYLOAD_BYTES - len(epc_payload(without_note).encode()) - 1
    longest = epc_payload(transfer(**{**vars(without_note), "information": "y" * room}))
    assert len(longest.encode()) == MAX_PAYLOAD_BYTES
    for payload in (epc_payload(transfer()), longest):
        matrix = qr_matrix(payload)
        version = (len(matrix) - 17) // 4
        assert 1 <= version <= 13
        assert all(len(row) == len(matrix) for row in matrix)
        level = _format_information(matrix) >> 13
        assert level == 0b00  # M (L = 01, Q = 11, H = 10)


def _png(matrix: list[list[bool]], path: Path, scale: int = 8, quiet: int = 4) -> Path:
    size = (len(matrix) + 2 * quiet) * scale
    image = Image.new("L", (size, size), 255)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x, y = (c + quiet) * scale, (r + quiet) * scale
                image.paste(0, (x, y, x + scale, y + scale))
    image.save(path)
    return path


@pytest.mark.usefixtures("qr_tools")
def test_reportlabs_matrix_decodes_back_to_the_payload(tmp_path: Path):
    payload = epc_payload(
        transfer(beneficiary="VME Résidence « Les Œillets » — Dvořák", bic="GEBABEBB")
    )
    assert decode_qr_image(_png(qr_matrix(payload), tmp_path / "qr.png")) == payload
