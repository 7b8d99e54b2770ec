"""What the node and the relay must agree on: wire formats, envelope crypto, ids.

This package imports neither ``node`` nor ``sync_server`` (checked by
``tests/test_layers.py``).
"""

from .protocol import PROTOCOL_VERSION  # defined once, in protocol.py

__all__ = ["PROTOCOL_VERSION"]
