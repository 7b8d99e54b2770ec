"""Write ``protocol-v1.json``: byte-exact vectors of the sync protocol.

Run ``.venv/bin/python tests/vectors/generate.py`` only when the protocol
changes on purpose; the node and relay tests check that the code still
produces and accepts exactly these bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.signing

from shared import auth, envelope, members
from shared.envelope import Header, Kind
from shared.protocol import Audience, Role

OUT = Path(__file__).with_name("protocol-v1.json")

DEVICE_SEED = bytes(range(32))
BOX_PUBLIC = bytes(range(32, 64))
AUDIENCE_KEY = bytes(range(64, 96))
NONCE = bytes(range(96, 120))
BUILDING = "01JD0000000000000000000000"
DEVICE = "01JD0000000000000000000001"
ENVELOPE_ID = "01JD0000000000000000000002"
PERSON = "01JD0000000000000000000003"


def main() -> None:
    verify_key = bytes(nacl.signing.SigningKey(DEVICE_SEED).verify_key)
    header = Header(
        Kind.UPDATE, Audience.MANAGEMENT, 1, BUILDING, ENVELOPE_ID, DEVICE, 7, "registry"
    )
    doc_key = envelope.document_key(AUDIENCE_KEY, "registry")
    body = envelope.encode_body((1, 0), b"\x01\x02\x03", b"pycrdt update bytes")
    sealed = envelope.seal(header, doc_key, body, DEVICE_SEED, nonce=NONCE)
    request_body = sealed.encode()
    headers = auth.sign_request(
        DEVICE_SEED,
        DEVICE,
        "POST",
        f"/v1/buildings/{BUILDING}/docs/registry/envelopes",
        request_body,
        1_790_000_000,
        nonce="00" * 16,
    )
    genesis = members.sign_entry(
        {
            "v": 1,
            "seq": 0,
            "prev": "",
            "building": BUILDING,
            "type": "genesis",
            "signer": DEVICE,
            "device": members.device_record(DEVICE, verify_key, BOX_PUBLIC, Role.SYNDIC),
            "epoch": 1,
            "sealed": {DEVICE: {}},
        },
        DEVICE_SEED,
    )
    vectors = {
        "inputs": {
            "device_seed": DEVICE_SEED.hex(),
            "device_verify_key": verify_key.hex(),
            "box_public": BOX_PUBLIC.hex(),
            "audience_key": AUDIENCE_KEY.hex(),
            "nonce": NONCE.hex(),
        },
        "document_key": {"doc_id": "registry", "key": doc_key.hex()},
        "person_key": {  # from the audience key above, standing for a management key
            "person_id": PERSON,
            "key": envelope.person_key(AUDIENCE_KEY, PERSON).hex(),
        },
        "envelope": {
            "header": {
                "kind": 1,
                "audience": 1,
                "key_epoch": 1,
                "building_id": BUILDING,
                "envelope_id": ENVELOPE_ID,
                "device_id": DEVICE,
                "counter": 7,
                "replaces": 0,
                "doc_id": "registry",
            },
            "body": body.hex(),
            "schema": [1, 0],
            "deps": "010203",
            "payload": b"pycrdt update bytes".hex(),
            "encoded": sealed.encode().hex(),
            "header_bytes": sealed.header_bytes.hex(),
        },
        "request": {
            "method": "POST",
            "path": f"/v1/buildings/{BUILDING}/docs/registry/envelopes",
            "timestamp": 1_790_000_000,
            "body_sha256_of": "envelope.encoded",
            "headers": headers,
        },
        "members_genesis": genesis.to_json(),
    }
    OUT.write_text(json.dumps(vectors, indent=2) + "\n")


if __name__ == "__main__":
    main()
