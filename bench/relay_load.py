"""Relay load benchmark: N devices appending and pulling for a fixed time.

    .venv/bin/python bench/relay_load.py [--devices 200] [--seconds 20] [--rounds 3]
                                         [--size 400] [--clients 2] [--rate APPENDS_PER_S]

Starts a real relay process (SQLite in a temporary folder, limits raised),
registers one building per simulated device, then runs the devices in
``--clients`` processes: each device does three appends of a fresh
envelope (``--size`` random payload bytes, sealed and signed with
``shared/``; the envelope authenticates the append, docs/sync-protocol.md
§4) then one pull (a signed request), each on the device's own
keep-alive connection, for ``--seconds``; as fast as it can (closed loop)
or, with ``--rate``, on a schedule (open loop, latency counted from the
scheduled time). Prints appends/s, pulls/s, p50/p99 latency, the CPU used
by the server and by the clients, the share of the machine's time the
hypervisor stole meanwhile (on a busy host the latency figures suffer
first), and the relay's resident memory. It
also runs the same load, with the same client work, against a bare aiohttp
endpoint that only reads the body, and prints the ratio relay/bare. The
two are measured in ``--rounds`` rounds, each the relay's run and the bare
endpoint's back to back, in alternating order: this machine's speed drifts
by ±15 % from minute to minute, so the ratio is given round by round and
as their median. Before the rounds, each server gets ``--warmup`` seconds
of load that are not counted: a fresh process is slower while it first
takes its memory (the bare endpoint's first run costs ~40 % more CPU per
request than the next ones, with ~170,000 page faults against a few
hundred).

The clients share the machine's cores with the server, so they are kept
light: the appends are sealed before the timed phase (``--preseal`` per
second of closed loop; a device that runs out seals as it goes, and the
report says how many), pulls are signed as they go, and requests go
through a minimal HTTP/1.1 client rather than aiohttp's, which costs about
as much CPU per request as the server.

Figures go to docs/performance.md ("Relay"); nothing here is pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from shared import auth  # noqa: E402
from tests.relay.helpers import PROTOCOL, Client, Device, Kit  # noqa: E402


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


def tree(pid: int) -> list[int]:
    """``pid`` and its children (the workers of ``serve --workers N``)."""
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def rss_mib(pid: int) -> tuple[float, float, float]:
    """(current, peak, proportional) resident memory of ``pid`` and its
    children in MiB. RSS counts the pages forked workers share with their
    parent once in each process; PSS (``smaps_rollup``) divides each shared
    page among the processes sharing it, so its sum is what they use."""
    current = peak = proportional = 0.0
    for one in tree(pid):
        fields = {}
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        current += int(fields["VmRSS"].split()[0]) / 1024
        peak += int(fields["VmHWM"].split()[0]) / 1024
        for line in Path(f"/proc/{one}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                proportional += int(line.split()[1]) / 1024
    return current, peak, proportional


class Stats:
    def __init__(self) -> None:
        self.appends: list[float] = []
        self.pulls: list[float] = []
        self.errors: dict[int, int] = {}
        self.timeline: list[tuple[float, float]] = []  # (perf_counter when answered, latency)
        self.client_cpu = 0.0  # CPU seconds of the client processes in the timed phase
        self.sealed_live = 0  # appends sealed during the timed phase (pre-sealed ran out)

    def merge(self, other: Stats) -> None:
        self.appends += other.appends
        self.pulls += other.pulls
        self.timeline += other.timeline
        for status, n in other.errors.items():
            self.errors[status] = self.errors.get(status, 0) + n
        self.client_cpu += other.client_cpu
        self.sealed_live += other.sealed_live


class Connection(asyncio.Protocol):
    """One device's keep-alive HTTP/1.1 connection, one request at a time.

    A minimal client (request bytes written as prepared, answers framed by
    Content-Length) so that the client processes, which share the machine's
    two cores with the server, spend little CPU per request: aiohttp's
    client costs about as much CPU per request as the server it measures.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.waiter.set_exception(ValueError("an answer without Content-Length"))
            return
        stop = head.find(b"\r\n", at + 17)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        waiter.set_result((int(head[9:12]), body))

    async def request(self, data: bytes, host: str, port: int) -> tuple[int, bytes]:
        loop = asyncio.get_running_loop()
        if self.transport is None or self.transport.is_closing():
            self.buffer.clear()
            await loop.create_connection(lambda: self, host, port)
        assert self.transport is not None
        self.waiter = loop.create_future()
        self.transport.write(data)
        return await self.waiter


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    if body:
        lines.append("Content-Type: application/octet-stream")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def append_request(path: str, body: bytes) -> bytes:
    """An append as a node sends it to a relay of protocol 1.2: the envelope
    authenticates itself, no request signature (docs/sync-protocol.md §4)."""
    return http_request("POST", path, {auth.PROTOCOL_HEADER: PROTOCOL}, body)


