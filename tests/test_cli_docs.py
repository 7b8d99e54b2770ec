"""Every ``koprogo-node`` command is documented in README.md (STYLE: a test
fails when a command is undocumented)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from node import i18n
from node.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_paths(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                subs = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
                if subs:
                    yield from command_paths(sub, (*prefix, name))
                else:
                    yield (*prefix, name), sub


def test_every_command_is_in_the_readme():
    paths = list(command_paths(build_parser()))
    assert len(paths) > 15
    missing = [" ".join(p) for p, _ in paths if f" {' '.join(p)}" not in README]
    assert missing == []


def test_every_option_is_in_the_readme():
    missing = []
    for path, sub in command_paths(build_parser()):
        for action in sub._actions:
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in README:
                    missing.append(f"{' '.join(path)} {option}")
    assert missing == []


def every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from every_parser(sub)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_help_page_prints(language):
    """Found by hand: ``koprogo-node ledger --help`` ended in a traceback (a
    bare "%" in a command's help, which argparse formats)."""
    i18n.set_language(language)
    try:
        parsers = list(every_parser(build_parser()))
        assert len(parsers) > 40
        for parser in parsers:
            assert parser.prog in parser.format_help()
    finally:
        i18n.set_language("en")
