"""Reusable fixtures: a real PostgreSQL 15 server and real relay processes.

Import them into a test module or a ``conftest.py``::

    from tests.relay.fixtures import postgres_server, relay_process, relay_factory

``postgres_server`` (session)
    Runs ``initdb`` in a fresh temporary folder (as the ``postgres`` user
    when the tests run as root), starts PostgreSQL on a free 127.0.0.1 port
    with its socket in that folder, and yields a :class:`PostgresServer`:
    ``server.create_database()`` makes an empty, migrated relay database
    from a template and returns its SQLAlchemy URL
    (``postgresql+psycopg://postgres@127.0.0.1:PORT/NAME``). The server is
    stopped and its folder removed at the end of the session. If the
    server binaries are missing (``pg_config --bindir``), it installs them
    with ``scripts/system-deps.sh postgresql``; where that is impossible
    the tests that need it are skipped.

``relay_process`` (session)
    A real ``koprogo-relay serve`` process (``python -m sync_server.cli``)
    on a free 127.0.0.1 port with a SQLite database in a temporary folder,
    started once and waited for (``/healthz``). It is a
    :class:`RelayProcess`: ``.url`` (``http://127.0.0.1:PORT``),
    ``.port``, ``.data_dir``, ``.log_path``. Limits are raised so that
    tests are not rate-limited (see :data:`TEST_LIMITS`).

``relay_factory`` (function)
    ``relay_factory(database_url=None, extra_args=())`` starts another
    relay process (SQLite in a new folder unless a URL is given) and stops
    every process it started when the test ends. The process can be
    ``.kill()``-ed (SIGKILL) and ``.start()``-ed again on the same port and
    database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TEST_LIMITS = (
    "--device-rate", "100000", "--device-burst", "100000",
    "--address-rate", "100000", "--address-burst", "100000",
)  # fmt: skip
"""Command-line limits of the relay processes started here: high enough
that integration tests are never rate-limited."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- PostgreSQL -----------------------------------------------------------------------


def _pg_bindir() -> Path | None:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    bindir = Path(out.stdout.strip())
    return bindir if (bindir / "initdb").exists() and (bindir / "postgres").exists() else None


def find_postgres_bindir() -> Path | None:
    """The PostgreSQL server binaries, installing them (Debian) if missing."""
    bindir = _pg_bindir()
    if bindir is None:
        subprocess.run(
            [str(ROOT / "scripts" / "system-deps.sh"), "postgresql"], check=False, timeout=600
        )
        bindir = _pg_bindir()
    if bindir is None:  # Debian puts the server in /usr/lib/postgresql/<v>/bin
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
        bindir = candidates[0].parent if candidates else None
    return bindir


@dataclass
class PostgresServer:
    bindir: Path
    folder: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    template: str = "koprogo_template"
    _counter: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, migrated: bool = True) -> str:
        """A new database (a copy of the migrated template, or empty); its URL."""
        self._counter += 1
        name = f"relay_{os.getpid()}_{self._counter}"
        template = self.template if migrated else "template0"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = find_postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries are not installed (pg_config --bindir)")
    folder = Path(tempfile.mkdtemp(prefix="koprogo-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                      "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"]),
        check=True, capture_output=True,
    )  # fmt: skip
    server = PostgresServer(bindir, folder, free_port())
    log = open(folder / "postgres.log", "wb")  # noqa: SIM115 - open until the server stops
    # fsync off: the tests kill relay processes, never the database server
    server.process = subprocess.Popen(
        _as_postgres([str(bindir / "postgres"), "-D", str(data), "-p", str(server.port),
                      "-k", str(folder), "-c", "listen_addresses=127.0.0.1",
                      "-c", "fsync=off", "-c", "synchronous_commit=off",
                      "-c", "full_page_writes=off", "-c", "max_connections=200"]),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        _wait_for_postgres(server)
        with server.admin() as conn:
            conn.execute(f'CREATE DATABASE "{server.template}"')
        from sync_server import database

        database.migrate(server.url(server.template))
        yield server
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "fast", "-w"]),
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_postgres(server: PostgresServer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError((server.folder / "postgres.log").read_text())
        try:
            with server.admin():
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("PostgreSQL did not start within 60 s")


# -- relay processes ------------------------------------------------------------------


@dataclass
class RelayProcess:
    """A ``koprogo-relay serve`` child process on 127.0.0.1."""

    data_dir: Path
    database_url: str | None = None
    extra_args: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"relay-{self.port}.log"

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "sync_server.cli", "serve", "--host", "127.0.0.1",
                "--port", str(self.port), "--data-dir", str(self.data_dir)]  # fmt: skip
        args += TEST_LIMITS
        if self.database_url:
            args += ["--database-url", self.database_url]
        return args + list(self.extra_args)

    def start(self, timeout: float = 60) -> RelayProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the relay exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the relay did not answer /healthz:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (crash test)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def relay_process() -> Iterator[RelayProcess]:
    folder = Path(tempfile.mkdtemp(prefix="koprogo-relay-"))
    relay = RelayProcess(folder).start()
    try:
        yield relay
    finally:
        relay.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def relay_factory(tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    started: list[RelayProcess] = []

    def start(
        database_url: str | None = None,
        extra_args: tuple[str, ...] = (),
        data_dir: Path | None = None,
    ) -> RelayProcess:
        folder = data_dir or tmp_path / f"relay-{len(started)}"
        relay = RelayProcess(folder, database_url, tuple(extra_args)).start()
        started.append(relay)
        return relay

    yield start
    for relay in started:
        with contextlib.suppress(Exception):
            relay.stop()
