"""Concurrent edits on several profiles converge; business conflicts the merge
creates are listed by validation, never fixed silently (ARCHITECTURE §2)."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import keyring
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.documents import registry_doc as rdoc
from node.domain.registry import Association, LotType
from node.domain.validation import validate
from node.errors import InputError
from node.keys import KeyStorage
from node.session import Session
from tests.concurrency_ops import apply_op, operation
from tests.conftest import MemoryKeyring
from tests.helpers import exchange, make_session, reopen, replica_of


def codes(session: Session) -> set[str]:
    return {p.code for p in session.registry.problems()}


def test_two_profiles_edited_offline_converge(tmp_path: Path):
    a = make_session(tmp_path / "a")
    a.registry.add_lot("A1", LotType.APARTMENT, 600)
    b = replica_of(a, tmp_path / "b")

    a.registry.update_lot("A1", floor=3)  # a field edited on one side...
    b.registry.update_lot("A1", quota=550)  # ...another field of the same lot on the other
    person = b.registry.add_person("Griet Wouters").record_id
    a.registry.set_association(city="Gent", postal_code="9000")
    exchange(a, b)

    assert a.registry.read() == b.registry.read()
    lot = a.registry.find_lot("A1")
    assert (lot.floor, lot.quota) == (3, 550)
    assert a.registry.find_person(person).name == "Griet Wouters"
    # and the merged state is what each reopens to
    a.close()
    b.close()
    assert reopen(tmp_path / "a").registry.read() == reopen(tmp_path / "b").registry.read()


def test_merge_that_makes_two_voting_holders_is_listed(tmp_path: Path):
    a = make_session(tmp_path / "a", quota_total=1000)
    a.registry.add_lot("A1", LotType.APARTMENT, 1000)
    ann = a.registry.add_person("Ann").record_id
    bob = a.registry.add_person("Bob").record_id
    a.registry.set_owner("A1", ann, 5_000)
    a.registry.set_owner("A1", bob, 5_000)
    b = replica_of(a, tmp_path / "b")

    a.registry.set_owner("A1", ann, 5_000, voting=True)  # offline, on each side,
    b.registry.set_owner("A1", bob, 5_000, voting=True)  # a different voter
    assert "several_voting_holders" not in codes(a) | codes(b)
    exchange(a, b)

    problems = [p for p in a.registry.problems() if p.code == "several_voting_holders"]
    assert len(problems) == 1
    assert "Ann" in problems[0].message and "Bob" in problems[0].message
    assert [p.to_json() for p in a.registry.problems()] == [
        p.to_json() for p in b.registry.problems()
    ]


def test_merge_that_puts_quotas_over_the_total_is_listed(tmp_path: Path):
    a = make_session(tmp_path / "a", quota_total=1000)
    a.registry.add_lot("A1", LotType.APARTMENT, 600)
    b = replica_of(a, tmp_path / "b")
    a.registry.add_lot("A2", LotType.APARTMENT, 400)
    b.registry.add_lot("A2", LotType.APARTMENT, 400)  # the same lot, entered twice
    assert "quota_total_mismatch" not in codes(a) | codes(b)

    exchange(a, b)

    assert {"quota_total_mismatch", "duplicate_lot_number"} <= codes(a)
    assert codes(a) == codes(b)
    (quota,) = [p for p in a.registry.problems() if p.code == "quota_total_mismatch"]
    assert "1,400" in quota.message and "1,000" in quota.message


def test_undo_reverts_only_my_edits_not_merged_ones(tmp_path: Path):
    a = make_session(tmp_path / "a")
    b = replica_of(a, tmp_path / "b")
    a.registry.add_lot("Mine", LotType.APARTMENT, 1)
    b.registry.add_lot("Theirs", LotType.APARTMENT, 1)
    exchange(a, b)
    a.registry.undo()
    assert [lot.number for lot in a.registry.read().lots] == ["Theirs"]


# -- property: random edits on 3 replicas, any delivery order, duplicates ----------


def state(session: Session) -> dict:
    doc = session.document("registry").doc
    return {name: rdoc.root(doc, name).to_py() for name in rdoc.ROOTS}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.integers(0, 2), operation), min_size=1, max_size=25),
    seed=st.integers(0, 2**32),
)
def test_three_replicas_converge_whatever_the_delivery_order(edits, seed):
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            first = Session.create(Path(tmp) / "r0", key_storage=KeyStorage.KEYRING)
            first.registry.create_building(Association("ACP", 1000))
            replicas = [first] + [
                replica_of(first, Path(tmp) / f"r{i}", KeyStorage.KEYRING) for i in (1, 2)
            ]
            sent: list[list[tuple[bytes, bytes]]] = [[], [], []]
            for index, op in edits:
                live = replicas[index].document("registry")
                version = live.version
                apply_op(replicas[index], op)
                if live.version != version:
                    # what the sync layer will send: each update with its dependencies
                    sent[index] += [(c.update, c.deps) for c in live.committed]

            rng = random.Random(seed)
            for index, replica in enumerate(replicas):
                inbox = [u for other in (0, 1, 2) if other != index for u in sent[other]]
                inbox += rng.sample(inbox, k=len(inbox) // 2)  # duplicates
                rng.shuffle(inbox)  # any order, even an update before its causes
                for update, deps in inbox:
                    replica.document("registry").apply_remote(update, deps)
                assert replica.document("registry").waiting_count == 0

            states = [state(r) for r in replicas]
            assert states[0] == states[1] == states[2]
            registries = [r.registry.read() for r in replicas]
            assert registries[0] == registries[1] == registries[2]
            assert validate(registries[0]) == validate(registries[1]) == validate(registries[2])
            for replica in replicas:
                replica.close()
            # what each replica stored reloads to the same state
            reloaded = [state(Session.open(Path(tmp) / f"r{i}")) for i in range(3)]
            assert reloaded[0] == reloaded[1] == reloaded[2] == states[0]
    finally:
        keyring.set_keyring(previous)


def test_update_arriving_before_its_cause_waits_safely_across_restart(tmp_path: Path):
    """docs/decisions/0001: an update is never given to yrs before its
    dependencies; it waits, encrypted on disk, even across a restart."""
    a = make_session(tmp_path / "a")
    b = replica_of(a, tmp_path / "b")
    live_a = a.document("registry")
    changes = []
    for quota in (100, 200, 300):
        a.registry.add_lot(f"L{quota}", LotType.APARTMENT, quota)
        changes += live_a.committed
    a.registry.update_lot("L100", quota=150)
    changes += live_a.committed

    for change in reversed(changes[1:]):  # newest first: none can apply yet
        assert b.document("registry").apply_remote(change.update, change.deps) is False
    assert b.document("registry").waiting_count == 3
    assert b.registry.read().lots == ()
    b.close()

    b = reopen(tmp_path / "b")
    assert b.document("registry").waiting_count == 3
    assert b.document("registry").apply_remote(changes[0].update, changes[0].deps) is True
    assert b.document("registry").waiting_count == 0
    assert b.registry.read() == a.registry.read()
    b.close()
    b = reopen(tmp_path / "b")
    assert b.registry.read() == a.registry.read()


def test_update_holding_changes_right_and_moves_the_vote_in_one_step(tmp_path: Path):
    a = make_session(tmp_path / "a")
    a.registry.add_lot("A1", LotType.APARTMENT, 1000)
    ann = a.registry.add_person("Ann").record_id
    bob = a.registry.add_person("Bob").record_id
    a.registry.set_owner("A1", ann, 10_000, voting=True)
    holding = a.registry.set_owner("A1", bob, 10_000).record_id
    from node.domain.registry import Right

    a.registry.update_holding(holding, right=Right.BARE, voting=True)
    by_person = {o.person_id: o for o in a.registry.read().ownerships}
    assert (by_person[bob].right, by_person[bob].voting) == (Right.BARE, True)
    assert by_person[ann].voting is False
    a.registry.undo()  # one step back restores both
    by_person = {o.person_id: o for o in a.registry.read().ownerships}
    assert (by_person[bob].right, by_person[bob].voting) == (Right.FULL, False)
    assert by_person[ann].voting is True


def test_adding_a_holder_or_occupant_twice_is_refused(tmp_path: Path):
    a = make_session(tmp_path / "a")
    a.registry.add_lot("A1", LotType.APARTMENT, 1000)
    ann = a.registry.add_person("Ann").record_id
    a.registry.add_owner("A1", ann, 5_000)
    with pytest.raises(InputError, match="already holds that right"):
        a.registry.add_owner("A1", ann, 5_000)
    a.registry.add_occupant("A1", ann)
    with pytest.raises(InputError, match="already an occupant"):
        a.registry.add_occupant("A1", ann)
    assert len(a.registry.read().ownerships) == 1 and len(a.registry.read().occupants) == 1
