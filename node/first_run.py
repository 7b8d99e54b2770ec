"""The first-run flow, with no Qt (STYLE §10): create a building or the demo.

The desktop's first-run screen only collects the answers and calls these;
the CLI's ``init`` and ``demo`` do the same. Both return an open session.
"""

from __future__ import annotations

from pathlib import Path

from .demo import build_demo
from .domain.registry import Association
from .keys import KeyStorage, PassphraseProvider
from .session import Session


def create_building(
    path: Path,
    association: Association,
    provider: PassphraseProvider | None = None,
    key_storage: KeyStorage | None = None,
) -> Session:
    """A new profile at ``path`` holding a new building."""
    session = Session.create(path, provider, key_storage)
    try:
        session.registry.create_building(association)
    except BaseException:
        session.close()
        raise
    return session


def create_demo(
    path: Path,
    provider: PassphraseProvider | None = None,
    key_storage: KeyStorage | None = None,
) -> Session:
    """A new profile at ``path`` holding the demo building."""
    session = Session.create(path, provider, key_storage)
    try:
        build_demo(session)
    except BaseException:
        session.close()
        raise
    return session
