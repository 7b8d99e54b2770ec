"""Registry benchmark: a generated ACP with 500 lots and 600 persons.

Prints (never asserts): time to create it through the services (one durable
edit per record, as a syndic typing would), edit-to-durable latency p50/p99,
checkpoint time, cold open time (unlock + load + first read, in a fresh
process), and profile size on disk before and after checkpointing.

    .venv/bin/python bench/registry.py [--lots 500] [--persons 600]

Targets on the 2-core reference machine: cold open < 0.5 s, edit-to-durable
< 20 ms p99. The key-file unlock (Argon2id, "moderate" cost, ~256 MiB) is
shown apart: it is a deliberate cost paid once per session, not per open of
a document, and a keyring profile does not pay it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from node.domain.registry import Association, LotType  # noqa: E402
from node.keys import KeyStorage  # noqa: E402
from node.session import Session  # noqa: E402

PASSPHRASE = "benchmark passphrase"

COLD_OPEN = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from node.keys import KEY_FILE, read_key_file
from node.session import Session
t1 = time.perf_counter()
key = read_key_file(Path(sys.argv[1]) / KEY_FILE, sys.argv[2])
t2 = time.perf_counter()
from node.profile import Profile
from node.store import Store
store = Store(Path(sys.argv[1]) / Store.FILE_NAME, key)
session = Session(Profile(Path(sys.argv[1]), store))
registry = session.registry.read()
problems = session.registry.problems()
t3 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, len(registry.lots), len(problems))
"""


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=500)
    parser.add_argument("--persons", type=int, default=600)
    args = parser.parse_args()
    os.environ["KOPROGO_ARGON2"] = "moderate"

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench"
        t0 = time.perf_counter()
        session = Session.create(path, lambda _c: PASSPHRASE, KeyStorage.PASSPHRASE_FILE)
        session.registry.create_building(Association("ACP Benchmark", args.lots * 10))
        t_profile = time.perf_counter() - t0

        latencies: list[float] = []

        def timed(call):
            start = time.perf_counter()
            result = call()
            latencies.append(time.perf_counter() - start)
            return result

        t0 = time.perf_counter()
        for i in range(args.lots):
            lot_type = LotType.CELLAR if i % 10 == 9 else LotType.APARTMENT
            timed(lambda i=i, t=lot_type: session.registry.add_lot(f"L{i:04d}", t, 10, i % 12))
        persons = [
            timed(
                lambda j=j: session.registry.add_person(f"Person {j}", email=f"p{j}@example.be")
            ).record_id
            for j in range(args.persons)
        ]
        lots = session.registry.read().lots
        for i, lot in enumerate(lots):
            timed(
                lambda lot=lot, i=i: session.registry.set_owner(
                    lot.id, persons[i % len(persons)], 10_000, voting=True
                )
            )
        t_create = time.perf_counter() - t0
        edits = len(latencies)
        size_before = size_of(path)

        t0 = time.perf_counter()
        folded = session.checkpoint()["registry"]
        t_checkpoint = time.perf_counter() - t0
        t0 = time.perf_counter()
        session.registry.read()
        t_read_cached = time.perf_counter() - t0
        session.close()
        size_after = size_of(path)

        colds = []
        for _ in range(5):
            out = subprocess.run(
                [sys.executable, "-c", COLD_OPEN, str(path), PASSPHRASE],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            ).stdout.split()
            colds.append(tuple(float(x) for x in out[:3]))

    imports = statistics.median(c[0] for c in colds)
    unlock = statistics.median(c[1] for c in colds)
    load = statistics.median(c[2] for c in colds)
    ms = 1000
    print(f"generated ACP: {args.lots} lots, {args.persons} persons, {edits} durable edits")
    print(f"create profile (key file, Argon2id moderate): {t_profile:.2f} s")
    print(
        f"create registry through services:            {t_create:.2f} s "
        f"({edits / t_create:.0f} edits/s)"
    )
    print(
        f"edit-to-durable latency: p50 {percentile(latencies, 0.5) * ms:.2f} ms, "
        f"p99 {percentile(latencies, 0.99) * ms:.2f} ms, max {max(latencies) * ms:.2f} ms"
    )
    print(f"checkpoint ({folded} updates folded):        {t_checkpoint * ms:.0f} ms")
    print(f"registry read (projection, cached after):    {t_read_cached * ms:.2f} ms")
    print(
        f"cold open, fresh process (median of 5): imports {imports:.2f} s, "
        f"unlock key file {unlock:.2f} s, open + load + read + validate {load:.3f} s"
    )
    print(
        f"profile size on disk: {size_before / 1024:.0f} KiB before checkpoint, "
        f"{size_after / 1024:.0f} KiB after"
    )


if __name__ == "__main__":
    main()
