"""``koprogo-node``: the contract scripts rely on, and readable errors."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from node.cli import main
from tests.helpers import PASSPHRASE

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def profile(tmp_path: Path, passphrase) -> str:
    return str(tmp_path / "profile")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_building_from_scratch(capsys, profile):
    assert (
        run(
            capsys,
            "--profile",
            profile,
            "init",
            "--name",
            "ACP Parc",
            "--quota-total",
            "1000",
            "--bce",
            "0842.331.568",
        )[0]
        == 0
    )
    code, out, _ = run(
        capsys,
        "--profile",
        profile,
        "lot",
        "add",
        "--number",
        "A1",
        "--type",
        "apartment",
        "--quota",
        "600",
        "--floor",
        "1",
    )
    assert code == 0 and len(out.strip()) == 26
    run(
        capsys,
        "--profile",
        profile,
        "lot",
        "add",
        "--number",
        "G1",
        "--type",
        "garage",
        "--quota",
        "300",
    )
    code, out, _ = run(
        capsys,
        "--profile",
        profile,
        "person",
        "add",
        "--name",
        "Ann Claes",
        "--email",
        "ann@example.be",
        "--language",
        "nl",
        "--email-consent",
    )
    ann = out.strip()
    _, out, _ = run(capsys, "--profile", profile, "person", "add", "--name", "Bart Claes", "--json")
    bart = json.loads(out)["id"]
    # Bart by his name (found by hand: "There is no person with id Bart Claes")
    for person, voting in ((ann, ["--voting"]), ("Bart Claes", [])):
        args = ["owner", "set", "A1", "--person", person, "--share", "50", *voting]
        assert run(capsys, "--profile", profile, *args)[0] == 0
    assert run(capsys, "--profile", profile, "lot", "set", "A1", "--quota", "700")[0] == 0

    code, out, _ = run(capsys, "--profile", profile, "registry", "--json")
    data = json.loads(out)
    assert set(data) >= {"association", "lots", "persons", "ownerships", "keys", "facts"}
    assert data["association"]["bce_number"] == "0842331568"
    assert [(lot["number"], lot["type"], lot["quota"]) for lot in data["lots"]] == [
        ("A1", "apartment", 700),
        ("G1", "garage", 300),
    ]
    assert all({"id", "number", "type", "quota"} <= set(lot) for lot in data["lots"])
    assert {(p["id"], p["name"], p["email"]) for p in data["persons"]} == {
        (ann, "Ann Claes", "ann@example.be"),
        (bart, "Bart Claes", ""),
    }
    assert {o["person_id"] for o in data["ownerships"]} == {ann, bart}
    assert sorted((o["share"], o["voting"]) for o in data["ownerships"]) == [
        ("50", False),
        ("50", True),
    ]
    assert data["facts"]["legal_lot_count"] == 1
    assert data["facts"]["quota_sum"] == 1000
    assert data["facts"]["quota_total"] == 1000
    assert data["facts"]["council_threshold"] == 20
    assert data["keys"][0]["id"] == "general"

    code, out, _ = run(capsys, "--profile", profile, "check", "--json")
    assert code == 0
    assert [p["code"] for p in json.loads(out)] == ["lot_without_holders"]  # G1
    assert run(capsys, "--profile", profile, "check", "--strict")[0] == 3


def test_demo_and_its_facts(capsys, profile):
    assert run(capsys, "--profile", profile, "demo")[0] == 0
    _, out, _ = run(capsys, "--profile", profile, "registry", "--json")
    data = json.loads(out)
    types = [lot["type"] for lot in data["lots"]]
    assert len(types) == 24 and types.count("cellar") == 2 and types.count("garage") == 2
    assert len(data["persons"]) >= 20
    assert {o["right"] for o in data["ownerships"]} == {"full", "usufruct", "bare"}
    assert len([k for k in data["keys"] if not k["general"]]) == 2
    for key in data["keys"]:  # found by hand: another order on each device
        assert list(key["weights"]) == sorted(key["weights"])
    assert [k["id"] for k in data["keys"][1:]] == sorted(k["id"] for k in data["keys"][1:])
    assert data["facts"]["legal_lot_count"] == 20
    assert data["facts"]["council_mandatory"] is True
    _, out, _ = run(capsys, "--profile", profile, "check", "--json")
    assert json.loads(out) == []


def test_export_writes_plain_sqlite_and_csv(capsys, profile, tmp_path):
    run(capsys, "--profile", profile, "demo")
    target = tmp_path / "export"
    assert run(capsys, "--profile", profile, "export", "--to", str(target))[0] == 0
    with sqlite3.connect(target / "registry.sqlite") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables >= {
            "association",
            "lots",
            "persons",
            "ownerships",
            "occupants",
            "distribution_keys",
            "key_weights",
        }
        assert db.execute("SELECT count(*) FROM lots").fetchone() == (24,)
        assert db.execute("SELECT sum(quota) FROM lots").fetchone() == (10_000,)
    with (target / "persons.csv").open(encoding="utf-8") as handle:
        names = {row["name"] for row in csv.DictReader(handle)}
    assert "Marie Lambert" in names
    # a second export into the same folder is refused, not overwritten
    code, _, err = run(capsys, "--profile", profile, "export", "--to", str(target))
    assert code == 1 and "already exists" in err


def test_an_export_that_cannot_finish_leaves_no_half_export(capsys, profile, tmp_path):
    """A file of the user's where the export wants to write stops it: what
    the export had written is removed, the user's file is kept, and the
    refusal says which file (a full disk takes the same path)."""
    run(capsys, "--profile", profile, "demo")
    target = tmp_path / "export"
    target.mkdir()
    (target / "occupants.csv").write_text("mine", encoding="utf-8")
    code, _, err = run(capsys, "--profile", profile, "export", "--to", str(target))
    assert code == 1 and "occupants.csv could not be written: File exists" in err
    assert [p.name for p in target.iterdir()] == ["occupants.csv"]
    assert (target / "occupants.csv").read_text(encoding="utf-8") == "mine"
    (target / "occupants.csv").unlink()
    (target / "lots.csv").mkdir()  # a folder by that name: refused too
    code, _, err = run(capsys, "--profile", profile, "export", "--to", str(target))
    assert code == 1 and "lots.csv could not be written" in err
    assert err.startswith("koprogo-node: ") and err.count("\n") == 1  # one line, in words
    assert [p.name for p in target.iterdir()] == ["lots.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lot", "add", "--number", "A1", "--type", "flat", "--quota", "3"], "Unknown lot type"),
        (["lot", "add", "--number", "B1", "--type", "cellar", "--quota", "-3"], "quota"),
        (["lot", "add", "--number", "A1", "--type", "apartment", "--quota", "3"], "already exists"),
        (["lot", "set", "Z9", "--quota", "3"], "There is no lot Z9"),
        (["lot", "set", "A1"], "Say what to change"),
        (["person", "add", "--name", "X", "--email", "not-mail"], "not an e-mail address"),
        (["owner", "set", "A1", "--person", "nobody", "--share", "50"], "no person"),
        (["owner", "set", "A1", "--person", "PERSON", "--share", "150"], "at most 100"),
        (
            ["owner", "set", "A1", "--person", "PERSON", "--share", "50", "--right", "rent"],
            "Unknown right",
        ),
        (["association", "set", "--bce", "0842331569"], "not a valid enterprise number"),
        (["key", "add", "--name", "Lift", "--weight", "A1:3"], "LOT=WEIGHT"),
        (["occupant", "add", "A1", "--person", "PERSON", "--since", "yesterday"], "YYYY-MM-DD"),
    ],
)
def test_user_mistakes_get_a_message_and_change_nothing(capsys, profile, args, message):
    run(capsys, "--profile", profile, "init", "--name", "ACP", "--quota-total", "1000")
    run(
        capsys,
        "--profile",
        profile,
        "lot",
        "add",
        "--number",
        "A1",
        "--type",
        "apartment",
        "--quota",
        "1000",
    )
    person = run(capsys, "--profile", profile, "person", "add", "--name", "P")[1].strip()
    before = run(capsys, "--profile", profile, "registry", "--json")[1]
    args = [a.replace("PERSON", person) for a in args]

    code, _out, err = run(capsys, "--profile", profile, *args)

    assert code == 1
    assert message in err
    assert "Traceback" not in err
    assert run(capsys, "--profile", profile, "registry", "--json")[1] == before


def test_a_new_profile_where_one_cannot_be_is_refused_in_words(capsys, tmp_path, passphrase):
    """Found by hand: a path that is a file gave a FileExistsError traceback."""
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    code, _, err = run(
        capsys, "--profile", str(a_file), "init", "--name", "A", "--quota-total", "1"
    )
    assert code == 1 and "is a file, not a folder" in err and "Traceback" not in err
    assert a_file.read_text() == "mine"
    taken = str(tmp_path / "p")
    run(capsys, "--profile", taken, "init", "--name", "A", "--quota-total", "1")
    code, _, err = run(capsys, "--profile", taken, "init", "--name", "B", "--quota-total", "1")
    assert code == 1 and "choose another folder" in err


def test_missing_profile_is_explained(capsys, tmp_path):
    code, _, err = run(capsys, "--profile", str(tmp_path / "none"), "registry")
    assert code == 1 and "No KoproGo profile" in err


def test_messages_follow_the_chosen_language(capsys, profile):
    run(capsys, "--profile", profile, "init", "--name", "ACP", "--quota-total", "1000")
    code, _, err = run(
        capsys, "--profile", profile, "--language", "fr", "lot", "set", "Z9", "--quota", "1"
    )
    assert code == 1 and "Z9" in err and "There is no lot" not in err


def test_installed_command_runs_without_traceback(tmp_path):
    """The console script, as a user runs it: wrong passphrase, then success."""
    env = {
        "PATH": str(Path(sys.executable).parent),
        "KOPROGO_ARGON2": "interactive",
        "KOPROGO_PASSPHRASE": PASSPHRASE,
        "LANG": "C.UTF-8",
        "HOME": str(tmp_path),
    }
    exe = str(Path(sys.executable).parent / "koprogo-node")
    profile = str(tmp_path / "p")
    done = subprocess.run(
        [exe, "--profile", profile, "init", "--name", "ACP", "--quota-total", "100"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    wrong = subprocess.run(
        [exe, "--profile", profile, "registry"],
        env={**env, "KOPROGO_PASSPHRASE": "not the passphrase"},
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "koprogo-node: The passphrase is not correct."
    usage = subprocess.run(
        [exe, "--profile", profile, "lot", "add", "--number", "1"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert usage.returncode == 2 and "--type" in usage.stderr and "Traceback" not in usage.stderr


INTERRUPT_WHILE_IMPORTING = """
import sys


