"""What the node makes of answers that are not the relay's: a web server or
a proxy at the relay's address (found by hand: the raw HTML page was shown
inside the sentence), and a relay that never answers."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading

import pytest

from node.sync import relay_client
from node.sync.relay_client import RelayClient, RelayError, _error


@pytest.mark.parametrize(
    ("status", "payload", "code", "retryable"),
    [
        (404, b"<!DOCTYPE HTML><html><title>Error response</title></html>", "not-a-relay", False),
        (200, b"", "not-a-relay", False),
        (404, b"", "not-a-relay", False),
        (405, b'["a", "list"]', "not-a-relay", False),
        (502, b"<html>Bad Gateway</html>", "relay-unavailable", True),
        (503, b"", "relay-unavailable", True),
        (504, b"Gateway Timeout", "relay-unavailable", True),
        (
            409,
            b'{"error": "counter-reused", "message": "m", "expected": 7}',
            "counter-reused",
            False,
        ),
    ],
)
def test_answers_are_read_as_the_relays_or_not(status, payload, code, retryable):
    error = _error(status, payload)
    assert (error.code, error.retryable) == (code, retryable)
    assert "<" not in str(error) and "html" not in str(error).lower()  # never the raw page
    if code == "counter-reused":
        assert error.extra == {"expected": 7}


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_error(404)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def _ask_a_web_server(scheme: str) -> RelayError:
    """What a node is told when the address is an ordinary web server,
    reached over ``scheme``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"{scheme}://127.0.0.1:{server.server_address[1]}"

        async def ask() -> None:
            async with RelayClient(url) as client:
                await client.get_invite("01J0000000000000000000000A")

        with pytest.raises(RelayError) as refused:
            asyncio.run(ask())
    finally:
        server.shutdown()
    return refused.value


def test_an_ordinary_web_server_is_named_as_not_a_relay():
    refused = _ask_a_web_server("http")
    assert refused.code == "not-a-relay"
    assert str(refused).startswith("There is no KoproGo relay at this address")


def test_https_to_a_server_speaking_http_says_so():
    """Found by hand: https:// to a relay serving http:// said only "cannot be
    reached. Check the address and the network"."""
    refused = _ask_a_web_server("https")
    assert (refused.code, refused.unreachable) == ("tls-failed", True)
    assert "may start with http:// instead" in str(refused)


def test_a_relay_that_never_answers_is_given_up_on(monkeypatch):
    """It takes the connection and stays silent: each read waits at most
    READ_TIMEOUT_S (shortened here), then the relay counts as unreachable."""
    monkeypatch.setattr(
        relay_client, "TIMEOUT", relay_client.aiohttp.ClientTimeout(total=None, sock_read=0.2)
    )
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:

        async def ask() -> None:
            url = f"http://127.0.0.1:{silent.getsockname()[1]}"
            async with RelayClient(url, connect_timeout=5) as client:
                await client.get_invite("01J0000000000000000000000A")

        with pytest.raises(RelayError) as refused:  # not TimeoutError: given up on by itself
            asyncio.run(asyncio.wait_for(ask(), 30))
    finally:
        silent.close()
    assert refused.value.unreachable and refused.value.retryable
