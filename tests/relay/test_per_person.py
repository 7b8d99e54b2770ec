"""Per-person documents (docs/decisions/0002): the relay lets a person's own
device and the syndic write ``ballots/<meeting>/<person>``, nobody else."""

import pytest

from shared.ids import new_ulid
from shared.protocol import Role
from tests.relay.test_append import refused

pytestmark = pytest.mark.asyncio


async def test_only_the_persons_device_and_the_syndic_write_their_ballots(relay, building):
    alice, bob, meeting = new_ulid(), new_ulid(), new_ulid()
    alices = await relay.client.enrol(building, Role.OWNER, alice)
    bobs = await relay.client.enrol(building, Role.OWNER, bob)
    council = await relay.client.enrol(building, Role.COUNCIL)
    doc = f"ballots/{meeting}/{alice}"

    own = await relay.client.append(building, alices, building.envelope(alices, doc), doc)
    assert own.status == 201, own.body
    for other in (bobs, council):
        refused(
            await relay.client.append(
                building, other, building.envelope(other, doc, consume=False), doc
            ),
            403,
            "forbidden",
        )
    by_syndic = await relay.client.append(
        building, building.syndic, building.envelope(building.syndic, doc), doc
    )
    assert by_syndic.status == 201, by_syndic.body
    assert relay.counts(building)["envelopes"] == 2
