"""What the operator relies on: the schema equals its migrations, the CLI,
health, metrics and JSON logs; and the protocol vectors go through the
relay's own decoding and verification path."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared import members
from shared.protocol import Role
from sync_server import cli, database
from sync_server.app import _flush_usage
from sync_server.config import Limits
from sync_server.core import RelayCore
from sync_server.errors import RelayError
from sync_server.metrics import ATOMIC_WRITE, JsonFormatter, JsonLinesHandler, pieces
from sync_server.schema import metadata
from sync_server.storage import Storage
from tests.relay.helpers import PROTOCOL, Kit
from tests.relay.test_append import refused

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "protocol-v1.json").read_text()
)


def test_migrated_schema_equals_the_metadata(database_url):
    engine = database.make_engine(database_url)
    try:
        assert database.current_revision(engine) == database.head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_protocol_vectors_pass_the_relays_verification(database_url):
    """The genesis vector registers a building; the envelope vector, signed
    with the request vector's headers, passes every stateless check of §7.1
    and then meets the counter rule (its counter is 7, the relay expects 1)."""
    engine = database.make_engine(database_url)
    try:
        core = RelayCore(Storage(engine), Limits())
        genesis = VECTORS["members_genesis"]
        request = VECTORS["request"]
        building_id = core.register({"genesis": genesis}, now=request["timestamp"])
        assert building_id == VECTORS["envelope"]["header"]["building_id"]
        body = bytes.fromhex(VECTORS["envelope"]["encoded"])
        now = request["timestamp"]
        device = core.authenticate(
            building_id, request["headers"], request["method"], request["path"], body, now
        )
        parsed = core.decode_envelope(body)
        item = core.check_envelope(building_id, "registry", device, parsed, body, now)
        assert (item.counter, item.envelope_id) == (7, VECTORS["envelope"]["header"]["envelope_id"])
        [outcome] = core.append([item])
        assert isinstance(outcome, RelayError)
        assert (outcome.status, outcome.code, outcome.extra) == (
            409,
            "counter-gap",
            {"expected": 1},
        )
        with pytest.raises(RelayError, match="already received"):
            core.authenticate(
                building_id, request["headers"], request["method"], request["path"], body, now
            )
        entry = members.SignedEntry.from_json(genesis)
        assert core.building(building_id).entries == (entry,)
    finally:
        engine.dispose()


# -- command line ---------------------------------------------------------------------


def test_migrate_and_stats(tmp_path, capsys):
    assert cli.main(["migrate", "--data-dir", str(tmp_path)]) == 0
    assert f"schema {database.head_revision()} (was empty)" in capsys.readouterr().out
    assert cli.main(["migrate", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    assert cli.main(["stats", "--json", "--data-dir", str(tmp_path)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures == {
        "buildings": 0, "bytes": 0, "devices": 0, "documents": 0, "envelopes": 0,
        "members_entries": 0, "energy_aggregates": 0, "brokers": 0, "energy_offers": 0,
    }  # fmt: skip


def test_serve_refuses_an_unmigrated_or_older_database(tmp_path, capsys, postgres_server):
    empty = postgres_server.create_database(migrated=False)
    assert cli.main(["serve", "--database-url", empty]) == 2
    assert "run `koprogo-relay migrate`" in capsys.readouterr().err
    assert cli.main(["serve", "--no-auto-migrate", "--data-dir", str(tmp_path)]) == 2
    assert "no schema yet" in capsys.readouterr().err
    older = postgres_server.create_database()
    engine = database.make_engine(older)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    assert cli.main(["serve", "--database-url", older]) == 2
    assert "at schema 0000" in capsys.readouterr().err
    assert cli.main(["migrate", "--database-url", empty]) == 0
    assert cli.main(["stats", "--json", "--database-url", empty]) == 0


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_a_backup_that_cannot_be_made_stops_the_upgrade_in_words(command, tmp_path, capsys):
    """SQLite is copied before an upgrade; when the copy cannot be made (a
    full disk; here its place is taken), nothing changes, no half copy is
    left under the backup's name, and `migrate` / `serve` say so and what
    to do, without a traceback."""
    engine = _at_0002_with_envelopes(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    (tmp_path / "relay.sqlite3.before-0002.partial").mkdir()
    assert cli.main([command, "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "could not back the database up" in err and "nothing was changed" in err
    assert err.startswith("koprogo-relay: ") and err.count("\n") == 1  # one line, in words
    assert not (tmp_path / "relay.sqlite3.before-0002").exists()
    assert database.current_revision(engine) == "0002"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM envelopes")).scalar_one() == 3
    (tmp_path / "relay.sqlite3.before-0002.partial").rmdir()
    assert cli.main(["migrate", "--data-dir", str(tmp_path)]) == 0
    assert database.current_revision(engine) == database.head_revision()
    assert (tmp_path / "relay.sqlite3.before-0002").exists()
    assert not (tmp_path / "relay.sqlite3.before-0002.partial").exists()
    engine.dispose()


def test_serve_passes_every_quota_and_rate_to_the_relay():
    parser = cli.build_parser()
    assert cli.limits_of(parser.parse_args(["serve"])) == Limits()
    given = parser.parse_args(
        ["serve", "--max-building-bytes", "1000", "--max-devices", "3",
         "--max-requests-per-month", "40", "--device-rate", "0.5", "--device-burst", "6",
         "--address-rate", "0.25", "--address-burst", "7"]
    )  # fmt: skip
    assert cli.limits_of(given) == Limits(
        max_bytes_per_building=1000,
        max_devices_per_building=3,
        max_requests_per_month=40,
        device_rate=0.5,
        device_burst=6,
        address_rate=0.25,
        address_burst=7,
    )


def test_upgrading_sqlite_keeps_a_copy_of_the_old_file(tmp_path):
    """STYLE §12: a backup is taken before upgrading (here the copy routine
    itself: the first schema has no older version to upgrade from)."""
    path = tmp_path / "relay.sqlite3"
    url = f"sqlite:///{path}"
    database.migrate(url)
    engine = database.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO usage VALUES ('B', '2026-11', 5)"))
    engine.dispose()
    copy = database._backup_sqlite(url, "0001")
    assert copy == tmp_path / "relay.sqlite3.before-0001"
    copied = database.make_engine(f"sqlite:///{copy}")
    with copied.connect() as conn:
        assert conn.execute(text("SELECT requests FROM usage")).scalar_one() == 5
    copied.dispose()


ENVELOPE_ROW = "INSERT INTO envelopes VALUES (:b, 'registry', :s, :e, 'D', 1, 3, :data)"


def _at_0002_with_envelopes(url: str):  # type: ignore[no-untyped-def]
    """A relay database at schema 0002 holding buildings B1, B2 and three
    envelopes of B1 (E1, E2, E3); its engine."""
    from alembic import command

    engine = database.make_engine(url)
    with engine.begin() as conn:
        config = database.alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    with engine.begin() as conn:
        for b in ("B1", "B2"):
            conn.execute(
                text(
                    "INSERT INTO buildings (id, created_at, members_length, epoch, bytes_stored)"
                    " VALUES (:b, 0, 1, 1, 0)"
                ),
                {"b": b},
            )
        for seq, envelope in enumerate(["E1", "E2", "E3"], start=1):
            conn.execute(text(ENVELOPE_ROW), {"b": "B1", "s": seq, "e": envelope, "data": b"abc"})
    return engine


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0003_keeps_the_envelopes_and_their_uniqueness(backend, tmp_path, request):
    """0003 turns the envelopes' unique index around (envelope id first): a
    database at 0002 keeps every envelope, a second envelope with the same
    id in the same building is still refused, the same id in another
    building is not, and the duplicate check is a lookup in that index."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'relay.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database(migrated=False)
    engine = _at_0002_with_envelopes(url)
    assert database.migrate(url) == ("0002", "0003")
    if backend == "sqlite":
        assert (tmp_path / "relay.sqlite3.before-0002").exists()
    with engine.begin() as conn:
        kept = conn.execute(text("SELECT seq, envelope_id FROM envelopes ORDER BY seq")).all()
        assert [tuple(r) for r in kept] == [(1, "E1"), (2, "E2"), (3, "E3")]
        conn.execute(text(ENVELOPE_ROW), {"b": "B2", "s": 1, "e": "E1", "data": b"abc"})
        if backend == "sqlite":
            plan = conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT seq FROM envelopes"
                    " WHERE building_id = 'B1' AND envelope_id = 'E2'"
                )
            ).all()
            assert "uq_envelopes_envelope_id_building_id" in " ".join(str(r) for r in plan)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(ENVELOPE_ROW), {"b": "B1", "s": 4, "e": "E2", "data": b"abc"})
    engine.dispose()


