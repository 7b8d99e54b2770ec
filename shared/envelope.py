"""Envelope v1: how one encrypted, signed document update travels.

Byte layout (all integers big-endian; docs/sync-protocol.md §3)::

    header
      0   3  magic        b"KGE"
      3   1  version      protocol major (1)
      4   1  kind         1 update, 2 snapshot, 3 state vector, 4 missing-update reply
      5   1  audience     1 management, 2 building, 3 personal
      6   4  key_epoch    u32
     10  16  building_id  ULID
     26  16  envelope_id  ULID
     42  16  device_id    ULID
     58   8  counter      u64, this device's envelopes for this document: 1, 2, 3...
     66   8  replaces     u64, snapshots: the last sequence they cover (else 0)
     74   1  doc_len      u8
     75   n  doc_id       UTF-8
    body
          24 nonce
           4 ct_len       u32
      ct_len ciphertext   XChaCha20-Poly1305(doc_key, nonce, plaintext, aad=header)
          64 signature    Ed25519(device key, b"koprogo-envelope-v1\\0" || header || nonce
                                  || ct_len || ciphertext)

The relay checks the signature, the device, its role and the sizes, and never
holds a key. ``doc_key`` is the audience key of ``key_epoch`` narrowed to the
document with keyed BLAKE2b (:func:`document_key`), so one document's key
opens no other.

Plaintext (:func:`encode_body`): schema major (1), schema minor (1),
deps length (u32), deps (the state vector the update was made on), payload
(the pycrdt update, snapshot state, or state vector).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.signing
import nacl.utils

from .crypto import NONCE_BYTES, DecryptionError, open_sealed
from .crypto import seal as _seal_with_nonce
from .ids import ulid_from_bytes, ulid_to_bytes
from .protocol import MAX_DOC_ID_BYTES, MAX_ENVELOPE_BYTES, PROTOCOL_VERSION, Audience

MAGIC = b"KGE"
SIGNATURE_CONTEXT = b"koprogo-envelope-v1\x00"
_FIXED = struct.Struct(">3sBBBI16s16s16sQQB")
SIGNATURE_BYTES = 64


class Kind(IntEnum):
    UPDATE = 1  # one pycrdt update with its dependencies
    SNAPSHOT = 2  # a whole document state replacing sequences <= replaces
    STATE_VECTOR = 3  # "here is what I have" (anti-entropy request)
    REPLY = 4  # an update answering a state vector (applies at once)


class EnvelopeError(ValueError):
    """A malformed, oversized or wrongly signed envelope."""


class EnvelopeTooLarge(EnvelopeError):
    """Over :data:`MAX_ENVELOPE_BYTES`."""


@dataclass(frozen=True)
class Header:
    kind: Kind
    audience: Audience
    key_epoch: int
    building_id: str
    envelope_id: str
    device_id: str
    counter: int
    doc_id: str
    replaces: int = 0
    version: int = PROTOCOL_VERSION[0]

    def encode(self) -> bytes:
        doc = self.doc_id.encode()
        if not 0 < len(doc) <= MAX_DOC_ID_BYTES:
            raise EnvelopeError("document id too long or empty")
        return (
            _FIXED.pack(
                MAGIC,
                self.version,
                int(self.kind),
                int(self.audience),
                self.key_epoch,
                ulid_to_bytes(self.building_id),
                ulid_to_bytes(self.envelope_id),
                ulid_to_bytes(self.device_id),
                self.counter,
                self.replaces,
                len(doc),
            )
            + doc
        )


@dataclass(frozen=True)
class Envelope:
    header: Header
    header_bytes: bytes
    nonce: bytes
    ciphertext: bytes
    signature: bytes

    def encode(self) -> bytes:
        return (
            self.header_bytes
            + self.nonce
            + len(self.ciphertext).to_bytes(4, "big")
            + self.ciphertext
            + self.signature
        )

    def signed_part(self) -> bytes:
        return (
            SIGNATURE_CONTEXT
            + self.header_bytes
            + self.nonce
            + len(self.ciphertext).to_bytes(4, "big")
            + self.ciphertext
        )

    def verify(self, verify_key: bytes) -> None:
        """Raise :class:`EnvelopeError` unless ``verify_key`` signed this."""
        try:
            nacl.signing.VerifyKey(verify_key).verify(self.signed_part(), self.signature)
        except (nacl.exceptions.BadSignatureError, ValueError) as exc:
            raise EnvelopeError("bad signature") from exc

    def open(self, doc_key: bytes) -> bytes:
        """The plaintext, or :class:`DecryptionError` (wrong key, altered)."""
        return open_sealed(doc_key, self.nonce + self.ciphertext, self.header_bytes)


def document_key(audience_key: bytes, doc_id: str) -> bytes:
    """The key of one document, derived from its audience key (keyed BLAKE2b)."""
    return _derive(audience_key, doc_id, b"koprogo-doc-v1")


def person_key(management_key: bytes, person_id: str) -> bytes:
    """The key of ``inbox/<person>`` for an epoch, derived from that epoch's
    management key (keyed BLAKE2b, §5.4): every management device makes the
    same one without asking the others."""
    return _derive(management_key, person_id, b"koprogo-inbox-v1")


def _derive(key: bytes, name: str, personalisation: bytes) -> bytes:
    return nacl.hash.blake2b(
        name.encode(),
        digest_size=32,
        key=key,
        person=personalisation,
        encoder=nacl.encoding.RawEncoder,
    )


def encode_body(schema: tuple[int, int], deps: bytes, payload: bytes) -> bytes:
    return bytes(schema) + len(deps).to_bytes(4, "big") + deps + payload


def decode_body(plain: bytes) -> tuple[tuple[int, int], bytes, bytes]:
    if len(plain) < 6:
        raise EnvelopeError("body too short")
    size = int.from_bytes(plain[2:6], "big")
    if 6 + size > len(plain):
        raise EnvelopeError("dependencies overrun the body")
    return (plain[0], plain[1]), plain[6 : 6 + size], plain[6 + size :]


def seal(
    header: Header,
    doc_key: bytes,
    plaintext: bytes,
    signing_key: bytes,
    nonce: bytes | None = None,
) -> Envelope:
    """Encrypt ``plaintext`` under ``doc_key`` with the header as associated
    data, and sign the result with the device's Ed25519 ``signing_key`` seed.
    The nonce is random unless given (test vectors only)."""
    header_bytes = header.encode()
    sealed = _seal_with_nonce(doc_key, plaintext, header_bytes, nonce)
    unsigned = Envelope(header, header_bytes, sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], b"")
    signature = nacl.signing.SigningKey(signing_key).sign(unsigned.signed_part()).signature
    envelope = Envelope(header, header_bytes, unsigned.nonce, unsigned.ciphertext, signature)
    if len(envelope.encode()) > MAX_ENVELOPE_BYTES:
        raise EnvelopeTooLarge("envelope too large")
    return envelope


_KINDS = {int(k): k for k in Kind}
_AUDIENCES = {int(a): a for a in Audience}
_KNOWN_IDS: dict[bytes, str] = {}  # building and device ids seen lately, by their bytes
_KNOWN_IDS_MAX = 4096


def _known_ulid(raw: bytes) -> str:
    """The text of a building's or a device's id: the same few come back in
    every envelope a relay or a node decodes, so their text is kept
    (bounded) instead of computed each time (docs/performance.md, Relay)."""
    text = _KNOWN_IDS.get(raw)
    if text is None:
        text = ulid_from_bytes(raw)
        if len(_KNOWN_IDS) >= _KNOWN_IDS_MAX:
            _KNOWN_IDS.clear()
        _KNOWN_IDS[raw] = text
    return text


FIXED_HEADER_BYTES = _FIXED.size


def sender_of(prefix: bytes) -> tuple[str, str]:
    """(building id, device id) from an envelope's first
    :data:`FIXED_HEADER_BYTES`, before the rest has arrived (a relay checks
    a large body's sender before reading it all, §7.1)."""
    if len(prefix) < _FIXED.size:
        raise EnvelopeError("envelope too short")
    fields = _FIXED.unpack_from(prefix)
    if fields[0] != MAGIC:
        raise EnvelopeError("not a KoproGo envelope")
    return ulid_from_bytes(fields[5]), ulid_from_bytes(fields[7])


def decode(raw: bytes) -> Envelope:
    """Parse an envelope, checking its structure (not its signature)."""
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise EnvelopeTooLarge("envelope too large")
    if len(raw) < _FIXED.size:
        raise EnvelopeError("envelope too short")
    fields = _FIXED.unpack_from(raw)
    magic, version, kind, audience, epoch, building, envelope_id, device, counter, replaces, n = (
        fields
    )
    if magic != MAGIC:
        raise EnvelopeError("not a KoproGo envelope")
    if version != PROTOCOL_VERSION[0]:
        raise EnvelopeError(f"unsupported protocol version {version}")
    end = _FIXED.size + n
    try:
        header = Header(
            kind=_KINDS.get(kind) or Kind(kind),  # Kind() raises for an unknown kind
            audience=_AUDIENCES.get(audience) or Audience(audience),
            key_epoch=epoch,
            building_id=_known_ulid(building),
            envelope_id=ulid_from_bytes(envelope_id),
            device_id=_known_ulid(device),
            counter=counter,
            doc_id=raw[_FIXED.size : end].decode(),
            replaces=replaces,
            version=version,
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"bad header: {exc}") from exc
    if len(raw) < end + NONCE_BYTES + 4 + SIGNATURE_BYTES:
        raise EnvelopeError("envelope truncated")
    nonce = raw[end : end + NONCE_BYTES]
    size = int.from_bytes(raw[end + NONCE_BYTES : end + NONCE_BYTES + 4], "big")
    start = end + NONCE_BYTES + 4
    if start + size + SIGNATURE_BYTES != len(raw):
        raise EnvelopeError("envelope length does not match its header")
    return Envelope(header, raw[:end], nonce, raw[start : start + size], raw[start + size :])


__all__ = [
    "DecryptionError",
    "Envelope",
    "EnvelopeError",
    "Header",
    "Kind",
    "decode",
    "decode_body",
    "document_key",
    "encode_body",
    "seal",
]
