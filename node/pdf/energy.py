"""The summary of a group energy purchase campaign for the general
assembly (issue 6, DOMAIN §11).

One document, in the assembly's language: the campaign (state, energies,
contract sought, deadline for taking part and the assembly's mandate),
participation and the k-anonymous figures per energy, the offers received
side by side with their green score and the building's estimated savings,
the offer chosen, and how the owners' data was protected.

The figures obey the rule the relay and the node apply
(:data:`shared.energy.K_ANONYMITY`): below 5 verified participants the
document prints no kWh at all, only why; above, the total, the average and
the median — never a minimum or a maximum. The input is refused when it
breaks that rule, so that no caller can print what the building may not
show.

Built from plain frozen values that the energy service fills in; nothing
here reads the clock or a campaign document.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, format_percent
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, TableStyle

from shared.energy import (
    ENERGY_TYPES,
    K_ANONYMITY,
    MILLICENTS_PER_EURO,
    Offer,
    green_score,
)

from ..domain.energy import (
    ENERGY_LABELS,
    RETENTION_DAYS,
    STATUS_LABELS,
    ContractType,
    Figures,
    Status,
)
from ..errors import InputError
from ..i18n import BABEL_LOCALES, LANGUAGES, N_, _, translator
from .fonts import font_set_for, texts_of
from .layout import ACCENT, TEXT_WIDTH, Column, Kit, Letterhead, Section, Translate, render

TITLE = N_("Group energy purchase: summary for the general assembly")

CONTRACT_LABELS = {
    ContractType.FIXED: N_("fixed price"),
    ContractType.VARIABLE: N_("variable price"),
}

CHOSEN_FILL = colors.HexColor("#e3efe0")

_DASH = "—"


# -- checking the input ----------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


def _whole(value: object, low: int = 0, high: int | None = None) -> bool:
    """A whole number (not a bool) within ``low``–``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        return False
    return value >= low and (high is None or value <= high)


def _check_energy(energy: object) -> None:
    _require(
        energy in ENERGY_TYPES,
        _("Unknown energy {value!r}: electricity or gas.").format(value=energy),
    )


@dataclass(frozen=True)
class EnergyFigures:
    """What the building may show for one energy (:class:`node.domain.energy.Figures`).

    ``participants`` are the verified, consenting owners' units;
    ``units`` those that could take part; ``rate_pct`` the participation
    rate in whole percent. The yearly kWh (total, average, median) are
    given together from :data:`~shared.energy.K_ANONYMITY` participants on,
    and are all ``None`` below."""

    energy: str
    participants: int
    units: int
    rate_pct: int
    total_kwh: int | None = None
    average_kwh: int | None = None
    median_kwh: int | None = None

    def __post_init__(self) -> None:
        _check_energy(self.energy)
        _require(
            _whole(self.participants) and _whole(self.units) and self.participants <= self.units,
            _("The participants in {energy} must be between zero and the number of units.").format(
                energy=self.energy
            ),
        )
        _require(
            _whole(self.rate_pct, 0, 100),
            _("The participation rate must be a whole percentage from 0 to 100."),
        )
        amounts = (self.total_kwh, self.average_kwh, self.median_kwh)
        given = [a is not None for a in amounts]
        _require(
            all(given) or not any(given),
            _("Give the total, the average and the median together, or none of them."),
        )
        _require(
            all(a is None or _whole(a) for a in amounts),
            _("A consumption is a whole number of kWh, zero or more."),
        )
        if self.participants < K_ANONYMITY:
            _require(
                not any(given),
                _(
                    "Consumption figures of fewer than {k} participants may not be shown: "
                    "someone's consumption could be guessed."
                ).format(k=K_ANONYMITY),
            )
        else:
            _require(
                all(given),
                _(
                    "With {k} participants or more, give the total, the average and the median."
                ).format(k=K_ANONYMITY),
            )

    @property
    def shown(self) -> bool:
        return self.total_kwh is not None

    @classmethod
    def from_figures(cls, figures: Figures) -> EnergyFigures:
        """The figures the energy service keeps for a campaign."""
        return cls(
            figures.energy,
            figures.participants,
            figures.units,
            figures.rate_pct,
            figures.total_kwh,
            figures.average_kwh,
            figures.median_kwh,
        )


