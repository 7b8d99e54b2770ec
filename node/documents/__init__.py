"""CRDT documents: loading, persisting and mapping records to pycrdt."""
