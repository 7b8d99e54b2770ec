"""A device offline for a long time catches up through paging (issue 3,
point 8): 60,000 envelopes wait at a real relay; it pulls them page by page
(at most 500 envelopes or 4 MiB each) and ends equal to the others."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pycrdt
import pytest

from node.identity import DeviceIdentity, audience_key, device_identity
from node.sync import service
from shared import envelope as env
from shared.envelope import Header, Kind
from shared.ids import new_ulid
from shared.protocol import Audience, Role
from tests.sync.test_sync_faults import add_device, new_building

WRITERS = 8
PER_WRITER = 7_500  # 60,000 envelopes in all


async def push_stream(
    url: str,
    building: str,
    identity: DeviceIdentity,
    key: bytes,
    start_counter: int,
    base: bytes,
    label: str,
) -> None:
    """One writer device: a real pycrdt replica, one real update per envelope,
    sent in order over one connection."""
    from node.sync.relay_client import RelayClient

    doc = pycrdt.Doc()
    doc.apply_update(base)
    load = doc.get("load", type=pycrdt.Map)
    doc_key = env.document_key(key, "registry")
    async with RelayClient(url, identity, building) as client:
        for i in range(PER_WRITER):
            before = doc.get_state()
            load[label] = i
            update = doc.get_update(before)
            header = Header(
                Kind.UPDATE,
                Audience.MANAGEMENT,
                1,
                building,
                new_ulid(),
                identity.device_id,
                start_counter + i,
                "registry",
            )
            body = env.encode_body((1, 0), before, update)
            await client.append(
                "registry", env.seal(header, doc_key, body, identity.sign_seed).encode()
            )


@pytest.mark.slow
def test_a_long_offline_device_catches_up_through_pages(relay_process, tmp_path: Path):
    syndic = new_building(tmp_path / "syndic", relay_process.url)
    late = add_device(syndic, tmp_path / "late", Role.COUNCIL)  # then offline
    writers = [add_device(syndic, tmp_path / f"w{i}") for i in range(WRITERS)]
    service.sync_once(syndic)
    jobs = []
    for index, writer in enumerate(writers):
        store = writer.profile.store
        live = writer.document("registry")
        jobs.append(
            push_stream(
                relay_process.url,
                writer.building_id,
                device_identity(store),
                audience_key(store, 1, Audience.MANAGEMENT),
                store.sync_state(live.ref).counter + 1,
                live.get_update(),
                f"w{index}",
            )
        )

    async def all_writers() -> None:
        await asyncio.gather(*jobs)

    asyncio.run(all_writers())

    report = service.with_engine(late, lambda engine: engine.sync_once())
    assert report.pulled >= WRITERS * PER_WRITER
    assert report.skipped == []
    live = late.document("registry")
    assert live.waiting_count == 0
    load = live.doc.get("load", type=pycrdt.Map).to_py()
    assert load == {f"w{i}": PER_WRITER - 1 for i in range(WRITERS)}
    status = service.status(late)
    heads = service.with_engine(late, lambda e: e.client.heads())["docs"]
    assert status["documents"]["registry"]["cursor"] == heads["registry"]["seq"]
    assert late.registry.read() == syndic.registry.read()  # the registry itself intact
