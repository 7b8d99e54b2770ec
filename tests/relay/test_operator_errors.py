"""What the operator sees when something is wrong: a database the
commands cannot use is one line in words (exit 2), never a traceback, and
never its password; errors the event loop reports are JSON lines, those of
a machine out of file descriptors at most one every few seconds."""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pytest

from sync_server import cli, database
from sync_server.metrics import JsonFormatter, LoopErrors
from tests.relay.fixtures import free_port

COMMANDS = ["stats", "migrate", "serve"]


def _text_file(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.sqlite3"
    path.write_text("not a database\n")
    return f"sqlite:///{path}"


def _damaged(tmp_path):  # type: ignore[no-untyped-def]
    """A migrated database whose pages after the first are overwritten."""
    url = f"sqlite:///{tmp_path / 'damaged.sqlite3'}"
    database.migrate(url)
    path = tmp_path / "damaged.sqlite3"
    with path.open("r+b") as file:
        file.seek(4096)
        file.write(os.urandom(path.stat().st_size - 4096))
    return url


BAD_URLS = {
    "not a URL": (lambda tmp: "notaurl", "is not a database URL"),
    "a port that is not a number": (
        lambda tmp: "postgresql://relay:s3cret@db:notaport/relay",
        "is not a database URL",
    ),
    "another database": (lambda tmp: "mysql://relay:s3cret@db/relay", "SQLite or PostgreSQL"),
    "PostgreSQL refusing connections": (
        lambda tmp: f"postgresql://relay:s3cret@127.0.0.1:{free_port()}/relay",
        "refused",
    ),
    "a missing folder": (
        lambda tmp: f"sqlite:///{tmp / 'missing' / 'relay.sqlite3'}",
        "unable to open database file",
    ),
    "a text file": (_text_file, "file is not a database"),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", list(BAD_URLS))
def test_a_database_the_command_cannot_use_is_one_line_in_words(command, case, tmp_path, capsys):
    make, words = BAD_URLS[case]
    url = make(tmp_path)
    if command == "stats" and case == "a missing folder":
        words = "there is no relay database"
    assert cli.main([command, "--database-url", url]) == 2
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("koprogo-relay: "), out.err
    assert words in lines[0]
    assert "s3cret" not in out.err and "Traceback" not in out.err


@pytest.mark.parametrize("command", ["stats", "serve"])
def test_a_damaged_database_is_one_line_in_words(command, tmp_path, capsys):
    url = _damaged(tmp_path)
    assert cli.main([command, "--database-url", url]) == 2
    err = capsys.readouterr().err
    if command == "serve":  # checked whole before serving: what to do is said
        assert err.startswith("koprogo-relay: the database file "), err
        assert "is damaged" in err and "koprogo-relay restore BACKUP" in err
    else:
        assert err.startswith("koprogo-relay: cannot use the database sqlite:///"), err
    assert "malformed" in err and len(err.splitlines()) == 1


def test_stats_makes_no_database(tmp_path, capsys):
    target = tmp_path / "fresh.sqlite3"
    assert cli.main(["stats", "--database-url", f"sqlite:///{target}"]) == 2
    assert f"there is no relay database at {target}" in capsys.readouterr().err
    assert cli.main(["stats", "--data-dir", str(tmp_path / "folder")]) == 2
    assert not target.exists() and not (tmp_path / "folder").exists()


@pytest.mark.parametrize("option", ["--database-url", "--data-dir"])
@pytest.mark.parametrize("command", [*COMMANDS, "broker list"])
def test_an_empty_database_option_is_refused(command, option, tmp_path, capsys, monkeypatch):
    """Not the default folder in silence (found by hand: ``--data-dir ""``
    used it)."""
    monkeypatch.setenv("KOPROGO_RELAY_HOME", str(tmp_path / "default"))
    assert cli.main([*command.split(), option, ""]) == 2
    assert capsys.readouterr().err == f"koprogo-relay: {option} is empty\n"
    assert not (tmp_path / "default").exists()


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://", "sqlite:///"])
def test_an_in_memory_database_is_refused(url, capsys):
    """Found by hand: ``migrate`` said "at schema 0003", then ``serve`` said
    "run migrate first": each process had a database of its own, gone at exit."""
    for command in ("migrate", "serve"):
        assert cli.main([command, "--database-url", url]) == 2
        err = capsys.readouterr().err
        assert "an in-memory SQLite database is lost when the process ends" in err


@pytest.mark.parametrize("flag", ["--max-devices", "--max-building-bytes", "--device-rate"])
@pytest.mark.parametrize("value", ["-1", "0"])
def test_a_quota_or_rate_must_be_above_zero(flag, value, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["serve", flag, value])
    assert stopped.value.code == 2
    assert "must be above 0" in capsys.readouterr().err


def test_the_database_is_for_the_relays_user_alone(tmp_path, capsys):
    """Found by hand: a relay.sqlite3 made by hand was readable by every user."""
    before = os.umask(0o022)
    try:
        assert cli.main(["migrate", "--data-dir", str(tmp_path / "data")]) == 0
    finally:
        os.umask(before)
    for made in (tmp_path / "data", tmp_path / "data" / "relay.sqlite3"):
        assert made.stat().st_mode & 0o077 == 0, oct(made.stat().st_mode)


def test_an_empty_xdg_data_home_means_unset(monkeypatch, tmp_path):
    from sync_server.config import default_data_dir

    monkeypatch.delenv("KOPROGO_RELAY_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setattr("sys.platform", "linux")
    assert default_data_dir() == Path.home() / ".local" / "share" / "koprogo-relay"


# -- the event loop's errors ----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _out_of_descriptors() -> dict[str, object]:
    """What asyncio reports for each accept() failing with EMFILE."""
    return {
        "message": "socket.accept() out of system resource",
        "exception": OSError(errno.EMFILE, "Too many open files"),
    }


def test_out_of_file_descriptors_is_one_warning_every_ten_seconds(caplog):
    clock = Clock()
    handler = LoopErrors(logging.getLogger("koprogo.relay"), every=10, clock=clock)
    caplog.set_level(logging.INFO, logger="koprogo.relay")
    for now in (0, 0.5, 3, 9.9, 10, 10.1, 25):
        clock.now = now
        for _ in range(1000):
            handler(None, _out_of_descriptors())  # type: ignore[arg-type]
    warnings = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    assert [(w["level"], w["left_out"]) for w in warnings] == [
        ("warning", 0),
        ("warning", 3999),  # at 10: the rest of 0 and the 0.5, 3 and 9.9 rounds
        ("warning", 1999),  # at 25: the rest of 10 and the 10.1 round
    ]
    assert "Too many open files" in warnings[0]["error"]


def test_other_loop_errors_are_one_json_line_each(caplog):
    handler = LoopErrors(logging.getLogger("koprogo.relay"), clock=Clock())
    caplog.set_level(logging.INFO, logger="koprogo.relay")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        error = exc
    for _ in range(3):
        handler(None, {"message": "Exception in callback", "exception": error, "handle": 1})  # type: ignore[arg-type]
    handler(None, {"message": "Task was destroyed but it is pending!"})  # type: ignore[arg-type]
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert len(lines) == 4 and all("\n" not in line for line in lines)
    first = json.loads(lines[0])
    assert (first["level"], first["message"], first["handle"]) == (
        "error",
        "Exception in callback",
        "1",
    )
    assert "RuntimeError: boom" in first["error"]


@pytest.mark.asyncio
async def test_the_relay_installs_its_loop_error_handler(relay, caplog):
    caplog.set_level(logging.INFO, logger="koprogo.relay")
    loop = relay.runtime.loop
    assert isinstance(loop.get_exception_handler(), LoopErrors)
    for _ in range(100):
        loop.call_exception_handler(_out_of_descriptors())
    said = [r for r in caplog.records if "out of system resource" in r.getMessage()]
    assert len(said) == 1


MALFORMED = [
    b"FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n",  # a method that is not one
    b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a line too long
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
]


def test_malformed_requests_leave_json_lines_without_tracebacks(relay_factory):
    """Found by hand: each kind of malformed request wrote aiohttp's plain
    multi-line traceback to the relay's stderr, outside the JSON log."""
    import socket

    relay = relay_factory()
    for raw in MALFORMED:
        with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as conn:
            conn.sendall(raw)
            answer = conn.recv(65536)
        assert answer.split(b" ")[1].startswith(b"4")  # answered: the client's mistake
    relay.stop()  # its log is complete once it has exited
    lines = relay.log_path.read_text().splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is JSON...
    assert all({"time", "level", "message"} <= set(r) for r in records)  # ...a log record
    assert "Traceback" not in relay.log_path.read_text()
    warnings = [json.loads(line) for line in lines if '"malformed request' in line]
    assert warnings and all(w["level"] == "warning" for w in warnings)


def test_migrating_a_damaged_database_says_so_and_changes_nothing(tmp_path, capsys):
    """Found by hand: `migrate` said "relay database at schema 0003" and
    exited 0 on a damaged file."""
    url = _damaged(tmp_path)
    path = tmp_path / "damaged.sqlite3"
    before = path.read_bytes()
    assert cli.main(["migrate", "--database-url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"koprogo-relay: the database file {path} is damaged"), err
    assert "restore it from a backup" in err and len(err.splitlines()) == 1
    assert path.read_bytes() == before


def test_the_access_log_keeps_its_direct_writes_after_setting_up_logging():
    """A filter on the relay's handler (for aiohttp's malformed requests)
    once turned the access log's fast path off: every request went through
    `logging`, ~60 µs of CPU more each (bench/relay_load.py)."""
    from sync_server.metrics import AccessLog, JsonLinesHandler, setup_logging

    loggers = {name: logging.getLogger(name) for name in ("koprogo.relay", "aiohttp", "asyncio")}
    saved = {name: (lg.handlers[:], lg.level, lg.propagate) for name, lg in loggers.items()}
    try:
        setup_logging("INFO")
        handler = AccessLog(logging.getLogger("koprogo.relay.access"))._handler()
        assert isinstance(handler, JsonLinesHandler)
        assert loggers["aiohttp"].handlers[0].filters  # theirs, filtered
    finally:
        for name, (handlers, level, propagate) in saved.items():
            loggers[name].handlers[:] = handlers
            loggers[name].setLevel(level)
            loggers[name].propagate = propagate


def test_serving_on_a_port_already_taken_is_one_line_in_words(tmp_path, capsys):
    """Found by hand: a traceback when another relay already listened there."""
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path)]
        assert cli.main(args) == 2
    finally:
        taken.close()
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"koprogo-relay: cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in last.lower() and "Traceback" not in err
