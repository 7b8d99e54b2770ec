"""The sync protocol in shared/: byte-exact vectors, tampering, malformed
input, request signatures and the members log (docs/sync-protocol.md)."""

from __future__ import annotations

import json
from pathlib import Path

import nacl.public
import nacl.signing
import pytest

from shared import auth, envelope, invites, members
from shared.crypto import DecryptionError
from shared.envelope import EnvelopeError, Header, Kind
from shared.ids import new_ulid
from shared.protocol import (
    MAX_ENVELOPE_BYTES,
    Audience,
    Role,
    audience_of,
    doc_person,
    is_valid_doc_id,
    may_read,
    may_write,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "protocol-v1.json").read_text())
INPUTS = {k: bytes.fromhex(v) for k, v in VECTORS["inputs"].items()}


# -- vectors ---------------------------------------------------------------------


def test_person_key_vector():
    """§5.4: every management device derives the same key for a person's inbox."""
    vector = VECTORS["person_key"]
    key = envelope.person_key(INPUTS["audience_key"], vector["person_id"])
    assert key.hex() == vector["key"]
    assert envelope.person_key(INPUTS["audience_key"], "01JD0000000000000000000004") != key


def test_document_key_vector():
    key = envelope.document_key(INPUTS["audience_key"], VECTORS["document_key"]["doc_id"])
    assert key.hex() == VECTORS["document_key"]["key"]


def test_envelope_vector_encodes_byte_for_byte():
    v = VECTORS["envelope"]
    header = Header(
        Kind(v["header"]["kind"]),
        Audience(v["header"]["audience"]),
        v["header"]["key_epoch"],
        v["header"]["building_id"],
        v["header"]["envelope_id"],
        v["header"]["device_id"],
        v["header"]["counter"],
        v["header"]["doc_id"],
        v["header"]["replaces"],
    )
    doc_key = bytes.fromhex(VECTORS["document_key"]["key"])
    sealed = envelope.seal(
        header, doc_key, bytes.fromhex(v["body"]), INPUTS["device_seed"], nonce=INPUTS["nonce"]
    )
    assert sealed.encode().hex() == v["encoded"]
    assert sealed.header_bytes.hex() == v["header_bytes"]


def test_envelope_vector_decodes_verifies_and_opens():
    v = VECTORS["envelope"]
    parsed = envelope.decode(bytes.fromhex(v["encoded"]))
    assert parsed.header.doc_id == "registry" and parsed.header.counter == 7
    assert parsed.header.building_id == v["header"]["building_id"]
    parsed.verify(INPUTS["device_verify_key"])
    body = parsed.open(bytes.fromhex(VECTORS["document_key"]["key"]))
    schema, deps, payload = envelope.decode_body(body)
    assert (list(schema), deps.hex(), payload.hex()) == (v["schema"], v["deps"], v["payload"])


def test_request_signature_vector():
    r = VECTORS["request"]
    body = bytes.fromhex(VECTORS["envelope"]["encoded"])
    signed = auth.parse_headers(r["headers"])
    auth.verify_request(
        signed, INPUTS["device_verify_key"], r["method"], r["path"], body, now=r["timestamp"]
    )
    assert (
        auth.sign_request(
            INPUTS["device_seed"],
            signed.device_id,
            r["method"],
            r["path"],
            body,
            r["timestamp"],
            signed.nonce,
        )
        == r["headers"]
    )


def test_members_genesis_vector():
    entry = members.SignedEntry.from_json(VECTORS["members_genesis"])
    state = members.replay([entry])
    assert state.building_id == VECTORS["envelope"]["header"]["building_id"]
    assert state.epoch == 1


# -- tampering and malformed envelopes ------------------------------------------------


def fresh_envelope(doc_id="registry", counter=1):
    seed = nacl.signing.SigningKey.generate()
    header = Header(
        Kind.UPDATE, audience_of(doc_id), 1, new_ulid(), new_ulid(), new_ulid(), counter, doc_id
    )
    key = envelope.document_key(bytes(32), doc_id)
    sealed = envelope.seal(header, key, envelope.encode_body((1, 0), b"", b"x" * 50), bytes(seed))
    return sealed, bytes(seed.verify_key), key


