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
    imported, missing = _import_everything()
    if missing or imported < MIN_MODULES:
        print(
            f"self-check: modules that do not import: {missing} ({imported} did)", file=sys.stderr
        )
        return 1
    print(f"KoproGo self-check: OK (Qt, store, keys, documents, {imported} modules import)")
    return 0


MIN_MODULES = 100  # fewer means the build's module list could not be walked


# development tools left out of the build on purpose (installers/koprogo.spec)
_LEFT_OUT = ("node.i18n_tools",)


def _import_everything() -> tuple[int, list[str]]:
    """Import every module of the app, the ones screens load only when used
    too (sync, PDFs...), so a module the build left out shows now."""
    import importlib
    import pkgutil

    import desktop
    import node

    failed, imported = [], 0
    for package in (node, desktop):
        prefix = package.__name__ + "."
        for info in pkgutil.walk_packages(package.__path__, prefix):
            if info.name in _LEFT_OUT or info.name.endswith("__main__"):
                continue
            try:
                importlib.import_module(info.name)
            except Exception as exc:  # every failure is reported
                failed.append(f"{info.name}: {exc}")
            else:
                imported += 1
    return imported, failed
