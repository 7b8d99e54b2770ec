"""``koprogo-node ledger ...``: the commands a script relies on (issue 4, point 9)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from node.cli import main
from node.domain.payments import parse_structured_reference
from tests.coda_gen import movement, statement, write_coda
from tests.helpers import clock_at


@pytest.fixture
def profile(tmp_path: Path, passphrase, capsys) -> str:
    path = str(tmp_path / "acp")
    assert main(["--profile", path, "demo"]) == 0
    capsys.readouterr()
    return path


def run(capsys, profile, *args, code=0):
    capsys.readouterr()
    assert main(["--profile", profile, *args]) == code
    out, err = capsys.readouterr()
    return out if code == 0 else err


def js(capsys, profile, *args):
    return json.loads(run(capsys, profile, *args, "--json"))


def test_a_year_of_accounts_from_the_command_line(capsys, profile, tmp_path, monkeypatch):
    budget = js(
        capsys,
        profile,
        "ledger",
        "budget",
        "set",
        "--year",
        "2027",
        "--line",
        "611=24000",
        "--line",
        "612=16 000,00",
    )
    assert budget["total"] == 4_000_000
    calls = js(
        capsys, profile, "ledger", "calls", "generate", "--year", "2027", "--schedule", "quarterly"
    )
    assert [c["id"] for c in calls] == [f"2027-working-0{n}" for n in (1, 2, 3, 4)]
    invoice = js(
        capsys,
        profile,
        "ledger",
        "invoice",
        "add",
        "--supplier",
        "Kone SA",
        "--number",
        "F-118",
        "--date",
        "2027-03-03",
        "--line",
        "611=1234.56:Ascenseur",
    )
    assert invoice["total"] == 123_456 and sum(invoice["allocation"][0].values()) == 123_456

    lift_lots = {lot for lot, part in invoice["allocation"][0].items() if part}
    share = next(s for s in calls[0]["shares"] if s["lot"] in lift_lots)  # bears lift costs
    coda = tmp_path / "statement.cod"
    on = date(2027, 1, 20)
    coda.write_bytes(
        write_coda(
            [
                statement(
                    [
                        movement(
                            1,
                            sum(
                                s["amount"]
                                for s in calls[0]["shares"]
                                if s["reference"] == share["reference"]
                            ),
                            reference=share["reference"],
                            on=on,
                        ),
                        movement(2, 5_000, communication="unknown", on=on),
                    ],
                    old_date=on,
                    new_date=on,
                )
            ]
        ).encode("latin-1")
    )
    imported = js(capsys, profile, "ledger", "coda", "import", str(coda))
    assert (imported["matched"], imported["queued"]) == (1, 1)
    assert "already imported" in run(capsys, profile, "ledger", "coda", "import", str(coda), code=1)
    (queued,) = js(capsys, profile, "ledger", "queue")
    run(capsys, profile, "ledger", "match", queued["id"], "--account", "740")
    assert js(capsys, profile, "ledger", "queue") == []

    balances = js(capsys, profile, "ledger", "balances", "--year", "2027", "--at", "2027-06-30")
    payer = next(b for b in balances if b["person"] == share["person"])
    assert payer["ageing"]["90+"] == 0  # their first call is paid
    assert sum(b["balance"] for b in balances) > 0

    pdf = tmp_path / "statement.pdf"
    data = js(
        capsys,
        profile,
        "ledger",
        "statement",
        "--owner",
        share["person"],
        "--year",
        "2027",
        "--pdf",
        str(pdf),
    )
    assert data["charges"] > 0 and PdfReader(str(pdf)).pages
    # by name too (found by hand: "There is no person with id Ahmed Benali")
    names = {p["id"]: p["name"] for p in js(capsys, profile, "registry")["persons"]}
    named = js(capsys, profile, "ledger", "statement", "--owner", names[share["person"]],
               "--year", "2027")  # fmt: skip
    assert named["person"] == share["person"] and named["charges"] == data["charges"]
    notices = tmp_path / "calls.pdf"
    run(
        capsys,
        profile,
        "ledger",
        "calls",
        "pdf",
        "2027-working-01",
        "--pdf",
        str(notices),
        "--person",
        share["person"],
    )
    text = "".join(p.extract_text() for p in PdfReader(str(notices)).pages)
    assert parse_structured_reference(share["reference"]) in text.replace("/", "").replace(
        "+", ""
    ).replace(" ", "")

    report = js(capsys, profile, "ledger", "report", "--year", "2027", "--in", "nl")
    assert report["presentation"] == "full"  # 20 lots: full double-entry (AR 12/07/2012)
    assert report["income_statement"]["total_charges"] == 123_456
    assert report["balance_sheet"]["total_assets"] == report["balance_sheet"]["total_liabilities"]
    assert js(capsys, profile, "ledger", "deliver", "--year", "2027")["delivered"] > 0
    assert js(capsys, profile, "ledger", "check", "--year", "2027") == []
    listed = run(capsys, profile, "ledger", "entries", "--year", "2027", "--journal", "purchases")
    assert listed.splitlines()[0].startswith("ACH-2027-0001*  ")
    assert listed.splitlines()[-1].startswith("* provisional number")
    refused = run(capsys, profile, "ledger", "close-year", "2027", code=1)
    assert "ends on 31/12/2027; it can be closed from 01/01/2028 on" in refused
    clock_at(monkeypatch, date(2028, 1, 2))
    closed = js(capsys, profile, "ledger", "close-year", "2027")
    # the calls' surplus goes back to the owners' accounts with the statements;
    # what is left is the income no owner was called for
    assert closed == {"closed": 2027, "opened": 2028, "result_carried": 5_000}
    listed = run(capsys, profile, "ledger", "entries", "--year", "2027", "--journal", "purchases")
    assert listed.splitlines()[0].startswith("ACH-2027-0001  ") and "provisional" not in listed
    assert all(e["definitive"] for e in js(capsys, profile, "ledger", "entries", "--year", "2027"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [
                "ledger",
                "invoice",
                "add",
                "--supplier",
                "X",
                "--number",
                "1",
                "--date",
                "2027-01-01",
                "--line",
                "611",
            ],
            "ACCOUNT=AMOUNT",
        ),
        (
            [
                "ledger",
                "invoice",
                "add",
                "--supplier",
                "X",
                "--number",
                "1",
                "--date",
                "2027-01-01",
                "--line",
                "611=12.345",
            ],
            "two decimals",
        ),
        (
            [
                "ledger",
                "invoice",
                "add",
                "--supplier",
                "X",
                "--number",
                "1",
                "--date",
                "2027-01-01",
                "--line",
                "611=10:Nope",
            ],
            "no distribution key",
        ),
        (["ledger", "calls", "generate", "--year", "2027"], "Nothing to call"),
        (["ledger", "coda", "import", "/nonexistent.cod"], "Cannot read"),
        (["ledger", "match", "nothing", "--account", "650"], "matching queue"),
    ],
)
def test_mistakes_are_explained(capsys, profile, args, message):
    err = run(capsys, profile, *args, code=1)
    assert message in err and "Traceback" not in err


def test_bank_charges_matched_from_the_command_line_are_split_by_a_named_key(capsys, profile):
    on = date(2027, 1, 20)
    coda = Path(profile).parent / "fees.cod"
    coda.write_bytes(
        write_coda(
            [
                statement(
                    [movement(1, -1_503, communication="frais", on=on)], old_date=on, new_date=on
                )
            ]
        ).encode("latin-1")
    )
    js(capsys, profile, "ledger", "coda", "import", str(coda))
    (queued,) = js(capsys, profile, "ledger", "queue")
    assert "distribution key nope" in run(
        capsys,
        profile,
        "ledger",
        "match",
        queued["id"],
        "--account",
        "650",
        "--key",
        "nope",
        code=1,
    )
    run(capsys, profile, "ledger", "match", queued["id"], "--account", "650", "--key", "lift")
    assert js(capsys, profile, "ledger", "queue") == []
    owners = {o["person_id"] for o in js(capsys, profile, "registry")["ownerships"]}
    for person in sorted(owners):
        data = js(capsys, profile, "ledger", "statement", "--owner", person, "--year", "2027")
        lines = [x for lot in data["lots"] for x in lot["lines"] if x["account"] == "650"]
        if lines:
            break
    assert lines and {x["key"] for x in lines} == {"Ascenseur / Lift"}
    assert {x["building_total"] for x in lines} == {1_503}


def test_payments_and_matches_name_the_owner(capsys, profile):
    """Found by hand: "There is no person with id Jan Peeters"."""
    on = date(2027, 2, 10)
    coda = Path(profile).parent / "jan.cod"
    coda.write_bytes(
        write_coda(
            [statement([movement(1, 14_100, communication="Jan", on=on)], old_date=on, new_date=on)]
        ).encode("latin-1")
    )
    js(capsys, profile, "ledger", "coda", "import", str(coda))
    (queued,) = js(capsys, profile, "ledger", "queue")
    persons = {p["name"]: p["id"] for p in js(capsys, profile, "registry")["persons"]}
    name = sorted(persons)[0]
    run(capsys, profile, "ledger", "match", queued["id"], "--person", name)
    run(capsys, profile, "ledger", "payment", "add", "--person", name.lower(), "--amount", "10",
        "--date", "2027-02-11")  # fmt: skip
    balances = js(capsys, profile, "ledger", "balances", "--year", "2027")
    assert {b["person"]: b["balance"] for b in balances}[persons[name]] == -14_100 - 1_000
    assert "no person 'Nobody'" in run(
        capsys, profile, "ledger", "payment", "add", "--person", "Nobody", "--amount", "1",
        "--date", "2027-02-11", code=1,
    )  # fmt: skip