def signed_request(device: Device, method: str, path: str, body: bytes = b"") -> bytes:
    headers = {auth.PROTOCOL_HEADER: PROTOCOL, **device.sign(method, path, body, int(time.time()))}
    return http_request(method, path, headers, body)


def records_end(body: bytes) -> int:
    """The last sequence number in a pull answer (0 when empty)."""
    pos, seq = 0, 0
    while pos < len(body):
        seq = int.from_bytes(body[pos : pos + 8], "big")
        pos += 12 + int.from_bytes(body[pos + 8 : pos + 12], "big")
    return seq


@dataclass
class Sim:
    """One simulated device: its building, connection and pre-sealed appends."""

    kit: Kit
    bare: bool
    conn: Connection = field(default_factory=Connection)
    ready: list[bytes] = field(default_factory=list)  # pre-sealed appends
    seen: int = 0

    @property
    def append_path(self) -> str:
        return (
            "/bare"
            if self.bare
            else f"/v1/buildings/{self.kit.building_id}/docs/registry/envelopes"
        )

    def prepare(self, count: int, size: int) -> None:
        for _ in range(count):
            raw = self.kit.envelope(self.kit.syndic, size=size)
            self.ready.append(append_request(self.append_path, raw))
        self.ready.reverse()

    def next_append(self, size: int, stats: Stats) -> bytes:
        if self.ready:
            return self.ready.pop()
        stats.sealed_live += 1
        raw = self.kit.envelope(self.kit.syndic, size=size)
        return append_request(self.append_path, raw)

    def next_pull(self) -> bytes:
        path = (
            f"/bare?after={self.seen}"
            if self.bare
            else f"/v1/buildings/{self.kit.building_id}/docs/registry/envelopes?after={self.seen}"
        )
        return signed_request(self.kit.syndic, "GET", path)


async def device_loop(sim: Sim, port: int, size: int, start: float, deadline: float,
                      interval: float, stats: Stats) -> None:  # fmt: skip
    """Three appends then one pull, again and again. With ``interval`` > 0
    the device keeps a schedule (open loop) instead of sending as fast as it
    can; latency is then measured from the scheduled time, so it includes
    any queueing behind a late answer (no coordinated omission)."""
    op = 0
    next_at = start
    while True:
        now = time.perf_counter()
        if now >= deadline:
            return
        started = now
        if interval:
            if next_at > now:
                await asyncio.sleep(next_at - now)
            started = next_at
            next_at = next_at + interval
        op += 1
        if op % 4:
            status, _ = await sim.conn.request(sim.next_append(size, stats), "127.0.0.1", port)
            if status in (200, 201):
                done = time.perf_counter()
                stats.appends.append(done - started)
                stats.timeline.append((done, done - started))
        else:
            status, body = await sim.conn.request(sim.next_pull(), "127.0.0.1", port)
            if status == 200:
                done = time.perf_counter()
                stats.pulls.append(done - started)
                stats.timeline.append((done, done - started))
                sim.seen = records_end(body) or sim.seen
        if status not in (200, 201):
            stats.errors[status] = stats.errors.get(status, 0) + 1