def test_flipped_ciphertext_fails_signature_and_decryption():
    sealed, verify_key, key = fresh_envelope()
    raw = bytearray(sealed.encode())
    raw[len(sealed.header_bytes) + 30] ^= 1
    broken = envelope.decode(bytes(raw))
    with pytest.raises(EnvelopeError, match="bad signature"):
        broken.verify(verify_key)
    with pytest.raises(DecryptionError):
        broken.open(key)


def test_header_changed_in_transit_is_detected():
    sealed, verify_key, key = fresh_envelope()
    raw = bytearray(sealed.encode())
    raw[60] ^= 1  # inside the counter
    altered = envelope.decode(bytes(raw))
    with pytest.raises(EnvelopeError):
        altered.verify(verify_key)
    with pytest.raises(DecryptionError):  # the header is the associated data
        altered.open(key)


def test_wrong_document_key_cannot_open():
    sealed, _, _ = fresh_envelope()
    with pytest.raises(DecryptionError):
        sealed.open(envelope.document_key(bytes(32), "ledger/2026"))


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda raw: raw[:40], "too short"),
        (lambda raw: b"XYZ" + raw[3:], "not a KoproGo envelope"),
        (lambda raw: raw[:3] + b"\x02" + raw[4:], "unsupported protocol version"),
        (lambda raw: raw[:4] + b"\x09" + raw[5:], "bad header"),
        (lambda raw: raw + b"\x00", "does not match"),
        (lambda raw: raw[:-1], "does not match"),
        (lambda raw: raw + b"\x00" * MAX_ENVELOPE_BYTES, "too large"),
    ],
)
def test_malformed_envelopes_are_refused_with_a_reason(mutate, reason):
    sealed, _, _ = fresh_envelope()
    with pytest.raises(EnvelopeError, match=reason):
        envelope.decode(mutate(sealed.encode()))


# -- request signatures ----------------------------------------------------------


def test_request_signature_checks_time_body_and_path():
    seed = bytes(nacl.signing.SigningKey.generate())
    verify_key = bytes(nacl.signing.SigningKey(seed).verify_key)
    headers = auth.sign_request(seed, "D", "POST", "/v1/x", b"body", 1000)
    again = auth.sign_request(seed, "D", "POST", "/v1/x", b"body", 1000)
    assert again[auth.SIGNATURE_HEADER] != headers[auth.SIGNATURE_HEADER]  # a fresh nonce
    again = auth.sign_request(seed, "D", "POST", "/v1/x", b"body", 1000)
    assert again[auth.SIGNATURE_HEADER] != headers[auth.SIGNATURE_HEADER]  # fresh nonce
    signed = auth.parse_headers(headers)
    auth.verify_request(signed, verify_key, "POST", "/v1/x", b"body", now=1000 + auth.WINDOW)
    for method, path, body, now, reason in [
        ("POST", "/v1/x", b"body", 1000 + auth.WINDOW + 1, "stale"),
        ("POST", "/v1/x", b"body", 1000 - auth.WINDOW - 1, "stale"),
        ("POST", "/v1/x", b"other", 1000, "bad signature"),
        ("POST", "/v1/y", b"body", 1000, "bad signature"),
        ("GET", "/v1/x", b"body", 1000, "bad signature"),
    ]:
        with pytest.raises(auth.AuthError, match=reason):
            auth.verify_request(signed, verify_key, method, path, body, now)
    with pytest.raises(auth.AuthError, match="missing"):
        auth.parse_headers({})


# -- protocol tables -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "doc_id", "allowed"),
    [
        (Role.SYNDIC, "registry", True),
        (Role.COUNCIL, "registry", False),
        (Role.COUNCIL, "maintenance", True),
        (Role.OWNER, "ledger/2026", False),
        (Role.OWNER, "community", True),
        (Role.KIOSK, "directory", False),
        (Role.OWNER, "inbox/01JD0000000000000000000009", False),
        (Role.SYNDIC, "inbox/01JD0000000000000000000009", True),
    ],
)
def test_who_may_write_what(role, doc_id, allowed):
    assert is_valid_doc_id(doc_id)
    assert may_write(role, doc_id) is allowed


_MEETING = "01JD0000000000000000000001"
_ALICE = "01JD000000000000000000000A"
_BOB = "01JD000000000000000000000B"


