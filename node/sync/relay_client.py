"""The node's HTTP client for the relay API (docs/sync-protocol.md §4, §7).

Thin: it signs requests, keeps the offset between this device's clock and the
relay's (so a wrong local clock costs one retry and orders nothing), and
turns answers into values or :class:`RelayError`. Uses aiohttp's client;
the node never imports aiohttp's server.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from shared import PROTOCOL_VERSION, auth
from shared.members import SignedEntry
from shared.protocol import ENVELOPE_SIGNED_APPENDS

from ..errors import KoprogoError
from ..i18n import N_, _
from ..identity import DeviceIdentity

# A relay that takes the connection but never answers must not hold a
# round (and the person waiting behind it) for long: each read waits at most
# READ_TIMEOUT_S, while a big page that keeps arriving may take its time.
READ_TIMEOUT_S = 20.0
TIMEOUT = aiohttp.ClientTimeout(total=300, connect=10, sock_read=READ_TIMEOUT_S)


NOT_A_RELAY = N_(
    "There is no KoproGo relay at this address (the server answered something else). "
    "Check the address."
)

# relay error code -> what a person is told (the relay's own text is English
# and meant for operators; these are translated)
_MESSAGES = {
    "unreachable": N_("The relay cannot be reached. Check the address and the network."),
    "tls-failed": N_(
        "No secure connection (https) could be made with the relay: its address may start "
        "with http:// instead, or its certificate is not valid. Check the address with the "
        "relay's operator."
    ),
    "unknown-invite": N_("No invite matches this code. Check the code, or ask for a new one."),
    "invite-used": N_("This invite was already used. Ask the syndic for a new one."),
    "invite-expired": N_("This invite has expired. Ask the syndic for a new one."),
    "invite-withdrawn": N_("The syndic withdrew this invite. Ask the syndic for a new one."),
    "unknown-building": N_("The relay does not know this building."),
    "building-exists": N_("This building is already registered at the relay."),
    "revoked-device": N_("This device was removed from the building."),
    "unknown-device": N_("This device is not a member of the building at this relay."),
    "quota-exceeded": N_("The building's space at the relay is full."),
    "rate-limited": N_("The relay asks to slow down; trying again shortly."),
    "newer-protocol": N_(
        "The relay uses a newer version of KoproGo's sync protocol. Update KoproGo."
    ),
    "not-a-relay": NOT_A_RELAY,
    "not-found": NOT_A_RELAY,  # a relay, but no such page: a path after its address
    "relay-unavailable": N_(
        "The relay's server answered that the relay is not available right now; changes are "
        "kept and will be sent later."
    ),
}


def _unreachable(exc: BaseException) -> RelayError:
    """A relay that did not answer; a failed TLS handshake said apart (found
    by hand: https:// to a relay serving http:// said only "cannot be
    reached", which sent the user to check the network)."""
    code = "tls-failed" if isinstance(exc, aiohttp.ClientSSLError) else "unreachable"
    return RelayError(0, code, str(exc) or type(exc).__name__)


class RelayError(KoprogoError):
    """The relay refused a request, or could not be reached."""

    def __init__(
        self, status: int, code: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}  # the answer's other fields (``expected``...)
        text = _MESSAGES.get(code)
        super().__init__(
            _(text) if text else _("The relay refused: {message}").format(message=message)
        )

    @property
    def unreachable(self) -> bool:
        return self.status == 0

    @property
    def retryable(self) -> bool:
        # "replayed": the same signed request seen twice, i.e. re-sent by the
        # HTTP library after a cut connection -- a network fault, not a refusal
        return self.status in (0, 429, 500, 502, 503, 504) or self.code == "replayed"


@dataclass(frozen=True)
class Page:
    records: list[tuple[int, bytes]]  # (relay sequence, envelope bytes)
    more: bool


class RelayClient:
    def __init__(
        self,
        base_url: str,
        identity: DeviceIdentity | None = None,
        building_id: str | None = None,
        clock: Callable[[], float] | None = None,
        offset: int = 0,
        connect_timeout: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.building_id = building_id
        self.clock = clock or now
        self.offset = offset  # relay time - local time, learned from answers
        self.learned_at: float | None = None  # local time the offset was last learned
        self.newer_major: str | None = None  # set when the relay speaks a newer major
        self.relay_version: tuple[int, int] | None = None  # from its answers' headers
        self._timeout = (
            TIMEOUT
            if connect_timeout is None
            else aiohttp.ClientTimeout(
                total=TIMEOUT.total, connect=connect_timeout, sock_read=TIMEOUT.sock_read
            )
        )
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RelayClient:
        self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    # -- plumbing -----------------------------------------------------------------

    def _path(self, *parts: str) -> str:
        # a document id's "/" is a path separator (docs/sync-protocol.md §7.5)
        return "/v1/" + "/".join(quote(p, safe="/") for p in parts)

    def _headers(self, method: str, path: str, body: bytes, signed: bool) -> dict[str, str]:
        headers = {auth.PROTOCOL_HEADER: f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"}
        if signed:
            assert self.identity is not None
            now = int(self.clock()) + self.offset
            headers.update(
                auth.sign_request(
                    self.identity.sign_seed, self.identity.device_id, method, path, body, now
                )
            )
        return headers

    def _learn(self, response: aiohttp.ClientResponse) -> None:
        stamp = response.headers.get(auth.TIME_HEADER)
        if stamp and stamp.isdigit():
            self.offset = int(stamp) - int(self.clock())
            self.learned_at = self.clock()
        version = response.headers.get(auth.PROTOCOL_HEADER, "")
        major, _, minor = version.partition(".")
        if major.isdigit() and minor.isdigit():
            self.relay_version = (int(major), int(minor))
        if major.isdigit() and int(major) > PROTOCOL_VERSION[0]:
            self.newer_major = version

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        signed: bool = True,
        content_type: str = "application/json",
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            headers = self._headers(method, path, body, signed)
            if body:
                headers["Content-Type"] = content_type
            headers.update(extra_headers or {})
            try:
                async with self.session.request(
                    method, self.base_url + path, data=body or None, headers=headers
                ) as response:
                    payload = await response.read()
                    before = self.offset
                    self._learn(response)
                    if response.status == 426 or self.newer_major:
                        raise RelayError(426, "newer-protocol", "the relay speaks a newer protocol")
                    stale = response.status == 401 and abs(self.offset - before) > auth.WINDOW
                    if stale and attempt == 1:
                        continue  # our clock was off: signed again with the relay's time
                    if response.status >= 400:
                        error = _error(response.status, payload)
                        if error.code == "replayed" and attempt == 1:
                            # Found by hand: aiohttp re-sends a GET whose kept-alive
                            # connection dropped, under the same nonce; the relay
                            # then answers "replayed" and sync stopped for good.
                            # Signed again, with a new nonce.
                            continue
                        raise error
                    return response.status, dict(response.headers), payload
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise _unreachable(exc) from exc
        raise AssertionError("unreachable")

    async def _json(self, method: str, path: str, obj: Any = None, **kw: Any) -> Any:
        body = b"" if obj is None else json.dumps(obj).encode()
        _status, _headers, payload = await self.request(method, path, body, **kw)
        return json.loads(payload) if payload else None

    def _building(self, *rest: str) -> str:
        assert self.building_id is not None
        return self._path("buildings", self.building_id, *rest)

    # -- endpoints --------------------------------------------------------------------

    async def register(self, genesis: SignedEntry) -> None:
        await self._json(
            "POST", self._path("buildings"), {"genesis": genesis.to_json()}, signed=False
        )

    async def members(self, after: int = -1) -> list[SignedEntry]:
        return (await self.members_page(after))[0]

    async def members_page(self, after: int = -1) -> tuple[list[SignedEntry], int]:
        """The entries after ``after`` and the length of the relay's log."""
        query = f"?after={after}" if after >= 0 else ""  # no "after": the whole log
        data = await self._json("GET", self._building("members") + query)
        return [SignedEntry.from_json(e) for e in data["entries"]], int(data["length"])

    async def restore_members(self, entries: list[SignedEntry]) -> int:
        """Give back entries a relay restored from a backup lost (§5.5)."""
        body = {"entries": [e.to_json() for e in entries]}
        data = await self._json("POST", self._building("members/restore"), body)
        return int(data["length"])

    async def post_member(self, entry: SignedEntry) -> int:
        data = await self._json("POST", self._building("members"), {"entry": entry.to_json()})
        return int(data["seq"])

    async def post_invite(self, entry: SignedEntry, payload: bytes) -> None:
        import base64

        await self._json(
            "POST",
            self._building("invites"),
            {"entry": entry.to_json(), "payload": base64.b64encode(payload).decode()},
        )

    async def withdraw_invite(self, invite_id: str) -> None:
        """Protocol 1.4: nobody can join with this invite any more."""
        await self._json("DELETE", self._building("invites", invite_id))

    async def get_invite(self, invite_id: str) -> dict[str, Any]:
        return await self._json("GET", self._path("invites", invite_id), signed=False)

    async def join(self, invite_id: str, entry: SignedEntry) -> int:
        data = await self._json(
            "POST",
            self._path("invites", invite_id, "join"),
            {"entry": entry.to_json()},
            signed=False,
        )
        return int(data["seq"])

    async def append(self, doc_id: str, raw: bytes) -> tuple[int, bool]:
        """Push one envelope; it authenticates itself to a relay of protocol
        1.2 or later, and is sent as a signed request to any other (§4)."""
        _s, _h, payload = await self.request(
            "POST",
            self._building("docs", doc_id, "envelopes"),
            raw,
            signed=self.relay_version is None or self.relay_version < ENVELOPE_SIGNED_APPENDS,
            content_type="application/octet-stream",
        )
        data = json.loads(payload)
        return int(data["seq"]), bool(data.get("duplicate"))

    async def pull(self, doc_id: str, after: int, limit: int = 500) -> Page:
        path = self._building("docs", doc_id, "envelopes") + f"?after={after}&limit={limit}"
        _s, headers, payload = await self.request("GET", path)
        records, pos = [], 0
        while pos < len(payload):
            if pos + 12 > len(payload):
                raise RelayError(502, "bad-page", "truncated page from the relay")
            seq = int.from_bytes(payload[pos : pos + 8], "big")
            size = int.from_bytes(payload[pos + 8 : pos + 12], "big")
            records.append((seq, payload[pos + 12 : pos + 12 + size]))
            pos += 12 + size
        return Page(records, headers.get("KoproGo-More") == "1")

    async def snapshot(self, doc_id: str, base: str, raw: bytes) -> tuple[int, int]:
        path = self._building("docs", doc_id, "snapshot") + f"?base={quote(base or '-')}"
        _s, _h, payload = await self.request(
            "POST", path, raw, content_type="application/octet-stream"
        )
        data = json.loads(payload)
        return int(data["seq"]), int(data.get("deleted", 0))

    async def heads(self) -> dict[str, Any]:
        return await self._json("GET", self._building("heads"))

    async def notifications(self) -> AsyncIterator[dict[str, Any]]:
        """Messages from the relay's WebSocket: ``{"doc", "seq"}`` or ``{"members"}``."""
        path = self._building("ws")
        headers = self._headers("GET", path, b"", True)
        url = self.base_url.replace("http", "ws", 1) + path
        try:
            async with self.session.ws_connect(url, headers=headers, heartbeat=30) as ws:
                async for message in ws:
                    if message.type == aiohttp.WSMsgType.TEXT:
                        yield json.loads(message.data)
                    elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise _unreachable(exc) from exc


def now() -> float:
    """This device's clock (tests replace it to simulate a wrong clock)."""
    return time.time()


def _error(status: int, payload: bytes) -> RelayError:
    """The relay's refusal (``{"error", "message", ...}``, docs/sync-protocol.md
    §8). Anything else came from another server: a web server or proxy at
    that address (never shown raw: it is often a page of HTML)."""
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        extra = {k: v for k, v in data.items() if k not in ("error", "message")}
        return RelayError(status, data["error"], str(data.get("message", "")), extra)
    if status in (502, 503, 504):  # a proxy in front of a relay that is down: retried
        return RelayError(status, "relay-unavailable", f"HTTP {status} from a proxy")
    return RelayError(status, "not-a-relay", f"HTTP {status}, not a relay's answer")
