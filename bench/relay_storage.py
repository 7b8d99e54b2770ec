"""Relay bytes for one building-year, before and after compaction.

Simulates one year of a 40-lot building through a real relay (SQLite):
quarterly calls for funds and their payments for every lot, one general
assembly (agenda, attendance, proxies, votes), and a year of community
activity, each record written as a real edit and pushed as its own envelope
(the worst case: a device that syncs after every edit). Then compacts (one
snapshot per document) and prints the relay's bytes for the building
before and after, from ``koprogo-relay stats --json``. Never asserts.

The accounting, assembly and community documents arrive in later
milestones; until then their records are written as maps of the same shape
and size (amounts in cents, dates, references, names) into the documents
that exist, so the figure measures the sync layer, not the future schemas.

    .venv/bin/python bench/relay_storage.py

Target: < 2 MB per building-year after compaction.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KOPROGO_ARGON2", "interactive")

import pycrdt  # noqa: E402

from bench.sync_latency import PASSPHRASE, start_relay  # noqa: E402
from node.demo import build_demo  # noqa: E402
from node.keys import KeyStorage  # noqa: E402
from node.session import Session  # noqa: E402
from node.sync import maintenance, service  # noqa: E402
from node.sync.engine import RoundReport, SyncEngine  # noqa: E402
from node.sync.relay_client import RelayClient  # noqa: E402
from shared.ids import new_ulid  # noqa: E402

LOTS = 40


def year_of_activity(rng: random.Random) -> list[tuple[str, dict]]:
    """(collection, record) pairs for a year of a 40-lot building."""
    records: list[tuple[str, dict]] = []
    for quarter in range(4):
        for lot in range(LOTS):
            amount = rng.randint(20_000, 90_000)
            digits = (rng.randint(100, 999), rng.randint(1000, 9999), rng.randint(10000, 99999))
            ref = "+++{}/{}/{}+++".format(*digits)
            records.append(
                (
                    "calls",
                    {
                        "lot": f"L{lot}",
                        "quarter": quarter,
                        "amount": amount,
                        "due": f"2026-{3 * quarter + 1:02d}-15",
                        "ref": ref,
                    },
                )
            )
            records.append(
                (
                    "payments",
                    {
                        "lot": f"L{lot}",
                        "amount": amount,
                        "ref": ref,
                        "date": f"2026-{3 * quarter + 2:02d}-0{rng.randint(1, 9)}",
                        "payer": f"Owner {lot}",
                    },
                )
            )
    for item in range(12):
        records.append(
            (
                "agenda",
                {
                    "title": f"Point {item}: works on the facade and roof",
                    "majority": rng.choice(["absolute", "2/3", "4/5"]),
                },
            )
        )
    for lot in range(LOTS):
        records.append(
            (
                "attendance",
                {
                    "lot": f"L{lot}",
                    "present": rng.random() < 0.7,
                    "proxy": "" if rng.random() < 0.8 else f"L{lot + 1}",
                },
            )
        )
        for item in range(12):
            records.append(
                (
                    "votes",
                    {
                        "lot": f"L{lot}",
                        "item": item,
                        "vote": rng.choice(["for", "against", "abstain"]),
                    },
                )
            )
    for week in range(52):
        for _ in range(4):
            records.append(
                (
                    "community",
                    {
                        "kind": rng.choice(["loan", "swap", "notice", "sel"]),
                        "week": week,
                        "hours": rng.randint(0, 4),
                        "text": "Tondeuse à prêter, rez-de-chaussée",
                    },
                )
            )
    return records


def relay_bytes(data_dir: Path) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "stats", "--json", "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(json.loads(out)["bytes"])


async def run_year(session: Session, url: str, relay_dir: Path) -> tuple[int, int, bool]:
    rng = random.Random(2026)
    records = year_of_activity(rng)
    live = session.document("registry")
    async with RelayClient(url, building_id=session.building_id) as client:
        engine = SyncEngine(session, client)
        client.identity = engine.identity
        await engine.refresh_members()
        for collection, record in records:
            with live.edit() as doc:
                doc.get(f"sim_{collection}", type=pycrdt.Map)[new_ulid()] = pycrdt.Map(record)
            await engine.push()
        report = RoundReport()
        await engine.pull(report)
        before = relay_bytes(relay_dir)
        return len(records), before, await maintenance.compact(engine, live, report)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        relay_dir = Path(tmp) / "relay"
        relay, url = start_relay(relay_dir)
        try:
            session = Session.create(
                Path(tmp) / "syndic", lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE
            )
            build_demo(session)
            service.connect(session, url)
            service.sync_once(session)
            start = relay_bytes(relay_dir)
            maintenance.SNAPSHOT_AFTER = 10**9  # compact once, at the end
            count, before, compacted = asyncio.run(run_year(session, url, relay_dir))
            after = relay_bytes(relay_dir)
        finally:
            relay.terminate()
            relay.wait()
    print(f"one simulated year of a {LOTS}-lot building: {count} records, one envelope each")
    print(
        f"  relay bytes: {start / 1e6:.3f} MB at start (the demo registry), "
        f"{before / 1e6:.3f} MB after the year"
    )
    print(
        f"  after compaction ({'one snapshot' if compacted else 'lost the race'}): "
        f"{after / 1e6:.3f} MB"
    )


if __name__ == "__main__":
    main()