@pytest.mark.parametrize(
    ("role", "doc_id", "persons", "allowed"),
    [
        # a person's ballots: their own device, a kiosk keeping their keys, the syndic
        (Role.OWNER, f"ballots/{_MEETING}/{_ALICE}", {_ALICE}, True),
        (Role.OWNER, f"ballots/{_MEETING}/{_ALICE}", {_BOB}, False),
        (Role.OWNER, f"ballots/{_MEETING}/{_ALICE}", set(), False),
        (Role.KIOSK, f"ballots/{_MEETING}/{_ALICE}", {_ALICE, _BOB}, True),
        (Role.KIOSK, f"ballots/{_MEETING}/{_ALICE}", {_BOB}, False),
        (Role.COUNCIL, f"ballots/{_MEETING}/{_ALICE}", {_BOB}, False),
        (Role.SYNDIC, f"ballots/{_MEETING}/{_ALICE}", set(), True),
        (Role.OWNER, f"optins/{_MEETING}/{_BOB}", {_BOB}, True),
        (Role.OWNER, f"optins/{_MEETING}/{_BOB}", {_ALICE}, False),
        # persons change nothing for the other documents
        (Role.OWNER, "registry", {_ALICE}, False),
        (Role.OWNER, f"inbox/{_ALICE}", {_ALICE}, False),
        (Role.OWNER, "community", set(), True),
    ],
)
def test_per_person_documents_are_written_for_their_person_only(role, doc_id, persons, allowed):
    assert is_valid_doc_id(doc_id)
    per_person = doc_id.startswith(("ballots/", "optins/"))
    assert doc_person(doc_id) == (doc_id.rsplit("/", 1)[1] if per_person else None)
    assert may_write(role, doc_id, frozenset(persons)) is allowed


@pytest.mark.parametrize(
    "doc_id",
    [f"ballots/{_MEETING}", f"ballots/{_MEETING}/{_ALICE}/x", f"optins/{_ALICE}", "ballots"],
)
def test_per_person_document_ids_name_a_meeting_and_a_person(doc_id):
    assert not is_valid_doc_id(doc_id)


def test_owners_and_the_kiosk_cannot_read_management_documents():
    assert may_read(Role.COUNCIL, Audience.MANAGEMENT)
    assert not may_read(Role.OWNER, Audience.MANAGEMENT)
    assert not may_read(Role.KIOSK, Audience.MANAGEMENT)
    assert may_read(Role.KIOSK, Audience.BUILDING)


@pytest.mark.parametrize("doc_id", ["", "registry/x", "ledger/26", "../etc", "inbox/abc"])
def test_bad_document_ids(doc_id):
    assert not is_valid_doc_id(doc_id)


# -- members log ---------------------------------------------------------------------


class Dev:
    def __init__(self, role=Role.SYNDIC, person=None):
        self.id = new_ulid()
        self.seed = bytes(nacl.signing.SigningKey.generate())
        self.box = nacl.public.PrivateKey.generate()
        self.role = role
        self.person = person

    @property
    def record(self):
        return members.device_record(
            self.id,
            bytes(nacl.signing.SigningKey(self.seed).verify_key),
            bytes(self.box.public_key),
            self.role,
            self.person,
        )


class Log:
    def __init__(self):
        self.building = new_ulid()
        self.entries: list[members.SignedEntry] = []
        self.state = members.MembersState()

    def add(self, data, seed, now=None):
        data = {
            "v": 1,
            "seq": self.state.length,
            "prev": self.state.head,
            "building": self.building,
            **data,
        }
        entry = members.sign_entry(data, seed)
        self.state.apply(entry, now)
        self.entries.append(entry)
        return entry


def genesis(log, syndic, keys):
    sealed = {a: members.seal_key(k, bytes(syndic.box.public_key)) for a, k in keys.items()}
    log.add(
        {
            "type": "genesis",
            "signer": syndic.id,
            "device": syndic.record,
            "epoch": 1,
            "sealed": {syndic.id: sealed},
        },
        syndic.seed,
    )


