"""``koprogo-relay``: the relay's command line.

The relay itself is built in the sync issue; until then the command says so
plainly instead of pretending to run.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("-h", "--help"):
        print("usage: koprogo-relay serve|migrate|stats  (not built yet)")
        return 0
    print(
        "koprogo-relay: the relay is not built yet; buildings work locally for now.",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
