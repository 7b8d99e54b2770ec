"""Helpers for sync tests: real profiles driven through ``koprogo-node``'s
own entry point, against a real relay process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from node.cli import main
from node.session import Session
from tests.helpers import PASSPHRASE


class Node:
    """One device: a profile folder, used through the CLI as a script would."""

    def __init__(self, path: Path, capsys: Any) -> None:
        self.path = path
        self.capsys = capsys

    def run(self, *args: str, ok: bool = True) -> str:
        self.capsys.readouterr()
        code = main(["--profile", str(self.path), *args])
        out, err = self.capsys.readouterr()
        if ok:
            assert code == 0, f"{args}: exit {code}: {err}"
        self.last_error = err
        self.last_code = code
        return out

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json"))

    def session(self) -> Session:
        return Session.open(self.path, lambda _c: PASSPHRASE)

    def lots(self) -> dict[str, int]:
        return {lot["number"]: lot["quota"] for lot in self.json("registry")["lots"]}


def invite(syndic: Node, role: str, person: str | None = None) -> str:
    args = ["invite", "create", "--role", role]
    if person:
        args += ["--person", person]
    return syndic.json(*args)["code"]


def join(node: Node, relay_url: str, code: str) -> None:
    node.run("join", "--relay", relay_url, "--code", code)
