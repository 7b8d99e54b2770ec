"""``koprogo``: start the desktop app (or run ``--self-check``)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="koprogo", description="KoproGo desktop app")
    parser.add_argument(
        "--self-check", action="store_true", help="check the installation headless and exit"
    )
    parser.add_argument("--profiles", help="folder holding the profiles (for tests and demos)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.self_check:
        from .self_check import run

        return run()
    from .main import run_app

    return run_app(args)


if __name__ == "__main__":
    raise SystemExit(main())
