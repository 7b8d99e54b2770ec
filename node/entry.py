"""The ``koprogo-node`` command's entry point.

Importing the core (pycrdt, PyNaCl, SQLAlchemy, reportlab…) takes most of
a second; Ctrl+C during it, or while the arguments are read, must end as
quietly as Ctrl+C during a command (:func:`node.cli.main`), not with a
traceback. This module imports nothing heavy before that guard.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from .cli import main as run

        return run(argv)
    except KeyboardInterrupt:
        return interrupted()


def interrupted() -> int:
    """Say so in the user's language (the catalogs load in a few ms)."""
    try:
        from .i18n import _

        message = _("Interrupted; nothing half-saved.")
    except KeyboardInterrupt:  # a second Ctrl+C while the catalogs load
        message = "Interrupted; nothing half-saved."
    print(message, file=sys.stderr)
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
