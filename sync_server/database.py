"""Engines, migrations and the schema check done before serving.

SQLite (default) runs in WAL mode with ``synchronous=FULL``: an answer of
201 to an append means the envelope is on disk. PostgreSQL goes through the
psycopg 3 driver. Migrations are Alembic scripts in
``sync_server/migrations/versions/`` (STYLE §12); before upgrading a SQLite
database that already holds data, :func:`migrate` copies it aside with
SQLite's online backup.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from . import schema

MIGRATIONS = Path(__file__).with_name("migrations")


class SchemaError(RuntimeError):
    """The database is not at the relay's schema version, or could not be
    brought to it."""


class DatabaseUnusable(RuntimeError):
    """The database cannot be reached, opened or read (a bad URL, a server
    refusing connections, a file that is not a SQLite database or is
    damaged, a folder the relay may not write). The message names the
    database, never its password, and says why."""


BACKENDS = ("sqlite", "postgresql")


def shown(url: str) -> str:
    """``url`` as it may be printed: its password, if any, as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL it reads: hide what looks like a password
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def check_url(url: str) -> None:
    """:class:`DatabaseUnusable` unless ``url`` is a SQLite or PostgreSQL URL."""
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseUnusable(
            f"{shown(url)!r} is not a database URL (sqlite:///path or postgresql://user@host/db)"
        ) from None
    if backend not in BACKENDS:
        raise DatabaseUnusable(
            f"{shown(url)}: the relay stores in SQLite or PostgreSQL, not {backend}"
        )


# failing to reach, open or read a database; and, around the commands' own
# work (not a server that also listens), a folder or a driver missing, or a
# revision Alembic does not know (a database of a newer relay)
DATABASE_FAILURES: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error)
SETUP_FAILURES = (OSError, ImportError, CommandError)


@contextlib.contextmanager
def in_words(url: str, more: tuple[type[BaseException], ...] = SETUP_FAILURES) -> Iterator[None]:
    """Turn a failure to reach, open or read the database at ``url``
    (:data:`DATABASE_FAILURES` and ``more``) into :class:`DatabaseUnusable`,
    for a one-line message instead of a traceback (``koprogo-relay``'s
    commands)."""
    check_url(url)
    try:
        yield
    except DATABASE_FAILURES + more as exc:
        raise DatabaseUnusable(f"cannot use the database {shown(url)}: {_cause(exc)}") from exc


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite ``url`` names (absolute), None for PostgreSQL or memory."""
    check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).absolute()


# `serve` checks a SQLite file whole up to this size (~10 s per GB read);
# above, only `migrate` and `restore` do (docs/relay-operations.md)
CHECK_AT_START_BYTES = 2 * 1024**3


def check_intact(url: str, at_most: int | None = None, backup: bool = False) -> None:
    """``PRAGMA quick_check`` of a SQLite file (it reads the whole file), so a
    damaged database is said before anything is done to it, not reported as
    at the newest schema (``migrate``, found by hand) nor served with every
    request failing (``serve``, for files up to ``at_most`` bytes)."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return  # made by the migration, or refused by it in words
    if at_most is not None and path.stat().st_size > at_most:
        return
    try:
        with contextlib.closing(_read_only(path) if backup else _open_ro(path)) as db:
            problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.OperationalError:
        return  # cannot be opened (a folder it may not read...): the migration says so
    except sqlite3.DatabaseError as exc:  # not a database, or damaged past reading
        problems = [str(exc)]
    if problems != ["ok"]:
        raise DatabaseUnusable(
            f"the database file {path} is damaged ({'; '.join(problems)}): nothing was "
            "changed; restore it from a backup: koprogo-relay restore BACKUP "
            "(docs/relay-operations.md, Backups)"
        )


