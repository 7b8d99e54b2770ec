"""The accounting pages (issue 4, point 8): one module per page, all
sharing the fiscal year chosen in :class:`~.base.AccountsContext`."""

from __future__ import annotations

from .balances import BalancesPage
from .bank import BankPage
from .base import AccountsContext, AccountsPage
from .budgets import BudgetsPage
from .calls import CallsPage
from .chart_of_accounts import ChartPage
from .invoices import InvoicesPage
from .journals import JournalsPage
from .year_end import YearEndPage

ACCOUNT_PAGES: tuple[tuple[str, type[AccountsPage]], ...] = (
    ("accounts_chart", ChartPage),
    ("accounts_journals", JournalsPage),
    ("accounts_invoices", InvoicesPage),
    ("accounts_budgets", BudgetsPage),
    ("accounts_calls", CallsPage),
    ("accounts_bank", BankPage),
    ("accounts_balances", BalancesPage),
    ("accounts_year_end", YearEndPage),
)

__all__ = ["ACCOUNT_PAGES", "AccountsContext", "AccountsPage"]
