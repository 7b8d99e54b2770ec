"""The bookkeeping of an ACP: chart, ledger, allocations, budgets and calls
for funds, year-end statements — pure rules, no documents, no GUI."""