def _open_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _read_only(backup: Path) -> sqlite3.Connection:
    """A backup opened to be read only. A ``.backup`` copy of a relay's
    database is in WAL mode, and SQLite then needs to write a ``-shm`` file
    beside it even to read it (found by hand: a backup in a folder the
    relay's user may not write, such as ``/var/backups``, was called "not a
    backup of a relay database"): when no write-ahead log lies beside it,
    it is opened as a file nothing changes."""
    wal = backup.with_name(backup.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return _open_ro(backup)
    return sqlite3.connect(f"file:{backup}?mode=ro&immutable=1", uri=True)


def check_writable(url: str) -> None:
    """A SQLite file and its folder the relay may write (found by hand: a
    file made by root's `migrate` was served read-only, every write failing
    with a 500 while /healthz said ok)."""
    path = sqlite_path(url)
    if path is None:
        return
    for place in (path, path.parent):
        if place.exists() and not os.access(place, os.W_OK):
            what = "file" if place == path else "folder"
            raise DatabaseUnusable(
                f"the relay may not write the database {what} {place}: give the user running "
                "it write access (e.g. chown koprogo-relay, for a file made by root's migrate)"
            )


class ServingLock:
    """Held by a serving relay (all its workers) on ``<database>-serving.lock``:
    found by hand, a second relay on the same SQLite file started silently
    and the two kept diverging members logs; and a restore under a running
    relay was undone by its write-ahead log. Released when the process ends."""

    def __init__(self, url: str) -> None:
        self.path: Path | None = None
        self._fd = -1
        database = sqlite_path(url)
        if database is None or sys.platform == "win32":
            return
        import fcntl

        self.path = database.with_name(f"{database.name}-serving.lock")
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            self.path = None  # a folder it cannot write: check_writable says so
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise DatabaseUnusable(
                f"another koprogo-relay is serving {database}: stop it first (two relays on one "
                "SQLite file would keep separate members logs; run several with --workers)"
            ) from None

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def restore_sqlite(url: str, backup: Path) -> Path | None:
    """Put ``backup`` (a copy made with SQLite's ``.backup``) in place of the
    database at ``url``, the relay stopped (its serving lock is taken here).
    The backup is checked whole first; the database replaced is kept beside
    it (returned), and its write-ahead log removed with it (found by hand:
    copying a backup over the file left the old log, which SQLite replayed
    over the backup — the restore silently undone, or the file damaged)."""
    path = sqlite_path(url)
    if path is None:
        raise DatabaseUnusable(
            "restore is for a SQLite relay; for PostgreSQL stop every relay, then "
            "pg_restore --clean --if-exists (docs/relay-operations.md, Backups)"
        )
    backup = backup.absolute()
    if not backup.is_file():
        raise DatabaseUnusable(f"there is no backup file {backup}")
    if backup == path:
        raise DatabaseUnusable(f"{backup} is the database itself, not a backup of it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a new machine restoring its relay
    except OSError as exc:
        raise DatabaseUnusable(f"cannot make the folder {path.parent}: {exc.strerror}") from exc
    lock = ServingLock(url)
    staged = path.with_name(f"{path.name}.restoring")
    try:
        check_intact(f"sqlite:///{backup}", backup=True)
        with contextlib.closing(_read_only(backup)) as db:
            try:
                row = db.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                row = None
        if row is None:
            raise DatabaseUnusable(f"{backup} is not a backup of a relay database (no schema)")
        _not_newer(str(row[0]), f"the backup {backup}")
        with (
            contextlib.closing(_read_only(backup)) as source,
            contextlib.closing(sqlite3.connect(staged)) as copy,
        ):
            source.backup(copy)
        kept = None
        if path.exists():
            stamp = time.strftime("%Y%m%d-%H%M%S")
            kept = path.with_name(f"{path.name}.replaced-{stamp}")
            for again in range(1, 1000):  # two restores in one second keep both files
                if not kept.exists():
                    break
                kept = path.with_name(f"{path.name}.replaced-{stamp}-{again}")
            wal = path.with_name(path.name + "-wal")
            try:
                with contextlib.closing(sqlite3.connect(path)) as current:
                    current.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file kept is whole
            except sqlite3.DatabaseError:
                # damaged, the very case restore is for (found by hand: it was
                # refused, the good backup blamed): kept as it is, its log too
                if wal.exists():
                    os.replace(wal, kept.with_name(kept.name + "-wal"))
            os.replace(path, kept)
        for leftover in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                path.with_name(path.name + leftover).unlink()
        os.replace(staged, path)
        return kept
    except (OSError, sqlite3.Error) as exc:
        raise DatabaseUnusable(f"could not restore {backup}: {_cause(exc)}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()  # a copy left half made by a failure (found by hand)
        lock.release()


def missing_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist (opening it
    would create it), else None."""
    check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _cause(exc: BaseException) -> str:
    """The driver's own words (without SQLAlchemy's statement and link), on one line."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = "; ".join(line.strip() for line in str(cause).splitlines() if line.strip())
    return text or type(cause).__name__


def make_engine(url: str, pool_size: int = 8) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, FULL sync and a
    busy timeout (one writer, many readers)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=30000")
            # deleted envelopes (replaced by a snapshot: an erasure's) are
            # zeroed, not left in free pages (found by hand, ARCHITECTURE §6)
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=4, pool_pre_ping=True)


@contextlib.contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction, committed at the end.

    With SQLite the transaction is ``BEGIN IMMEDIATE``: it takes the
    database's write lock before its first read, so what it reads (a
    sequence, a members-log length) cannot change before it writes, even
    when several relay processes share the file (``serve --workers``);
    and it is begun under :func:`write_lock`. PostgreSQL locks rows instead
    (``SELECT … FOR UPDATE``)."""
    with write_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # pysqlite has not begun one yet
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


class _FileLock:
    """An exclusive ``flock`` on a file beside the database, held for a
    whole write transaction. SQLite's own lock, when taken, makes a waiting
    process poll (sleeping 1, 2, 5, 10… ms between tries): with two relay
    workers committing in turn that polling cost more than the commits
    themselves. A process blocked on ``flock`` wakes as soon as the lock
    is released. Opened anew in each process (a forked worker must not
    share its parent's lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        self._pid = 0
        self._threads = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire(blocking=True)
        try:
            yield
        finally:
            self.release()

    def acquire(self, blocking: bool) -> bool:
        """Take the lock, waiting for it or not (False when another thread
        or process holds it). The thread that releases it may be another."""
        import fcntl

        if not self._threads.acquire(blocking=blocking):
            return False
        try:
            if self._pid != os.getpid():
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._threads.release()
            return False
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        import fcntl

        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_file_locks: dict[str, _FileLock] = {}
_file_locks_guard = threading.Lock()


def write_lock(engine: Engine) -> contextlib.AbstractContextManager[None]:
    """Held around every write transaction on a SQLite file
    (``<database>-writer.lock``, see :class:`_FileLock`); nothing to hold
    for PostgreSQL, an in-memory database, or where ``flock`` is missing."""
    lock = file_lock(engine)
    return contextlib.nullcontext() if lock is None else lock.held()


def file_lock(engine: Engine) -> _FileLock | None:
    """The lock :func:`write_lock` holds, for a transaction begun on one
    thread and ended on another; None where there is none to hold."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or sys.platform == "win32":
        return None
    with _file_locks_guard:
        lock = _file_locks.get(database)
        if lock is None:
            lock = _file_locks[database] = _FileLock(Path(f"{database}-writer.lock"))
    return lock


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(url: str) -> tuple[str | None, str]:
    """Bring the database at ``url`` to the newest schema; returns
    (revision before, revision after). A SQLite file with data in it is
    backed up beside itself first (``<file>.before-<revision>``)."""
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        _not_newer(before, "the relay database")  # before any copy or change
        head = head_revision()
        if before != head and before is not None and engine.dialect.name == "sqlite":
            _backup_sqlite(url, before)
        with engine.begin() as conn:
            config = alembic_config(url)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        return before, head
    finally:
        engine.dispose()


def _backup_sqlite(url: str, revision: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    source_path = Path(database)
    target = source_path.with_name(f"{source_path.name}.before-{revision}")
    partial = target.with_name(f"{target.name}.partial")  # never a half copy under the name
    try:
        with (
            contextlib.closing(sqlite3.connect(source_path)) as source,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            source.backup(copy)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise SchemaError(
            f"could not back the database up to {target} before upgrading it ({exc}); "
            "nothing was changed: make room (the copy needs as much free space as the "
            "database) and run `koprogo-relay migrate` again"
        ) from exc
    return target


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {revision.revision for revision in script.walk_revisions()}


def _not_newer(revision: str | None, what: str) -> None:
    """Found by hand: a database of a newer relay was told to "run migrate",
    which then failed on a revision it did not know."""
    head = head_revision()
    if (
        revision is not None
        and revision not in _known_revisions()
        and revision.isdigit()
        and head.isdigit()
        and int(revision) > int(head)  # our revisions are numbered 0001, 0002...
    ):
        raise SchemaError(
            f"{what} was made by a newer koprogo-relay (schema {revision}; this one knows up "
            f"to {head}): upgrade koprogo-relay"
        )


def check_schema(engine: Engine) -> None:
    """Raise :class:`SchemaError` with what to do when the database is not
    at the newest revision (``serve`` refuses to run on it)."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaError("the relay database has no schema yet: run `koprogo-relay migrate` first")
    _not_newer(current, "the relay database")
    raise SchemaError(
        f"the relay database is at schema {current}, this relay needs {head}: "
        "run `koprogo-relay migrate` (back the database up first)"
    )


def stats(engine: Engine) -> dict[str, int]:
    """What ``koprogo-relay stats`` prints: counts only, never content."""
    with engine.connect() as conn:

        def count(table) -> int:  # type: ignore[no-untyped-def]
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

        stored = conn.execute(select(func.coalesce(func.sum(schema.envelopes.c.size), 0)))
        return {
            "buildings": count(schema.buildings),
            "envelopes": count(schema.envelopes),
            "bytes": int(stored.scalar_one()),
            "members_entries": count(schema.members),
            "documents": count(schema.documents),
            "devices": _device_count(conn),
            "energy_aggregates": count(schema.energy_aggregates),
            "brokers": count(schema.brokers),
            "energy_offers": count(schema.energy_offers),
        }


def _device_count(conn) -> int:  # type: ignore[no-untyped-def]
    """Active devices over all buildings (:func:`_devices_by_building`)."""
    return sum(_devices_by_building(conn).values())


def _devices_by_building(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Active devices of each building, read from its verified log's
    entries (genesis and join add one, revoke removes one)."""
    import json

    active: dict[str, int] = {}
    members = schema.members.c
    for building_id, body in conn.execute(select(members.building_id, members.body)):
        kind = json.loads(body).get("type")
        change = {"genesis": 1, "join": 1, "revoke": -1}.get(kind, 0)
        active[building_id] = active.get(building_id, 0) + change
    return active


def building_stats(engine: Engine, month: str) -> list[dict[str, object]]:
    """What ``koprogo-relay stats --buildings`` prints: per building, the
    figures its quotas are about (bytes stored, active devices, requests in
    ``month``, ``YYYY-MM``) and its documents and envelopes; counts only,
    most bytes first. A building is named by its id, all the relay knows."""
    b, e, d, u = schema.buildings.c, schema.envelopes.c, schema.documents.c, schema.usage.c
    with engine.connect() as conn:
        devices = _devices_by_building(conn)
        envelopes = dict(
            conn.execute(select(e.building_id, func.count()).group_by(e.building_id)).all()
        )
        documents = dict(
            conn.execute(select(d.building_id, func.count()).group_by(d.building_id)).all()
        )
        requests = dict(
            conn.execute(select(u.building_id, u.requests).where(u.month == month)).all()
        )
        rows = conn.execute(select(b.id, b.created_at, b.bytes_stored)).all()
    figures = [
        {
            "building": building_id,
            "created": time.strftime("%Y-%m-%d", time.gmtime(created_at)),
            "bytes": int(stored),
            "devices": devices.get(building_id, 0),
            "requests_this_month": int(requests.get(building_id, 0)),
            "documents": int(documents.get(building_id, 0)),
            "envelopes": int(envelopes.get(building_id, 0)),
        }
        for building_id, created_at, stored in rows
    ]
    return sorted(figures, key=lambda row: (-int(row["bytes"]), str(row["building"])))
