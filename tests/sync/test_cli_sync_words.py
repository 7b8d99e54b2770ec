"""What the sync commands say, found by a hand test of the CLI: counts that
match, the status in the language asked for, and refusals in words for a
malformed relay address, another relay, and invites that make no sense."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.sync.helpers import Node


@pytest.fixture
def syndic(tmp_path: Path, capsys, passphrase, relay_process) -> Node:
    node = Node(tmp_path / "syndic", capsys)
    node.run("init", "--name", "ACP Words", "--quota-total", "100")
    node.run("relay", "connect", relay_process.url)
    node.run("sync", "--once")
    return node


def test_sync_counts_changes_as_status_does(syndic):
    for floor in range(5):
        syndic.run("lot", "add", "--number", f"L{floor}", "--type", "apartment", "--quota", "10")
    assert "5 changes waiting" in syndic.run("status")
    syndic.run("sync", "--once")
    assert syndic.last_error.strip() == "Sent 5 changes, received 0."  # not "Sent 1 changes"
    assert "0 changes waiting" in syndic.run("status")
    syndic.run("lot", "add", "--number", "M1", "--type", "apartment", "--quota", "10")
    assert "1 change waiting" in syndic.run("status")


def test_status_speaks_the_language_asked_for_not_the_last_syncs(syndic, relay_factory):
    gone = relay_factory()
    gone.stop()
    syndic.run("lot", "add", "--number", "L1", "--type", "apartment", "--quota", "10")
    with syndic.session() as session:  # the building's relay goes away
        session.profile.store.set_meta({"relay_url": gone.url})
    syndic.run("--language", "fr", "sync", "--once", ok=False)
    assert "Le relais est injoignable" in syndic.last_error
    english = syndic.run("--language", "en", "status")
    assert "State: waiting to try again;" in english
    assert "The relay cannot be reached; changes are kept" in english
    dutch = syndic.json("--language", "nl", "status")
    assert dutch["errors"][0]["message"].startswith("De relay is niet bereikbaar")
    assert dutch["errors"][0]["code"] == "unreachable"


@pytest.mark.parametrize("address", ["127.0.0.1:8765", "htp://127.0.0.1:8765", "https://", "x"])
def test_a_malformed_relay_address_is_named_as_such(syndic, address):
    syndic.run("relay", "connect", address, ok=False)
    assert syndic.last_code == 1
    assert "is not a relay address" in syndic.last_error


def test_connecting_a_building_to_another_relay_says_what_to_do(
    syndic, relay_process, relay_factory
):
    other = relay_factory()
    syndic.run("relay", "connect", other.url, ok=False)
    assert (
        f"syncs through {relay_process.url}, and {other.url} does not know it" in syndic.last_error
    )
    assert syndic.json("status")["relay"] == relay_process.url


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (("--role", "council", "--days", "0"), "An invite lasts at least one day."),
        (("--role", "council", "--days", "-3"), "An invite lasts at least one day."),
        (("--role", "council", "--days", "1000"), "An invite lasts 30 days at most"),
        (("--role", "syndic", "--kiosk", "--person", "P"), "use the owner role"),
        (("--role", "council", "--kiosk"), "use the owner role"),
        (("--role", "kiosk", "--person", "P"), "names no person"),
        (
            (
                "--role",
                "owner",
            ),
            "names the person",
        ),
    ],
)
def test_invites_that_make_no_sense_are_refused(syndic, options, refusal):
    syndic.run("invite", "create", *options, ok=False)
    assert syndic.last_code == 1 and refusal in syndic.last_error


def test_a_kiosk_code_used_to_join_is_explained(syndic, tmp_path, capsys, relay_process):
    """Found by hand: the relay's own English refusal was shown."""
    person = syndic.run("person", "add", "--name", "Ann Example").strip()
    code = syndic.json("invite", "create", "--role", "owner", "--person", person, "--kiosk")["code"]
    newcomer = Node(tmp_path / "newcomer", capsys)
    newcomer.run("--language", "fr", "join", "--relay", relay_process.url, "--code", code, ok=False)
    assert newcomer.last_code == 1
    assert "inscrit un résident sur l’ordinateur partagé" in newcomer.last_error
    assert not (tmp_path / "newcomer").exists()