async def worker_load(url: str, devices: int, seconds: float, size: int, rate: float,
                      preseal: int, bare: bool, ready, go) -> Stats:  # fmt: skip
    port = int(url.rsplit(":", 1)[1])
    sims = [Sim(Kit(), bare) for _ in range(devices)]
    if not bare:
        async with aiohttp.ClientSession(base_url=url) as http:
            client = Client(http)
            for sim in sims:
                result = await client.register(sim.kit)
                assert result.status == 201, result.body
    for sim in sims:
        sim.prepare(preseal, size)
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    stats = Stats()
    # ops per device per second: appends are 3 of every 4 operations
    interval = devices / (rate * 4 / 3) if rate else 0.0
    cpu = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*(
        device_loop(sim, port, size, start + i * interval / devices, deadline, interval, stats)
        for i, sim in enumerate(sims)
    ))  # fmt: skip
    stats.client_cpu = time.process_time() - cpu
    for sim in sims:
        if sim.conn.transport is not None:
            sim.conn.transport.close()
    return stats


def _worker(url, devices, seconds, size, rate, preseal, bare, ready, go, out) -> None:  # type: ignore[no-untyped-def]
    stats = asyncio.run(worker_load(url, devices, seconds, size, rate, preseal, bare, ready, go))
    out.put(stats)


def run_load(
    url: str, args: argparse.Namespace, bare: bool, pid: int, seconds: float | None = None
) -> tuple[Stats, dict[str, float]]:
    """Run the devices in ``args.clients`` processes for ``seconds``
    (``args.seconds`` by default); (stats, server CPU seconds by thread
    name, see :func:`cpu_by_thread`)."""
    seconds = args.seconds if seconds is None else seconds
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    share = [args.devices // args.clients + (i < args.devices % args.clients)
             for i in range(args.clients)]  # fmt: skip
    # appends to seal and sign before the timed phase, per device
    budget = args.rate * 1.1 if args.rate else args.preseal
    preseal = math.ceil(budget * seconds / args.devices)
    workers, readies = [], []
    for n in share:
        ready = ctx.Event()
        rate = args.rate * n / args.devices
        proc = ctx.Process(target=_worker, args=(url, n, seconds, args.size, rate, preseal,
                                                 bare, ready, go, out))  # fmt: skip
        proc.start()
        workers.append(proc)
        readies.append(ready)
    for ready in readies:
        ready.wait(timeout=600)
    cpu_before = cpu_by_thread(pid)
    steal_before = host_ticks()
    metrics_before = {} if bare else scrape(url, args.workers)
    if args.timeline:
        print(f"  timed phase starts (server pid {pid})", flush=True)
    go.set()
    stats = Stats()
    for _ in workers:
        stats.merge(out.get(timeout=seconds + 300))
    cpu_after = cpu_by_thread(pid)
    cpu = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    cpu["host stolen"], cpu["host all"] = (
        after - before for after, before in zip(host_ticks(), steal_before, strict=True)
    )
    if not bare:
        metrics_after = scrape(url, args.workers)
        for name, value in metrics_after.items():
            cpu[name] = value - metrics_before.get(name, 0.0)
    for proc in workers:
        proc.join()
    return stats, cpu


def cpu_by_thread(pid: int) -> dict[str, float]:
    """CPU seconds used by process ``pid`` and its children (workers): in
    all (``""``), by their main threads (the event loops, ``"main"``) and by
    their other threads."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"": 0.0, "main": 0.0}
    for one in tree(pid):
        used[""] += _cpu(Path(f"/proc/{one}/stat")) / tick
        used["main"] += _cpu(Path(f"/proc/{one}/task/{one}/stat")) / tick
    used["other threads"] = used[""] - used["main"]
    return used


def host_ticks() -> tuple[int, int]:
    """The machine's CPU ticks stolen by the hypervisor, and all its ticks
    (``/proc/stat``; zeros where there is none): a busy host takes time
    from this VM, and latency figures depend on it."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0, 0
    ticks = [int(f) for f in fields]
    return (ticks[7] if len(ticks) > 7 else 0), sum(ticks[:8])


