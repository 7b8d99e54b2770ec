"""``koprogo --self-check``: prove a packaged build works, headless.

Loads Qt offscreen, creates a temporary profile (key file under a random
passphrase, so no keyring is touched), writes one record, reopens the
profile, reads the record back, and exits 0. Run by CI on the PyInstaller
build so packaging problems show now, not at release.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path


def run() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from node.domain.registry import Association, LotType
    from node.keys import KeyStorage
    from node.session import Session

    from .qt import QApplication, QLabel

    app = QApplication.instance() or QApplication([])
    QLabel("KoproGo").show()
    app.processEvents()
    passphrase = secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="koprogo-self-check-") as tmp:
        profile = Path(tmp) / "profile"
        with Session.create(profile, lambda _creating: passphrase, KeyStorage.PASSPHRASE_FILE) as s:
            s.registry.create_building(Association("Self-check", 1000))
            s.registry.add_lot("1", LotType.APARTMENT, 1000)
        with Session.open(profile, lambda _creating: passphrase) as s:
            lots = s.registry.read().lots
            if [(lot.number, lot.quota) for lot in lots] != [("1", 1000)]:
                print("self-check: the record read back differs", file=sys.stderr)
                return 1
    print("KoproGo self-check: OK (Qt, store, keys, documents)")
    return 0
