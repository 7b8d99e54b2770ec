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
import multiprocessing as mp
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

    def merge(self, other: Stats) -> None:
        self.appends += other.appends
        self.pulls += other.pulls
        for status, n in other.errors.items():
            self.errors[status] = self.errors.get(status, 0) + n


async def device_loop(client: Client, kit: Kit, size: int, start: float, deadline: float,
                      interval: float, stats: Stats, bare: bool) -> None:  # fmt: skip
    """Three appends then one pull, again and again. With ``interval`` > 0
    the device keeps a schedule (open loop) instead of sending as fast as it
    can; latency then includes no queueing of the client's own making."""
    seen, op = 0, 0
    next_at = start
    while True:
        now = time.perf_counter()
        if now >= deadline:
            return
        if interval:
            if next_at > now:
                await asyncio.sleep(next_at - now)
            next_at = max(next_at + interval, time.perf_counter() - 1.0)
        op += 1
        started = time.perf_counter()
        if op % 4:
            raw = kit.envelope(kit.syndic, size=size)
            if bare:
                result = await client.send("POST", "/bare", kit.syndic, raw)
            else:
                result = await client.append(kit, kit.syndic, raw)
            if result.status in (200, 201):
                stats.appends.append(time.perf_counter() - started)
        else:
            if bare:
                result = await client.send("GET", f"/bare?after={seen}", kit.syndic)
            else:
                result = await client.pull(kit, kit.syndic, after=seen)
                records = result.records()
                if records:
                    seen = records[-1][0]
            if result.status == 200:
                stats.pulls.append(time.perf_counter() - started)
        if result.status not in (200, 201):
            stats.errors[result.status] = stats.errors.get(result.status, 0) + 1


async def worker_load(url: str, devices: int, seconds: float, size: int, rate: float,
                      bare: bool, ready, go) -> Stats:  # fmt: skip
    connector = aiohttp.TCPConnector(limit=devices + 10)
    async with aiohttp.ClientSession(base_url=url, connector=connector) as http:
        client = Client(http)
        kits = [Kit() for _ in range(devices)]
        if not bare:
            for kit in kits:
                result = await client.register(kit)
                assert result.status == 201, result.body
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        stats = Stats()
        # ops per device per second: appends are 3 of every 4 operations
        interval = devices / (rate * 4 / 3) if rate else 0.0
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(
            device_loop(client, k, size, start + i * interval / devices, deadline, interval,
                        stats, bare)
            for i, k in enumerate(kits)
        ))  # fmt: skip
        return stats


def _worker(url, devices, seconds, size, rate, bare, ready, go, out) -> None:  # type: ignore[no-untyped-def]
    stats = asyncio.run(worker_load(url, devices, seconds, size, rate, bare, ready, go))
    out.put((stats.appends, stats.pulls, stats.errors))


def run_load(url: str, args: argparse.Namespace, bare: bool, pid: int) -> tuple[Stats, float]:
    """Run the devices in ``args.clients`` processes; (stats, server CPU seconds)."""
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    share = [args.devices // args.clients + (i < args.devices % args.clients)
             for i in range(args.clients)]  # fmt: skip
    workers, readies = [], []
    for n in share:
        ready = ctx.Event()
        rate = args.rate * n / args.devices
        proc = ctx.Process(target=_worker, args=(url, n, args.seconds, args.size, rate, bare,
                                                 ready, go, out))  # fmt: skip
        proc.start()
        workers.append(proc)
        readies.append(ready)
    for ready in readies:
        ready.wait(timeout=300)
    cpu_before = cpu_seconds(pid)
    go.set()
    stats = Stats()
    for _ in workers:
        appends, pulls, errors = out.get(timeout=args.seconds + 300)
        part = Stats()
        part.appends, part.pulls, part.errors = appends, pulls, errors
        stats.merge(part)
    cpu = cpu_seconds(pid) - cpu_before
    for proc in workers:
        proc.join()
    return stats, cpu


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def report(name: str, stats: Stats, seconds: float, cpu: float) -> float:
    both = stats.appends + stats.pulls
    per_request = cpu / len(both) * 1e6 if both else 0.0
    print(
        f"{name:>5}: {len(stats.appends) / seconds:8.0f} appends/s  "
        f"{len(stats.pulls) / seconds:7.0f} pulls/s  "
        f"p50 {pct(both, 0.5):6.1f} ms  p99 {pct(both, 0.99):6.1f} ms  "
        f"(appends {pct(stats.appends, 0.99):.1f}, pulls {pct(stats.pulls, 0.99):.1f})  "
        f"server CPU {cpu / seconds * 100:.0f}% of a core, {per_request:.0f} µs/request"
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
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered appends/s in all, paced (default 0: as fast as possible)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the relay's log level (INFO: one JSON line per request)",
    )
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
         "--log-level", args.log_level, "--device-rate", "1e6", "--device-burst", "1000000",
         "--address-rate", "1e6", "--address-burst", "1000000",
         "--max-requests-per-month", "1000000000"],
        port, folder / "relay.log",
    )  # fmt: skip
    try:
        pace = f"paced at {args.rate:g} appends/s" if args.rate else "as fast as possible"
        print(
            f"{args.devices} devices in {args.clients} client processes, {args.seconds:g} s, "
            f"{args.size}-byte payloads, {pace}, SQLite, relay log level {args.log_level}"
        )
        stats, cpu = run_load(f"http://127.0.0.1:{port}", args, False, relay.pid)
        rss, peak = rss_mib(relay.pid)
        relay_rate = report("relay", stats, args.seconds, cpu)
        print(f"relay RSS {rss:.0f} MiB (peak {peak:.0f} MiB), "
              f"database {(folder / 'relay.sqlite3').stat().st_size / 2**20:.0f} MiB")  # fmt: skip
    finally:
        relay.terminate()
        relay.wait(timeout=30)
    if not args.skip_bare:
        bare_port = free_port()
        bare = start([__file__, "--bare-server", str(bare_port)], bare_port, folder / "bare.log")
        try:
            bare_stats, cpu = run_load(f"http://127.0.0.1:{bare_port}", args, True, bare.pid)
            bare_rate = report("bare", bare_stats, args.seconds, cpu)
            print(f"ratio relay/bare (requests/s): {relay_rate / bare_rate:.2f}")
        finally:
            bare.terminate()
            bare.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
