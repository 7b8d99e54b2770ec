"""``koprogo-node assembly ...`` as a script uses it (issue 5, point 7): the
quorum decision printed with its figures, warnings and refusals readable,
exit codes, names for owners and numbers for agenda items."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.helpers import Node


@pytest.fixture
def syndic(tmp_path: Path, capsys, passphrase) -> Node:
    node = Node(tmp_path / "syndic", capsys)
    node.run("demo")
    return node


def prepared(syndic: Node) -> str:
    meeting = syndic.json(
        "assembly", "create", "--title", "AG 2027", "--date", "2027-03-15T18:30", "--place", "Salle"
    )["id"]
    added = syndic.json("assembly", "agenda", "add", meeting, "--title", "Ascenseur",
                        "--category", "common_works")  # fmt: skip
    assert added["majority"] == "two_thirds" and "two thirds" in added["reason"]
    return meeting


def test_a_late_convocation_warns_with_the_day_it_should_have_left(syndic):
    meeting = prepared(syndic)
    out = syndic.run("assembly", "convene", meeting[:10], "--date", "2027-03-05")
    assert "should have been sent by 2027-02-28" in out
    assert "Klaus Becker: email" in out and "Luc Janssens: registered_mail" in out


def test_opening_prints_the_quorum_decision_and_its_figures(syndic):
    meeting = prepared(syndic)
    syndic.run("assembly", "convene", meeting, "--date", "2027-02-20")
    syndic.run("assembly", "attend", meeting, "luc janssens", "--at", "2027-03-15T18:20")
    out = syndic.run("assembly", "open", meeting, "--at", "2027-03-15T18:40")
    assert "Quorum not reached" in out and "second assembly" in out
    assert "1 of 16 owners present or represented" in out
    syndic.run("assembly", "vote", meeting, "--item", "1", "--all", "for", ok=False)
    assert syndic.last_code == 1 and "quorum is not reached" in syndic.last_error
    syndic.run("assembly", "second", meeting, "--date", "2027-03-20T18:30", ok=False)
    assert "30/03/2027 at the earliest" in syndic.last_error
    second = syndic.run("assembly", "second", meeting, "--date", "2027-03-30T18:30").strip()
    assert syndic.json("assembly", "agenda", "list", second)[0]["title"] == "Ascenseur"


def test_refusals_are_readable_and_change_nothing(syndic):
    meeting = prepared(syndic)
    syndic.run("assembly", "proxy", meeting, "Luc Janssens", "--holder", "Luc Janssens", ok=False)
    assert syndic.last_code == 1 and "own proxy" in syndic.last_error
    syndic.run("assembly", "attend", meeting, "Personne Inconnue", ok=False)
    assert "Nobody called 'Personne Inconnue'" in syndic.last_error
    syndic.run("assembly", "attend", meeting, "A", ok=False)  # Annelies, Ahmed
    assert "names several owners" in syndic.last_error
    syndic.run("assembly", "create", "--title", "X", "--date", "15/03/2027", ok=False)
    assert "not a date and time" in syndic.last_error
    syndic.run("assembly", "attend", meeting, "Luc Janssens", "--remote", ok=False)
    assert "did not provide for remote participation" in syndic.last_error
    assert syndic.json("assembly", "result", meeting)["attending"] == []


def test_the_convocations_are_written_whole_or_refused_in_words(syndic, tmp_path):
    meeting = prepared(syndic)
    syndic.run("assembly", "convene", meeting, "--date", "2027-02-20")
    out = tmp_path / "convocations.pdf"
    assert syndic.run("assembly", "convocation", "pdf", meeting, "--out", str(out)).strip() == str(
        out
    )
    assert out.read_bytes().startswith(b"%PDF-")
    (tmp_path / "taken").write_bytes(b"a file, not a folder")
    syndic.run("assembly", "convocation", "pdf", meeting, "--out",
               str(tmp_path / "taken" / "c.pdf"), ok=False)  # fmt: skip
    assert syndic.last_code == 1 and "could not be written" in syndic.last_error
    assert syndic.last_error.startswith("koprogo-node: ") and syndic.last_error.count("\n") == 1


def test_a_poll_is_neither_adopted_nor_rejected_before_its_answers(syndic):
    """Found by hand: a poll's question read "[absolute]" on the agenda and
    its result as a vote, where a poll has no majority."""
    poll = syndic.run("assembly", "create", "--kind", "poll", "--title", "Couleur du hall",
                      "--date", "2027-05-01T10:00").strip()  # fmt: skip
    syndic.run("assembly", "agenda", "add", poll, "--title", "Repeindre en vert ?",
               "--answers", "yes_no")  # fmt: skip
    assert (
        syndic.run("assembly", "agenda", "list", poll).strip() == "1. Repeindre en vert ?  [yes_no]"
    )
    assert (
        syndic.run("assembly", "result", poll).strip() == "1. Repeindre en vert ? — no answer yet"
    )
