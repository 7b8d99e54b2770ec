"""Relay storage benchmark: the CPU of one group commit of appends.

    .venv/bin/python bench/relay_group_commit.py [--batch 40] [--commits 500]
                                                 [--buildings 200] [--index building-first]

Stores batches of ``--batch`` appends (560-byte envelopes, each to a random
one of ``--buildings`` buildings, as the load benchmark's devices do)
through ``Storage.append_batch`` into a SQLite file in a temporary folder
(WAL, ``synchronous=FULL``, as the relay runs it), after 500 batches of
warm-up, and prints three measurements of the writing thread's user and
system CPU per append and the wall time per commit. ``--index
building-first`` puts back the envelopes' unique index of schema 0002
(building id first) to compare with 0003's (envelope id first).

Figures go to docs/performance.md ("Relay"); nothing here is pass/fail.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from shared.envelope import Kind  # noqa: E402
from shared.ids import new_ulid  # noqa: E402
from sync_server import database, schema  # noqa: E402
from sync_server.storage import AppendItem, Storage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=40, help="appends per group commit")
    parser.add_argument("--commits", type=int, default=500, help="commits per measurement")
    parser.add_argument("--buildings", type=int, default=200)
    parser.add_argument("--index", choices=["envelope-first", "building-first"],
                        default="envelope-first")  # fmt: skip
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="koprogo-bench-"))
    engine = database.make_engine(f"sqlite:///{folder / 'relay.sqlite3'}")
    schema.metadata.create_all(engine)
    buildings = [new_ulid() for _ in range(args.buildings)]
    devices = [new_ulid() for _ in range(args.buildings)]
    counters = [0] * args.buildings
    with engine.begin() as conn:
        if args.index == "building-first":
            conn.execute(text("DROP INDEX uq_envelopes_envelope_id_building_id"))
            conn.execute(
                text(
                    "CREATE UNIQUE INDEX uq_envelopes_building_id_envelope_id "
                    "ON envelopes (building_id, envelope_id)"
                )
            )
        for b in buildings:
            conn.execute(
                insert(schema.buildings).values(
                    id=b, created_at=0, members_length=1, epoch=1, bytes_stored=0
                )
            )
    storage = Storage(engine)
    storage.open_writer()

    def batch() -> list[AppendItem]:
        items = []
        for _ in range(args.batch):
            i = random.randrange(args.buildings)
            counters[i] += 1
            envelope = (new_ulid(), devices[i], counters[i], Kind.UPDATE, os.urandom(560))
            items.append(AppendItem(buildings[i], "registry", *envelope, 1, time.time()))
        return items

    def admit(*_: object) -> None:
        return None

    print(f"{args.batch} appends per commit over {args.buildings} buildings, "
          f"unique index {args.index}")  # fmt: skip
    for _ in range(500):
        storage.append_batch(batch(), admit)
    for _ in range(3):
        before, started = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
        for _ in range(args.commits):
            storage.append_batch(batch(), admit)
        after, ended = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
        appends = args.commits * args.batch
        print(
            f"  user {(after.ru_utime - before.ru_utime) / appends * 1e6:4.0f} µs/append, "
            f"system {(after.ru_stime - before.ru_stime) / appends * 1e6:4.0f} µs/append, "
            f"{(ended - started) / args.commits * 1000:.2f} ms per commit"
        )
    engine.dispose()
    for name in os.listdir(folder):
        os.remove(folder / name)
    os.rmdir(folder)


if __name__ == "__main__":
    main()