def test_a_path_after_the_relays_address_is_named(syndic, relay_process):
    syndic.run("--language", "nl", "relay", "connect", relay_process.url + "/typo", ok=False)
    assert "Op dit adres staat geen KoproGo-relay" in syndic.last_error


def test_device_list_says_whose_device_and_a_removed_device_warns(
    syndic, tmp_path, capsys, relay_process
):
    """Found by hand: the list showed only ids and roles; and a removed
    device took edits without a word."""
    person = syndic.run("person", "add", "--name", "Ann Example").strip()
    code = syndic.json("invite", "create", "--role", "owner", "--person", person)["code"]
    owner = Node(tmp_path / "owner", capsys)
    owner.run("join", "--relay", relay_process.url, "--code", code)
    council = Node(tmp_path / "council", capsys)
    code = syndic.json("invite", "create", "--role", "council")["code"]
    council.run("join", "--relay", relay_process.url, "--code", code)
    listed = syndic.run("device", "list")
    assert any("owner" in line and "Ann Example" in line for line in listed.splitlines())

    council_id = next(d["id"] for d in syndic.json("device", "list") if d["role"] == "council")
    syndic.run("device", "revoke", council_id)
    council.run("sync", "--once", ok=False)
    council.run("registry")
    assert "This device was removed from the building" in council.last_error
    council.run("assembly", "list")  # found by hand: a ballot cast there said nothing
    assert "This device was removed from the building" in council.last_error
    syndic.run("registry")
    assert "removed from the building" not in syndic.last_error


def test_an_invite_says_until_when_in_the_language_asked_for(syndic):
    syndic.run("--language", "fr", "invite", "create", "--role", "council")
    assert syndic.last_error.startswith("Valable une seule fois, jusqu’au ")
    when = syndic.last_error.split("jusqu’au ")[1].split(". Pour la retirer")[0]
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", when), when  # not an ISO timestamp
    assert "Pour la retirer : invite withdraw " in syndic.last_error


def test_moments_are_written_as_the_language_writes_them(syndic):
    """Found by hand: ``status``, ``invite list`` and ``inbox show`` wrote
    2026-11-23T17:27:29+00:00, while ``invite create`` wrote "Nov 30, 2026,
    5:37:46 PM"; all now write 23.11.2026 18:27 (in German), local time."""
    moment = r"\d\d\.\d\d\.\d{4} \d\d:\d\d"
    syndic.run("--language", "de", "invite", "create", "--role", "council")
    assert re.search(rf"bis {moment}\.", syndic.last_error), syndic.last_error
    listed = syndic.run("--language", "de", "invite", "list")
    assert re.search(rf"bis {moment}$", listed.strip()), listed
    status = syndic.run("--language", "de", "status")
    assert re.search(rf"letzte Synchronisierung {moment};", status), status
    person = syndic.run("person", "add", "--name", "Ann Example").strip()
    syndic.run("inbox", "send", person, "--title", "Appel", "--text", "T1")
    shown = syndic.run("--language", "en", "inbox", "show", person)
    assert re.match(r"\d\d/\d\d/\d{4} \d\d:\d\d  Appel", shown), shown


def test_status_with_changes_waiting_does_not_say_up_to_date(syndic):
    """Found by hand: "State: up to date; last sync never; 1 change waiting"."""
    assert syndic.run("status").splitlines()[1].startswith("State: up to date;")
    syndic.run("lot", "add", "--number", "A1", "--type", "apartment", "--quota", "100")
    line = syndic.run("status").splitlines()[1]
    assert line.startswith("State: changes to send;") and line.endswith("1 change waiting")
    syndic.run("sync", "--once")
    assert syndic.run("status").splitlines()[1].startswith("State: up to date;")


def test_status_without_a_relay_says_the_building_is_kept_here_only(tmp_path, capsys, passphrase):
    """Found by hand: "State: up to date; last sync never" for a building
    never connected to a relay."""
    alone = Node(tmp_path / "alone", capsys)
    alone.run("init", "--name", "ACP Seule", "--quota-total", "100")
    assert alone.run("status").strip() == (
        "Relay: none. This building is kept on this computer only; to share it with other "
        "devices: relay connect URL."
    )


def test_an_empty_inbox_says_so(syndic):
    person = syndic.run("person", "add", "--name", "Ann Example").strip()
    assert syndic.run("inbox", "show", person).strip() == "The inbox is empty."
    assert syndic.json("inbox", "show", person) == []
