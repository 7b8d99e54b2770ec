"""The tables of a campaign: who takes part, the building's figures, the
offers side by side and the audit trail — rows built from what the worker
read (:class:`~.data.CampaignData`), columns described once.

Also an owner's own opt-ins, read back with their key.

The figures table never has a minimum or a maximum column, and below
:data:`shared.energy.K_ANONYMITY` verified participants an energy's row
shows its count only: the node gives no amounts then, and the page says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from node.domain.energy import Figures
from node.i18n import N_, _
from node.i18n import format_instant as fmt_instant  # an ISO instant, local time
from node.services.energy import MyOptIn, OfferView, OptInRecord

from ...labels import fmt_date, fmt_eur, fmt_int, fmt_period
from ...table import Column
from .data import CampaignData, energy_label, event_label, fmt_kwh, fmt_price_kwh

# -- participation -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipationRow:
    id: str  # the opt-in's id, or "unit:<lot>" for a unit that does not take part
    unit: str
    owners: str
    record: OptInRecord | None

    @property
    def counts(self) -> bool:
        return self.record is not None and self.record.counts


def participation_rows(data: CampaignData) -> list[ParticipationRow]:
    rows = []
    taking_part = set()
    for record in data.optins:
        unit = data.unit(record.lot)
        taking_part.add(record.lot)
        rows.append(
            ParticipationRow(
                record.id,
                unit.number if unit else record.lot[-6:],
                data.name(record.person),
                record,
            )
        )
    for unit in data.units:
        if unit.id not in taking_part:
            owners = ", ".join(sorted(data.name(p) for p in unit.persons))
            rows.append(ParticipationRow(f"unit:{unit.id}", unit.number, owners, None))
    return rows


def _consent(row: ParticipationRow) -> str:
    record = row.record
    if record is None:
        return _("Not taking part")
    if not record.consent_valid:
        return _("The consent's signature does not verify")
    if record.withdrawn_at:
        return _("Withdrawn on {day}").format(day=fmt_instant(record.withdrawn_at)[:10])
    return _("Given on {day}").format(day=fmt_instant(record.given_at)[:10])


def _verified(row: ParticipationRow) -> str:
    if row.record is None:
        return ""
    return _("Verified") if row.record.verified else _("Not yet")


def _period(row: ParticipationRow) -> str:
    record = row.record
    return fmt_period(record.period_start, record.period_end) if record else ""


def _bad_consent(row: ParticipationRow) -> bool:
    return row.record is not None and not row.record.consent_valid


PARTICIPATION_COLUMNS = (
    Column(N_("Unit"), lambda r: r.unit),
    Column(N_("Owner"), lambda r: r.owners),
    Column(N_("Energy"), lambda r: energy_label(r.record.energy_type) if r.record else ""),
    Column(N_("Bill period"), _period),
    Column(N_("Consent"), _consent, warn=_bad_consent, muted=lambda r: r.record is None),
    Column(N_("Bill"), _verified, muted=lambda r: r.record is not None and not r.record.verified),
    Column(
        N_("Counts"),
        lambda r: (_("Yes") if r.counts else _("No")) if r.record else "",
        strong=lambda r: r.counts,
    ),
)


def participation_summary(data: CampaignData) -> str:
    taking_part = {r.lot for r in data.optins if not r.withdrawn_at and r.consent_valid}
    verified = sum(1 for r in data.optins if r.counts)
    return _(
        "Units that may take part: {units} · opted in: {opted} · verified and counted: {verified}"
    ).format(units=len(data.units), opted=len(taking_part), verified=verified)


# -- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    figures: Figures
    published: str

    @property
    def id(self) -> str:
        return self.figures.energy


def _hidden(row: FigureRow) -> bool:
    return not row.figures.shown


FIGURE_COLUMNS = (
    Column(N_("Energy"), lambda r: energy_label(r.figures.energy)),
    Column(
        N_("Verified participants"),
        lambda r: fmt_int(r.figures.participants),
        sort=lambda r: r.figures.participants,
        numeric=True,
    ),
    Column(N_("Units"), lambda r: fmt_int(r.figures.units), numeric=True),
    Column(N_("Participation"), lambda r: f"{r.figures.rate_pct} %", numeric=True),
    Column(N_("Total a year"), lambda r: fmt_kwh(r.figures.total_kwh), numeric=True, muted=_hidden),
    Column(N_("Average"), lambda r: fmt_kwh(r.figures.average_kwh), numeric=True, muted=_hidden),
    Column(N_("Median"), lambda r: fmt_kwh(r.figures.median_kwh), numeric=True, muted=_hidden),
    Column(
        N_("In the pool"),
        lambda r: (
            _("since {moment}").format(moment=fmt_instant(r.published)) if r.published else _("No")
        ),
    ),
)


def figure_rows(data: CampaignData) -> list[FigureRow]:
    return [FigureRow(f, data.published.get(f.energy, "")) for f in data.figures]


# -- offers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfferRow:
    view: OfferView
    label: str  # how a poll names it
    chosen: bool

    @property
    def id(self) -> str:
        return self.view.offer.id


def offer_rows(data: CampaignData) -> list[OfferRow]:
    return [
        OfferRow(v, data.offer_labels.get(v.offer.id, ""), v.offer.id == data.info.chosen_offer)
        for v in data.offers
    ]


def _chosen(row: OfferRow) -> bool:
    return row.chosen


def _provider(row: OfferRow) -> str:
    if row.chosen:
        return _("{provider} ✓ chosen").format(provider=row.view.offer.provider)
    return row.view.offer.provider


OFFER_COLUMNS = (
    Column(N_("Provider"), _provider, tooltip=lambda r: r.label, strong=_chosen),
    Column(
        N_("Energy"),
        lambda r: energy_label(r.view.offer.pool.split(":", 1)[0]),
        sort=lambda r: (r.view.offer.pool, r.view.offer.price_kwh_millicents, r.id),
    ),
    Column(
        N_("Price per kWh"),
        lambda r: fmt_price_kwh(r.view.offer.price_kwh_millicents),
        sort=lambda r: r.view.offer.price_kwh_millicents,
        numeric=True,
    ),
    Column(
        N_("Monthly fee"),
        lambda r: fmt_eur(r.view.offer.fixed_monthly_fee_cents),
        sort=lambda r: r.view.offer.fixed_monthly_fee_cents,
        numeric=True,
    ),
    Column(
        N_("Green share"),
        lambda r: f"{r.view.offer.green_pct} %",
        sort=lambda r: r.view.offer.green_pct,
        numeric=True,
    ),
    Column(
        N_("Green score"),
        lambda r: _("{score}/10").format(score=r.view.green_score),
        sort=lambda r: r.view.green_score,
        numeric=True,
        tooltip=lambda r: _("10 from 100 % green energy, 5 from 50 %, else 0"),
    ),
    Column(
        N_("Contract"),
        lambda r: _("{n} months").format(n=r.view.offer.contract_months),
        sort=lambda r: r.view.offer.contract_months,
        numeric=True,
    ),
    Column(
        N_("Savings"),
        lambda r: f"{r.view.offer.estimated_savings_pct} %",
        sort=lambda r: r.view.offer.estimated_savings_pct,
        numeric=True,
    ),
    Column(
        N_("Building, a year"),
        lambda r: fmt_eur(r.view.yearly_savings_cents) if r.view.yearly_savings_cents else "—",
        sort=lambda r: r.view.yearly_savings_cents,
        numeric=True,
        tooltip=lambda r: _(
            "The building's estimated savings a year: the verified participants' yearly kWh, "
            "at the offer's announced saving"
        ),
    ),
    Column(
        N_("Valid until"),
        lambda r: (
            _("{day} (expired)").format(day=fmt_date(r.view.offer.valid_until))
            if r.view.expired
            else fmt_date(r.view.offer.valid_until)
        ),
    ),
)


# -- audit trail ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRow:
    id: str
    at: str
    event: str
    subject: str
    person: str


def audit_rows(data: CampaignData) -> list[AuditRow]:
    units = {r.id: data.unit(r.lot) for r in data.optins}
    rows = []
    for event in data.audit:
        subject = str(event.get("subject", ""))
        if subject == data.id:
            what = _("The campaign")
        elif units.get(subject) is not None:
            what = _("Opt-in for unit {unit}").format(unit=units[subject].number)
        else:
            what = _("Opt-in {id}").format(id=subject[-6:])
        person = str(event.get("person", ""))
        rows.append(
            AuditRow(
                str(event.get("id", "")),
                str(event.get("at", "")),
                event_label(str(event.get("event", ""))),
                what,
                data.name(person) if person else "",
            )
        )
    return rows


AUDIT_COLUMNS = (
    Column(N_("When"), lambda r: fmt_instant(r.at), sort=lambda r: (r.at, r.id)),
    Column(N_("Event"), lambda r: r.event),
    Column(N_("About"), lambda r: r.subject),
    Column(N_("Person"), lambda r: r.person),
)


# -- an owner's own data ------------------------------------------------------------------------


@dataclass(frozen=True)
class MyRow:
    mine: MyOptIn
    unit: str

    @property
    def id(self) -> str:
        return self.mine.record.id


def _kwh_text(row: MyRow) -> str:
    return ", ".join(
        _("{energy} {kwh} kWh").format(energy=energy_label(e), kwh=fmt_int(v))
        for e, v in sorted(row.mine.kwh.items())
    )


def _status(row: MyRow) -> str:
    record = row.mine.record
    if record.withdrawn_at:
        return _("Consent withdrawn on {day}: it no longer counts").format(
            day=fmt_instant(record.withdrawn_at)[:10]
        )
    if not record.consent_valid:
        return _("The consent's signature does not verify: it does not count")
    if not record.verified:
        return _("Waiting for the syndic to check your bill")
    return _("Verified: counts in the building's figures")


MY_COLUMNS = (
    Column(N_("Unit"), lambda r: r.unit),
    Column(N_("Consumption"), _kwh_text),
    Column(
        N_("Bill period"),
        lambda r: fmt_period(r.mine.record.period_start, r.mine.record.period_end),
    ),
    Column(N_("Given on"), lambda r: fmt_instant(r.mine.record.given_at)),
    Column(N_("Status"), _status, warn=lambda r: not r.mine.record.consent_valid),
)
