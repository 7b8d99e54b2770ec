"""After pulling a document: answer gap requests, ask for what is missing,
compact at the relay, and forget what a snapshot forgot.

ARCHITECTURE §5–§6, docs/sync-protocol.md §3.4, §7.2–§7.3.

* **Anti-entropy.** A device that holds updates it cannot apply (their
  dependencies never arrived) or that saw a device counter jump posts its
  state vector; any device that may write the document answers with the
  update computed against it. End to end, through the relay, which reads
  neither.
* **Compaction.** When a document has grown by :data:`SNAPSHOT_AFTER`
  envelopes since its last snapshot, a device that may write it, with
  nothing left to push, posts a snapshot of the whole state replacing
  everything up to its cursor (compare-and-swap on the current snapshot;
  losing the race is harmless).
* **Forgetting.** On receiving a snapshot, a device folds its own log into
  a checkpoint and vacuums the file, so content deleted before the snapshot
  (an erased person) leaves its disk as it left the relay.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from shared.envelope import Kind
from shared.ids import new_ulid
from shared.protocol import may_write

from ..documents.live import LiveDocument
from .relay_client import RelayError

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .engine import RoundReport, SyncEngine

SNAPSHOT_AFTER = 500
EMPTY_UPDATE_BYTES = 2  # an update with no structs and no deletes


async def after_pull(engine: SyncEngine, live: LiveDocument, report: RoundReport) -> None:
    from .engine import TooLarge

    doc_id, store = live.ref.doc_id, engine.store
    if doc_id in report.snapshots:
        forget(engine, live)
    if not may_write(engine.role, doc_id, engine.persons):
        return
    queued = False
    for state_vector in report.asked.pop(doc_id, []):
        missing = live.get_update(state_vector)
        if len(missing) > EMPTY_UPDATE_BYTES:
            store.enqueue(live.ref, live.newest_schema, Kind.REPLY, b"", missing)
            queued = True
    if live.waiting_count or doc_id in report.gaps:
        store.enqueue(live.ref, live.newest_schema, Kind.STATE_VECTOR, b"", live.get_state())
        queued = True
    if queued:
        report.pushed += await engine.push()
    state = store.sync_state(live.ref)
    if state.cursor - state.snapshot_seq >= SNAPSHOT_AFTER and store.outbox_count() == 0:
        try:
            await compact(engine, live, report)
        except TooLarge:  # the relay keeps its envelopes: sync goes on uncompacted
            log.warning("%s is too large to compact in one snapshot", doc_id)


async def compact(engine: SyncEngine, live: LiveDocument, report: RoundReport) -> bool:
    """Post a snapshot of ``live`` replacing every envelope up to our cursor.
    Call with the outbox empty and the document pulled to its head. Returns
    False when another device compacted first (we will pull theirs)."""
    store, doc_id = engine.store, live.ref.doc_id
    state = store.sync_state(live.ref)
    counter = state.counter + 1  # kept only if the relay takes the snapshot
    raw = engine.seal(
        doc_id,
        Kind.SNAPSHOT,
        new_ulid(),
        counter,
        live.newest_schema,
        b"",
        live.get_update(),
        replaces=state.cursor,
    )
    try:
        seq, _deleted = await engine.client.snapshot(doc_id, state.snapshot_id, raw)
    except RelayError as exc:
        if exc.code == "snapshot-conflict":
            return False
        if exc.status == 413:  # a relay older than 1.3 takes 1 MiB at most
            from .engine import TooLarge

            raise TooLarge(doc_id, len(raw)) from exc
        expected = exc.extra.get("expected")
        if exc.code == "counter-reused" and isinstance(expected, int):
            # An earlier snapshot of ours was taken and its answer lost: it
            # used this counter. The next compaction takes the next one.
            store.set_sync_state(live.ref, counter=max(state.counter, expected - 1))
            return False
        raise
    fields = {"counter": counter, "snapshot_seq": seq, "snapshot_id": _envelope_id(raw)}
    with store.transaction():
        if seq == state.cursor + 1:
            from .engine import CURSOR_ENVELOPE

            fields["cursor"] = seq  # nothing arrived in between: we are at the head
            store.set_meta({f"{CURSOR_ENVELOPE}{doc_id}": fields["snapshot_id"]})
        store.set_sync_state(live.ref, **fields)
    report.compacted.add(doc_id)
    forget(engine, live)
    return True


def forget(engine: SyncEngine, live: LiveDocument) -> None:
    """Fold the local log into one checkpoint and give the freed pages back,
    so deleted content is in no file of this profile."""
    live.forget_history()
    engine.store.vacuum()


def _envelope_id(raw: bytes) -> str:
    from shared.envelope import decode

    return decode(raw).header.envelope_id
