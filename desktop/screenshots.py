"""``python -m desktop.screenshots OUTDIR``: pictures of the app for the docs.

Runs the real app (``make screenshots`` runs it under Xvfb) on the demo
building in a temporary profile, with temporary settings, so nothing of the
user's own buildings or preferences is touched or shown. Writes
``first-run.png``, ``main-window.png`` (the Lots page), ``ownership.png``
(a lot split between usufruct and bare ownership) and ``occupants.png``
(a rented flat: its owner and its tenant).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SIZE = (1280, 800)


def _wait(app, condition: Callable[[], bool], timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app, seconds: float = 0.3) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def take(outdir: Path, language: str) -> list[Path]:
    from .main import build
    from .qt import QApplication, QSettings

    app = QApplication.instance() or QApplication(sys.argv)
    written = []
    with tempfile.TemporaryDirectory(prefix="koprogo-screenshots-") as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        from .settings import save_language

        save_language(language)
        controller = build(argparse.Namespace(profiles=str(Path(tmp) / "profiles")))
        try:
            _wait(app, lambda: controller.start_window is not None)
            start = controller.start_window
            assert start is not None
            start.resize(*SIZE)
            _settle(app)
            written.append(_save(start, outdir / "first-run.png"))

            controller.create_demo(secrets.token_urlsafe(16))
            _wait(app, lambda: controller.main is not None and controller.main.state is not None)
            main = controller.main
            assert main is not None
            main.resize(*SIZE)
            main.go_to("lots")
            lots = main.pages["lots"].table
            lots.selectRow(2)
            lots.setFocus()
            _settle(app)
            written.append(_save(main, outdir / "main-window.png"))

            main.go_to("ownership")
            ownership = main.pages["ownership"]
            registry = main.state.registry if main.state else None
            for number, name in (("A2.3", "ownership.png"), ("A2.1", "occupants.png")):
                lot = registry.lot_by_number(number) if registry else None
                if lot is not None:
                    ownership.lots.select_id(lot.id)
                    ownership.occupants.selectRow(0)
                _settle(app)
                written.append(_save(main, outdir / name))
        finally:
            if controller.main is not None:
                controller._discard(controller.main)
            controller.shutdown()
    return written


def _save(widget, path: Path) -> Path:  # type: ignore[no-untyped-def]
    if not widget.grab().save(str(path)):
        raise SystemExit(f"screenshots: could not write {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots")
    parser.add_argument("outdir", type=Path, help="folder for the PNG files")
    parser.add_argument("--language", default="en", choices=("fr", "nl", "de", "en"))
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    # A throwaway profile: never the user's keyring, a random passphrase
    # given as the app gives it, and a cheap key derivation.
    os.environ["KOPROGO_KEY_STORAGE"] = "passphrase-file"
    os.environ.pop("KOPROGO_PASSPHRASE", None)
    os.environ["KOPROGO_ARGON2"] = "interactive"
    for path in take(args.outdir, args.language):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
