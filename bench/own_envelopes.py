"""What a device pays to apply its own envelopes again when it pulls them.

Since a copied profile folder is detected by applying pulled envelopes of
this device's own id (a no-op for its own changes; see
``SyncEngine._apply_pulled``), each change a device sends comes back to it
once: decrypted, its body decoded, applied to the document and the state
vector compared before and after. This measures that work per envelope on
the documents of a generated building (150 lots; a full year as in
``bench/document_sizes.py``, then the next year's monthly calls), against
the work the same envelope costs every other device (decrypt and apply a
change it does not have yet, and keep it on disk, committed once per page
of 50 as a pull does).

Typical own changes are replayed: payments recorded one by one into the
ledger year, and lot and person edits in the registry. Verification of the
signature is not counted: every pulled envelope is verified, own or not.

Run: ``.venv/bin/python bench/own_envelopes.py [--lots 150] [--changes 300]``.
Prints p50/p99 per envelope in microseconds (never asserts).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KOPROGO_ARGON2", "interactive")

from bench.ledger import FIRST_YEAR, PASSPHRASE, build_registry, one_year  # noqa: E402
from node.documents.live import LiveDocument  # noqa: E402
from node.domain.accounting.calls import Fund, Schedule  # noqa: E402
from node.keys import KeyStorage  # noqa: E402
from node.session import Session  # noqa: E402
from shared import envelope as env  # noqa: E402
from shared.ids import new_ulid  # noqa: E402
from shared.protocol import Audience  # noqa: E402

YEAR = FIRST_YEAR + 1  # its calls made, then payments recorded one by one
PAGE = 50
SIGN_SEED = bytes(32)
AUDIENCE_KEY = bytes(range(32))


def sealed(doc_id: str, counter: int, deps: bytes, update: bytes) -> bytes:
    header = env.Header(
        env.Kind.UPDATE,
        Audience.MANAGEMENT,
        1,
        new_ulid(),
        new_ulid(),
        new_ulid(),
        counter,
        doc_id,
        0,
    )
    body = env.encode_body((1, 0), deps, update)
    key = env.document_key(AUDIENCE_KEY, doc_id)
    return env.seal(header, key, body, SIGN_SEED).encode()


def own_again(live: LiveDocument, raw: bytes) -> float:
    """The own-envelope path of a pull, timed: open, apply, compare."""
    started = time.perf_counter()
    envelope = env.decode(raw)
    key = env.document_key(AUDIENCE_KEY, envelope.header.doc_id)
    _schema, deps, payload = env.decode_body(envelope.open(key))
    before = live.get_state()
    live.apply_remote(payload, deps or None)
    changed = live.get_state() != before
    elapsed = time.perf_counter() - started
    assert not changed, "an own change applied again must change nothing"
    return elapsed


def theirs(live: LiveDocument, raw: bytes) -> float:
    """The same envelope on another device: open and apply a new change."""
    started = time.perf_counter()
    envelope = env.decode(raw)
    key = env.document_key(AUDIENCE_KEY, envelope.header.doc_id)
    _schema, deps, payload = env.decode_body(envelope.open(key))
    live.apply_remote(payload, deps or None)
    return time.perf_counter() - started


def changes(session: Session, doc_id: str, count: int, rng: random.Random) -> list[bytes]:
    """``count`` typical edits made on ``session``, sealed as envelopes."""
    out = []
    registry = session.registry.read()
    owners = sorted({o.person_id for o in registry.ownerships})
    lots = [lot.number for lot in registry.lots]
    live = session.document(doc_id)
    for counter in range(1, count + 1):
        if doc_id == "registry":
            if counter % 2:
                session.registry.update_person(rng.choice(owners), phone=f"+32 2 {counter:07d}")
            else:
                session.registry.update_lot(rng.choice(lots), floor=rng.randint(0, 9))
        else:
            session.ledger.record_payment(
                rng.choice(owners), rng.randint(1_000, 90_000), date(YEAR, 6, 1), "virement"
            )
        for change in live.committed:
            out.append(sealed(doc_id, counter, change.deps, change.update))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=150)
    parser.add_argument("--changes", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        first = Session.create(Path(tmp) / "a", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
        build_registry(first, args.lots, int(args.lots * 1.2))
        one_year(first, FIRST_YEAR, args.lots * 4, rng)  # closed: this year gets the payments
        first.ledger.generate_calls(YEAR, Fund.WORKING, Schedule.MONTHLY, amount=40_000_000)
        other = Session.create(Path(tmp) / "b", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
        other.profile.store.set_meta({"building_id": first.building_id})  # a second device
        print(f"{args.lots} lots, {args.changes} changes per document; µs per envelope")
        print(f"{'document':<14}{'size':>10}  {'own again p50/p99':>20}  {'theirs p50/p99':>17}")
        for doc_id in ("registry", f"ledger/{YEAR}"):
            live = first.document(doc_id)
            copy = other.document(doc_id)  # the other device holds the same state
            copy.apply_remote(live.get_update())
            raws = changes(first, doc_id, args.changes, rng)
            own = [own_again(live, raw) * 1e6 for raw in raws]
            new = []
            for start in range(0, len(raws), PAGE):  # a pull commits once per page
                with copy.store.transaction():
                    new += [theirs(copy, raw) * 1e6 for raw in raws[start : start + PAGE]]
            size = len(live.get_update())
            print(
                f"{doc_id:<14}{size / 1e6:>8.2f} MB  "
                f"{statistics.median(own):>9.0f} / {percentile(own, 0.99):>6.0f}  "
                f"{statistics.median(new):>9.0f} / {percentile(new, 0.99):>5.0f}",
                flush=True,
            )
        first.close()
        other.close()


if __name__ == "__main__":
    main()
