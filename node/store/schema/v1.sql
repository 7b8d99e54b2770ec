-- KoproGo profile store, schema version 1.
-- Only opaque ids and encrypted blobs live here: no name, amount or address
-- in clear (ARCHITECTURE §3).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per CRDT document the profile holds, e.g. (building ULID, 'registry').
CREATE TABLE documents (
    id          INTEGER PRIMARY KEY,
    building_id TEXT NOT NULL,
    doc_id      TEXT NOT NULL,
    UNIQUE (building_id, doc_id)
);

-- Encrypted pycrdt updates, appended one per confirmed edit.
CREATE TABLE updates (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    document INTEGER NOT NULL REFERENCES documents (id),
    blob     BLOB NOT NULL
);
CREATE INDEX updates_by_document ON updates (document, id);

-- Remote updates received before the updates they depend on: kept (encrypted)
-- until their dependencies arrive, then moved into ``updates`` (see
-- docs/decisions/0001-causal-delivery.md).
CREATE TABLE pending (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    document INTEGER NOT NULL REFERENCES documents (id),
    blob     BLOB NOT NULL
);
CREATE INDEX pending_by_document ON pending (document, id);

-- One encrypted compacted state per document; it replaces every update of
-- that document with id <= through_update.
CREATE TABLE checkpoints (
    document       INTEGER PRIMARY KEY REFERENCES documents (id),
    blob           BLOB NOT NULL,
    through_update INTEGER NOT NULL
);

-- Secrets of this profile (device keys, audience keys), sealed with the
-- storage key; the name is not secret (e.g. 'device', 'audience:1:building').
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    blob BLOB NOT NULL
);

-- Sync bookkeeping per document: the relay sequence applied so far, this
-- device's last envelope counter, and the relay snapshot last seen.
CREATE TABLE sync_state (
    document      INTEGER PRIMARY KEY REFERENCES documents (id),
    cursor        INTEGER NOT NULL DEFAULT 0,
    counter       INTEGER NOT NULL DEFAULT 0,
    snapshot_id   TEXT NOT NULL DEFAULT '',
    snapshot_seq  INTEGER NOT NULL DEFAULT 0
);

-- Local changes waiting to be pushed, written in the same transaction as the
-- edit itself. The envelope id and counter are fixed at that moment so that a
-- retried push is recognised by the relay as the same envelope.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document    INTEGER NOT NULL REFERENCES documents (id),
    envelope_id TEXT NOT NULL UNIQUE,
    counter     INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    attempted   INTEGER NOT NULL DEFAULT 0,  -- 1 once it may have reached the relay
    blob        BLOB NOT NULL
);

-- The building's members log as verified (public keys, roles, opaque ids).
CREATE TABLE members_log (
    seq       INTEGER PRIMARY KEY,
    body      BLOB NOT NULL,
    signature BLOB NOT NULL
);

-- Per document and sending device, the last envelope counter applied:
-- a jump is a gap, filled by anti-entropy.
CREATE TABLE peer_counters (
    document INTEGER NOT NULL REFERENCES documents (id),
    device   TEXT NOT NULL,
    counter  INTEGER NOT NULL,
    PRIMARY KEY (document, device)
);
