"""Test helpers: devices, members logs, envelopes and a signing HTTP client,
all made with ``shared/`` exactly as a node would make them.

* :class:`Device` — a device's keys and record; signs requests.
* :class:`Kit` — one building as its syndic's node sees it: the members
  log (genesis, invites, joins, keys, revocations) and envelopes with
  random payload bytes and correct per-device counters.
* :class:`Client` — signs and sends requests to a relay (an
  ``aiohttp_client`` test client or a real process through a
  ``ClientSession`` with a ``base_url``), with an adjustable clock skew.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import nacl.public
import nacl.signing

from shared import auth, envelope, invites, members
from shared.envelope import Header, Kind
from shared.ids import new_ulid
from shared.protocol import PROTOCOL_VERSION, ROLE_AUDIENCES, Audience, Role, audience_of

PROTOCOL = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
FAR_FUTURE = 4_000_000_000


class Device:
    def __init__(self, role: Role = Role.SYNDIC, person: str | None = None) -> None:
        self.id = new_ulid()
        self.seed = bytes(nacl.signing.SigningKey.generate())
        self.box = nacl.public.PrivateKey.generate()
        self.role = role
        self.person = person
        self._key: nacl.signing.SigningKey | None = None

    @property
    def verify_key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.seed).verify_key)

    @property
    def record(self) -> dict[str, Any]:
        return members.device_record(
            self.id, self.verify_key, bytes(self.box.public_key), self.role, self.person
        )

    def sign(self, method: str, path: str, body: bytes, timestamp: int) -> dict[str, str]:
        """``shared.auth.sign_request``'s headers, with the signing key kept
        (deriving it from the seed costs as much as signing)."""
        if self._key is None or bytes(self._key) != self.seed:
            self._key = nacl.signing.SigningKey(self.seed)
        nonce = os.urandom(16).hex()
        signed = self._key.sign(auth.message(method, path, body, timestamp, nonce))
        return {
            auth.DEVICE_HEADER: self.id,
            auth.TIMESTAMP_HEADER: str(timestamp),
            auth.NONCE_HEADER: nonce,
            auth.SIGNATURE_HEADER: base64.b64encode(signed.signature).decode(),
        }


@dataclass
class Kit:
    """A building's members log and envelope counters, kept like a syndic node does."""

    syndic: Device = field(default_factory=Device)
    building_id: str = field(default_factory=new_ulid)
    entries: list[members.SignedEntry] = field(default_factory=list)
    state: members.MembersState = field(default_factory=members.MembersState)
    epoch_keys: dict[int, dict[str, bytes]] = field(default_factory=dict)
    counters: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.epoch_keys[1] = {"management": os.urandom(32), "building": os.urandom(32)}

    # -- members log ------------------------------------------------------------

    def next_entry(
        self, data: dict[str, Any], seed: bytes, apply: bool = True
    ) -> members.SignedEntry:
        full = {
            "v": 1,
            "seq": self.state.length,
            "prev": self.state.head,
            "building": self.building_id,
            **data,
        }
        entry = members.sign_entry(full, seed)
        if apply:
            self.accept(entry)
        return entry

    def accept(self, entry: members.SignedEntry) -> None:
        """Take in an entry the relay accepted."""
        self.state.apply(entry)
        self.entries.append(entry)

    def sealed_for(self, device: Device, epoch: int) -> dict[str, str]:
        keys = self.epoch_keys[epoch]
        readable = {a.name.lower() for a in ROLE_AUDIENCES[device.role]}
        return {
            name: members.seal_key(key, bytes(device.box.public_key))
            for name, key in keys.items()
            if name in readable
        }

    def genesis(self) -> members.SignedEntry:
        data = {
            "type": "genesis",
            "signer": self.syndic.id,
            "device": self.syndic.record,
            "epoch": 1,
            "sealed": {self.syndic.id: self.sealed_for(self.syndic, 1)},
        }
        return self.next_entry(data, self.syndic.seed)

    def invite(
        self, role: Role = Role.OWNER, person: str | None = None, expires: int = FAR_FUTURE
    ) -> tuple[invites.InviteSecrets, members.SignedEntry, str]:
        """(secrets, invite entry, base64 sealed payload); not yet applied."""
        secrets = invites.derive(invites.new_code())
        data = {
            "type": "invite",
            "signer": self.syndic.id,
            "invite": {
                "id": secrets.invite_id,
                "role": role.value,
                "person": person,
                "key": members.b64(secrets.public_key),
                "expires": expires,
            },
        }
        entry = self.next_entry(data, self.syndic.seed, apply=False)
        payload = invites.seal_payload(
            secrets, {"building": self.building_id, "relay": "test", "epoch": self.state.epoch}
        )
        return secrets, entry, members.b64(payload)

    def join_entry(self, secrets: invites.InviteSecrets, device: Device) -> members.SignedEntry:
        proof = secrets.sign(members.invite_proof_message(secrets.invite_id, device.record))
        data = {
            "type": "join",
            "signer": device.id,
            "invite": secrets.invite_id,
            "device": device.record,
            "proof": members.b64(proof),
        }
        return self.next_entry(data, device.seed, apply=False)

    def keys_entry(self, epoch: int, devices: list[Device]) -> members.SignedEntry:
        if epoch not in self.epoch_keys:
            self.epoch_keys[epoch] = {"management": os.urandom(32), "building": os.urandom(32)}
        sealed = {d.id: self.sealed_for(d, epoch) for d in devices}
        data = {"type": "keys", "signer": self.syndic.id, "epoch": epoch, "sealed": sealed}
        return self.next_entry(data, self.syndic.seed, apply=False)

    def revoke_entry(self, device: Device) -> members.SignedEntry:
        data = {"type": "revoke", "signer": self.syndic.id, "device": device.id}
        return self.next_entry(data, self.syndic.seed, apply=False)

    # -- envelopes ------------------------------------------------------------------

    def envelope(
        self,
        device: Device,
        doc_id: str = "registry",
        size: int = 200,
        *,
        kind: Kind = Kind.UPDATE,
        counter: int | None = None,
        replaces: int = 0,
        epoch: int | None = None,
        audience: Audience | None = None,
        building_id: str | None = None,
        envelope_id: str | None = None,
        consume: bool = True,
    ) -> bytes:
        """A sealed, signed envelope with ``size`` random payload bytes. The
        device's counter for the document advances unless ``counter`` is given
        or ``consume`` is false."""
        key = (device.id, doc_id)
        if counter is None:
            counter = self.counters.get(key, 0) + 1
            if consume:
                self.counters[key] = counter
        epoch = self.state.epoch if epoch is None else epoch
        audience = audience_of(doc_id) if audience is None else audience
        header = Header(
            kind,
            audience,
            epoch,
            building_id or self.building_id,
            envelope_id or new_ulid(),
            device.id,
            counter,
            doc_id,
            replaces,
        )
        audience_key = self.epoch_keys.get(epoch, {}).get(audience.name.lower(), bytes(32))
        doc_key = envelope.document_key(audience_key, doc_id)
        body = envelope.encode_body((1, 0), b"", os.urandom(size))
        return envelope.seal(header, doc_key, body, device.seed).encode()

    def rollback(self, device: Device, doc_id: str = "registry") -> None:
        """Give back the last counter (an envelope the relay refused)."""
        self.counters[(device.id, doc_id)] -= 1


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error(self) -> str | None:
        try:
            data = self.json()
        except ValueError:
            return None
        return data.get("error") if isinstance(data, dict) else None

    def records(self) -> list[tuple[int, bytes]]:
        """The records of a pull answer: seq (u64) ‖ len (u32) ‖ envelope."""
        out, pos = [], 0
        while pos < len(self.body):
            seq = int.from_bytes(self.body[pos : pos + 8], "big")
            size = int.from_bytes(self.body[pos + 8 : pos + 12], "big")
            out.append((seq, self.body[pos + 12 : pos + 12 + size]))
            pos += 12 + size
        return out