@dataclass(frozen=True)
class OfferLine:
    """One offer received (:class:`shared.energy.Offer`) with the building's
    view of it. Money is in integer units: the price per kWh in millicents
    (1/100,000 €), the monthly fee and the savings in cents.
    ``green_score`` follows DOMAIN §11 (10, 5 or 0) and must agree with
    ``green_pct``; ``yearly_savings_cents`` is the building's estimate for
    its participants (:func:`node.domain.energy.estimated_savings_cents`)."""

    id: str
    provider: str
    pool: str  # "<energy>:<region>", e.g. "electricity:1"
    price_kwh_millicents: int
    fixed_monthly_fee_cents: int
    green_pct: int
    green_score: int
    contract_months: int
    estimated_savings_pct: int
    yearly_savings_cents: int
    valid_until: date

    def __post_init__(self) -> None:
        _require(bool(self.id.strip()), _("An offer needs its identifier."))
        _require(
            bool(self.provider.strip()),
            _("Offer {offer} needs the name of its provider.").format(offer=self.id),
        )
        energy, _sep, region = self.pool.partition(":")
        _require(
            energy in ENERGY_TYPES and len(region) == 1 and region in "123456789",
            _("Offer {offer}: unknown pool {pool!r} (energy:region, e.g. electricity:1).").format(
                offer=self.id, pool=self.pool
            ),
        )
        self._check_numbers()
        expected = green_score(self.green_pct)
        _require(
            self.green_score == expected,
            _("Offer {offer}: {percent} % green energy scores {expected}, not {score}.").format(
                offer=self.id, percent=self.green_pct, expected=expected, score=self.green_score
            ),
        )
        _require(
            isinstance(self.valid_until, date),
            _("Offer {offer} needs the date it is valid until.").format(offer=self.id),
        )

    def _check_numbers(self) -> None:
        bounds = {
            "price_kwh_millicents": (1, None),
            "fixed_monthly_fee_cents": (0, None),
            "green_pct": (0, 100),
            "contract_months": (1, 120),
            "estimated_savings_pct": (0, 100),
            "yearly_savings_cents": (0, None),
        }
        for name, (low, high) in bounds.items():
            if high is None:
                message = _("Offer {offer}: {field} must be a whole number, {low} or more.")
            else:
                message = _("Offer {offer}: {field} must be a whole number from {low} to {high}.")
            _require(
                _whole(getattr(self, name), low, high),
                message.format(offer=self.id, field=name, low=low, high=high),
            )

    @property
    def energy(self) -> str:
        return self.pool.partition(":")[0]

    @classmethod
    def from_offer(cls, offer: Offer, yearly_savings_cents: int) -> OfferLine:
        """An offer as the broker posted it, with the building's estimated
        yearly savings (the energy service's ``OfferView``)."""
        return cls(
            offer.id,
            offer.provider,
            offer.pool,
            offer.price_kwh_millicents,
            offer.fixed_monthly_fee_cents,
            offer.green_pct,
            green_score(offer.green_pct),
            offer.contract_months,
            offer.estimated_savings_pct,
            yearly_savings_cents,
            date.fromisoformat(offer.valid_until),
        )