def _cpu(stat: Path) -> int:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def report(name: str, stats: Stats, seconds: float, cpu: dict[str, float]) -> float:
    both = stats.appends + stats.pulls
    n = max(1, len(both))
    print(
        f"{name:>5}: {len(stats.appends) / seconds:6.0f} appends/s  "
        f"{len(stats.pulls) / seconds:5.0f} pulls/s  "
        f"p50 {pct(both, 0.5):6.1f} ms  p99 {pct(both, 0.99):6.1f} ms  "
        f"(appends {pct(stats.appends, 0.99):.1f}, pulls {pct(stats.pulls, 0.99):.1f})"
        + (f"  errors {stats.errors}" if stats.errors else "")
        + (f"  ({stats.sealed_live} appends sealed live)" if stats.sealed_live else "")
    )
    threads = ", ".join(
        f"{thread} {used / seconds * 100:.0f}%"
        for thread, used in sorted(cpu.items(), key=lambda kv: -kv[1])
        if thread in ("main", "other threads")
    )
    print(
        f"       server CPU {cpu[''] / seconds * 100:.0f}% of a core, "
        f"{cpu[''] / n * 1e6:.0f} µs/request, main thread {cpu['main'] / n * 1e6:.0f} µs/request "
        f"({threads}); clients {stats.client_cpu / seconds * 100:.0f}% of a core"
        + (
            f"; host: {cpu['host stolen'] / cpu['host all']:.0%} of the time stolen by the "
            "hypervisor"
            if cpu.get("host all")
            else ""
        )
    )
    return len(both) / seconds


def scrape(url: str, workers: int = 1) -> dict[str, float]:
    """The relay's counters of group commits, of CPU time by thread and of
    its latency histogram, summed over its workers (each new connection
    reaches one of them)."""
    texts: dict[str, str] = {}
    for _ in range(50 * workers):
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
            texts[answer.headers.get("KoproGo-Worker", "0")] = answer.read().decode()
        if len(texts) >= workers:
            break
    figures: dict[str, float] = {}
    for text in texts.values():
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            metric, _, labels = name.partition("{")
            if metric.startswith("koprogo_relay_write_"):
                key = metric[len("koprogo_relay_") :]
            elif metric == "koprogo_relay_thread_cpu_seconds_total":
                key = "thread " + labels.split('thread="')[1].split('"')[0]
            elif metric == "koprogo_relay_request_seconds_bucket":
                key = "within " + labels.split('le="')[1].split('"')[0]
            else:
                continue
            figures[key] = figures.get(key, 0.0) + float(value)
    return figures


def commits(figures: dict[str, float], requests: int) -> None:
    batches = figures.get("write_batches_total", 0)
    if batches:
        print(
            f"       {batches:.0f} group commits, "
            f"{figures['write_batched_appends_total'] / batches:.1f} appends and "
            f"{figures['write_batch_seconds_total'] / batches * 1000:.1f} ms each, "
            f"{figures.get('write_batches_staged_total', 0) / batches:.0%} staged on the loop"
        )
    within = sorted(
        (float(n[7:]), v) for n, v in figures.items() if n.startswith("within ") and n[7:] != "+Inf"
    )
    answered = figures.get("within +Inf", 0)
    if within and answered:
        in_50ms = dict(within).get(0.05, 0) / answered
        p99 = next((bound for bound, v in within if v >= 0.99 * answered), None)
        bound = f"≤ {p99 * 1000:g} ms" if p99 is not None else f"> {within[-1][0] * 1000:g} ms"
        print(
            f"       inside the relay (from reading a request to its answer, its own "
            f"histogram): {in_50ms:.1%} within 50 ms, p99 {bound}"
        )
    threads = {n[7:]: v for n, v in figures.items() if n.startswith("thread ")}
    if threads and requests:
        print(
            "       CPU by thread, µs/request: "
            + ", ".join(f"{n} {v / requests * 1e6:.0f}" for n, v in sorted(threads.items()))
        )


