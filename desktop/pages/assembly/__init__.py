"""The general assemblies (issue 5): meetings and their preparation, the
session in the meeting room, remote ballots, and the results with the
minutes — all sharing the meeting chosen in :class:`~.base.AssemblyContext`."""

from __future__ import annotations

from .ballot import BallotPage
from .base import AssemblyContext, AssemblyPage
from .meetings import MeetingsPage
from .results import ResultsPage
from .room import SessionPage

ASSEMBLY_PAGES: tuple[tuple[str, type[AssemblyPage]], ...] = (
    ("assembly_meetings", MeetingsPage),
    ("assembly_session", SessionPage),
    ("assembly_ballot", BallotPage),
    ("assembly_results", ResultsPage),
)

__all__ = ["ASSEMBLY_PAGES", "AssemblyContext", "AssemblyPage"]