# -- health, metrics, logs ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_health_metrics_and_stats(relay, building, tmp_path):
    health = await relay.client.send("GET", "/healthz")
    assert (health.status, health.json()) == (200, {"status": "ok"})
    assert health.headers["KoproGo-Protocol"] == PROTOCOL
    raw = building.envelope(building.syndic)
    assert (await relay.client.append(building, building.syndic, raw)).status == 201
    refused(await relay.client.send("GET", "/nowhere"), 404, "not-found")
    text_ = (await relay.client.send("GET", "/metrics")).body.decode()
    assert (
        'koprogo_relay_requests_total{method="POST",'
        'endpoint="/v1/buildings/{b}/docs/{doc}/envelopes",status="201"} 1'
    ) in text_
    assert 'koprogo_relay_request_seconds_bucket{le="+Inf"}' in text_
    assert "koprogo_relay_envelopes_stored_total 1" in text_
    assert f"koprogo_relay_envelope_bytes_total {len(raw)}" in text_
    assert "koprogo_relay_buildings 1" in text_
    assert "koprogo_relay_websocket_clients 0" in text_
    assert "koprogo_relay_write_batches_total 1" in text_  # the one append's group commit
    assert "koprogo_relay_write_batched_appends_total 1" in text_
    # SQLite stages a batch's statements on the event loop (decision 0005)
    staged = 1 if relay.runtime.engine.dialect.name == "sqlite" else 0
    assert f"koprogo_relay_write_batches_staged_total {staged}" in text_
    figures = database.stats(relay.runtime.engine)
    assert figures["envelopes"] == 1 and figures["bytes"] == len(raw)
    assert figures["buildings"] == 1 and figures["devices"] == 1