def timeline(stats: Stats) -> None:
    """Requests answered and p99 latency, second by second."""
    if not stats.timeline:
        return
    first = min(done - latency for done, latency in stats.timeline)
    seconds: dict[int, list[float]] = {}
    for done, latency in stats.timeline:
        seconds.setdefault(int(done - first), []).append(latency)
    for second, latencies in sorted(seconds.items()):
        print(f"  {second:3d} s: {len(latencies):6d} answers  p50 {pct(latencies, 0.5):7.1f} ms  "
              f"p99 {pct(latencies, 0.99):7.1f} ms")  # fmt: skip


def bare_server(port: int, workers: int) -> None:
    """The comparison: an aiohttp endpoint that only reads the body, in
    ``workers`` processes sharing the port as the relay's workers do."""
    from aiohttp import web

    for _ in range(workers - 1):
        if os.fork() == 0:
            break

    async def post(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"seq": 1, "duplicate": False}, status=201)

    async def get(request: web.Request) -> web.Response:
        return web.Response(body=b"", content_type="application/octet-stream")

    app = web.Application(client_max_size=2 << 20)
    app.add_routes([web.post("/bare", post), web.get("/bare", get), web.get("/healthz", get)])
    web.run_app(
        app, host="127.0.0.1", port=port, access_log=None, print=None, reuse_port=workers > 1
    )


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
        "--preseal",
        type=float,
        default=12000.0,
        help="closed loop: appends/s to seal and sign before the timed phase (default 12000, "
        "enough for the bare endpoint on two cores; past them, devices seal as they go)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        help="the relay's log level (INFO: one JSON line per request)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="relay processes (`serve --workers N`), and as many for the bare endpoint",
    )
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument(
        "--warmup",
        type=float,
        default=5.0,
        help="seconds of load on each server before the rounds, not measured (default 5: a "
        "fresh process is slower while it first takes its memory)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of --seconds each for the relay and the bare endpoint, alternating "
        "(default 3; the ratio is given round by round and as their median)",
    )
    parser.add_argument(
        "--relay-option",
        action="append",
        default=[],
        help="one more argument for `koprogo-relay serve` (repeat: --relay-option=--verify-threads "
        "--relay-option=0)",
    )
    parser.add_argument("--keep-log", help="copy the relay's log (stderr) to this file")
    parser.add_argument(
        "--timeline", action="store_true", help="the relay's answers second by second"
    )
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server, args.workers)
        return
    folder = Path(tempfile.mkdtemp(prefix="koprogo-bench-"))
    port, bare_port = free_port(), free_port()
    relay = start(
        ["-m", "sync_server.cli", "serve", "--port", str(port), "--data-dir", str(folder),
         "--log-level", args.log_level, "--device-rate", "1e6", "--device-burst", "1000000",
         "--address-rate", "1e6", "--address-burst", "1000000",
         "--max-requests-per-month", "1000000000", "--workers", str(args.workers),
         *args.relay_option],
        port, folder / "relay.log",
    )  # fmt: skip
    bare = None
    try:
        if not args.skip_bare:
            command = [__file__, "--bare-server", str(bare_port), "--workers", str(args.workers)]
            bare = start(command, bare_port, folder / "bare.log")
        pace = f"paced at {args.rate:g} appends/s" if args.rate else "as fast as possible"
        print(
            f"{args.devices} devices in {args.clients} client processes, {args.rounds} round(s) "
            f"of {args.seconds:g} s, {args.size}-byte payloads, {pace}, SQLite, relay log level "
            f"{args.log_level}, {args.workers} relay process(es)"
        )
        other = None if bare is None else (f"http://127.0.0.1:{bare_port}", bare.pid)
        runs = rounds(args, f"http://127.0.0.1:{port}", relay.pid, other)
        rss, peak, pss = rss_mib(relay.pid)
    finally:
        relay.terminate()
        relay.wait(timeout=30)
        if bare is not None:
            for pid in tree(bare.pid)[1:]:  # the bare endpoint's other processes
                os.kill(pid, signal.SIGTERM)
            bare.terminate()
            bare.wait(timeout=30)
    seconds = args.seconds * args.rounds
    stats, cpu = merged(runs["relay"])
    relay_rate = report("relay", stats, seconds, cpu)
    commits(cpu, len(stats.appends) + len(stats.pulls))
    print(f"relay RSS {rss:.0f} MiB (peak {peak:.0f} MiB), PSS {pss:.0f} MiB, "
          f"database {(folder / 'relay.sqlite3').stat().st_size / 2**20:.0f} MiB")  # fmt: skip
    if runs["bare"]:
        bare_stats, bare_cpu = merged(runs["bare"])
        bare_rate = report("bare", bare_stats, seconds, bare_cpu)
        by_round = [
            served(relay_run, args.seconds) / served(bare_run, args.seconds)
            for relay_run, bare_run in zip(runs["relay"], runs["bare"], strict=True)
        ]
        print(
            f"ratio relay/bare (requests/s): {relay_rate / bare_rate:.2f} over the rounds; "
            f"round by round {' '.join(f'{r:.2f}' for r in by_round)}, "
            f"median {statistics.median(by_round):.2f}"
        )
    if args.keep_log:
        shutil.copy(folder / "relay.log", args.keep_log)
    shutil.rmtree(folder, ignore_errors=True)


