"""``shared.ids.ulid_from_bytes``, which the relay runs three times per
envelope it decodes, writes exactly what the digit-by-digit version it
replaced wrote, for any 16 bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.ids import _CROCKFORD, ulid_from_bytes, ulid_to_bytes


def digit_by_digit(raw: bytes) -> str:
    """The former implementation: 26 digits of 5 bits, most significant first."""
    value = int.from_bytes(raw, "big")
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


@given(st.binary(min_size=16, max_size=16))
def test_same_text_as_digit_by_digit(raw):
    text = ulid_from_bytes(raw)
    assert text == digit_by_digit(raw)
    assert ulid_to_bytes(text) == raw


@pytest.mark.parametrize("raw", [bytes(16), b"\xff" * 16, bytes(15) + b"\x01", b"\x80" + bytes(15)])
def test_edges(raw):
    assert ulid_from_bytes(raw) == digit_by_digit(raw)


@pytest.mark.parametrize("size", [0, 15, 17])
def test_other_lengths_are_refused(size):
    with pytest.raises(ValueError):
        ulid_from_bytes(bytes(size))
