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