Run = tuple["Stats", dict[str, float]]


def rounds(args: argparse.Namespace, url: str, pid: int,
           bare: tuple[str, int] | None) -> dict[str, list[Run]]:  # fmt: skip
    """``args.rounds`` rounds, each the relay's run and the bare endpoint's
    run back to back, in alternating order (relay first in odd rounds), so
    both see the machine in the same state: the ratio is judged round by
    round. Each round's runs are printed as they end."""
    servers = {"relay": (url, pid), **({"bare": bare} if bare is not None else {})}
    runs: dict[str, list[Run]] = {name: [] for name in ("relay", "bare")}
    if args.warmup:  # a fresh process pays for its first use of memory: not measured
        for name, (target, target_pid) in servers.items():
            run_load(target, args, name == "bare", target_pid, args.warmup)
    for number in range(1, args.rounds + 1):
        order = ["relay", "bare"] if number % 2 else ["bare", "relay"]
        for name in (name for name in order if name in servers):
            target, target_pid = servers[name]
            stats, cpu = run_load(target, args, name == "bare", target_pid)
            runs[name].append((stats, cpu))
            if args.rounds > 1:
                both = stats.appends + stats.pulls
                rate, cost = served((stats, cpu), args.seconds), cpu[""] / max(1, len(both)) * 1e6
                stolen = cpu["host stolen"] / max(1, cpu["host all"])
                print(f"  round {number}, {name}: {rate:.0f} requests/s, {cost:.0f} µs/request, "
                      f"p50 {pct(both, 0.5):.1f} ms, p99 {pct(both, 0.99):.1f} ms, "
                      f"host steal {stolen:.0%}")  # fmt: skip
            if args.timeline and name == "relay":
                timeline(stats)
    return runs


def served(run: Run, seconds: float) -> float:
    stats, _ = run
    return (len(stats.appends) + len(stats.pulls)) / seconds


def merged(runs: list[Run]) -> Run:
    """The runs' statistics together, and their CPU and metric deltas summed."""
    stats, cpu = Stats(), {}
    for run_stats, run_cpu in runs:
        stats.merge(run_stats)
        for name, value in run_cpu.items():
            cpu[name] = cpu.get(name, 0.0) + value
    return stats, cpu


if __name__ == "__main__":
    main()
