"""Erasure across devices (ARCHITECTURE §6, issue 3 point 7): after
``erase-person``, the erased person is in no file of any profile and in no
relay table — not even inside the encrypted envelopes, once decrypted."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from node.errors import NotFoundError
from node.identity import audience_key
from shared import envelope as env
from shared.protocol import Audience
from tests.sync.helpers import Node, invite, join

NAME = "Ermenegilde Oublieuse"
EMAIL = "ermenegilde@example.be"


@pytest.fixture
def nodes(tmp_path: Path, capsys, passphrase):
    return lambda name: Node(tmp_path / name, capsys)


def files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


def relay_plaintexts(
    relay_dir: Path, building: str, keys: dict[tuple[int, Audience], bytes]
) -> list[bytes]:
    """Every envelope the relay stores for ``building``, decrypted with the
    syndic's keys (the relay process is shared with other tests' buildings)."""
    database = relay_dir / "relay.sqlite3"
    plain = []
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT data FROM envelopes WHERE building_id = ?", (building,))
        for (data,) in rows:
            envelope = env.decode(bytes(data))
            header = envelope.header
            key = env.document_key(keys[(header.key_epoch, header.audience)], header.doc_id)
            plain.append(envelope.open(key))
    return plain


@pytest.mark.parametrize("removed_first", [False, True])
def test_erased_person_is_gone_from_every_profile_and_the_relay(
    nodes, relay_process, removed_first
):
    """``removed_first``: found by hand, a person removed with ``person
    remove`` (the obvious first step) could no longer be erased ("no
    person with id"), while their details stayed in the history and at
    the relay."""
    syndic, council = nodes("syndic"), nodes("council")
    syndic.run("demo")
    person = syndic.run("person", "add", "--name", NAME, "--email", EMAIL).strip()
    syndic.run("occupant", "add", "A3.3", "--person", person)  # a tenant, who left:
    syndic.run("relay", "connect", relay_process.url)
    syndic.run("sync")
    join(council, relay_process.url, invite(syndic, "council"))
    for _ in range(3):  # some history at the relay that mentions her
        syndic.run("person", "set", person, "--phone", f"+32 2 000 00 0{_}")
        syndic.run("sync")
    council.run("sync")
    assert NAME in {p["name"] for p in council.json("registry")["persons"]}
    with syndic.session() as session:
        building = session.building_id
        keys = {
            (1, a): audience_key(session.profile.store, 1, a)
            for a in Audience
            if a is not Audience.PERSONAL
        }
    assert any(NAME.encode() in p for p in relay_plaintexts(relay_process.data_dir, building, keys))

    with sqlite3.connect(relay_process.data_dir / "relay.sqlite3") as db:
        before = {
            bytes(data)[-96:-64]  # a piece of each envelope's ciphertext
            for (data,) in db.execute(
                "SELECT data FROM envelopes WHERE building_id = ? AND doc_id = 'registry'",
                (building,),
            )
        }

    syndic.run("occupant", "remove", "A3.3", "--person", person)
    if removed_first:
        syndic.run("person", "remove", person)
        syndic.run("sync")
        council.run("sync")
    syndic.run("erase-person", person)
    council.run("sync")

    for node in (syndic, council):
        assert NAME not in {p["name"] for p in node.json("registry")["persons"]}
        raw = files_bytes(node.path)  # nothing in clear on disk...
        assert NAME.encode() not in raw and EMAIL.encode() not in raw
        plain = decrypted_profile(node)  # ...nor inside the encrypted changes
        assert NAME.encode() not in plain and EMAIL.encode() not in plain
    plaintexts = relay_plaintexts(relay_process.data_dir, building, keys)
    assert plaintexts  # the building is still there, compacted...
    assert not any(NAME.encode() in p or EMAIL.encode() in p for p in plaintexts)
    # ...and the envelopes the snapshot replaced are in none of the relay's
    # files, neither its free pages nor its write-ahead log (found by hand:
    # their ciphertext stayed there, readable by any holder of that epoch's key)
    relay_files = files_bytes(relay_process.data_dir)
    assert before and not [piece for piece in before if piece in relay_files]
    # ...and whole: the other owners are intact on both devices
    assert syndic.json("registry") == council.json("registry")
    assert "Marie Lambert" in {p["name"] for p in council.json("registry")["persons"]}


def test_removing_a_person_says_their_details_stay_until_erased(nodes):
    syndic = nodes("syndic")
    syndic.run("init", "--name", "ACP", "--quota-total", "100")
    person = syndic.run("person", "add", "--name", NAME).strip()
    syndic.run("person", "remove", person)
    assert f"erase-person {person}" in syndic.last_error


def test_an_id_that_never_was_a_person_is_not_erased(nodes):
    syndic = nodes("syndic")
    syndic.run("demo")
    syndic.run("erase-person", "01J0000000000000000000000A", ok=False)
    assert syndic.last_code == 1 and "There is no person with id" in syndic.last_error


def test_a_name_or_a_word_of_the_history_is_no_erased_id(nodes):
    """Found by hand: ``erase-person "Bernard Offline1"`` (an owner still
    holding a lot) and ``erase-person apartment`` said the person was erased,
    erased nothing, and kept the typed text in the registry's erased ids,
    which sync to every management device. A name now finds the person (and
    what stops erasing them is said); a word finds nobody."""
    syndic = nodes("syndic")
    syndic.run("demo")
    owner = next(o["person_id"] for o in syndic.json("registry")["ownerships"])
    name = next(p["name"] for p in syndic.json("registry")["persons"] if p["id"] == owner)
    syndic.run("erase-person", name, ok=False)
    assert syndic.last_code == 1 and "still holds lot" in syndic.last_error
    syndic.run("erase-person", "apartment", ok=False)
    assert syndic.last_code == 1 and "There is no person 'apartment'" in syndic.last_error
    with syndic.session() as session:
        assert session.registry.find_person(owner).name == name
        with pytest.raises(NotFoundError):
            session.registry.check_erasable("apartment")  # a word of the history
        assert session.registry.erased() == frozenset()

    former = syndic.run("person", "add", "--name", NAME).strip()  # a former owner, by name
    syndic.run("erase-person", NAME)
    assert f"{NAME} was erased" in syndic.last_error
    with syndic.session() as session:
        assert session.registry.erased() == {former}


def test_an_owner_still_holding_a_lot_cannot_be_erased(nodes):
    syndic = nodes("syndic")
    syndic.run("demo")
    owner = next(o["person_id"] for o in syndic.json("registry")["ownerships"])
    syndic.run("erase-person", owner, ok=False)
    assert syndic.last_code == 1 and "still holds lot" in syndic.last_error


THIS_YEAR = str(date.today().year)


@pytest.mark.parametrize(
    ("role", "refusal"),
    [
        (("occupant", "add", "A3.3", "--person", "{p}"), "still occupies lot(s) A3.3"),
        (("council", "add", "--person", "{p}", "--from", "2026-01-01"), "sits on the council"),
        (
            ("auditor", "set", THIS_YEAR, "--person", "{p}"),
            f"auditor of the accounts of {THIS_YEAR}",
        ),
    ],
)
def test_a_person_still_in_a_role_is_not_erased(nodes, role, refusal):
    """Found by hand: a current occupant and a council member were erased
    without a word, their occupancy and seat silently dropped."""
    syndic = nodes("syndic")
    syndic.run("demo")
    person = syndic.run("person", "add", "--name", NAME).strip()
    syndic.run(*(arg.format(p=person) for arg in role))
    before = syndic.json("registry")
    syndic.run("erase-person", person, ok=False)
    assert syndic.last_code == 1 and refusal in syndic.last_error, syndic.last_error
    assert syndic.json("registry") == before  # nothing dropped


def test_a_former_owner_with_a_balance_open_is_not_erased(nodes):
    """Found by hand: a former owner owing 1,250 € was erased, and no
    statement could be made for them afterwards."""
    syndic = nodes("syndic")
    syndic.run("demo")
    registry = syndic.json("registry")
    held: dict[str, list] = {}
    for o in registry["ownerships"]:
        held.setdefault(o["person_id"], []).append(o)
    seller, (holding,) = next(
        (p, h)
        for p, h in held.items()
        if len(h) == 1
        and h[0]["share"] == "100"
        and h[0]["right"] == "full"
        and p not in {o["person_id"] for o in registry["occupants"]}
    )
    syndic.run("ledger", "budget", "set", "--year", THIS_YEAR, "--line", "611=24000")
    syndic.run("ledger", "calls", "generate", "--year", THIS_YEAR, "--schedule", "quarterly")
    # next year's accounts exist, this year is not closed: its debt still counts
    next_year = str(int(THIS_YEAR) + 1)
    syndic.run("ledger", "budget", "set", "--year", next_year, "--line", "611=24000")
    buyer = syndic.run("person", "add", "--name", "Nouvel Acquéreur").strip()
    lot = holding["lot_number"]
    syndic.run("owner", "set", lot, "--person", buyer, "--share", "100", "--voting")
    syndic.run("owner", "remove", lot, "--person", seller)
    syndic.run("erase-person", seller, ok=False)
    assert syndic.last_code == 1
    assert "still owes" in syndic.last_error and "Settle the balance" in syndic.last_error
    assert seller in {p["id"] for p in syndic.json("registry")["persons"]}


def test_an_unknown_id_is_said_before_the_relay_is_asked(nodes, relay_factory):
    """Found by hand: with the relay down, an unknown id was answered
    "nothing was erased: syncing failed"."""
    relay, syndic, _person = synced_with_a_person(nodes, relay_factory)
    relay.stop()
    syndic.run("erase-person", "01J0000000000000000000000A", ok=False)
    assert "There is no person with id" in syndic.last_error


def test_erasure_without_a_relay_cleans_the_local_files(nodes):
    syndic = nodes("solo")
    syndic.run("init", "--name", "ACP", "--quota-total", "100")
    person = syndic.run("person", "add", "--name", NAME, "--email", EMAIL).strip()
    for i in range(5):
        syndic.run("person", "set", person, "--phone", f"+32 {i}")
    assert NAME.encode() in decrypted_profile(syndic)  # before: in its history
    syndic.run("erase-person", person)
    raw = files_bytes(syndic.path)
    assert NAME.encode() not in raw and EMAIL.encode() not in raw
    plain = decrypted_profile(syndic)
    assert NAME.encode() not in plain and EMAIL.encode() not in plain


def synced_with_a_person(nodes, relay_factory):  # type: ignore[no-untyped-def]
    """A building with one person, synced with a relay of its own."""
    relay = relay_factory()
    syndic = nodes("syndic")
    syndic.run("init", "--name", "ACP", "--quota-total", "100")
    person = syndic.run("person", "add", "--name", NAME).strip()
    syndic.run("relay", "connect", relay.url)
    syndic.run("sync")
    return relay, syndic, person


def test_an_erasure_that_cannot_reach_the_relay_says_nothing_was_erased(nodes, relay_factory):
    """Found by hand: it said "changes are kept and will be sent later", as
    if the erasure would happen by itself."""
    relay, syndic, person = synced_with_a_person(nodes, relay_factory)
    relay.stop()
    syndic.run("erase-person", person, ok=False)
    assert syndic.last_code == 1
    assert syndic.last_error.startswith("koprogo-node: Nothing was erased: the erasure must reach")
    assert "(The relay cannot be reached)" in syndic.last_error  # not "changes are kept…"
    assert NAME in {p["name"] for p in syndic.json("registry")["persons"]}


def test_an_erasure_cut_from_the_relay_half_way_says_what_was_done(
    nodes, relay_factory, monkeypatch
):
    """Found by hand: the relay lost after the person was erased here, it
    said only "the relay cannot be reached" -- as if nothing was erased."""
    from node.sync import service
    from tests.relay.fixtures import RelayProcess

    relay, syndic, person = synced_with_a_person(nodes, relay_factory)
    real = service.erase_documents

    def relay_lost_then(*args, **kwargs):  # the relay goes away at this very moment
        relay.stop()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "erase_documents", relay_lost_then)
    syndic.run("erase-person", person, ok=False)
    assert syndic.last_error.startswith(
        "koprogo-node: Erased on this device, but not yet from the relay"
    ), syndic.last_error
    assert "Run erase-person again" in syndic.last_error
    assert NAME not in {p["name"] for p in syndic.json("registry")["persons"]}
    monkeypatch.setattr(service, "erase_documents", real)
    # said until it is finished (found by hand: the next syncs said "up to
    # date" while the relay kept the envelopes naming the person)
    status = syndic.json("status")
    assert [e["code"] for e in status["errors"]][-1] == "erasure-unfinished"
    relay = RelayProcess(relay.data_dir, port=relay.port).start()
    try:
        syndic.run("sync")  # a sync finishes it
        assert syndic.json("status")["errors"] == []
        with sqlite3.connect(relay.data_dir / "relay.sqlite3") as db:
            ((oldest, snapshot),) = db.execute(
                "SELECT min(e.seq), d.snapshot_seq FROM envelopes e JOIN documents d "
                "ON d.building_id = e.building_id AND d.doc_id = e.doc_id "
                "WHERE e.doc_id = 'registry'"
            )
        assert snapshot > 0 and oldest == snapshot  # every older envelope replaced
        syndic.run("erase-person", person)  # again: nothing left to do, said as done
        assert "was erased" in syndic.last_error
    finally:
        relay.stop()


SECRET = "Rappel privé 4242"


def decrypted_profile(node: Node) -> bytes:
    """Every change a profile stores, decrypted (its files are encrypted,
    so searching them raw would prove nothing)."""
    with node.session() as session:
        store = session.profile.store
        return b"".join(u.update for ref in store.documents() for u in store.read(ref))


def relay_plaintexts_all(relay_dir: Path, building: str, syndic: Node) -> list[tuple[str, bytes]]:
    """Every envelope of ``building`` at the relay, person keys included:
    (document, plaintext)."""
    from node.sync.engine import key_label

    plain = []
    with syndic.session() as session, sqlite3.connect(relay_dir / "relay.sqlite3") as db:
        store = session.profile.store
        rows = db.execute("SELECT data FROM envelopes WHERE building_id = ?", (building,))
        for (data,) in rows:
            envelope = env.decode(bytes(data))
            h = envelope.header
            key = audience_key(store, h.key_epoch, key_label(h.audience, h.doc_id))
            assert key is not None, h.doc_id
            plain.append((h.doc_id, envelope.open(env.document_key(key, h.doc_id))))
    return plain


def test_an_erased_former_owner_leaves_no_name_in_directory_meetings_or_inbox(nodes, relay_process):
    """Found by hand: after erasing a former owner, their name stayed in the
    directory's history (at the relay, sent even to devices that joined
    later), in every meeting convened while they owned a lot, and their
    inbox stayed whole — on every device and at the relay."""
    syndic, council = nodes("syndic"), nodes("council")
    syndic.run("demo")
    her = syndic.run("person", "add", "--name", NAME, "--email", EMAIL).strip()
    seller = next(o for o in syndic.json("registry")["ownerships"] if o["lot_number"] == "Shop")
    syndic.run("owner", "set", "Shop", "--person", her, "--share", "100", "--voting")
    syndic.run("owner", "remove", "Shop", "--person", seller["person_id"])
    meeting = syndic.run(
        "assembly", "create", "--title", "AG", "--date", "2027-06-15T18:30", "--place", "Salle",
        "--period-start", "2027-06-01", "--meeting-language", "fr",
    ).strip()  # fmt: skip
    syndic.run("assembly", "agenda", "add", meeting, "--title", "Budget")
    syndic.run("assembly", "convene", meeting, "--date", "2027-05-20")
    syndic.run("inbox", "send", her, "--title", "Appel", "--text", SECRET)
    syndic.run("relay", "connect", relay_process.url)
    syndic.run("sync")
    join(council, relay_process.url, invite(syndic, "council"))
    hers = nodes("hers")  # her own device, while she owned the shop
    join(hers, relay_process.url, invite(syndic, "owner", her))
    with syndic.session() as session:
        building = session.building_id
    before = b"".join(p for _d, p in relay_plaintexts_all(relay_process.data_dir, building, syndic))
    assert NAME.encode() in before and SECRET.encode() in before
    assert NAME.encode() in decrypted_profile(council)

    # She sells the shop back; then the syndic erases her.
    syndic.run(
        "owner", "set", "Shop", "--person", seller["person_id"], "--share", "100", "--voting"
    )
    syndic.run("owner", "remove", "Shop", "--person", her)
    syndic.run("sync")
    syndic.run("erase-person", her)
    assert "1 device of theirs was removed from the building." in syndic.last_error
    hers.run("sync", ok=False)  # found by hand: it kept receiving the building's news
    assert "removed" in hers.last_error
    council.run("sync")
    late = nodes("late")  # joined after the erasure
    join(late, relay_process.url, invite(syndic, "council"))

    for node in (syndic, council, late):
        plain = decrypted_profile(node)
        assert NAME.encode() not in plain and EMAIL.encode() not in plain, node.path
        assert SECRET.encode() not in plain, node.path
    after = relay_plaintexts_all(relay_process.data_dir, building, syndic)
    assert after
    assert [d for d, p in after if NAME.encode() in p or SECRET.encode() in p] == []
    # the meeting is still there, her votes' place kept under her id only
    assert [m["id"] for m in council.json("assembly", "list") if m["title"] == "AG"] == [meeting]
    assert council.json("inbox", "show", her) == []


NEW_EMAIL = "revenue@example.be"
OFFLINE = "Message hors ligne 5151"


def test_an_offline_syndic_device_sending_erased_data_erases_it_again(nodes, relay_factory):
    """Found by hand: a second syndic device, offline during an erasure,
    sent the person's new e-mail, an occupancy and an inbox message when it
    came back; the relay kept them and the inbox filled again everywhere.
    That device, learning of the erasure in the same round, erases again
    (decision 0014)."""
    relay, syndic, person = synced_with_a_person(nodes, relay_factory)
    syndic.run("lot", "add", "--number", "A1", "--type", "apartment", "--quota", "100")
    syndic.run("sync")
    laptop = nodes("laptop")
    join(laptop, relay.url, invite(syndic, "syndic"))
    # offline: it changes her, gives her a lot to occupy and writes to her
    laptop.run("person", "set", person, "--email", NEW_EMAIL, "--phone", "+32 499 11 22 33")
    laptop.run("occupant", "add", "A1", "--person", person)
    laptop.run("inbox", "send", person, "--title", "Hors ligne", "--text", OFFLINE)
    syndic.run("erase-person", person)
    laptop.run("sync")  # sends what it had, learns of the erasure, erases again
    syndic.run("sync")
    with syndic.session() as session:
        building = session.building_id
    leaked = [
        d
        for d, p in relay_plaintexts_all(relay.data_dir, building, syndic)
        if NEW_EMAIL.encode() in p or OFFLINE.encode() in p or NAME.encode() in p
    ]
    assert leaked == []
    for node in (syndic, laptop):
        registry = node.json("registry")
        assert person not in {p["id"] for p in registry["persons"]}
        assert person not in {o["person_id"] for o in registry["occupants"]}
        assert "unknown_person_reference" not in {p["code"] for p in node.json("check")}
        plain = decrypted_profile(node)
        assert NEW_EMAIL.encode() not in plain and OFFLINE.encode() not in plain, node.path
    assert syndic.json("inbox", "show", person) == []


def test_a_relay_restored_from_an_older_backup_is_erased_again(nodes, relay_factory):
    """Found by hand: a relay restored from a backup made before an erasure
    served the erased person's data again, to any device that joined. The
    syndic's device, finding the relay restored, erases again everywhere."""
    from sync_server import database

    relay, syndic, person = synced_with_a_person(nodes, relay_factory)
    meeting = syndic.run(
        "assembly", "create", "--title", "AG", "--date", "2027-06-15T18:30", "--place", "Salle",
        "--period-start", "2027-06-01", "--meeting-language", "fr",
    ).strip()  # fmt: skip
    syndic.run("inbox", "send", person, "--title", "Appel", "--text", SECRET)
    syndic.run("sync")
    backup = relay.data_dir.parent / "backup.sqlite3"
    with sqlite3.connect(relay.data_dir / "relay.sqlite3") as live, sqlite3.connect(backup) as copy:
        live.backup(copy)
    syndic.run("erase-person", person)
    relay.stop()
    database.restore_sqlite(f"sqlite:///{relay.data_dir / 'relay.sqlite3'}", backup)
    relay = relay_factory(data_dir=relay.data_dir)
    syndic.run("relay", "connect", relay.url)  # the same relay, restarted on another port
    with syndic.session() as session:
        building = session.building_id
    restored = b"".join(p for _d, p in relay_plaintexts_all(relay.data_dir, building, syndic))
    assert NAME.encode() in restored and SECRET.encode() in restored  # the backup holds her
    syndic.run("sync")
    after = relay_plaintexts_all(relay.data_dir, building, syndic)
    assert [d for d, p in after if NAME.encode() in p or SECRET.encode() in p] == []
    assert person not in {p["id"] for p in syndic.json("registry")["persons"]}
    assert meeting in {m["id"] for m in syndic.json("assembly", "list")}
