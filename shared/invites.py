"""Invite codes: a short code that lets one device join a building once.

docs/sync-protocol.md §6. The syndic's node makes a random code (50 bits,
ten Crockford base32 characters, shown as ``XXXXX-XXXXX`` and as a QR code).
Everything else is derived from the code with Argon2id, so the relay, which
never sees the code, cannot guess it offline in any useful time:

* the invite id (a ULID the relay files the invite under);
* the invite's Ed25519 key, whose public half the syndic publishes in the
  members log and whose private half signs the joining device's record;
* a symmetric key sealing the invite payload (building id and the audience
  keys the role may read), stored at the relay beside the invite.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import nacl.encoding
import nacl.hash
import nacl.pwhash.argon2id as argon2id
import nacl.signing

from .crypto import open_sealed, seal
from .ids import ulid_from_bytes

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SALT = b"koprogo-invite-1"  # 16 bytes: the code itself is the secret
CODE_CHARS = 10


def new_code() -> str:
    value = int.from_bytes(os.urandom(7), "big") >> 6  # 50 bits
    chars = "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS)))
    return f"{chars[:5]}-{chars[5:]}"


def normalize(code: str) -> str:
    """Uppercase, drop separators, read I/L as 1 and O as 0 (Crockford)."""
    cleaned = code.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans({"I": "1", "L": "1", "O": "0"}))


def is_well_formed(code: str) -> bool:
    cleaned = normalize(code)
    return len(cleaned) == CODE_CHARS and all(c in _CROCKFORD for c in cleaned)


@dataclass(frozen=True)
class InviteSecrets:
    invite_id: str
    signing_seed: bytes
    payload_key: bytes

    @property
    def public_key(self) -> bytes:
        return bytes(nacl.signing.SigningKey(self.signing_seed).verify_key)

    def sign(self, message: bytes) -> bytes:
        return nacl.signing.SigningKey(self.signing_seed).sign(message).signature


def _part(master: bytes, label: bytes, size: int = 32) -> bytes:
    return nacl.hash.blake2b(label, digest_size=size, key=master, encoder=nacl.encoding.RawEncoder)


def derive(code: str) -> InviteSecrets:
    """Everything an invite needs, from its code (Argon2id, "interactive")."""
    master = argon2id.kdf(
        32,
        normalize(code).encode(),
        _SALT,
        opslimit=argon2id.OPSLIMIT_INTERACTIVE,
        memlimit=argon2id.MEMLIMIT_INTERACTIVE,
    )
    raw_id = bytearray(_part(master, b"id", 16))
    raw_id[0] &= 0x3F  # a ULID's top two bits are zero
    return InviteSecrets(
        ulid_from_bytes(bytes(raw_id)), _part(master, b"sign"), _part(master, b"payload")
    )


def seal_payload(secrets: InviteSecrets, payload: dict[str, Any]) -> bytes:
    return seal(secrets.payload_key, json.dumps(payload).encode(), _aad(secrets.invite_id))


def open_payload(secrets: InviteSecrets, blob: bytes) -> dict[str, Any]:
    return json.loads(open_sealed(secrets.payload_key, blob, _aad(secrets.invite_id)))


def _aad(invite_id: str) -> bytes:
    return b"koprogo-invite-payload-v1\x00" + invite_id.encode()