def invite_and_join(log, admin, device, expires=2_000_000_000, now=None):
    code = invites.new_code()
    secrets = invites.derive(code)
    log.add(
        {
            "type": "invite",
            "signer": admin.id,
            "invite": {
                "id": secrets.invite_id,
                "role": device.role.value,
                "person": device.person,
                "key": members.b64(secrets.public_key),
                "expires": expires,
            },
        },
        admin.seed,
    )
    proof = secrets.sign(members.invite_proof_message(secrets.invite_id, device.record))
    log.add(
        {
            "type": "join",
            "signer": device.id,
            "invite": secrets.invite_id,
            "device": device.record,
            "proof": members.b64(proof),
        },
        device.seed,
        now,
    )
    return secrets


KEYS = {"management": bytes(range(32)), "building": bytes(range(32, 64))}


def test_a_building_log_from_genesis_to_revocation():
    log, syndic, owner = Log(), Dev(), Dev(Role.OWNER, person=new_ulid())
    genesis(log, syndic, KEYS)
    invite_and_join(log, syndic, owner)
    sealed = members.seal_key(KEYS["building"], bytes(owner.box.public_key))
    log.add(
        {
            "type": "keys",
            "signer": syndic.id,
            "epoch": 1,
            "sealed": {owner.id: {"building": sealed}},
        },
        syndic.seed,
    )
    assert (
        members.open_sealed_key(log.state.sealed[(1, owner.id)]["building"], bytes(owner.box))
        == KEYS["building"]
    )
    log.add({"type": "revoke", "signer": syndic.id, "device": owner.id}, syndic.seed)
    assert log.state.active(owner.id) is None
    # every node replays the same log to the same state
    again = members.replay(log.entries)
    assert (again.head, again.epoch, set(again.devices)) == (
        log.state.head,
        1,
        {syndic.id, owner.id},
    )


def test_members_log_refusals():
    log, syndic, owner = Log(), Dev(), Dev(Role.OWNER)
    genesis(log, syndic, KEYS)
    invite_and_join(log, syndic, owner)
    head = log.state.head
    cases = [
        (
            {"type": "revoke", "signer": owner.id, "device": syndic.id},
            owner.seed,
            "may not administer",
        ),
        ({"type": "revoke", "signer": syndic.id, "device": owner.id}, owner.seed, "bad signature"),
        (
            {
                "type": "keys",
                "signer": syndic.id,
                "epoch": 1,
                "sealed": {owner.id: {"management": "AAAA"}},
            },
            syndic.seed,
            "may not read",
        ),
        ({"type": "keys", "signer": syndic.id, "epoch": 3, "sealed": {}}, syndic.seed, "bad epoch"),
        (
            {"type": "revoke", "signer": syndic.id, "device": syndic.id},
            syndic.seed,
            "cannot revoke itself",
        ),
        ({"type": "party", "signer": syndic.id}, syndic.seed, "unknown entry type"),
    ]
    for data, seed, reason in cases:
        with pytest.raises(members.MembersError, match=reason):
            log.add(data, seed)
        assert log.state.head == head  # nothing taken in
    with pytest.raises(members.MembersError, match="does not follow"):
        log.state.apply(
            members.sign_entry(
                {
                    "v": 1,
                    "seq": log.state.length,
                    "prev": "0" * 64,
                    "building": log.building,
                    "type": "revoke",
                    "signer": syndic.id,
                    "device": owner.id,
                },
                syndic.seed,
            )
        )


def test_an_invite_works_once_and_not_after_expiry():
    log, syndic = Log(), Dev()
    genesis(log, syndic, KEYS)
    first = Dev(Role.OWNER)
    secrets = invite_and_join(log, syndic, first)
    second = Dev(Role.OWNER)
    proof = secrets.sign(members.invite_proof_message(secrets.invite_id, second.record))
    with pytest.raises(members.MembersError, match="already used"):
        log.add(
            {
                "type": "join",
                "signer": second.id,
                "invite": secrets.invite_id,
                "device": second.record,
                "proof": members.b64(proof),
            },
            second.seed,
        )
    with pytest.raises(members.MembersError, match="expired"):
        invite_and_join(log, syndic, Dev(Role.OWNER), expires=1000, now=1001)