@pytest.mark.asyncio
async def test_stats_by_building_give_what_the_quotas_count(relay, building, database_url, capsys):
    """`stats --buildings`: an operator sees which building nears a quota
    (bytes, active devices, requests this month), by id only."""
    other = Kit()
    assert (await relay.client.register(other)).status == 201
    await relay.client.enrol(building, Role.OWNER)
    sizes = []
    for _ in range(3):
        raw = building.envelope(building.syndic)
        sizes.append(len(raw))
        assert (await relay.client.append(building, building.syndic, raw)).status == 201
    await relay.runtime.write(_flush_usage, relay.runtime)  # written every 10 s
    assert cli.main(["stats", "--buildings", "--json", "--database-url", database_url]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["building"] for row in rows] == [building.building_id, other.building_id]
    mine, theirs = rows
    assert (mine["bytes"], mine["envelopes"], mine["documents"]) == (sum(sizes), 3, 1)
    assert mine["devices"] == 2 and theirs["devices"] == 1  # the syndic and the owner
    assert mine["requests_this_month"] >= 3 and theirs["requests_this_month"] == 0
    assert (theirs["bytes"], theirs["envelopes"]) == (0, 0)
    assert mine["created"] == time.strftime("%Y-%m-%d", time.gmtime())
    assert cli.main(["stats", "--buildings", "--database-url", database_url]) == 0
    table = capsys.readouterr().out.splitlines()
    columns = ["building", "created", "bytes", "devices", "requests_this_month", "documents"]
    assert table[0].split() == [*columns, "envelopes"]
    assert table[1].split()[0] == building.building_id and table[1].split()[2] == str(sum(sizes))


@pytest.mark.asyncio
async def test_one_json_log_line_per_request_without_bodies(relay, building, caplog):
    raw = building.envelope(building.syndic)
    with caplog.at_level(logging.INFO, logger="koprogo.relay.access"):
        assert (await relay.client.append(building, building.syndic, raw)).status == 201
    [record] = [r for r in caplog.records if r.name == "koprogo.relay.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "POST"
    assert line["path"] == "/v1/buildings/{b}/docs/{doc}/envelopes"
    assert line["status"] == 201
    assert line["building"] == building.building_id
    assert isinstance(line["ms"], float)
    assert building.syndic.id not in json.dumps(line)


@pytest.mark.asyncio
async def test_access_lines_written_directly_are_the_json_of_a_log_record(relay, building):
    """With the relay's own handler (``setup_logging``) access lines skip
    ``logging`` and are written once per turn of the event loop; they must
    be the lines ``JsonFormatter`` makes, one per request."""
    stream = io.StringIO()
    handler = JsonLinesHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("koprogo.relay")
    saved = root.handlers[:], root.level, root.propagate
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False
    try:
        raw = building.envelope(building.syndic)
        assert (await relay.client.append(building, building.syndic, raw)).status == 201
        assert (await relay.client.pull(building, building.syndic)).status == 200
        await asyncio.sleep(0)
        assert (await relay.client.send("GET", "/v1/buildings/a%22b%5C/heads")).status == 401
        await asyncio.sleep(0)
    finally:
        root.handlers[:], level, root.propagate = saved[0], saved[1], saved[2]
        root.setLevel(level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["method"], line["status"]) for line in lines] == [
        ("POST", 201),
        ("GET", 200),
        ("GET", 401),
    ]
    record = logging.LogRecord("koprogo.relay.access", logging.INFO, "", 0, "request", (), None)
    record.fields = {"method": "POST", "path": "p", "status": 201, "ms": 1.5, "building": "b"}
    assert set(lines[0]) == set(json.loads(JsonFormatter().format(record)))
    assert lines[0]["logger"] == "koprogo.relay.access" and lines[0]["level"] == "info"
    assert lines[0]["path"] == "/v1/buildings/{b}/docs/{doc}/envelopes"
    assert lines[0]["building"] == building.building_id
    assert lines[2]["building"] == 'a"b\\'  # escaped as JSON
    assert isinstance(lines[0]["ms"], float) and lines[0]["time"].endswith("Z")


@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\n"), max_size=3000).map(
            lambda text: text + "\n"
        ),
        max_size=40,
    )
)
def test_access_lines_are_written_in_whole_lines_of_at_most_pipe_buf_bytes(lines):
    written = pieces(lines)
    assert "".join(written) == "".join(lines)
    for piece in written:
        assert piece.endswith("\n")
        assert len(piece.encode()) <= ATOMIC_WRITE or piece.count("\n") == 1
