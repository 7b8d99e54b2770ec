"""Documents the user asks for are written all or nothing (node.files):
a failed write leaves the older file as it was, no stray temporary file,
and a readable refusal."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from node.errors import InputError
from node.files import write_document


def test_a_document_replaces_the_older_one_whole(tmp_path: Path):
    target = tmp_path / "out" / "minutes.pdf"
    assert write_document(target, b"%PDF-1 first") == target
    write_document(target, b"%PDF-1 second")
    assert target.read_bytes() == b"%PDF-1 second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["minutes.pdf"]


def test_a_full_disk_leaves_the_older_document_as_it_was(tmp_path: Path, monkeypatch):
    target = tmp_path / "calls.pdf"
    target.write_bytes(b"%PDF-1 the last good one")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(InputError, match=r"calls\.pdf could not be written: No space left"):
        write_document(target, b"%PDF-1 the new one, never complete")
    assert target.read_bytes() == b"%PDF-1 the last good one"
    assert [p.name for p in tmp_path.iterdir()] == ["calls.pdf"]


def test_a_file_where_a_folder_should_be_is_refused_in_words(tmp_path: Path):
    (tmp_path / "report").write_bytes(b"not a folder")
    with pytest.raises(InputError, match="could not be written"):
        write_document(tmp_path / "report" / "summary.pdf", b"%PDF-1")
    assert (tmp_path / "report").read_bytes() == b"not a folder"
