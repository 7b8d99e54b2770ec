"""The general assembly's rules, table by table from the law (DOMAIN §3,
Code civil art. 3.87–3.88)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from node.domain.assembly import (
    DECISION_MAJORITIES,
    Majority,
    ProxyRefusal,
    QuorumRule,
    Vote,
    agenda_request_deadline,
    capped_votes,
    challenge_until,
    convocation_due,
    convocation_in_time,
    extraordinary_convene_by,
    extraordinary_request_valid,
    minutes_due,
    proxy_refusal,
    quorum,
    second_assembly_earliest,
    tally,
)


# art. 3.87 §5: (A) > 1/2 of owners holding ≥ 1/2 of quotas, or (B) > 3/4 of quotas
@pytest.mark.parametrize(
    ("owners", "total_owners", "quotas", "total_quotas", "reached", "rule"),
    [
        (11, 20, 5000, 10000, True, QuorumRule.HEADS_AND_HALF),  # > half the heads, half quotas
        (10, 20, 6000, 10000, False, None),  # exactly half the heads is not more than half
        (11, 20, 4999, 10000, False, None),  # heads but not half the quotas
        (3, 20, 7501, 10000, True, QuorumRule.THREE_QUARTERS),  # few owners, > 3/4 quotas
        (3, 20, 7500, 10000, False, None),  # exactly 3/4 is not more than 3/4
        (1, 1, 10000, 10000, True, QuorumRule.HEADS_AND_HALF),
    ],
)
def test_quorum_by_both_rules(owners, total_owners, quotas, total_quotas, reached, rule):
    result = quorum(owners, total_owners, quotas, total_quotas)
    assert (result.reached, result.rule) == (reached, rule)


def test_a_second_assembly_deliberates_whatever_the_attendance():
    assert quorum(1, 20, 300, 10000).reached is False
    second = quorum(1, 20, 300, 10000, second_assembly=True)
    assert (second.reached, second.rule) == (True, QuorumRule.SECOND_ASSEMBLY)
    assert second_assembly_earliest(date(2027, 3, 10)) == date(2027, 3, 25)


# art. 3.87 §7: at most 3 proxies unless own + represented votes ≤ 10 % of all; never the syndic
@pytest.mark.parametrize(
    ("syndic", "held", "own", "represented", "refusal"),
    [
        (False, 0, 500, 500, None),
        (False, 2, 500, 500, None),  # the third proxy
        (False, 3, 500, 500, None),  # a fourth: 1,000 of 10,000 is exactly 10 %
        (False, 3, 500, 501, ProxyRefusal.TOO_MANY),  # a fourth above 10 %
        (True, 0, 0, 100, ProxyRefusal.SYNDIC),  # the syndic never holds a proxy
    ],
)
def test_proxy_limits(syndic, held, own, represented, refusal):
    assert proxy_refusal(syndic, False, held, own, represented, 10_000) is refusal


def test_nobody_holds_their_own_proxy():
    assert proxy_refusal(False, True, 0, 100, 100, 10_000) is ProxyRefusal.SELF


# art. 3.87 §6: nobody counts for more than the others present or represented together
def test_vote_cap_example_600_against_400():
    assert capped_votes({"A": 600, "B": 250, "C": 150}) == {"A": 400, "B": 250, "C": 150}


def test_majority_on_votes_cast_abstentions_excluded():
    # DOMAIN §3: 400 for, 100 against, 150 abstain -> 400/500 = 80 %: passes even at 4/5
    attending = {"p": 400, "q": 100, "r": 150, "s": 350}  # s attends, votes on nothing
    ballots = {"p": Vote.FOR, "q": Vote.AGAINST, "r": Vote.ABSTAIN}
    for majority in (Majority.ABSOLUTE, Majority.TWO_THIRDS, Majority.FOUR_FIFTHS):
        result = tally(ballots, attending, majority)
        assert result.passed and result.share == Fraction(4, 5)
    assert tally(ballots, attending, Majority.FOUR_FIFTHS).abstentions == 150


@pytest.mark.parametrize(
    ("votes_for", "votes_against", "majority", "passed"),
    [
        (501, 499, Majority.ABSOLUTE, True),
        (500, 500, Majority.ABSOLUTE, False),  # half is not a majority
        (200, 100, Majority.TWO_THIRDS, True),  # exactly 2/3 passes (to confirm, DOMAIN §3)
        (199, 100, Majority.TWO_THIRDS, False),
        (400, 100, Majority.FOUR_FIFTHS, True),  # exactly 4/5
        (399, 100, Majority.FOUR_FIFTHS, False),
        (0, 0, Majority.ABSOLUTE, False),  # nobody voted
    ],
)
def test_majority_thresholds(votes_for, votes_against, majority, passed):
    attending = {"yes": votes_for, "no": votes_against, "chair": 10**6}
    ballots = {"yes": Vote.FOR, "no": Vote.AGAINST, "chair": Vote.ABSTAIN}
    assert tally(ballots, attending, majority).passed is passed


def test_the_vote_cap_changes_a_result():
    # A holds 600 against 400: uncapped 60 % would pass; capped, 400 vs 400 does not
    attending = {"A": 600, "B": 400}
    result = tally({"A": Vote.FOR, "B": Vote.AGAINST}, attending, Majority.ABSOLUTE)
    assert (result.votes_for, result.votes_against, result.passed) == (400, 400, False)


def test_changing_quotas_needs_every_owner_of_the_building():
    everyone = {"a", "b", "c"}
    present = {"a": 500, "b": 300}
    ballots = {"a": Vote.FOR, "b": Vote.FOR}
    assert tally(ballots, present, Majority.UNANIMITY, everyone).passed is False  # c absent
    ballots["c"] = Vote.FOR
    assert tally(ballots, {**present, "c": 200}, Majority.UNANIMITY, everyone).passed is True
    ballots["c"] = Vote.ABSTAIN
    assert tally(ballots, {**present, "c": 200}, Majority.UNANIMITY, everyone).passed is False


def test_every_decision_category_names_its_majority_and_article():
    assert DECISION_MAJORITIES["quotas"][0] is Majority.UNANIMITY
    assert DECISION_MAJORITIES["reserve_waiver"][0] is Majority.FOUR_FIFTHS
    assert DECISION_MAJORITIES["common_works"][0] is Majority.TWO_THIRDS
    assert all(
        "art." in reason or "Default" in reason or "law" in reason
        for _m, reason in DECISION_MAJORITIES.values()
    )


# deadlines: art. 3.87 §2, §3, §10; art. 3.92 §3
def test_deadlines():
    meeting = date(2027, 5, 20)
    assert convocation_due(meeting) == date(2027, 5, 5)
    assert convocation_in_time(date(2027, 5, 5), meeting)
    assert not convocation_in_time(date(2027, 5, 6), meeting)
    assert agenda_request_deadline(date(2027, 5, 15)) == date(2027, 4, 24)
    assert extraordinary_request_valid(2000, 10000) and not extraordinary_request_valid(1999, 10000)
    assert extraordinary_convene_by(date(2027, 1, 10)) == date(2027, 2, 9)
    assert minutes_due(meeting) == date(2027, 6, 19)
    assert challenge_until(meeting) == date(2027, 9, 20)
    assert challenge_until(date(2027, 10, 31)) == date(2028, 2, 29)
