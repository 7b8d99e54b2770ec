"""What a meeting decided, derived from the records (node.domain.meeting):
the fixed rules of ARCHITECTURE §8 for remote ballots, proxies under the vote
cap (art. 3.87 §6-7), quorum at the opening (art. 3.87 §5), exclusions, the
written procedure (art. 3.87 §4) and polls."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction

import pytest

from node.domain.assembly import Majority, QuorumRule, Vote
from node.domain.meeting import (
    Attendance,
    Item,
    Meeting,
    MeetingKind,
    Mode,
    Refusal,
    RemoteBallot,
    RollLot,
    derive,
    rating_average,
)

T0 = datetime(2027, 3, 15, 18, 30)
OPEN = datetime(2027, 3, 15, 18, 45)
CLOSE = datetime(2027, 3, 15, 21, 0)

# five owners; 1000 quotas; lot 5 has nobody designated to vote
ROLL = (
    RollLot("l1", "A1", 300, "ann"),
    RollLot("l2", "A2", 200, "bob"),
    RollLot("l3", "B1", 150, "cem"),
    RollLot("l4", "B2", 150, "dia"),
    RollLot("l5", "C1", 100, "eve"),
    RollLot("l6", "P1", 100, "ann"),  # Ann's parking: her votes are 400
)
WORKS = Item("i1", 1, "Façade", Majority.TWO_THIRDS, "common_works")
BUDGET = Item("i2", 2, "Budget", Majority.ABSOLUTE, "budget_accounts")


def meeting(**changes) -> Meeting:
    fields = dict(
        kind=MeetingKind.ORDINARY,
        starts=T0,
        roll=ROLL,
        items=(WORKS, BUDGET),
        remote_allowed=True,
        opened_at=OPEN,
        closed_at=CLOSE,
    )
    fields.update(changes)
    return Meeting(**fields)


def present(*people: str, **times) -> dict[str, Attendance]:
    return {p: Attendance(p, Mode.PRESENT, **times) for p in people}


def ballot(person: str, votes: dict[str, str], at: datetime = T0, id_: str = "") -> RemoteBallot:
    return RemoteBallot(id_ or f"b-{person}-{at:%H%M}", person, votes, at, "dev")


def test_owners_and_their_votes_come_from_the_roll():
    outcome = derive(meeting())
    assert outcome.owners == {"ann": 400, "bob": 200, "cem": 150, "dia": 150, "eve": 100}
    assert outcome.quotas_total == 1000


@pytest.mark.parametrize(
    ("attending", "reached", "rule"),
    [
        # art. 3.87 §5 (A): > 1/2 of owners holding >= 1/2 of the quotas
        (("ann", "bob", "eve"), True, QuorumRule.HEADS_AND_HALF),  # 3 of 5, 700
        (("bob", "cem", "eve"), False, None),  # 3 of 5 but only 450
        (("ann", "bob"), False, None),  # 2 of 5, 600
    ],
)
def test_quorum_at_the_opening(attending, reached, rule):
    outcome = derive(meeting(attendance=present(*attending)))
    assert outcome.quorum is not None
    assert (outcome.quorum.reached, outcome.quorum.rule) == (reached, rule)


def test_a_second_assembly_deliberates_whatever_the_attendance():
    outcome = derive(meeting(attendance=present("eve"), second_assembly=True))
    assert outcome.quorum.reached and outcome.quorum.rule is QuorumRule.SECOND_ASSEMBLY


def test_latecomers_do_not_count_for_the_quorum_but_vote():
    late = {"ann": Attendance("ann", Mode.PRESENT, arrived=datetime(2027, 3, 15, 19, 30))}
    outcome = derive(
        meeting(
            attendance={**present("bob", "cem", "eve"), **late},
            room_votes={("i2", "ann"): Vote.FOR},
        )
    )
    assert outcome.quorum.owners_present == 3 and not outcome.quorum.reached
    assert outcome.results[1].votes["ann"] is Vote.FOR


def test_remote_ballots_signed_before_the_opening_count_for_the_quorum():
    outcome = derive(
        meeting(
            attendance=present("bob", "eve"),
            ballots=[ballot("ann", {"i1": "for"}, datetime(2027, 3, 10, 9, 0))],
        )
    )
    assert outcome.attending["ann"].mode is Mode.REMOTE
    assert outcome.quorum.reached and outcome.quorum.owners_present == 3


def test_the_vote_in_the_room_replaces_the_remote_ballot():
    outcome = derive(
        meeting(
            attendance=present("ann", "bob", "cem"),
            ballots=[ballot("ann", {"i1": "against", "i2": "for"})],
            room_votes={("i1", "ann"): Vote.FOR, ("i1", "bob"): Vote.FOR},
        )
    )
    works, budget = outcome.results
    assert (works.votes["ann"], works.source["ann"]) == (Vote.FOR, "room")
    assert (budget.votes["ann"], budget.source["ann"]) == (Vote.FOR, "remote")


@pytest.mark.parametrize(
    ("ballot_", "refusal"),
    [
        (ballot("ann", {"i1": "for"}, datetime(2027, 3, 15, 21, 1)), Refusal.AFTER_CLOSE),
        (ballot("zoe", {"i1": "for"}), Refusal.NOT_A_VOTER),
        (ballot("ann", {"i9": "for"}), Refusal.UNKNOWN_ITEM),
        (
            RemoteBallot("forged", "ann", {"i1": "for"}, T0, "dev", valid_signature=False),
            Refusal.BAD_SIGNATURE,
        ),
    ],
)
def test_ballots_that_do_not_count_are_listed_with_why(ballot_, refusal):
    outcome = derive(meeting(ballots=[ballot_]))
    assert outcome.refused == ((ballot_.id, refusal),)
    assert "ann" not in outcome.results[0].votes


def test_remote_ballots_need_a_convocation_that_allows_them():
    outcome = derive(meeting(remote_allowed=False, ballots=[ballot("ann", {"i1": "for"})]))
    assert outcome.refused == (("b-ann-1830", Refusal.NOT_ALLOWED),)


def test_a_ballot_signed_before_the_close_but_synced_later_counts():
    signed = datetime(2027, 3, 15, 20, 59)
    outcome = derive(meeting(ballots=[ballot("cem", {"i2": "against"}, signed)]))
    assert outcome.results[1].votes == {"cem": Vote.AGAINST}


def test_two_differing_ballots_of_one_owner_are_a_conflict_and_neither_counts():
    outcome = derive(
        meeting(
            ballots=[
                ballot("bob", {"i1": "for", "i2": "for"}, id_="b1"),
                ballot("bob", {"i1": "against", "i2": "for"}, id_="b2"),
            ]
        )
    )
    assert [(c.person, c.item, c.ballots) for c in outcome.conflicts] == [
        ("bob", "i1", ("b1", "b2"))
    ]
    works, budget = outcome.results
    assert "bob" not in works.votes  # not silently resolved
    assert budget.votes["bob"] is Vote.FOR  # the same answer twice is no conflict


def test_a_proxy_holder_is_capped_across_their_own_votes_and_their_principals():
    # art. 3.87 §6: Ann (400) holds Bob's proxy (200): 600 against Cem and Dia's 300
    attendance = {
        **present("ann", "cem", "dia"),
        "bob": Attendance("bob", Mode.PROXY, holder="ann"),
    }
    votes = {
        ("i2", "ann"): Vote.FOR,
        ("i2", "bob"): Vote.AGAINST,  # Ann follows Bob's instruction
        ("i2", "cem"): Vote.AGAINST,
        ("i2", "dia"): Vote.FOR,
    }
    budget = derive(meeting(attendance=attendance, room_votes=votes)).results[1]
    assert budget.holder["bob"] == "ann"
    # the group counts 300 instead of 600, shared 2:1 between Ann and Bob
    assert budget.tally.votes_for == 200 + 150
    assert budget.tally.votes_against == 100 + 150
    assert budget.tally.share == Fraction(350, 600) and budget.tally.passed


def test_an_excluded_owner_neither_votes_nor_counts():
    item = Item("i1", 1, "Contrat de Bob", Majority.ABSOLUTE, excluded={"bob": "his own mission"})
    outcome = derive(
        meeting(
            items=(item,),
            attendance=present("ann", "bob", "cem"),
            room_votes={("i1", "bob"): Vote.FOR, ("i1", "cem"): Vote.AGAINST},
        )
    )
    (result,) = outcome.results
    assert "bob" not in result.votes and "bob" not in result.weights
    assert result.tally.votes_against == 150 and not result.tally.passed


def test_owners_who_left_before_the_vote_do_not_count():
    item = Item("i2", 2, "Budget", Majority.ABSOLUTE, voted_at=datetime(2027, 3, 15, 20, 0))
    attendance = {
        **present("ann", "cem"),
        "bob": Attendance("bob", Mode.PRESENT, left=datetime(2027, 3, 15, 19, 30)),
    }
    outcome = derive(
        meeting(items=(item,), attendance=attendance, room_votes={("i2", "ann"): Vote.FOR})
    )
    assert set(outcome.results[0].weights) == {"ann", "cem"}
    assert outcome.signatories == ("ann", "cem")  # Bob had left at the end


def test_the_minutes_name_those_against_and_those_who_abstained():
    outcome = derive(
        meeting(
            attendance=present("ann", "bob", "cem", "dia"),
            room_votes={
                ("i1", "ann"): Vote.FOR,
                ("i1", "bob"): Vote.AGAINST,
                ("i1", "cem"): Vote.ABSTAIN,
                ("i1", "dia"): Vote.AGAINST,
            },
        )
    )
    works = outcome.results[0]
    assert (works.against, works.abstained) == (("bob", "dia"), ("cem",))
    assert works.tally.share == Fraction(400, 750) and not works.tally.passed  # needs 2/3


def test_a_written_decision_needs_every_owners_signed_agreement():
    everyone = ["ann", "bob", "cem", "dia", "eve"]
    agreed = [ballot(p, {"i1": "for"}) for p in everyone[:4]]
    written = meeting(kind=MeetingKind.WRITTEN, items=(WORKS,), opened_at=None, closed_at=None)
    assert derive(written).quorum is None
    pending = derive(Meeting(**{**written.__dict__, "ballots": agreed})).results[0]
    assert not pending.tally.passed
    done = derive(
        Meeting(**{**written.__dict__, "ballots": [*agreed, ballot("eve", {"i1": "for"})]})
    )
    assert done.results[0].tally.passed
    assert set(done.results[0].source.values()) == {"remote"}


def test_polls_count_heads_per_answer():
    question = Item("q1", 1, "Couleur du hall ?", Majority.ABSOLUTE, answers="choice")
    rating = Item("q2", 2, "Propreté", Majority.ABSOLUTE, answers="rating")
    outcome = derive(
        meeting(
            kind=MeetingKind.POLL,
            items=(question, rating),
            ballots=[
                ballot("ann", {"q1": "vert", "q2": "4"}),
                ballot("bob", {"q1": "bleu", "q2": "5"}),
                ballot("cem", {"q1": "vert"}),
            ],
        )
    )
    assert outcome.quorum is None
    assert outcome.results[0].answers == {"vert": 2, "bleu": 1}
    assert rating_average(outcome.results[1].answers) == Fraction(9, 2)
    assert rating_average({}) is None


def test_lots_without_a_designated_voter_are_listed():
    roll = (*ROLL, RollLot("l7", "C2", 50, ""))
    assert derive(meeting(roll=roll)).lots_without_voter == ("C2",)
