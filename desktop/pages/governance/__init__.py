"""The council, the auditor of accounts, the syndic's mandate and the
syndic's tasks (issue 5, point 6): pages of the syndic's device only,
sharing what the worker read for them in :class:`~.base.GovernanceContext`,
and the band that tells the syndic at start-up that tasks are waiting."""

from __future__ import annotations

from .auditor import AuditorPage
from .base import GovernanceContext, GovernancePage
from .council import CouncilPage
from .syndic import SyndicPage
from .tasks import TaskAlert, TasksPage

GOVERNANCE_PAGES: tuple[tuple[str, type[GovernancePage]], ...] = (
    ("governance_tasks", TasksPage),
    ("governance_council", CouncilPage),
    ("governance_auditor", AuditorPage),
    ("governance_syndic", SyndicPage),
)

TASKS_PAGE = "governance_tasks"

__all__ = ["GOVERNANCE_PAGES", "TASKS_PAGE", "GovernanceContext", "GovernancePage", "TaskAlert"]
