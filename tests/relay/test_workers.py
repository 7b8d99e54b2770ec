"""``koprogo-relay serve --workers N`` on SQLite: real processes on 127.0.0.1.

Two workers share the port and one SQLite file; the parent passes their
announcements on, restarts a worker that dies, stops them all on SIGTERM,
and gives up when a worker cannot start. A worker whose parent is killed
stops by itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from shared.protocol import Role
from sync_server import cli, workers
from tests.relay.fixtures import ROOT, TEST_LIMITS
from tests.relay.helpers import Client, Kit
from tests.relay.sharing import two_processes_share_a_building

pytestmark = pytest.mark.skipif(
    not workers.supported(), reason="--workers needs fork and SO_REUSEPORT"
)

WORKERS = ("--workers", "2")


def children(pid: int) -> set[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


async def session_on(url: str, worker: str) -> aiohttp.ClientSession:
    """A session whose one keep-alive connection reaches ``worker`` (the
    kernel picks a worker for each new connection)."""
    for _ in range(200):
        http = aiohttp.ClientSession(base_url=url, connector=aiohttp.TCPConnector(limit=1))
        async with http.get("/healthz") as answer:
            assert answer.status == 200
            answered_by = answer.headers.get("KoproGo-Worker")
        if answered_by == worker:
            return http
        await http.close()
    raise AssertionError(f"no connection reached worker {worker}")


async def workers_answering(url: str, tries: int = 100) -> set[str]:
    seen = set()
    for _ in range(tries):
        async with (
            aiohttp.ClientSession(base_url=url) as http,
            http.get("/healthz") as answer,
        ):
            seen.add(answer.headers.get("KoproGo-Worker", ""))
    return seen


@pytest.mark.asyncio
async def test_two_workers_share_one_sqlite_file(relay_factory):
    relay = relay_factory(extra_args=WORKERS)
    assert await workers_answering(relay.url) == {"1", "2"}

    async def connect(process: str) -> aiohttp.ClientSession:
        return await session_on(relay.url, {"a": "1", "b": "2"}[process])

    await two_processes_share_a_building(connect)


@pytest.mark.asyncio
async def test_many_devices_appending_through_both_workers_get_exact_sequences(relay_factory):
    relay = relay_factory(extra_args=WORKERS)
    kit = Kit()
    sessions = [await session_on(relay.url, worker) for worker in ("1", "2", "1", "2")]
    try:
        clients = [Client(http) for http in sessions]
        assert (await clients[0].register(kit)).status == 201
        devices = [kit.syndic] + [await clients[0].enrol(kit, Role.COUNCIL) for _ in range(3)]
        sent: list[bytes] = []

        async def burst(client: Client, device) -> None:  # type: ignore[no-untyped-def]
            for _ in range(30):
                raw = kit.envelope(device, "maintenance")
                sent.append(raw)
                result = await client.append(kit, device, raw, "maintenance")
                assert result.status == 201, result.body
                # the same envelope again, through the other worker: a duplicate
                if len(sent) % 7 == 0:
                    other = clients[(clients.index(client) + 1) % len(clients)]
                    again = await other.append(kit, device, raw, "maintenance")
                    assert (again.status, again.json()["duplicate"]) == (200, True)

        await asyncio.gather(*(burst(c, d) for c, d in zip(clients, devices, strict=True)))
        records = (await clients[1].pull(kit, kit.syndic, "maintenance")).records()
        assert [seq for seq, _ in records] == list(range(1, 121))
        assert sorted(data for _, data in records) == sorted(sent)
        # both workers wrote to one stderr: every line whole
        lines = relay.log_path.read_text().splitlines()
        assert len(lines) > 120
        assert all(isinstance(json.loads(line), dict) for line in lines)
    finally:
        for http in sessions:
            await http.close()


@pytest.mark.asyncio
async def test_each_workers_metrics_carry_its_number(relay_factory):
    relay = relay_factory(extra_args=WORKERS)
    for worker in ("1", "2"):
        async with await session_on(relay.url, worker) as http, http.get("/metrics") as answer:
            text = await answer.text()
        samples = [line for line in text.splitlines() if line and not line.startswith("#")]
        assert samples
        assert all(f'{{worker="{worker}"' in line for line in samples), text
        assert f'koprogo_relay_buildings{{worker="{worker}"}} 0' in samples
        assert any(
            line.startswith(
                f'koprogo_relay_thread_cpu_seconds_total{{worker="{worker}",thread="loop"}}'
            )
            for line in samples
        )


@pytest.mark.asyncio
async def test_a_killed_worker_is_replaced_and_sigterm_stops_them_all(relay_factory):
    relay = relay_factory(extra_args=WORKERS)
    assert relay.process is not None and relay.process.poll() is None  # serving
    parent = relay.process.pid
    first = children(parent)
    assert len(first) == 2
    kit = Kit()
    async with aiohttp.ClientSession(base_url=relay.url) as http:
        client = Client(http)
        assert (await client.register(kit)).status == 201
        raw = kit.envelope(kit.syndic)
        assert (await client.append(kit, kit.syndic, raw)).status == 201
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    assert wait_until(lambda: len(children(parent)) == 2 and victim not in children(parent))
    assert await workers_answering(relay.url) == {"1", "2"}
    async with aiohttp.ClientSession(base_url=relay.url) as http:
        client = Client(http)
        # what was stored before is there, and the building goes on
        assert [seq for seq, _ in (await client.pull(kit, kit.syndic)).records()] == [1]
        assert (await client.append(kit, kit.syndic, kit.envelope(kit.syndic))).status == 201
    log = relay.log_path.read_text()
    assert "worker exited; restarting it" in log
    # under --workers the signatures are verified on each worker's loop
    assert log.count('"message":"relay started"') == 3
    assert log.count('"verify_threads":0') == 3
    survivors = children(parent)
    relay.process.send_signal(signal.SIGTERM)
    assert relay.process.wait(timeout=60) == 0
    assert not any(alive(pid) for pid in survivors)


@pytest.mark.asyncio
async def test_workers_stop_when_their_parent_is_killed(relay_factory):
    relay = relay_factory(extra_args=WORKERS)
    assert relay.process is not None and relay.process.poll() is None  # serving
    orphans = children(relay.process.pid)
    assert len(orphans) == 2
    relay.kill()
    assert wait_until(lambda: not any(alive(pid) for pid in orphans))


def test_a_port_taken_stops_the_relay_before_any_worker_starts(tmp_path):
    with socket.socket() as taken:  # bound without SO_REUSEPORT: the workers cannot share it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(
            [sys.executable, "-m", "sync_server.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--data-dir", str(tmp_path), *TEST_LIMITS, *WORKERS],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"koprogo-relay: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_two_relays_with_workers_do_not_share_one_port(tmp_path, relay_factory):
    """Found by hand: a second `serve --workers 2` on the port of a first
    (another data folder) bound it too, the kernel spreading devices over
    two databases ("the relay does not know this building", now and then)."""
    first = relay_factory(extra_args=WORKERS)
    run = subprocess.run(
        [sys.executable, "-m", "sync_server.cli", "serve", "--host", "127.0.0.1",
         "--port", str(first.port), "--data-dir", str(tmp_path / "other"), *WORKERS],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 2 and "Address already in use" in run.stderr
    assert first.process is not None and first.process.poll() is None


def test_a_worker_that_keeps_failing_at_start_stops_the_relay_with_a_message():
    code = (
        "import sys; from sync_server import workers; from sync_server.metrics import "
        "setup_logging; setup_logging('INFO'); "
        "sys.exit(workers.Supervisor(2, lambda index, link: 2, bus=False).run())"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 1
    assert "keeps failing at start" in run.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--workers", "0"), "--workers is at least 1"),
        (("--workers", "2", "--port", "0"), "--workers needs a fixed --port"),
    ],
)
def test_bad_worker_options_are_refused(tmp_path, capsys, arguments, message):
    status = cli.main(["serve", "--data-dir", str(tmp_path), *arguments])
    assert status == 2
    assert message in capsys.readouterr().err


def test_workers_start_with_the_parents_objects_frozen():
    """The parent freezes its objects before forking (``share_pages``), so
    the workers' garbage collections leave those pages shared: each worker
    starts with the parent's objects in the permanent generation."""
    import gc

    read_end, write_end = os.pipe()

    def run_worker(index: int, link: workers.Link | None) -> int:
        os.write(write_end, f"{gc.get_freeze_count()}\n".encode())
        return 1  # fails at start: the supervisor gives up after a few tries

    assert gc.get_freeze_count() == 0
    try:
        status = workers.Supervisor(1, run_worker, bus=False).run()
    finally:
        gc.unfreeze()
        os.close(write_end)
    with os.fdopen(read_end) as pipe:
        frozen = [int(line) for line in pipe]
    assert status == 1
    assert len(frozen) == workers.MAX_QUICK_DEATHS
    assert all(count > 10_000 for count in frozen)  # the modules' objects, at least
