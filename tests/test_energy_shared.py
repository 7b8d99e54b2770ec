"""What the relay may know of an energy purchase (shared/energy.py): the
aggregate's k-anonymity, its figures and signature, offers and green score."""

from __future__ import annotations

import nacl.signing
import pytest

from shared.energy import (
    K_ANONYMITY,
    Aggregate,
    EnergyError,
    Offer,
    aggregate_figures,
    green_score,
    region_of,
    sign_aggregate,
    verify_aggregate,
)


def aggregate(**changes) -> Aggregate:
    fields = dict(
        building_id="B", campaign_id="C", energy_type="electricity", region="1",
        participants=5, units=12, total_kwh=12_500, average_kwh=2_500, median_kwh=2_400,
        published_at="2027-01-10T10:00:00+00:00",
    )  # fmt: skip
    fields.update(changes)
    return Aggregate(**fields)


@pytest.mark.parametrize(("pct", "score"), [(100, 10), (99, 5), (50, 5), (49, 0), (0, 0)])
def test_green_score(pct, score):
    assert green_score(pct) == score


@pytest.mark.parametrize(
    ("values", "figures"),
    [
        ([1000, 2000, 3000, 4000, 5000], (15_000, 3_000, 3_000)),
        ([1000, 2000, 3000, 4001, 5000, 6001], (21_002, 3_500, 3_501)),  # halves round up
    ],
)
def test_aggregate_figures(values, figures):
    assert aggregate_figures(values) == figures


def test_fewer_than_k_participants_give_no_figures():
    assert K_ANONYMITY == 5
    with pytest.raises(EnergyError, match="fewer than 5"):
        aggregate_figures([1000, 2000, 3000, 4000])
    with pytest.raises(EnergyError, match="participants is out of range"):
        aggregate(participants=4)


def test_a_signed_aggregate_verifies_and_a_changed_one_does_not():
    key = nacl.signing.SigningKey.generate()
    agg = aggregate()
    signature = sign_aggregate(agg, bytes(key))
    assert verify_aggregate(agg.body(), signature, bytes(key.verify_key)) == agg
    forged = aggregate(total_kwh=99_999).body()
    with pytest.raises(EnergyError, match="signature"):
        verify_aggregate(forged, signature, bytes(key.verify_key))


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b'{"building_id": "B"}',
        aggregate().body().replace(b'"region":"1"', b'"region":"x"'),
    ],
)
def test_malformed_aggregates_are_refused(body):
    with pytest.raises(EnergyError):
        Aggregate.parse(body)


def test_regions_come_from_postal_codes():
    assert region_of("1050") == "1" and region_of("9000") == "9"
    for bad in ("0999", "105", "10500", "abcd"):
        with pytest.raises(EnergyError, match="postal code"):
            region_of(bad)


def test_offers_are_checked():
    offer = Offer("O1", "gas:4", "Lampiris", 27_350, 1_250, 100, 12, 15, "2027-12-15")
    assert offer.green_score == 10 and Offer.from_json(offer.to_json()) == offer
    with pytest.raises(EnergyError, match="green_pct"):
        Offer("O1", "gas:4", "Lampiris", 27_350, 1_250, 120, 12, 15, "2027-12-15")
    with pytest.raises(EnergyError, match="bad pool"):
        Offer("O1", "water:4", "Lampiris", 27_350, 1_250, 100, 12, 15, "2027-12-15")
    with pytest.raises(EnergyError, match="unexpected fields"):
        Offer.from_json({**offer.to_json(), "per_unit_kwh": 3000})
