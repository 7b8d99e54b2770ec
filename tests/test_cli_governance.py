"""``koprogo-node council|auditor|syndic|tasks``: the contract scripts rely
on, and readable errors that change nothing (issue 5, point 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.cli import main
from tests.helpers import reopen


@pytest.fixture
def profile(tmp_path: Path, passphrase, capsys) -> str:
    """The demo building: 20 lots counted for the law, so a council is mandatory."""
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


def persons(capsys, profile) -> list[dict]:
    return js(capsys, profile, "registry")["persons"]


def test_council_auditor_syndic_and_tasks(capsys, profile):
    ids = {p["name"]: p["id"] for p in persons(capsys, profile)}
    # three owners of the demo (ids are random: never pick people by position)
    ann, bob, cec = (ids[n] for n in ("Annelies Peeters-Claes", "Luc Janssens", "Klaus Becker"))
    tasks = js(capsys, profile, "tasks", "--today", "2027-03-01")
    assert [(t["kind"], t["severity"], t["ref"]) for t in tasks] == [
        ("council-missing", "overdue", "council")
    ]
    assert "art. 3.90" in tasks[0]["message"]

    mandate = run(
        capsys,
        profile,
        "council",
        "add",
        "--person",
        ann,
        "--from",
        "2026-06-10",
        "--until",
        "2027-04-15",
        "--role",
        "president",
        "--meeting",
        "AG-2026",
    ).strip()
    assert len(mandate) == 26
    added = js(capsys, profile, "council", "add", "--person", bob, "--from", "2026-06-10")
    assert added["role"] == "member" and added["until"] is None and added["meeting_id"] is None
    listed = js(capsys, profile, "council", "list")
    assert [(m["id"], m["role"], m["from"], m["until"], m["meeting_id"]) for m in listed] == [
        (mandate, "president", "2026-06-10", "2027-04-15", "AG-2026"),
        (added["id"], "member", "2026-06-10", None, None),
    ]
    assert set(listed[0]) == {
        "id",
        "person_id",
        "name",
        "role",
        "from",
        "until",
        "meeting_id",
        "running",
    }
    assert [m["id"] for m in js(capsys, profile, "council", "list", "--on", "2027-05-01")] == [
        added["id"]
    ]

    assert js(capsys, profile, "auditor", "set", "2027", "--name", "Fiduciaire Dupont") == {
        "year": 2027,
        "person_id": None,
        "name": "Fiduciaire Dupont",
        "owner": False,
        "meeting_id": None,
    }
    owner = js(capsys, profile, "auditor", "set", "2028", "--person", cec, "--meeting", "AG-2028")
    assert owner["owner"] is True  # the demo's persons hold lots
    assert [a["year"] for a in js(capsys, profile, "auditor", "show")] == [2027, 2028]
    assert js(capsys, profile, "auditor", "show", "2029") is None
    assert "Fiduciaire Dupont" in run(capsys, profile, "auditor", "show", "2027")

    run(capsys, profile, "syndic", "set", "--from", "2024-05-01", "--until", "2028-05-01")
    assert js(capsys, profile, "syndic", "show") == {
        "from": "2024-05-01",
        "until": "2028-05-01",
        "ends_by_law": "2027-05-01",
    }
    tasks = js(capsys, profile, "tasks", "--today", "2027-03-01")
    assert [(t["due"], t["kind"], t["severity"]) for t in tasks] == [
        ("2027-04-15", "council-mandate-ending", "soon"),
        ("2027-05-01", "syndic-mandate-too-long", "soon"),
    ]
    assert set(tasks[0]) == {"due", "kind", "severity", "message", "ref"}
    text = run(capsys, profile, "--language", "fr", "tasks", "--today", "2027-03-01")
    assert text.splitlines()[0].startswith("2027-04-15  bientôt")
    assert "(présidence) au conseil de copropriété" in text and "art. 3.89 §1" in text

    ended = js(capsys, profile, "council", "end", mandate, "--until", "2027-03-31")
    assert ended["until"] == "2027-03-31"
    run(capsys, profile, "syndic", "set", "--until", "")  # clears the end only
    assert js(capsys, profile, "syndic", "show")["until"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["council", "add", "--person", "nobody", "--from", "2027-01-01"], "no person"),
        (["council", "add", "--person", "{p}", "--from", "2027-13-01"], "is not a date"),
        (
            ["council", "add", "--person", "{p}", "--from", "2027-02-01", "--until", "2027-01-01"],
            "cannot end",
        ),
        (["council", "end", "nope", "--until", "2027-01-01"], "no council mandate nope"),
        (["auditor", "set", "2027", "--person", "nobody"], "no person"),
        (["auditor", "set", "27", "--name", "X"], "four digits"),
        (["syndic", "set"], "--from or --until"),
        (["syndic", "set", "--from", "2027-01-01", "--until", "2026-01-01"], "cannot end"),
        (["tasks", "--today", "tomorrow"], "is not a date"),
    ],
)
def test_mistakes_are_explained_and_change_nothing(capsys, profile, args, message):
    person = persons(capsys, profile)[0]["id"]
    with reopen(Path(profile)) as session:
        before = session.document("registry").get_state()
    err = run(capsys, profile, *(a.format(p=person) for a in args), code=1)
    assert message in err and "Traceback" not in err
    with reopen(Path(profile)) as session:
        assert session.document("registry").get_state() == before


def test_the_syndic_is_refused_on_the_council_and_as_auditor(capsys, profile):
    syndic = persons(capsys, profile)[0]["id"]
    with reopen(Path(profile)) as session:
        session.profile.store.set_meta({"person": syndic})  # the syndic's own person
    err = run(capsys, profile, "council", "add", "--person", syndic, "--from", "2027-01-01", code=1)
    assert "The syndic cannot be a member of the council" in err
    err = run(capsys, profile, "auditor", "set", "2027", "--person", syndic, code=1)
    assert "art. 3.91" in err
    assert js(capsys, profile, "council", "list") == []
