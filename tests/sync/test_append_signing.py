"""The node signs an append as a request only for a relay that has not said
it authenticates appends by their envelope (docs/sync-protocol.md §4,
protocol 1.2). The relay here is a stand-in that records what reaches it
and answers as a relay of the given version would: a relay of protocol 1.1
cannot be started any more, and the real relay (1.2) accepts both forms
(tests/relay/test_append.py)."""

from __future__ import annotations

import nacl.signing
import pytest
from aiohttp import web

from node.identity import DeviceIdentity
from node.sync.relay_client import RelayClient
from shared import auth
from shared.ids import new_ulid

pytestmark = pytest.mark.asyncio


def stand_in(version: str, seen: list[tuple[str, bool]]) -> web.Application:
    """Records (method, whether the request carried a signature) of each
    request, and answers with its protocol ``version`` in the header."""

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        seen.append((request.method, auth.SIGNATURE_HEADER in request.headers))
        unsigned = auth.SIGNATURE_HEADER not in request.headers
        if request.method == "POST" and version == "1.1" and unsigned:  # a 1.1 relay refused
            return web.json_response({"error": "unauthenticated"}, status=401)
        body = {"seq": len(seen), "duplicate": False} if request.method == "POST" else {}
        return web.json_response(body, status=201 if request.method == "POST" else 200)

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers[auth.PROTOCOL_HEADER] = version

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    app.on_response_prepare.append(stamp)
    return app


def identity() -> DeviceIdentity:
    return DeviceIdentity(new_ulid(), bytes(nacl.signing.SigningKey.generate()), b"\0" * 32)


@pytest.mark.parametrize(
    ("version", "signed"),
    [
        ("1.1", [True, True, True]),  # an older relay: every append a signed request
        ("1.2", [True, False, False]),  # signed until the relay said which version it speaks
        ("1.9", [True, False, False]),  # a later minor keeps what 1.2 added
    ],
)
async def test_appends_are_signed_as_requests_only_for_a_relay_that_needs_it(
    aiohttp_server, version, signed
):
    seen: list[tuple[str, bool]] = []
    server = await aiohttp_server(stand_in(version, seen))
    async with RelayClient(str(server.make_url("/")), identity(), new_ulid()) as client:
        for _ in signed:
            seq, duplicate = await client.append("registry", b"envelope bytes")
            assert not duplicate and seq == len(seen)
        await client.heads()  # other requests stay signed whatever the version
    assert seen == [("POST", s) for s in signed] + [("GET", True)]
    assert client.relay_version == tuple(int(p) for p in version.split("."))
