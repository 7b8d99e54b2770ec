"""A client's mistakes get the 4xx of docs/sync-protocol.md §7.6, never a
500 and a traceback in the relay's log: odd headers, numbers too large for
a float or for SQLite, JSON nested too deep, entries that are not objects,
a body that cannot be decoded or that arrives too slowly."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from shared import auth, members
from shared.protocol import Role
from tests.relay.energy_kit import Broker
from tests.relay.helpers import PROTOCOL, Device, Kit
from tests.relay.test_append import refused

pytestmark = pytest.mark.asyncio

NESTED = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's recursion limit


@pytest.fixture
def no_traceback(caplog):
    """Fails the test when the relay (or aiohttp) logged an error."""
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.mark.parametrize(
    ("announced", "status"),
    [
        ("1.2", 200),
        ("1.7", 200),
        ("²", 400),  # str.isdigit() says yes, int() says no
        ("1" * 5000, 400),  # over int()'s 4300 digits
        ("1", 400),
        ("1.x", 400),
        ("x", 400),
        ("", 400),
        ("+1.2", 400),
    ],
)
async def test_protocol_header_is_major_dot_minor_in_ascii_digits(
    relay, no_traceback, announced, status
):
    result = await relay.client.send("GET", "/healthz", headers={auth.PROTOCOL_HEADER: announced})
    if status == 200:
        assert result.status == 200, result.body
    else:
        refused(result, 400, "bad-protocol")


@pytest.mark.parametrize(
    ("stamp", "code"),
    [
        ("1" + "0" * 400, "stale-timestamp"),  # no float holds it
        ("9" * 20, "stale-timestamp"),
        ("+{now}", "unauthenticated"),  # int() reads these; the signature covers {now}
        ("0{now}", "unauthenticated"),
        ("{now}_0", "unauthenticated"),
        ("-{now}", "unauthenticated"),
        ("٣", "unauthenticated"),
    ],
)
async def test_a_timestamp_is_plain_ascii_digits(relay, building, no_traceback, stamp, code):
    now = int(time.time())
    path = f"/v1/buildings/{building.building_id}/heads"
    headers = building.syndic.sign("GET", path, b"", now)
    headers[auth.TIMESTAMP_HEADER] = stamp.format(now=now)
    refused(await relay.client.send("GET", path, headers=headers), 401, code)


async def test_a_brokers_timestamp_too_large_for_a_float_is_stale(relay, no_traceback):
    headers = Broker().headers("GET", "/v1/pools", b"")
    headers[auth.TIMESTAMP_HEADER] = "1" + "0" * 400
    refused(await relay.client.send("GET", "/v1/pools", headers=headers), 401, "stale-timestamp")


@pytest.mark.parametrize(
    "after",
    # as sent, percent-encoded: the signed path is the path sent
    [str(2**63), "9" * 20, "9" * 5000, "+1", "%2B1", "1_0", "%201", "1%20", "%D9%A3", "-", "1.0"],
)
async def test_pull_after_is_a_64_bit_integer_in_ascii_digits(relay, building, no_traceback, after):
    path = f"/v1/buildings/{building.building_id}/docs/registry/envelopes?after={after}"
    refused(await relay.client.send("GET", path, building.syndic), 400, "bad-query")


async def test_pull_after_the_largest_64_bit_integer_is_an_empty_page(relay, building):
    result = await relay.client.pull(building, building.syndic, after=2**63 - 1)
    assert (result.status, result.body, result.headers["KoproGo-More"]) == (200, b"", "0")


@pytest.mark.parametrize("doc_id", ["foo", "ledger/20266", "registry/ABCD", "inbox/ABCD"])
async def test_pulling_a_document_the_protocol_does_not_have_is_refused(
    relay, building, no_traceback, doc_id
):
    refused(await relay.client.pull(building, building.syndic, doc_id), 400, "bad-document")


@pytest.mark.parametrize("endpoint", ["register", "members", "invites", "join"])
async def test_json_nested_too_deep_is_bad_json(relay, building, no_traceback, endpoint):
    path, device = _endpoint(building, endpoint)
    result = await relay.client.send("POST", path, device, NESTED)
    refused(result, 400, "bad-json")


@pytest.mark.parametrize("endpoint", ["register", "members", "invites", "join"])
@pytest.mark.parametrize("body", ["1", "[]", '"x"', "null", "[" * 5000 + "]" * 5000])
async def test_an_entry_whose_body_is_not_an_object_is_bad_entry(
    relay, building, no_traceback, endpoint, body
):
    path, device = _endpoint(building, endpoint)
    entry = {"body": body, "signature": ""}
    key = "genesis" if endpoint == "register" else "entry"
    result = await relay.client.send(
        "POST", path, device, json_body={key: entry, "payload": "AA=="}
    )
    refused(result, 400, "bad-entry")


async def test_an_invite_entry_whose_invite_is_not_an_object_is_bad_entry(
    relay, building, no_traceback
):
    entry = building.next_entry(
        {"type": "invite", "signer": building.syndic.id, "invite": "x"},
        building.syndic.seed,
        apply=False,
    )
    refused(await relay.client.post_invite(building, entry, "AA=="), 400, "bad-entry")


def _endpoint(kit: Kit, endpoint: str):  # type: ignore[no-untyped-def]
    """(path, signing device or None) of a members-log endpoint."""
    return {
        "register": ("/v1/buildings", None),
        "members": (f"/v1/buildings/{kit.building_id}/members", kit.syndic),
        "invites": (f"/v1/buildings/{kit.building_id}/invites", kit.syndic),
        "join": ("/v1/invites/0123456789ABCDEFGHJKMNPQRS/join", None),
    }[endpoint]


@pytest.mark.parametrize(
    ("field", "value", "status"),
    [
        ("seq", 1, 201),
        ("seq", 1.0, 400),  # Python finds 1.0 == 1 and True == 1; JSON does not
        ("seq", True, 400),
        ("v", 1.0, 400),
        ("v", True, 400),
        ("epoch", True, 400),
        ("epoch", 1.0, 400),
    ],
)
async def test_integers_of_an_entry_are_json_integers(
    relay, building, no_traceback, field, value, status
):
    """A keys entry granting epoch 1 again, right after the genesis (seq 1)."""
    data = json.loads(building.keys_entry(1, [building.syndic]).body)
    entry = members.sign_entry({**data, field: value}, building.syndic.seed)
    result = await relay.client.post_entry(building, entry)
    if status == 201:
        assert result.status == 201, result.body
    else:
        refused(result, 400, "bad-entry")


async def test_a_body_that_cannot_be_decoded_is_bad_request(relay, no_traceback):
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    result = await relay.client.send("POST", "/v1/buildings", body=b"abcd", headers=headers)
    refused(result, 400, "bad-request")


async def test_the_forbidden_message_is_in_english(relay, building):
    owner = await relay.client.enrol(building, Role.OWNER)
    raw = building.envelope(owner, "registry")
    result = await relay.client.append(building, owner, raw)
    refused(result, 403, "forbidden")
    assert result.json()["message"] == "an owner device may not write this document"


# -- a body that arrives too slowly ----------------------------------------------------


@pytest.mark.parametrize("endpoint", ["register", "append"])
async def test_a_body_sent_too_slowly_gets_408_and_the_connection_closes(
    make_relay, no_traceback, endpoint
):
    """A client that sends part of its body and then waits gets 408
    ``slow-body`` once the configured time is over, and its connection is
    closed: the rest of the body is not waited for."""
    relay = await make_relay(body_seconds=0.2)
    kit = Kit()
    path = "/v1/buildings"
    if endpoint == "append":
        assert (await relay.client.register(kit)).status == 201
        path = f"/v1/buildings/{kit.building_id}/docs/registry/envelopes"
    server = relay.client.http.server
    head, body = await _part_of_a_body(server, path, 1000, b"{")
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["error"] == "slow-body"
    assert (await relay.client.send("GET", "/healthz")).status == 200


async def _part_of_a_body(server, path: str, length: int, sent: bytes) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    """POST announcing ``length`` bytes, send only ``sent``, and read until the
    relay closes the connection (far longer than it takes): (head, body)."""
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(
            f"POST {path} HTTP/1.1\r\nHost: relay\r\nKoproGo-Protocol: {PROTOCOL}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
            + sent
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(-1), timeout=8)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


async def test_a_large_body_from_a_stranger_is_refused_from_its_header(relay, no_traceback):
    """Since 1.3 an envelope may hold 16 MiB: a body over 1 MiB is read header
    first, and one whose sender is not an active member is refused before the
    relay waits for (or holds) the rest; a member's is taken whole."""
    kit = Kit()
    assert (await relay.client.register(kit)).status == 201
    stranger = Device()
    big = kit.envelope(stranger, size=3_000_000, consume=False)
    path = f"/v1/buildings/{kit.building_id}/docs/registry/envelopes"
    head, body = await _part_of_a_body(relay.client.http.server, path, len(big), big[:4096])
    assert head.startswith(b"HTTP/1.1 401"), head
    assert json.loads(body)["error"] == "unknown-device"
    good = kit.envelope(kit.syndic, size=3_000_000)
    assert (await relay.client.append(kit, kit.syndic, good)).status == 201
    page = await relay.client.pull(kit, kit.syndic)
    assert page.status == 200 and len(page.body) > 3_000_000
