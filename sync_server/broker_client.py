"""A broker's side of the energy pools (docs/sync-protocol.md §9.3): its key
file and a small client for the relay's broker endpoints.

``koprogo-relay broker keygen|pools|offer|withdraw`` is a thin layer over
this module; a broker's own software may use it the same way::

    seed = read_key(Path("broker.key"), passphrase)
    async with BrokerClient("https://relay.example.org", seed) as client:
        pools = await client.pools()
        offer_id = await client.post_offer("electricity:1", {...})
        await client.withdraw("electricity:1", offer_id)

Requests are signed with the broker's Ed25519 key under the broker context
(``shared.auth.sign_broker_request``); a refusal raises
:class:`BrokerError` with the relay's status, code and message.
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import nacl.signing

from shared import PROTOCOL_VERSION, auth, keyfile

TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)


class BrokerError(Exception):
    """The relay refused (``status`` ≥ 400, its ``code``) or could not be
    reached (``status`` 0, code ``unreachable``)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        if self.status == 0:
            return f"cannot reach the relay: {self.message}"
        return f"the relay refused ({self.status} {self.code}): {self.message}"


# -- key file -------------------------------------------------------------------------


def new_key() -> bytes:
    """A new broker signing seed (Ed25519)."""
    return bytes(nacl.signing.SigningKey.generate())


def public_key(seed: bytes) -> str:
    """The base64 public key the operator registers (``broker add --key``)."""
    return base64.b64encode(bytes(nacl.signing.SigningKey(seed).verify_key)).decode()


def write_key(path: Path, seed: bytes, passphrase: str) -> None:
    """Write the seed sealed under ``passphrase`` to a new file (mode 0600);
    ``FileExistsError`` rather than overwrite a key."""
    data = keyfile.seal_key_file(seed, passphrase, keyfile.BROKER_KEY_AAD)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def read_key(path: Path, passphrase: str) -> bytes:
    """The seed in a broker key file (``keyfile.KeyFileError``,
    ``keyfile.WrongPassphrase``, ``OSError``)."""
    seed = keyfile.open_key_file(path.read_bytes(), passphrase, keyfile.BROKER_KEY_AAD)
    if len(seed) != 32:
        raise keyfile.KeyFileError("not a broker key file")
    return seed


# -- client ---------------------------------------------------------------------------


class BrokerClient:
    def __init__(self, base_url: str, seed: bytes, timeout: aiohttp.ClientTimeout = TIMEOUT):
        self.base_url = base_url.rstrip("/")
        self.seed = seed
        self.offset = 0  # relay clock - ours, learned from KoproGo-Time
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BrokerClient:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """Send a signed request; the answer's JSON. A refusal for a stale
        timestamp is retried once with the relay's clock."""
        assert self._session is not None, "use BrokerClient in 'async with'"
        raw = b"" if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            headers = auth.sign_broker_request(
                self.seed, method, path, raw, int(time.time()) + self.offset
            )
            headers[auth.PROTOCOL_HEADER] = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
            if raw:
                headers["Content-Type"] = "application/json"
            try:
                async with self._session.request(
                    method, self.base_url + path, data=raw or None, headers=headers
                ) as response:
                    payload = await response.read()
                    stamp = response.headers.get(auth.TIME_HEADER, "")
                    answer = _decode(payload)
                    if response.status < 400:
                        return answer
                    code = str(answer.get("error", "error")) if isinstance(answer, dict) else ""
                    if code == "stale-timestamp" and stamp.isdigit() and attempt == 1:
                        self.offset = int(stamp) - int(time.time())
                        continue
                    message = answer.get("message", "") if isinstance(answer, dict) else ""
                    raise BrokerError(response.status, code or "error", str(message))
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise BrokerError(0, "unreachable", str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def pools(self) -> list[dict[str, Any]]:
        """Every pool's sums (``GET /v1/pools``)."""
        return (await self.request("GET", "/v1/pools"))["pools"]

    async def post_offer(self, pool: str, offer: dict[str, Any]) -> str:
        """Post an offer (every field of ``shared.energy.Offer`` but ``id``);
        the id the relay gave it."""
        return (await self.request("POST", f"/v1/pools/{quote(pool, safe=':')}/offers", offer))[
            "id"
        ]

    async def withdraw(self, pool: str, offer_id: str) -> None:
        await self.request(
            "DELETE", f"/v1/pools/{quote(pool, safe=':')}/offers/{quote(offer_id, safe='')}"
        )


def _decode(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else {}
    except ValueError:
        return {"message": payload[:200].decode(errors="replace")}