class Client:
    """Signs requests as a device and sends them. ``http`` is anything with
    ``request(method, path, **kw)`` (TestClient, or ClientSession(base_url=...))."""

    def __init__(self, http: Any, skew: float = 0.0) -> None:
        self.http = http
        self.skew = skew

    async def send(
        self,
        method: str,
        path: str,
        device: Device | None = None,
        body: bytes | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> Result:
        if json_body is not None:
            body = json.dumps(json_body).encode()
        body = body or b""
        all_headers = {auth.PROTOCOL_HEADER: PROTOCOL}
        if json_body is not None:
            all_headers["Content-Type"] = "application/json"
        if device is not None:
            stamp = int(time.time() + self.skew) if timestamp is None else timestamp
            all_headers.update(device.sign(method, path, body, stamp))
        all_headers.update(headers or {})
        async with self.http.request(method, path, data=body, headers=all_headers) as resp:
            return Result(resp.status, dict(resp.headers), await resp.read())

    # -- endpoints --------------------------------------------------------------------

    async def register(self, kit: Kit) -> Result:
        entry = kit.genesis() if not kit.entries else kit.entries[0]
        return await self.send("POST", "/v1/buildings", json_body={"genesis": entry.to_json()})

    async def post_entry(
        self, kit: Kit, entry: members.SignedEntry, device: Device | None = None
    ) -> Result:
        result = await self.send(
            "POST",
            f"/v1/buildings/{kit.building_id}/members",
            device or kit.syndic,
            json_body={"entry": entry.to_json()},
        )
        if result.status == 201:
            kit.accept(entry)
        return result

    async def post_invite(self, kit: Kit, entry: members.SignedEntry, payload: str) -> Result:
        result = await self.send(
            "POST",
            f"/v1/buildings/{kit.building_id}/invites",
            kit.syndic,
            json_body={"entry": entry.to_json(), "payload": payload},
        )
        if result.status == 201:
            kit.accept(entry)
        return result

    async def join(self, kit: Kit, secrets: invites.InviteSecrets, device: Device) -> Result:
        entry = kit.join_entry(secrets, device)
        result = await self.send(
            "POST", f"/v1/invites/{secrets.invite_id}/join", json_body={"entry": entry.to_json()}
        )
        if result.status == 201:
            kit.accept(entry)
        return result

    async def enrol(self, kit: Kit, role: Role = Role.OWNER, person: str | None = None) -> Device:
        """Invite and join a new device; fails loudly if the relay refuses."""
        device = Device(role, person)
        secrets, entry, payload = kit.invite(role, person)
        assert (await self.post_invite(kit, entry, payload)).status == 201
        joined = await self.join(kit, secrets, device)
        assert joined.status == 201, joined.body
        return device

    async def append(
        self,
        kit: Kit,
        device: Device,
        raw: bytes,
        doc_id: str = "registry",
        signed: bool = False,
    ) -> Result:
        """Push ``raw`` as ``device`` does: on its own, authenticated by its
        envelope (protocol 1.2), or ``signed`` as a request too (1.1)."""
        path = f"/v1/buildings/{kit.building_id}/docs/{doc_id}/envelopes"
        return await self.send("POST", path, device if signed else None, raw)

    async def snapshot(
        self, kit: Kit, device: Device, raw: bytes, base: str = "-", doc_id: str = "registry"
    ) -> Result:
        path = f"/v1/buildings/{kit.building_id}/docs/{doc_id}/snapshot?base={base}"
        return await self.send("POST", path, device, raw)

    async def pull(
        self,
        kit: Kit,
        device: Device,
        doc_id: str = "registry",
        after: int = 0,
        limit: int | None = None,
    ) -> Result:
        path = f"/v1/buildings/{kit.building_id}/docs/{doc_id}/envelopes?after={after}"
        if limit is not None:
            path += f"&limit={limit}"
        return await self.send("GET", path, device)

    async def heads(self, kit: Kit, device: Device) -> Result:
        return await self.send("GET", f"/v1/buildings/{kit.building_id}/heads", device)

    async def members(self, kit: Kit, device: Device, after: int = -1) -> Result:
        return await self.send(
            "GET", f"/v1/buildings/{kit.building_id}/members?after={after}", device
        )


def ws_headers(device: Device, path: str, skew: float = 0.0) -> dict[str, str]:
    """Headers of a signed WebSocket upgrade (a GET with an empty body)."""
    return {
        auth.PROTOCOL_HEADER: PROTOCOL,
        **device.sign("GET", path, b"", int(time.time() + skew)),
    }


__all__ = ["Audience", "Client", "Device", "Kind", "Kit", "Result", "Role", "ws_headers"]