@dataclass(frozen=True)
class CampaignSummary:
    """Everything the summary prints, in ``language`` (fr, nl, de, en).

    ``status`` is the campaign's state (:class:`node.domain.energy.Status`
    or its value), printed in the document's language. ``mandate`` names
    the assembly decision that allowed collecting data, as the syndic
    writes it (``AG du 15 mars 2027, point 3``), or is empty.
    ``chosen_offer`` is the identifier of the offer the final vote chose,
    or empty. ``generated_on`` is the document's date."""

    letterhead: Letterhead
    language: str
    name: str
    status: Status
    energy_types: tuple[str, ...]
    deadline: date | None
    contract_months: int
    contract_type: ContractType
    mandate: str
    figures: tuple[EnergyFigures, ...]
    offers: tuple[OfferLine, ...]
    chosen_offer: str
    generated_on: date

    def __post_init__(self) -> None:
        _require(
            self.language in LANGUAGES,
            _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES)),
        )
        _require(bool(self.name.strip()), _("The campaign needs a name."))
        _coerce(self, "status", Status, _("Unknown campaign state {value!r}."))
        _coerce(self, "contract_type", ContractType, _("A contract's price is fixed or variable."))
        _require(_whole(self.contract_months, 1, 120), _("A contract lasts from 1 to 120 months."))
        _require(
            bool(self.energy_types) and len(set(self.energy_types)) == len(self.energy_types),
            _("Choose the energies to buy: electricity, gas or both."),
        )
        for energy in self.energy_types:
            _check_energy(energy)
        figured = [f.energy for f in self.figures]
        _require(
            len(set(figured)) == len(figured) and set(figured) <= set(self.energy_types),
            _("Give the figures of each energy of the campaign once."),
        )
        self._check_offers()

    def _check_offers(self) -> None:
        ids = [offer.id for offer in self.offers]
        _require(
            len(set(ids)) == len(ids),
            _("Each offer appears once: two have the same identifier."),
        )
        for offer in self.offers:
            _require(
                offer.energy in self.energy_types,
                _("Offer {offer} is for an energy this campaign does not buy.").format(
                    offer=offer.id
                ),
            )
        _require(
            not self.chosen_offer or self.chosen_offer in ids,
            _("The chosen offer {offer} is not among the offers received.").format(
                offer=self.chosen_offer
            ),
        )

    @property
    def chosen(self) -> OfferLine | None:
        return next((o for o in self.offers if o.id == self.chosen_offer), None)


def _coerce(instance: object, name: str, kind: type, message: str) -> None:
    """Turn a plain string field of a frozen dataclass into its enum."""
    try:
        value = kind(getattr(instance, name))
    except ValueError:
        raise InputError(message.format(value=getattr(instance, name))) from None
    object.__setattr__(instance, name, value)


# -- words and numbers -----------------------------------------------------------------


def _printable(text: str) -> str:
    # Babel writes some spaces as U+202F, which the standard PDF fonts lack.
    return text.replace("\u202f", "\xa0")


def _kwh(kit: Kit, value: int) -> str:
    """``12 345 kWh`` with the language's thousands separator."""
    return f"{kit.number(value)}\xa0kWh"


def _percent(kit: Kit, whole: int) -> str:
    """``62 %`` (fr, de) or ``62%`` (nl, en)."""
    value = Decimal(whole) / 100
    return _printable(format_percent(value, locale=BABEL_LOCALES[kit.language]))


def _price_kwh(kit: Kit, millicents: int) -> str:
    """A price per kWh with four decimals, five when the fifth is not zero:
    ``0,2735 €`` / ``€ 0,27355`` / ``€0.2735``."""
    locale = BABEL_LOCALES[kit.language]
    pattern = Locale.parse(locale).currency_formats["standard"].pattern
    pattern = pattern.replace("0.00", "0.0000#")
    euros = Decimal(millicents) / MILLICENTS_PER_EURO
    text = format_currency(euros, "EUR", format=pattern, locale=locale, currency_digits=False)
    return _printable(text)


def _energy(kit: Kit, energy: str) -> str:
    return kit.gettext(ENERGY_LABELS[energy])


def _months(kit: Kit, months: int) -> str:
    ngettext = kit.ngettext
    return ngettext("{count} month", "{count} months", months).format(count=months)


# -- the document ----------------------------------------------------------------------


def _facts(kit: Kit, rows: Sequence[tuple[str, str]]) -> Flowable:
    """Label/value lines without frame."""
    data = [[kit.para(label, "label"), kit.para(value, "strong")] for label, value in rows]
    return kit.grid(
        data,
        [TEXT_WIDTH * 0.3, TEXT_WIDTH * 0.7],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ],
    )


