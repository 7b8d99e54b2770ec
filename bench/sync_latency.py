"""Edit-to-applied latency between two devices through a real relay.

Starts ``koprogo-relay serve`` (SQLite) on a free port, creates a building on
device A, joins device B, then N times: A makes an edit and pushes it; B,
listening on the relay's WebSocket, pulls and applies it. Prints p50/p99 of
the time from the start of A's edit to B having the change in its document
(durably: B's commit included). Never asserts.

    .venv/bin/python bench/sync_latency.py [--edits 200]

Target on the 2-core reference machine: p99 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("KOPROGO_ARGON2", "interactive")

from node.domain.registry import Association, LotType  # noqa: E402
from node.keys import KeyStorage  # noqa: E402
from node.session import Session  # noqa: E402
from node.sync import service  # noqa: E402
from node.sync.engine import RoundReport, SyncEngine  # noqa: E402
from node.sync.relay_client import RelayClient  # noqa: E402
from shared.protocol import Role  # noqa: E402

PASSPHRASE = "benchmark passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_relay(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync_server.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(folder),
            "--log-level",
            "WARNING",
            "--device-rate",
            "100000",
            "--device-burst",
            "100000",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the relay did not start")


async def measure(a: Session, b: Session, url: str, edits: int) -> list[float]:
    latencies = []
    async with (
        RelayClient(url, building_id=a.building_id) as ca,
        RelayClient(url, building_id=b.building_id) as cb,
    ):
        ea, eb = SyncEngine(a, ca), SyncEngine(b, cb)
        ca.identity, cb.identity = ea.identity, eb.identity
        await ea.refresh_members()
        await eb.refresh_members()
        queue: asyncio.Queue = asyncio.Queue()

        async def listen() -> None:
            async for message in cb.notifications():
                await queue.put(message)

        listener = asyncio.create_task(listen())
        await asyncio.sleep(0.5)  # let the WebSocket connect before the first edit
        lot_b = b.registry.find_lot("L0").id
        for i in range(edits):
            start = time.perf_counter()
            a.registry.update_lot("L0", quota=2000 + i)
            await ea.push()
            while True:  # B: wait for the relay's notification, then pull
                message = await asyncio.wait_for(queue.get(), timeout=10)
                if message.get("doc") == "registry":
                    break
            await eb.pull_document("registry", int(message["seq"]), RoundReport())
            if b.registry.read().lot(lot_b).quota != 2000 + i:
                raise RuntimeError("B did not get the edit")
            latencies.append(time.perf_counter() - start)
        listener.cancel()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        relay, url = start_relay(Path(tmp) / "relay")
        try:
            provider = lambda _c: PASSPHRASE  # noqa: E731
            a = Session.create(Path(tmp) / "a", provider, KeyStorage.PASSPHRASE_FILE)
            a.registry.create_building(Association("ACP Latency", 1000))
            a.registry.add_lot("L0", LotType.APARTMENT, 1000)
            service.connect(a, url)
            service.sync_once(a)
            invite = service.create_invite(a, Role.SYNDIC)
            b = service.join(
                Path(tmp) / "b", url, invite.code, provider, KeyStorage.PASSPHRASE_FILE
            )
            latencies = asyncio.run(measure(a, b, url, args.edits))
        finally:
            relay.terminate()
            relay.wait()
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(f"edit on A -> applied on B, {len(ms)} edits through a real relay (SQLite):")
    print(f"  p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
