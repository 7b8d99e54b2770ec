"""Two syndic devices keeping the accounts offline, then syncing (found by
hand): a conflict that would count money twice is reported in words by
``ledger check``, with the command that settles it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.coda_gen import movement, statement, write_coda
from tests.sync.helpers import Node, invite, join


@pytest.fixture
def syndics(tmp_path: Path, capsys, passphrase, relay_factory):
    """The demo building on the syndic's laptop and on a second syndic
    device joined through a relay of its own; then both work offline."""
    relay = relay_factory()
    laptop, desk = Node(tmp_path / "laptop", capsys), Node(tmp_path / "desk", capsys)
    laptop.run("demo")
    laptop.run("relay", "connect", relay.url)
    laptop.run("sync")
    join(desk, relay.url, invite(laptop, "syndic"))
    return laptop, desk


def test_a_payment_matched_on_import_here_and_by_hand_there_is_reported(syndics, tmp_path):
    """The laptop had the year's calls and matched a payment when importing
    the bank statement; the second device, offline, had not received the
    calls, left the payment waiting and matched it by hand to the same
    owner. After the sync the owner was credited twice and nothing said
    so."""
    laptop, desk = syndics
    # offline from here: the calls exist on the laptop only
    laptop.run("ledger", "budget", "set", "--year", "2027", "--line", "611=24000")
    calls = laptop.json("ledger", "calls", "generate", "--year", "2027", "--schedule", "quarterly")
    share = calls[0]["shares"][0]
    on = date(2027, 1, 20)
    coda = tmp_path / "statement.cod"
    payment = movement(1, share["amount"], reference=share["reference"], on=on)
    coda.write_bytes(write_coda([statement([payment], old_date=on, new_date=on)]).encode("latin-1"))
    assert laptop.json("ledger", "coda", "import", str(coda))["matched"] == 1
    assert desk.json("ledger", "coda", "import", str(coda))["queued"] == 1
    (waiting,) = desk.json("ledger", "queue")
    desk.run("ledger", "match", waiting["id"], "--person", share["person"])
    for node in (desk, laptop, desk):
        node.run("sync")

    # The merge keeps one device's entry of the movement. Whichever it is,
    # the owner is credited once, or `ledger check` says the movement is
    # booked twice and how to settle it.
    for node in (laptop, desk):
        entries = node.json("ledger", "entries", "--year", "2027")
        credited = sum(
            line.get("credit") or 0
            for e in entries
            if "coda" in e["id"]
            for line in e["lines"]
            if line["account"] == "4101"
        )
        problems = node.run("ledger", "check", "--year", "2027")
        twice = f"ledger reverse match-{waiting['id']}" in problems
        assert (credited, twice) in ((share["amount"], False), (2 * share["amount"], True))


def test_a_movement_matched_differently_on_two_devices_is_reported(syndics, tmp_path):
    """Found by hand: one syndic matched a payment to Pierre, the other,
    offline, to Marie; one entry stayed and neither syndic was told."""
    laptop, desk = syndics
    on = date(2026, 3, 2)
    coda = tmp_path / "statement.cod"
    charges = movement(1, -500, communication="frais bancaires", on=on)
    coda.write_bytes(write_coda([statement([charges], old_date=on, new_date=on)]).encode("latin-1"))
    for node in (laptop, desk):  # offline, both import the same statement
        assert node.json("ledger", "coda", "import", str(coda))["queued"] == 1
    (waiting,) = laptop.json("ledger", "queue")
    laptop.run("ledger", "match", waiting["id"], "--account", "650")
    desk.run("ledger", "match", waiting["id"], "--account", "612")
    for node in (laptop, desk, laptop):
        node.run("sync")
    for node in (laptop, desk):
        problems = node.run("ledger", "check", "--year", "2026")
        assert (
            f"Bank movement {waiting['id']} was matched differently on two devices "
            "(account 612; account 650)"
        ) in problems
    assert laptop.json("ledger", "queue") == []  # matched: nothing waits any more


def test_calls_generated_differently_on_two_devices_are_reported(syndics):
    """Found by hand: a reserve-fund call of 2,000 once on one device, 3,000
    quarterly on the other; the first call kept one version whole and
    `ledger check` said nothing."""
    laptop, desk = syndics
    laptop.run("ledger", "calls", "generate", "--year", "2026", "--fund", "reserve",
               "--schedule", "once", "--amount", "2000", "--date", "2026-03-01")  # fmt: skip
    desk.run("ledger", "calls", "generate", "--year", "2026", "--fund", "reserve",
             "--schedule", "quarterly", "--amount", "3000")  # fmt: skip
    for node in (laptop, desk, laptop):
        node.run("sync")
    for node in (laptop, desk):
        problems = node.run("ledger", "check", "--year", "2026")
        assert "Call 2026-reserve-01 was generated differently on two devices" in problems
        assert "01/03/2026" in problems and "01/01/2026" in problems
    assert "2026-reserve-02" not in laptop.run("ledger", "check", "--year", "2026")