class Interrupt:  # Ctrl+C arriving while Python imports the core
    def find_spec(self, name, path=None, target=None):
        if name == "node.cli":
            raise KeyboardInterrupt
        return None


sys.meta_path.insert(0, Interrupt())
from node.entry import main

sys.exit(main(["--language", "fr", "status"]))
"""


@pytest.mark.parametrize("language, words", [("fr", "Interrompu"), ("C", "Interrupted")])
def test_ctrl_c_while_the_command_starts_is_not_a_traceback(tmp_path, language, words):
    """The installed command's entry point (node.entry) guards the imports."""
    env = {"PATH": str(Path(sys.executable).parent), "LANGUAGE": language, "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", INTERRUPT_WHILE_IMPORTING],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 130
    assert "Traceback" not in done.stderr and words in done.stderr, done.stderr


def test_the_installed_command_uses_the_guarded_entry_point():
    script = (Path(sys.executable).parent / "koprogo-node").read_text()
    assert "from node.entry import main" in script


@pytest.mark.parametrize(("setting", "shown"), [("", False), ("warning", True)])
def test_the_cores_log_lines_reach_the_terminal_only_when_asked(setting, shown):
    """Found by hand: English log lines for developers ("changes under this
    device's id that it did not make") in the middle of a French sync's
    output. ``KOPROGO_LOG=warning`` shows them."""
    script = (
        "import logging\n"
        "from node import cli\n"
        "cli.configure_logging()\n"
        "logging.getLogger('node.sync.engine').warning('a line for developers')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "KOPROGO_LOG": setting},
        capture_output=True,
        text=True,
        check=True,
    )
    assert ("a line for developers" in done.stderr) is shown, done.stderr


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", "argument --days : valeur invalide (int attendu) : '1.5'"),
        ("nl", "argument --days: ongeldige waarde (int verwacht): '1.5'"),
        ("de", "Argument --days: ungültiger Wert (int erwartet): '1.5'"),
    ],
)
def test_command_line_mistakes_are_said_in_the_language_asked_for(language, words, capsys):
    """Found by hand: "error: argument --days: invalid int value: '1.5'" in
    English whatever the language."""
    from node import i18n

    try:
        with pytest.raises(SystemExit) as stopped:
            main(["--language", language, "invite", "create", "--role", "council", "--days", "1.5"])
        assert stopped.value.code == 2
        assert words in capsys.readouterr().err
    finally:
        i18n.set_language("en")
