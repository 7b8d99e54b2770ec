"""Relay test fixtures. Every in-process test runs against SQLite and
against a real PostgreSQL server (``database_url`` is parametrized)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from sync_server import database
from sync_server.app import create_app
from sync_server.config import Limits, RelayConfig
from sync_server.runtime import RUNTIME, Runtime
from tests.relay.fixtures import postgres_server, relay_factory, relay_process  # noqa: F401
from tests.relay.helpers import Client, Device, Kit

OPEN_LIMITS = Limits(device_rate=1e6, device_burst=10**6, address_rate=1e6, address_burst=10**6)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "relay.sqlite3"
    database.migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "relay.sqlite3"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    return request.getfixturevalue("postgres_server").create_database()


@dataclass
class Relay:
    """An in-process relay: a signing client, the app and its runtime."""

    client: Client
    app: web.Application

    @property
    def runtime(self) -> Runtime:
        return self.app[RUNTIME]

    def counts(self, kit: Kit) -> dict[str, int]:
        """What is stored for the building (envelopes, bytes)."""
        assert self.runtime.storage is not None
        return self.runtime.storage.counts(kit.building_id)


MakeRelay = Callable[..., "AsyncIterator[Relay]"]


@pytest_asyncio.fixture
async def make_relay(aiohttp_client, database_url: str):  # type: ignore[no-untyped-def]
    async def make(limits: Limits = OPEN_LIMITS, **options: object) -> Relay:
        config = RelayConfig(database_url=database_url, limits=limits, **options)  # type: ignore[arg-type]
        app = create_app(config)
        return Relay(Client(await aiohttp_client(app)), app)

    return make


@pytest_asyncio.fixture
async def relay(make_relay) -> Relay:  # type: ignore[no-untyped-def]
    return await make_relay()


@pytest_asyncio.fixture
async def building(relay: Relay) -> Kit:
    """A registered building whose syndic device is ``kit.syndic``."""
    kit = Kit()
    result = await relay.client.register(kit)
    assert result.status == 201, result.body
    return kit


__all__ = ["Device", "Kit", "Relay"]
