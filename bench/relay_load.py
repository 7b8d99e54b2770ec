"""Relay load benchmark: N devices appending and pulling for a fixed time.

    .venv/bin/python bench/relay_load.py [--devices 200] [--seconds 20] [--size 400]

Starts a real relay process (SQLite in a temporary folder, limits raised),
registers one building per simulated device, then runs every device as a
loop in this process: three appends of a fresh envelope (``--size`` random
payload bytes, sealed and signed with ``shared/``) then one pull, each a
signed request, for ``--seconds``. Prints appends/s, pulls/s, p50/p99
latency and the relay's resident memory. Then it runs the same load, with
the same client work (request signing included), against a bare aiohttp
endpoint that only reads the body, and prints the ratio relay/bare.

Figures go to docs/performance.md ("Relay"); nothing here is pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from tests.relay.helpers import Client, Kit  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(args: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, *args], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of ``pid`` in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


class Stats:
    def __init__(self) -> None:
        self.appends: list[float] = []
        self.pulls: list[float] = []
        self.errors: dict[int, int] = {}


async def device_loop(client: Client, kit: Kit, size: int, deadline: float, stats: Stats,
                      bare: bool) -> None:  # fmt: skip
    seen = 0
    op = 0
    while time.perf_counter() < deadline:
        op += 1
        started = time.perf_counter()
        if op % 4:
            raw = kit.envelope(kit.syndic, size=size)
            path = "/bare" if bare else None
            result = (
                await client.send("POST", path, kit.syndic, raw)
                if path
                else await client.append(kit, kit.syndic, raw)
            )
            (stats.appends if result.status in (200, 201) else []).append(
                time.perf_counter() - started
            )
        else:
            if bare:
                result = await client.send("GET", f"/bare?after={seen}", kit.syndic)
            else:
                result = await client.pull(kit, kit.syndic, after=seen)
                records = result.records()
                if records:
                    seen = records[-1][0]
            (stats.pulls if result.status == 200 else []).append(time.perf_counter() - started)
        if result.status not in (200, 201):
            stats.errors[result.status] = stats.errors.get(result.status, 0) + 1


async def run_load(url: str, devices: int, seconds: float, size: int, bare: bool) -> Stats:
    connector = aiohttp.TCPConnector(limit=devices + 10)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as http:
        client = Client(http)
        kits = [Kit() for _ in range(devices)]
        if not bare:
            for kit in kits:
                result = await client.register(kit)
                assert result.status == 201, result.body
        stats = Stats()
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(device_loop(client, k, size, deadline, stats, bare) for k in kits))
        return stats


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def report(name: str, stats: Stats, seconds: float) -> float:
    both = stats.appends + stats.pulls
    print(
        f"{name:>5}: {len(stats.appends) / seconds:8.0f} appends/s  "
        f"{len(stats.pulls) / seconds:7.0f} pulls/s  "
        f"p50 {pct(both, 0.5):6.1f} ms  p99 {pct(both, 0.99):6.1f} ms  "
        f"(appends p99 {pct(stats.appends, 0.99):.1f} ms, pulls p99 {pct(stats.pulls, 0.99):.1f} ms)"
        + (f"  errors {stats.errors}" if stats.errors else "")
    )
    return len(both) / seconds


def bare_server(port: int) -> None:
    """The comparison: an aiohttp endpoint that only reads the body."""
    from aiohttp import web

    async def post(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"seq": 1, "duplicate": False}, status=201)

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="application/octet-stream")

    app = web.Application(client_max_size=2 << 20)
    app.add_routes([web.post("/bare", post), web.get("/bare", get), web.get("/healthz", get)])
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--size", type=int, default=400, help="payload bytes per envelope")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-bare", action="store_true")
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return
    folder = Path(tempfile.mkdtemp(prefix="koprogo-bench-"))
    port = free_port()
    relay = start(
        ["-m", "sync_server.cli", "serve", "--port", str(port), "--data-dir", str(folder),
         "--log-level", "WARNING", "--device-rate", "1e6", "--device-burst", "1000000",
         "--address-rate", "1e6", "--address-burst", "1000000",
         "--max-requests-per-month", "1000000000"],
        port, folder / "relay.log",
    )  # fmt: skip
    try:
        print(f"{args.devices} devices, {args.seconds:g} s, {args.size}-byte payloads, SQLite")
        stats = asyncio.run(run_load(f"http://127.0.0.1:{port}", args.devices, args.seconds,
                                     args.size, bare=False))  # fmt: skip
        rss, peak = rss_mib(relay.pid)
        relay_rate = report("relay", stats, args.seconds)
        print(f"relay RSS {rss:.0f} MiB (peak {peak:.0f} MiB), "
              f"database {(folder / 'relay.sqlite3').stat().st_size / 2**20:.0f} MiB")  # fmt: skip
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    if not args.skip_bare:
        bare_port = free_port()
        bare = start([__file__, "--bare-server", str(bare_port)], bare_port, folder / "bare.log")
        try:
            bare_stats = asyncio.run(run_load(f"http://127.0.0.1:{bare_port}", args.devices,
                                              args.seconds, args.size, bare=True))  # fmt: skip
            bare_rate = report("bare", bare_stats, args.seconds)
            print(f"ratio relay/bare (requests/s): {relay_rate / bare_rate:.2f}")
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