def test_a_join_without_the_code_is_refused():
    log, syndic, intruder = Log(), Dev(), Dev(Role.SYNDIC)
    genesis(log, syndic, KEYS)
    real = invites.derive(invites.new_code())
    log.add(
        {
            "type": "invite",
            "signer": syndic.id,
            "invite": {
                "id": real.invite_id,
                "role": "syndic",
                "person": None,
                "key": members.b64(real.public_key),
                "expires": 2_000_000_000,
            },
        },
        syndic.seed,
    )
    guess = invites.derive(invites.new_code())
    proof = guess.sign(members.invite_proof_message(real.invite_id, intruder.record))
    with pytest.raises(members.MembersError, match="bad invite proof"):
        log.add(
            {
                "type": "join",
                "signer": intruder.id,
                "invite": real.invite_id,
                "device": intruder.record,
                "proof": members.b64(proof),
            },
            intruder.seed,
        )


def test_invite_codes_are_short_and_forgiving():
    code = invites.new_code()
    assert len(code) == 11 and code[5] == "-"
    assert invites.is_well_formed(code.lower().replace("-", " "))
    assert invites.normalize("ilo0") == "1100"
    payload = {"building": new_ulid(), "keys": {"building": "abc"}}
    secrets = invites.derive(code)
    assert invites.open_payload(secrets, invites.seal_payload(secrets, payload)) == payload
    with pytest.raises(DecryptionError):
        invites.open_payload(
            invites.derive(invites.new_code()), invites.seal_payload(secrets, payload)
        )


def test_a_kiosk_invite_enrols_a_person_on_the_kiosk_only():
    log, syndic = Log(), Dev()
    genesis(log, syndic, KEYS)
    kiosk = Dev(Role.KIOSK)
    invite_and_join(log, syndic, kiosk)
    person = new_ulid()
    secrets = invites.derive(invites.new_code())
    log.add(
        {
            "type": "invite",
            "signer": syndic.id,
            "invite": {
                "id": secrets.invite_id,
                "role": "owner",
                "person": person,
                "key": members.b64(secrets.public_key),
                "expires": 2_000_000_000,
                "kiosk": True,
            },
        },
        syndic.seed,
    )
    # used as a device invite: refused
    intruder = Dev(Role.OWNER, person=person)
    proof = secrets.sign(members.invite_proof_message(secrets.invite_id, intruder.record))
    with pytest.raises(members.MembersError, match="not a device"):
        log.add(
            {
                "type": "join",
                "signer": intruder.id,
                "invite": secrets.invite_id,
                "device": intruder.record,
                "proof": members.b64(proof),
            },
            intruder.seed,
        )
    # used by the kiosk for that person: taken, once
    box = nacl.public.PrivateKey.generate()
    record = {
        "id": person,
        "sign": members.b64(bytes(32)),
        "box": members.b64(bytes(box.public_key)),
    }
    proof = secrets.sign(members.invite_proof_message(secrets.invite_id, record))
    entry = {
        "type": "person",
        "signer": kiosk.id,
        "invite": secrets.invite_id,
        "person": record,
        "proof": members.b64(proof),
    }
    log.add(entry, kiosk.seed)
    assert kiosk.id in log.state.person_keys[person]
    with pytest.raises(members.MembersError, match="already used"):
        log.add(entry, kiosk.seed)
    # the syndic may seal that person's key to it, and nothing else
    sealed = members.seal_key(bytes(32), bytes(box.public_key))
    log.add(
        {
            "type": "keys",
            "signer": syndic.id,
            "epoch": 1,
            "sealed": {},
            "to_persons": {f"{person}/{kiosk.id}": {f"person:{person}": sealed}},
        },
        syndic.seed,
    )
    assert (1, person, kiosk.id) in log.state.sealed_persons
    with pytest.raises(members.MembersError, match="only carries that person's key"):
        log.add(
            {
                "type": "keys",
                "signer": syndic.id,
                "epoch": 1,
                "sealed": {},
                "to_persons": {f"{person}/{kiosk.id}": {"management": sealed}},
            },
            syndic.seed,
        )


def test_a_ulid_tells_when_it_was_made():
    """The Devices page says when a device joined from its id (found by
    hand: two council devices could not be told apart)."""
    from shared.ids import new_ulid, ulid_time

    assert ulid_time(new_ulid(now_ms=1_795_000_000_123)) == 1_795_000_000.123
