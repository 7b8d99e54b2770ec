"""``koprogo-node ledger ...``: the accounting operations a script needs
(issue 4, point 9), each with ``--json`` where it answers with data."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from typing import Any

from .domain.accounting.calls import BudgetKind, Fund, Schedule
from .domain.accounting.ledger import Journal
from .domain.registry import parse_date
from .errors import InputError
from .i18n import _, ngettext
from .services.ledger import InvoiceLine, parse_amount


def _day(text: str | None, default: date | None = None) -> date:
    if not text:
        if default is None:
            raise InputError(_("Give a date (YYYY-MM-DD)."))
        return default
    day = parse_date(text)
    assert day is not None
    return day


def _pairs(items: list[str], what: str) -> list[tuple[str, str, str | None]]:
    """``ACCOUNT=AMOUNT[:KEY]`` → (account, amount text, key)."""
    out = []
    for item in items:
        account, sep, rest = item.partition("=")
        if not sep or not account.strip() or not rest.strip():
            raise InputError(
                _("Write each {what} as ACCOUNT=AMOUNT (e.g. 611=1234.56), not {item!r}.").format(
                    what=what, item=item
                )
            )
        amount, _sep, key = rest.partition(":")
        out.append((account.strip(), amount, key.strip() or None))
    return out


def _print(data: Any, as_json: bool, text: Callable[[Any], str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False, default=str))
    else:
        print(text(data))


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


# -- commands ------------------------------------------------------------------------------


def cmd_invoice_add(args: argparse.Namespace, open_session: Callable) -> int:
    pairs = [(a, parse_amount(x), k or "general") for a, x, k in _pairs(args.line, _("line"))]
    with open_session(args) as session:
        day = _day(args.date)
        lines = [
            InvoiceLine(a, amount, _key_id(session, k), args.label or "") for a, amount, k in pairs
        ]
        change = session.ledger.add_invoice(
            args.supplier, args.number, day, _day(args.due) if args.due else None, lines
        )
        invoice = session.ledger.invoices(session.ledger.year_of(day).label)[change.record_id]
        allocation = session.ledger.allocation(change.record_id)
    _print(
        {
            "id": change.record_id,
            "entry": invoice["entry"],
            "total": sum(x["amount"] for x in invoice["lines"]),
            "allocation": allocation,
        },
        args.json,
        lambda d: d["id"],
    )
    return 0


def _key_id(session: Any, ref: str) -> str:
    """A key by id or by (case-insensitive) name: the start of its name or
    of one of its names in another language ("Ascenseur / Lift" is "Lift")."""
    if ref == "general":
        return ref
    keys = session.registry.read().keys
    for key in keys:
        if ref in (key.id, key.name):
            return key.id
    wanted = ref.casefold().strip()
    found = [
        key
        for key in keys
        if wanted
        and any(
            part.strip().casefold().startswith(wanted) for part in (key.name, *key.name.split("/"))
        )
    ]
    if len(found) == 1:
        return found[0].id
    if found:
        raise InputError(
            _("{key} could be several distribution keys: {names}.").format(
                key=ref, names=", ".join(sorted(k.name for k in found))
            )
        )
    raise InputError(_("There is no distribution key {key}.").format(key=ref))


def cmd_invoice_pay(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        print(session.ledger.pay_invoice(args.id, _day(args.date)).record_id)
    return 0


def cmd_budget_set(args: argparse.Namespace, open_session: Callable) -> int:
    lines = {a: parse_amount(x) for a, x, _k in _pairs(args.line, _("line"))}
    kind = BudgetKind(args.kind)
    with open_session(args) as session:
        session.ledger.set_budget(args.year, kind, lines)
        total = session.ledger.budget(args.year, kind).total
    _print(
        {"year": args.year, "kind": kind.value, "lines": lines, "total": total},
        args.json,
        lambda d: _euros(d["total"]),
    )
    return 0


def cmd_calls_generate(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        key = _key_id(session, args.key)
        made = session.ledger.generate_calls(
            args.year,
            Fund(args.fund),
            Schedule(args.schedule),
            parse_amount(args.amount) if args.amount else None,
            key,
            _day(args.date) if args.date else None,
        )
        calls = session.ledger.calls(args.year)
        data = [
            {
                "id": c,
                "due": calls[c]["due"],
                "amount": calls[c]["amount"],
                "shares": calls[c]["shares"],
            }
            for c in made
        ]
    _print(
        data,
        args.json,
        lambda d: (
            "\n".join(f"{c['id']}  {c['due']}  {_euros(c['amount'])}" for c in d)
            or _("No new call.")
        ),
    )
    return 0


def cmd_payment_add(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        change = session.ledger.record_payment(
            session.registry.person_named(args.person).id,  # an id or a name
            parse_amount(args.amount),
            _day(args.date),
            args.reference,
            Fund(args.fund),
        )
        print(change.record_id)
    return 0


def cmd_balances(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        today = _day(args.at, date.today())
        rows = session.ledger.balances(args.year, today)
    data = [
        {
            "person": r.person,
            "name": r.name,
            "balance": r.balance,
            "ageing": dict(zip(("0-30", "31-60", "61-90", "90+"), r.ageing, strict=True)),
        }
        for r in rows
    ]
    _print(
        data,
        args.json,
        lambda d: "\n".join(f"{r['name']:<30} {_euros(r['balance']):>12}" for r in d),
    )
    return 0


def cmd_entries(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        view = session.ledger.view(args.year)
    journals = [Journal(args.journal)] if args.journal else list(Journal)
    data = []
    for journal in journals:
        for number, entry in view.numbered(journal, args.year):
            data.append(
                {
                    "number": number,
                    "definitive": entry.id in view.numbers,  # fixed at the year's closing
                    "id": entry.id,
                    "date": entry.date,
                    "journal": journal.value,
                    "reference": entry.reference,
                    "description": entry.description,
                    "reverses": entry.reverses,
                    "lines": [
                        {
                            "account": x.account,
                            "debit": x.debit,
                            "credit": x.credit,
                            "person": x.person,
                            "lot": x.lot,
                            "key": x.key,
                        }
                        for x in entry.lines
                    ],
                }
            )
    _print(data, args.json, _entries_text)
    return 0


def _entries_text(entries: list[dict[str, Any]]) -> str:
    lines = [
        f"{e['number']}{'' if e['definitive'] else '*'}  {e['date']}  "
        f"{e['reference']:<14} {e['description']}"
        for e in entries
    ]
    if not all(e["definitive"] for e in entries):
        lines.append(_("* provisional number: it is fixed when the fiscal year is closed."))
    return "\n".join(lines)


def cmd_reverse(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        print(session.ledger.reverse(args.entry, _day(args.date)).record_id)
    return 0


def cmd_close_year(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        if args.amend:
            session.ledger.amend_closing(args.year)
        else:
            session.ledger.close_year(args.year)
        result = session.ledger.view(args.year + 1).balance("140")
    _print(
        {"closed": args.year, "opened": args.year + 1, "result_carried": -result},
        args.json,
        lambda d: _("Fiscal year {year} closed.").format(year=d["closed"]),
    )
    return 0


def cmd_check(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        problems = session.ledger.problems(args.year)
    _print(problems, args.json, lambda d: "\n".join(f"- {p}" for p in d) or _("No problems found."))
    return 0


def cmd_reserve(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        if args.waive:
            session.ledger.record_reserve_waiver(args.year, args.waive)
        check, basis = session.ledger.reserve_fund_check(args.year)
    data = {
        "year": args.year,
        "minimum": check.minimum,
        "planned": check.planned,
        "required": check.required,
        "ok": check.ok,
        "reason": check.reason,
        "basis": basis,
    }

    def words(d: dict) -> str:
        if not d["required"]:
            why = (
                _("waived by the assembly")
                if d["reason"] == "waived"
                else _("within five years of the provisional acceptance")
            )
            return _("No minimum this year ({why}).").format(why=why)
        state = _("met") if d["ok"] else _("NOT met")
        return _("Reserve fund: {planned} called, minimum {minimum}: {state}.").format(
            planned=_euros(d["planned"]), minimum=_euros(d["minimum"]), state=state
        )

    _print(data, args.json, words)
    return 0


def cmd_coda_import(args: argparse.Namespace, open_session: Callable) -> int:
    from pathlib import Path

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise InputError(
            _("Cannot read {path}: {error}").format(path=args.file, error=exc.strerror)
        ) from None
    with open_session(args) as session:
        report = session.bank.import_coda(data)
    data_out = {
        "statements": report.statements,
        "movements": report.movements,
        "matched": report.matched,
        "queued": report.queued,
        "matched_amount": report.matched_amount,
    }
    _print(
        data_out,
        args.json,
        lambda d: " ".join(  # found by hand: "1 movements imported: 1 payments matched"
            (
                ngettext(
                    "{n} movement imported:", "{n} movements imported:", d["movements"]
                ).format(n=d["movements"]),
                ngettext("{n} payment matched,", "{n} payments matched,", d["matched"]).format(
                    n=d["matched"]
                ),
                _("{n} left to match.").format(n=d["queued"]),
            )
        ),
    )
    return 0


def cmd_queue(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        rows = session.bank.queue()

    def line(r: dict) -> str:
        who = r["name"] or r["communication"]
        return f"{r['id']}  {r['date']}  {_euros(int(r['amount'])):>12}  {who}"

    _print(rows, args.json, lambda d: "\n".join(line(r) for r in d) or _("Nothing left to match."))
    return 0


def cmd_match(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        change = session.bank.resolve(
            args.item,
            _day(args.date) if args.date else None,
            # an id or a name (found by hand: "There is no person with id Jan Peeters")
            person=session.registry.person_named(args.person).id if args.person else None,
            fund=Fund(args.fund),
            invoice=args.invoice,
            account=args.account,
            key=_key_id(session, args.key) if args.key else None,
        )
        print(change.record_id)
    return 0


def _write_pdf(path: str, data: bytes) -> None:
    from pathlib import Path

    from .files import write_document

    write_document(Path(path), data)


def cmd_calls_pdf(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        data = (
            session.documents.call_notice_pdf(args.call, args.person)
            if args.person
            else session.documents.call_notices_pdf(args.call)
        )
    _write_pdf(args.pdf, data)
    print(args.pdf)
    return 0


def cmd_statement(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        person = session.registry.person_named(args.owner)  # an id, or a name
        statement = session.documents.charge_statement(person.id, args.year, person.language)
        if args.pdf:
            _write_pdf(args.pdf, session.documents.charge_statement_pdf(person.id, args.year))
    data = {
        "person": statement.person,
        "name": statement.name,
        "year": statement.year,
        "charges": statement.charges,
        "provisions": statement.provisions,
        "paid": statement.paid,
        "regularisation": statement.regularisation,
        "brought_forward": statement.brought_forward,
        "balance": statement.balance,
        "reserve_called": statement.reserve_called,
        "lots": [
            {
                "lot": lot.number,
                "total": lot.total,
                "lines": [
                    {
                        "account": x.account,
                        "label": x.label,
                        "key": x.key,
                        "building_total": x.building_total,
                        "lot_share": x.lot_share,
                        "own_share": x.own_share,
                    }
                    for x in lot.lines
                ],
            }
            for lot in statement.lots
        ],
    }
    _print(
        data,
        args.json,
        lambda d: _(
            "{name}: charges {charges}, called {called}, paid {paid}, balance {balance}."
        ).format(
            name=d["name"],
            charges=_euros(d["charges"]),
            called=_euros(d["provisions"]),
            paid=_euros(d["paid"]),
            balance=_euros(d["balance"]),
        ),
    )
    return 0


def cmd_report(args: argparse.Namespace, open_session: Callable) -> int:
    from .domain.accounting.statements import (
        balance_sheet,
        budget_versus_actual,
        income_statement,
        simplified_report,
    )

    language = args.report_language
    with open_session(args) as session:
        view = session.ledger.view(args.year)
        budget = session.ledger.budget(args.year, BudgetKind.ORDINARY)
        sheet = balance_sheet(view, language)
        income = income_statement(view, language)
        versus = budget_versus_actual(view, dict(budget.lines), language)
        simplified = not session.registry.facts().full_accounting_mandatory
        short = simplified_report(view)

    def rows(items: Any) -> list[dict]:
        return [{"account": r.account, "label": r.label, "amount": r.amount} for r in items]

    data = {
        "year": args.year,
        "presentation": "simplified" if simplified else "full",
        "balance_sheet": {
            "assets": rows(sheet.assets),
            "liabilities": rows(sheet.liabilities),
            "total_assets": sheet.total_assets,
            "total_liabilities": sheet.total_liabilities,
        },
        "income_statement": {
            "charges": rows(income.charges),
            "income": rows(income.income),
            "total_charges": income.total_charges,
            "total_income": income.total_income,
            "result": income.result,
        },
        "simplified": {
            name: getattr(short, name)
            for name in (
                "income",
                "expenses",
                "cash",
                "working_fund",
                "reserve_fund",
                "owners_owe",
                "owners_advance",
                "debts",
            )
        },
        "budget_versus_actual": [
            {
                "account": r.account,
                "label": r.label,
                "budget": r.budget,
                "actual": r.actual,
                "difference": r.difference,
            }
            for r in versus
        ],
    }
    _print(
        data,
        args.json,
        lambda d: "\n".join(
            [
                f"{r['account']:<6} {r['label']:<45} {_euros(r['amount']):>12}"
                for r in d["income_statement"]["charges"] + d["income_statement"]["income"]
            ]
            + [_("Result: {result}").format(result=_euros(d["income_statement"]["result"]))]
        ),
    )
    return 0


def cmd_deliver(args: argparse.Namespace, open_session: Callable) -> int:
    with open_session(args) as session:
        sent = session.documents.deliver_calls(args.year)
        if args.statements:
            sent += session.documents.deliver_statements(args.year)
    _print(
        {"delivered": sent},
        args.json,
        lambda d: ngettext(
            "{n} item put in owners' inboxes.", "{n} items put in owners' inboxes.", d["delivered"]
        ).format(n=d["delivered"]),
    )
    return 0


def cmd_account_add(args: argparse.Namespace, open_session: Callable) -> int:
    labels = {
        k: v for k, v in (("fr", args.fr), ("nl", args.nl), ("de", args.de), ("en", args.en)) if v
    }
    with open_session(args) as session:
        session.ledger.add_account(args.year, args.number, labels)
    return 0


def add_commands(sub: Any, add: Callable, open_session: Callable, parser_class: type) -> None:
    """Register ``ledger ...`` on ``koprogo-node``'s parser."""

    def cmd(func: Callable) -> Callable:
        return lambda a: func(a, open_session)

    ledger = add(sub, "ledger", lambda a: 0, "the accounts: invoices, budgets, calls, payments")
    lsub = ledger.add_subparsers(dest="ledger_action", required=True, parser_class=parser_class)

    invoice = add(lsub, "invoice", lambda a: 0, "supplier invoices")
    isub = invoice.add_subparsers(dest="invoice_action", required=True, parser_class=parser_class)
    p = add(isub, "add", cmd(cmd_invoice_add), "record and post a supplier invoice")
    p.add_argument("--supplier", required=True)
    p.add_argument("--number", required=True, help="the supplier's invoice number")
    p.add_argument("--date", required=True)
    p.add_argument("--due")
    p.add_argument(
        "--line",
        action="append",
        default=[],
        metavar="ACCOUNT=AMOUNT[:KEY]",
        help="an expense line; KEY is a special key's name or id (default: quotas)",
    )
    p.add_argument("--label", help="a label for the lines")
    p.add_argument("--json", action="store_true")
    p = add(isub, "pay", cmd(cmd_invoice_pay), "pay an invoice from the bank account")
    p.add_argument("id")
    p.add_argument("--date", required=True)

    budget = add(lsub, "budget", lambda a: 0, "the yearly budgets")
    bsub = budget.add_subparsers(dest="budget_action", required=True, parser_class=parser_class)
    p = add(bsub, "set", cmd(cmd_budget_set), "set a budget's lines")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--kind", choices=[k.value for k in BudgetKind], default="ordinary")
    p.add_argument("--line", action="append", default=[], metavar="ACCOUNT=AMOUNT")
    p.add_argument("--json", action="store_true")

    calls = add(lsub, "calls", lambda a: 0, "calls for funds")
    csub = calls.add_subparsers(dest="calls_action", required=True, parser_class=parser_class)
    p = add(
        csub,
        "generate",
        cmd(cmd_calls_generate),
        "generate a year's calls for a fund from its budget or amount",
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--fund", choices=[f.value for f in Fund], default="working")
    p.add_argument("--schedule", choices=[s.value for s in Schedule], default="quarterly")
    p.add_argument("--amount", help="the yearly amount (default: the ordinary budget)")
    p.add_argument("--key", default="general", help="a special key's name or id")
    p.add_argument("--date", help="the due date of a one-off call")
    p.add_argument("--json", action="store_true")

    payment = add(lsub, "payment", lambda a: 0, "owners' payments")
    psub = payment.add_subparsers(dest="payment_action", required=True, parser_class=parser_class)
    p = add(psub, "add", cmd(cmd_payment_add), "record a payment received from an owner")
    p.add_argument("--person", required=True)
    p.add_argument("--amount", required=True)
    p.add_argument("--date", required=True)
    p.add_argument("--reference", default="-")
    p.add_argument("--fund", choices=[f.value for f in Fund], default="working")

    p = add(lsub, "balances", cmd(cmd_balances), "owners' balances with ageing")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--at", help="the day ageing is counted from (default: today)")
    p.add_argument("--json", action="store_true")

    p = add(lsub, "entries", cmd(cmd_entries), "the year's entries, numbered by journal")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--journal", choices=[j.value for j in Journal])
    p.add_argument("--json", action="store_true")

    p = add(lsub, "reverse", cmd(cmd_reverse), "correct a posted entry by its reversal")
    p.add_argument("entry")
    p.add_argument("--date", required=True)

    p = add(lsub, "close-year", cmd(cmd_close_year), "close a fiscal year, open the next")
    p.add_argument("year", type=int)
    p.add_argument(
        "--amend",
        action="store_true",
        help="carry entries that reached the closed year after its closing",
    )
    p.add_argument("--json", action="store_true")

    p = add(lsub, "check", cmd(cmd_check), "problems of a year's accounts")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--json", action="store_true")

    p = add(
        lsub,
        "reserve",
        cmd(cmd_reserve),
        "the reserve-fund minimum (5 %% of last year's charges) and its waiver",
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--waive", metavar="DECISION", help="record the assembly's 4/5 waiver")
    p.add_argument("--json", action="store_true")

    coda = add(lsub, "coda", lambda a: 0, "bank statements (CODA files)")
    cosub = coda.add_subparsers(dest="coda_action", required=True, parser_class=parser_class)
    p = add(
        cosub,
        "import",
        cmd(cmd_coda_import),
        "import a CODA file: match payments, queue the rest (all or nothing)",
    )
    p.add_argument("file")
    p.add_argument("--json", action="store_true")

    p = add(lsub, "queue", cmd(cmd_queue), "bank movements left to match by hand")
    p.add_argument("--json", action="store_true")
    p = add(
        lsub,
        "match",
        cmd(cmd_match),
        "match a queued movement to an owner, an invoice or an account",
    )
    p.add_argument("item")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--person")
    who.add_argument("--invoice")
    who.add_argument("--account")
    p.add_argument(
        "--key",
        help="with a charge account (class 6): the distribution key that splits it between "
        "the lots (default: the quotas)",
    )
    p.add_argument("--fund", choices=[f.value for f in Fund], default="working")
    p.add_argument("--date")

    p = add(csub, "pdf", cmd(cmd_calls_pdf), "the notices of a call as a PDF")
    p.add_argument("call", help="e.g. 2027-working-01")
    p.add_argument("--pdf", required=True, metavar="FILE")
    p.add_argument("--person", help="only this owner's notice")

    p = add(lsub, "statement", cmd(cmd_statement), "an owner's charge statement for a year")
    p.add_argument("--owner", required=True)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--pdf", metavar="FILE")
    p.add_argument("--json", action="store_true")

    p = add(
        lsub, "report", cmd(cmd_report), "balance sheet, income and expenses, budget versus actual"
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument(
        "--in",
        dest="report_language",
        default="fr",
        choices=["fr", "nl", "de", "en"],
        help="language of the account labels",
    )
    p.add_argument("--json", action="store_true")

    p = add(
        lsub, "deliver", cmd(cmd_deliver), "put each owner's calls (and statements) in their inbox"
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--statements", action="store_true", help="also the charge statements")
    p.add_argument("--json", action="store_true")

    account = add(lsub, "account", lambda a: 0, "sub-accounts of the chart")
    asub = account.add_subparsers(dest="account_action", required=True, parser_class=parser_class)
    p = add(asub, "add", cmd(cmd_account_add), "add a sub-account (e.g. 6120 under 612)")
    p.add_argument("number")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--fr")
    p.add_argument("--nl")
    p.add_argument("--de")
    p.add_argument("--en")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use koprogo-node ledger ...")