def _campaign(summary: CampaignSummary, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    ngettext = kit.ngettext
    contract = ngettext(
        "{count} month, {price}", "{count} months, {price}", summary.contract_months
    ).format(count=summary.contract_months, price=_(CONTRACT_LABELS[summary.contract_type]))
    rows = [
        (_("Status"), _(STATUS_LABELS[summary.status])),
        (_("Energies"), ", ".join(_energy(kit, e) for e in summary.energy_types)),
        (_("Contract sought"), contract),
    ]
    if summary.deadline is not None:
        rows.append((_("Taking part until"), kit.day(summary.deadline)))
    mandate = summary.mandate.strip() or _("not given yet")
    rows.append((_("Assembly's mandate"), mandate))
    intro = _(
        "With their explicit consent, owners gave the yearly consumption of their units so "
        "that the building could ask suppliers for a group offer. This summary gives the "
        "assembly what it needs to decide."
    )
    return [
        kit.para(summary.name, "strong"),
        Spacer(0, 2 * mm),
        kit.para(intro),
        kit.para(_("The campaign"), "heading"),
        _facts(kit, rows),
    ]


def _figures(summary: CampaignSummary, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    story: list[Flowable] = [kit.para(_("Participation and consumption"), "heading")]
    if not summary.figures:
        return [*story, kit.para(_("No consumption has been gathered yet."))]
    columns = (
        Column(_("Energy"), 22),
        Column(_("Verified participants"), 22, "right"),
        Column(_("Units"), 14, "right"),
        Column(_("Participation"), 27, "right"),
        Column(_("Total per year"), 30, "right"),
        Column(_("Average"), 27, "right"),
        Column(_("Median"), 27, "right"),
    )
    rows = []
    for f in summary.figures:
        amounts = (f.total_kwh, f.average_kwh, f.median_kwh)
        kwh = [_kwh(kit, a) if a is not None else _DASH for a in amounts]
        rows.append(
            (
                _energy(kit, f.energy),
                kit.number(f.participants),
                kit.number(f.units),
                _percent(kit, f.rate_pct),
                *kwh,
            )
        )
    story += [kit.table(columns, rows), Spacer(0, 1.5 * mm)]
    story += [_hidden(kit, f) for f in summary.figures if not f.shown]
    note = _(
        "Yearly consumption of the verified participants. Only the total, the average and "
        "the median are shown, never a minimum or a maximum."
    )
    story.append(kit.para(note, "muted"))
    return story


def _hidden(kit: Kit, figures: EnergyFigures) -> Flowable:
    """Why an energy's row has no kWh (k-anonymity)."""
    ngettext = kit.ngettext
    text = ngettext(
        "{energy}: {count} verified participant. Nothing is shown below {k} participants, "
        "so that nobody's consumption can be guessed.",
        "{energy}: {count} verified participants. Nothing is shown below {k} participants, "
        "so that nobody's consumption can be guessed.",
        figures.participants,
    )
    energy = _energy(kit, figures.energy)
    return kit.para(text.format(energy=energy, count=figures.participants, k=K_ANONYMITY))


def _offer_table(summary: CampaignSummary, kit: Kit, offers: Sequence[OfferLine]) -> Flowable:
    _ = kit.gettext
    columns = (
        Column(_("Provider"), 25),
        Column(_("Price per kWh"), 18, "right"),
        Column(_("Monthly fee"), 16, "right"),
        Column(_("Green energy"), 15, "right"),
        Column(_("Green score"), 14, "right"),
        Column(_("Months"), 16, "right"),
        Column(_("Savings"), 16, "right"),
        Column(_("Yearly savings for the building"), 22, "right"),
        Column(_("Valid until"), 19, "right"),
    )
    rows = []
    for offer in offers:
        provider = offer.provider
        if offer.id == summary.chosen_offer:
            provider = _("{provider} (chosen)").format(provider=offer.provider)
        rows.append(
            (
                provider,
                _price_kwh(kit, offer.price_kwh_millicents),
                kit.money(offer.fixed_monthly_fee_cents),
                _percent(kit, offer.green_pct),
                f"{offer.green_score}/10",
                kit.number(offer.contract_months),
                _percent(kit, offer.estimated_savings_pct),
                kit.money(offer.yearly_savings_cents),
                kit.short_day(offer.valid_until),
            )
        )
    table = kit.table(columns, rows)
    for row, offer in enumerate(offers, start=1):
        if offer.id == summary.chosen_offer:
            table.setStyle(
                TableStyle(
                    [
                        ("BACKGROUND", (0, row), (-1, row), CHOSEN_FILL),
                        ("BOX", (0, row), (-1, row), 1, ACCENT),
                    ]
                )
            )
    return table


def _offers(summary: CampaignSummary, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    story: list[Flowable] = [kit.para(_("Offers received"), "heading")]
    if not summary.offers:
        return [*story, kit.para(_("No offer has been received yet."))]
    for energy in summary.energy_types:
        offers = [o for o in summary.offers if o.energy == energy]
        if offers:
            table = _offer_table(summary, kit, offers)
            story.append(KeepTogether([kit.para(_energy(kit, energy), "subheading"), table]))
    note = _(
        "Green score: 10 for 100 % green energy, 5 from 50 %, otherwise 0. The building's "
        "yearly savings are estimated from the participants' total consumption."
    )
    story += [Spacer(0, 1.5 * mm), kit.para(note, "muted"), *_choice(summary, kit)]
    return story


def _choice(summary: CampaignSummary, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    offer = summary.chosen
    if offer is None:
        text = _("No offer has been chosen yet: the assembly chooses by vote among these offers.")
        return [Spacer(0, 2 * mm), kit.para(text)]
    text = _(
        "Offer chosen: {provider} ({energy}), {price} per kWh and {fee} a month, "
        "for {months}, valid until {date}."
    ).format(
        provider=offer.provider,
        energy=_energy(kit, offer.energy),
        price=_price_kwh(kit, offer.price_kwh_millicents),
        fee=kit.money(offer.fixed_monthly_fee_cents),
        months=_months(kit, offer.contract_months),
        date=kit.day(offer.valid_until),
    )
    return [Spacer(0, 2 * mm), kit.para(text, "strong")]


def _privacy(kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    lines = (
        _(
            "Each owner's consumption could be read only on the owner's own devices and on "
            "the syndic's: it was stored and exchanged encrypted."
        ),
        _(
            "Only anonymous totals of at least {k} participants were shared with the broker, "
            "never a minimum or a maximum."
        ).format(k=K_ANONYMITY),
        _(
            "The data of each unit is deleted {days} days after the campaign ends; only the "
            "anonymous totals are kept."
        ).format(days=RETENTION_DAYS),
    )
    story: list[Flowable] = [kit.para(_("Privacy"), "heading")]
    story += [kit.para(line, "small") for line in lines]
    return [KeepTogether(story)]


def summary_section(summary: CampaignSummary, translate: Translate = translator) -> Section:
    """The summary as one section of a PDF (see :func:`node.pdf.layout.render`)."""
    kit = Kit(summary.language, translate(summary.language), font_set_for(texts_of(summary)))
    _ = kit.gettext
    story = [
        *_campaign(summary, kit),
        *_figures(summary, kit),
        *_offers(summary, kit),
        *_privacy(kit),
    ]
    return Section(
        kit=kit,
        title=_(TITLE),
        dated=summary.generated_on,
        story=tuple(story),
        footer=summary.name,
    )


def render_summary(summary: CampaignSummary, translate: Translate = translator) -> bytes:
    """The campaign's summary as PDF bytes in ``summary.language``; the same
    summary always gives the same bytes (nothing here reads the clock)."""
    section = summary_section(summary, translate)
    return render(
        [section],
        letterhead=summary.letterhead,
        title=section.title,
        subject=summary.name,
        made_on=summary.generated_on,
    )
