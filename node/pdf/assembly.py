"""The general assembly's two documents (DOMAIN §3, Civil Code art.
3.87–3.88 and 3.92).

- The **convocation** (convocation / oproeping / Einberufung) sent to one
  owner in the owner's language: when and where, the owner's lots and
  votes, the agenda with the majority each item needs, how to take part
  from a distance when the convocation allows it, and a proxy form on its
  own page (art. 3.87 §7). :func:`render_convocation` gives one letter,
  :func:`render_convocations` many in one PDF, numbered letter by letter.
- The **minutes** (procès-verbal / notulen / Protokoll) of one meeting, in
  the assembly's language (art. 3.87 §10): attendance, the quorum at the
  opening, each resolution with its figures, the majority obtained and the
  names of the owners who voted against or abstained, and the signatures
  of the chair, the secretary and the owners still present. A written
  procedure (art. 3.87 §4) lists each owner's signed agreement instead.

Both are built from plain frozen values that the assembly service fills in
from the meeting's outcome (:mod:`node.domain.meeting`); nothing here
counts votes or reads the clock, so two devices holding the same records
print the same text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from babel.numbers import format_decimal
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer

from ..domain.assembly import Majority, Quorum, QuorumRule, challenge_until, minutes_due
from ..domain.meeting import MeetingKind, Mode
from ..errors import InputError
from ..i18n import BABEL_LOCALES, LANGUAGES, N_, _, translator
from . import formats
from .fonts import font_set_for, texts_of
from .layout import (
    INK,
    TEXT_WIDTH,
    Column,
    Kit,
    Letterhead,
    Recipient,
    Section,
    Translate,
    render,
    render_letter,
    render_letters,
)

MAJORITY_NAMES = {
    Majority.ABSOLUTE: N_("absolute majority (more than half of the votes cast)"),
    Majority.TWO_THIRDS: N_("two-thirds majority of the votes cast"),
    Majority.FOUR_FIFTHS: N_("four-fifths majority of the votes cast"),
    Majority.UNANIMITY: N_("unanimity of all owners"),
}

_CONVOCATION_TITLES = {
    (MeetingKind.ORDINARY, False): N_("Convocation to the ordinary general assembly"),
    (MeetingKind.EXTRAORDINARY, False): N_("Convocation to the extraordinary general assembly"),
    (MeetingKind.ORDINARY, True): N_("Convocation to the second ordinary general assembly"),
    (MeetingKind.EXTRAORDINARY, True): N_(
        "Convocation to the second extraordinary general assembly"
    ),
}

_CONVOCATION_INTROS = {
    MeetingKind.ORDINARY: N_(
        "We hereby convene you to the ordinary general assembly of the association."
    ),
    MeetingKind.EXTRAORDINARY: N_(
        "We hereby convene you to an extraordinary general assembly of the association."
    ),
}

_MINUTES_TITLES = {
    (MeetingKind.ORDINARY, False): N_("Minutes of the ordinary general assembly"),
    (MeetingKind.EXTRAORDINARY, False): N_("Minutes of the extraordinary general assembly"),
    (MeetingKind.ORDINARY, True): N_("Minutes of the second ordinary general assembly"),
    (MeetingKind.EXTRAORDINARY, True): N_("Minutes of the second extraordinary general assembly"),
    (MeetingKind.WRITTEN, False): N_("Written decision of the owners"),
}


# -- checking the input ----------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InputError(message)


def _check_language(language: str) -> None:
    _require(
        language in LANGUAGES,
        _("The language must be one of {choices}.").format(choices=", ".join(LANGUAGES)),
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _coerce(instance: object, name: str, kind: type[StrEnum], message: str) -> None:
    """Turn a plain string field of a frozen dataclass into its enum."""
    try:
        value = kind(getattr(instance, name))
    except ValueError:
        raise InputError(message.format(value=getattr(instance, name))) from None
    object.__setattr__(instance, name, value)


def _unique_numbers(numbers: Iterable[int], message: str) -> None:
    seen: set[int] = set()
    for number in numbers:
        _require(number not in seen, message.format(number=number))
        seen.add(number)


# -- the convocation -------------------------------------------------------------------


class Channel(StrEnum):
    """How the convocation reaches the owner (art. 3.87 §3)."""

    REGISTERED_MAIL = "registered_mail"
    EMAIL = "email"  # only with the owner's written agreement


@dataclass(frozen=True)
class AgendaItem:
    """One item of the agenda. ``reason`` is the English message of the
    decision's category (:data:`node.domain.assembly.DECISION_MAJORITIES`),
    translated when printed; ``text`` is the syndic's proposal, printed as is."""

    number: int
    title: str
    majority: Majority
    reason: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        _require(
            _whole(self.number) and self.number > 0,
            _("An agenda item needs a number above zero."),
        )
        _require(
            bool(self.title.strip()),
            _("Agenda item {number} needs a title.").format(number=self.number),
        )
        _coerce(self, "majority", Majority, _("Unknown majority {value!r}."))


@dataclass(frozen=True)
class LotVotes:
    """One of the owner's lots and the votes (quotas) it carries."""

    number: str
    votes: int

    def __post_init__(self) -> None:
        _require(bool(self.number.strip()), _("A lot needs a number."))
        _require(
            _whole(self.votes) and self.votes >= 0,
            _("The votes of lot {number} must be a whole number, zero or more.").format(
                number=self.number
            ),
        )


@dataclass(frozen=True)
class ConvocationLetter:
    """One owner's convocation to one meeting (art. 3.87 §3).

    ``starts`` and ``remote_until`` are local times. ``remote_terms`` are
    the syndic's own words on how to take part from a distance, printed as
    is and only when ``remote_allowed``. A second assembly (art. 3.87 §5)
    gives the date of the first one, which lacked the quorum. Whether the
    letter leaves in time (15 days, :func:`node.domain.assembly.convocation_in_time`)
    is for the caller to check: urgency may justify less."""

    letterhead: Letterhead
    language: str
    recipient: Recipient
    sent_on: date
    channel: Channel
    kind: MeetingKind
    title: str
    starts: datetime
    place: str
    lots: tuple[LotVotes, ...]
    quota_total: int
    agenda: tuple[AgendaItem, ...]
    remote_allowed: bool = False
    remote_terms: str = ""
    remote_until: datetime | None = None
    second_assembly: bool = False
    first_meeting: date | None = None
    reference: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        _check_language(self.language)
        _coerce(self, "channel", Channel, _("Unknown way of sending {value!r}."))
        _coerce(self, "kind", MeetingKind, _("Unknown kind of meeting {value!r}."))
        _require(
            self.kind.in_session,
            _("Only an ordinary or extraordinary assembly is convened by letter."),
        )
        _require(bool(self.place.strip()), _("A convocation needs the place of the meeting."))
        _require(bool(self.agenda), _("A convocation needs an agenda of at least one item."))
        _unique_numbers(
            (item.number for item in self.agenda), _("Agenda item {number} appears twice.")
        )
        _require(bool(self.lots), _("A convocation names at least one lot of the owner."))
        _require(
            _whole(self.quota_total) and self.quota_total > 0 and self.votes <= self.quota_total,
            _("The owner's votes must be between zero and the quota total."),
        )
        _require(
            self.sent_on <= self.starts.date(),
            _("A convocation cannot be sent after the meeting."),
        )
        _require(
            not self.second_assembly
            or (self.first_meeting is not None and self.first_meeting < self.starts.date()),
            _("A second assembly needs the date of the first one, before it."),
        )
        _require(
            not self.remote_allowed or bool(self.remote_terms.strip()),
            _("When owners may take part from a distance, the convocation must say how."),
        )

    @property
    def votes(self) -> int:
        return sum(lot.votes for lot in self.lots)


def _moment(kit: Kit, moment: datetime) -> str:
    _ = kit.gettext
    return _("{date} at {time}").format(date=kit.day(moment.date()), time=_clock(moment))


def _clock(moment: datetime) -> str:
    """``14:30``: the four languages write the time of day the same way."""
    return moment.strftime("%H:%M")


def _paragraphs(kit: Kit, text: str, style: str = "body") -> list[Flowable]:
    """Free text written by the syndic, one paragraph per line, printed as is."""
    return [kit.para(line, style) for line in text.splitlines() if line.strip()]


def _subtitle(kit: Kit, title: str) -> list[Flowable]:
    """The syndic's own title of the meeting ("AGO 2027"), under the document's."""
    return [kit.para(title, "strong"), Spacer(0, 2 * mm)] if title.strip() else []


def _lots_and_votes(kit: Kit, lots: Sequence[LotVotes]) -> str:
    return ", ".join(f"{lot.number} ({kit.number(lot.votes)})" for lot in lots)


def _facts(kit: Kit, rows: Sequence[tuple[str, str]]) -> Flowable:
    """Label/value lines (the meeting's date, place, votes) without frame."""
    data = [[kit.para(label, "label"), kit.para(value, "strong")] for label, value in rows]
    return kit.grid(
        data,
        [TEXT_WIDTH * 0.25, TEXT_WIDTH * 0.75],
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ],
    )


def _majority_lines(kit: Kit, majority: Majority, reason: str) -> list[Flowable]:
    _ = kit.gettext
    name = _(MAJORITY_NAMES[majority])
    lines = [kit.para(_("Majority required: {majority}.").format(majority=name), "muted")]
    if reason:
        lines.append(kit.para(_(reason), "legal"))
    return lines


def _agenda(letter: ConvocationLetter, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    story: list[Flowable] = [kit.para(_("Agenda"), "heading")]
    for item in letter.agenda:
        block = [kit.para(f"{item.number}. {item.title}", "subheading")]
        block += _paragraphs(kit, item.text)
        block += _majority_lines(kit, item.majority, item.reason)
        story.append(KeepTogether(block))
    return story


def _remote(letter: ConvocationLetter, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    if not letter.remote_allowed:
        return []
    story = [kit.para(_("Taking part from a distance"), "heading")]
    story += _paragraphs(kit, letter.remote_terms)
    if letter.remote_until is not None:
        until = _("Remote ballots are accepted until {moment}.")
        story.append(kit.para(until.format(moment=_moment(kit, letter.remote_until)), "strong"))
    return story


def _signed_by_syndic(letterhead: Letterhead, kit: Kit) -> Flowable:
    _ = kit.gettext
    signer = letterhead.syndic.name if letterhead.syndic else letterhead.association.name
    return KeepTogether(
        [
            kit.para(_("Yours faithfully,")),
            Spacer(0, 2 * mm),
            kit.para(_("For the association, the syndic")),
            kit.para(signer, "strong"),
        ]
    )


def _convocation_story(letter: ConvocationLetter, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    story: list[Flowable] = [
        *_subtitle(kit, letter.title),
        kit.para(_("Dear Sir or Madam,")),
        Spacer(0, 2 * mm),
        kit.para(_(_CONVOCATION_INTROS[letter.kind])),
        Spacer(0, 2 * mm),
        _facts(
            kit,
            [
                (_("Date and time"), _moment(kit, letter.starts)),
                (_("Place"), letter.place),
                (_("Your lots (votes)"), _lots_and_votes(kit, letter.lots)),
                (_("Your votes"), kit.weight(letter.votes, letter.quota_total)),
            ],
        ),
    ]
    if letter.second_assembly and letter.first_meeting is not None:
        second = _(
            "The assembly of {date} did not reach the quorum. This second assembly deliberates "
            "validly whatever the number of owners present or represented and the quotas they "
            "hold (Civil Code, art. 3.87 §5)."
        )
        story += [Spacer(0, 2 * mm), kit.para(second.format(date=kit.day(letter.first_meeting)))]
    story += _agenda(letter, kit)
    story += _remote(letter, kit)
    story += [
        Spacer(0, 3 * mm),
        kit.para(_("The assembly decides only on the items of this agenda.")),
        kit.para(
            _(
                "If you cannot attend, you may be represented by a person of your choice: the "
                "proxy form is attached."
            )
        ),
    ]
    if letter.note:
        story += [Spacer(0, 2 * mm), *_paragraphs(kit, letter.note)]
    story += [Spacer(0, 3 * mm), _signed_by_syndic(letter.letterhead, kit)]
    return story


class _Box(Flowable):
    """An empty square to tick by hand."""

    SIZE = 3.6 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self._width = available_width
        return available_width, self.SIZE

    def draw(self) -> None:
        self.canv.setLineWidth(0.7)
        self.canv.rect((self._width - self.SIZE) / 2, 0, self.SIZE, self.SIZE)


def _blank_lines(kit: Kit, labels: Sequence[str], height: float = 7 * mm) -> Flowable:
    """Label and a line to write on, one per row."""
    return kit.grid(
        [[kit.para(label, "label"), ""] for label in labels],
        [TEXT_WIDTH * 0.3, TEXT_WIDTH * 0.7],
        [
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), height),
            ("LINEBELOW", (1, 0), (1, -1), 0.5, INK),
        ],
    )


def _instructions(letter: ConvocationLetter, kit: Kit) -> Flowable:
    _ = kit.gettext
    header = [
        kit.para(_("No."), "strong"),
        kit.para(_("Agenda item"), "strong"),
        kit.para(_("For"), "strong", align="center"),
        kit.para(_("Against"), "strong", align="center"),
        kit.para(_("Abstain"), "strong", align="center"),
    ]
    rows = [
        [kit.para(str(item.number), "small"), kit.para(item.title, "small"), _Box(), _Box(), _Box()]
        for item in letter.agenda
    ]
    box = TEXT_WIDTH * 0.15
    return kit.grid(
        [header, *rows],
        [TEXT_WIDTH * 0.07, TEXT_WIDTH * 0.48, box, box, box],
        [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("GRID", (0, 0), (-1, -1), 0.4, INK),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ],
        repeat_rows=1,
    )


def _proxy_form(letter: ConvocationLetter, kit: Kit) -> list[Flowable]:
    """The proxy form (art. 3.87 §7), pre-filled with the principal and the meeting."""
    _ = kit.gettext
    mandate = _(
        "to represent me at the general assembly of {association} on {moment}, {place}, to sign "
        "the attendance list and the minutes on my behalf, to take part in the deliberations and "
        "to vote in my name on the items of the agenda as indicated below."
    ).format(
        association=letter.letterhead.association.name,
        moment=_moment(kit, letter.starts),
        place=letter.place,
    )
    return [
        PageBreak(),
        kit.para(_("Proxy"), "title"),
        _facts(
            kit,
            [
                (_("The undersigned (principal)"), letter.recipient.name),
                (_("Owner of the lots (votes)"), _lots_and_votes(kit, letter.lots)),
                (_("Total votes"), kit.weight(letter.votes, letter.quota_total)),
            ],
        ),
        Spacer(0, 2 * mm),
        kit.para(_("gives proxy to")),
        _blank_lines(kit, [_("Name of the proxy holder"), _("Address")]),
        Spacer(0, 2 * mm),
        kit.para(mandate),
        Spacer(0, 2 * mm),
        _instructions(letter, kit),
        Spacer(0, 1.5 * mm),
        kit.para(_("Where no box is ticked, the proxy holder votes as they see fit."), "muted"),
        _blank_lines(kit, [_("Done at"), _("Date"), _("Signature of the principal")], 9 * mm),
        Spacer(0, 5 * mm),
        kit.para(
            _(
                "A proxy holder may hold at most three proxies, unless their own votes and those "
                "of their principals make at most 10 % of the votes of all lots. The syndic can "
                "never hold a proxy (Civil Code, art. 3.87 §7)."
            ),
            "legal",
        ),
        kit.para(
            _(
                "The proxy names its holder and is valid for one general assembly only, unless "
                "it is a notarial proxy (art. 3.87 §7)."
            ),
            "legal",
        ),
    ]


def convocation_section(letter: ConvocationLetter, translate: Translate = translator) -> Section:
    """The convocation and its proxy form as one section of a PDF."""
    kit = Kit(letter.language, translate(letter.language), font_set_for(texts_of(letter)))
    _ = kit.gettext
    channel = (
        _("by registered mail")
        if letter.channel is Channel.REGISTERED_MAIL
        else _("by e-mail (agreed in writing)")
    )
    details = [
        (_("Meeting"), kit.day(letter.starts.date())),
        (_("Lots"), kit.lot_list([lot.number for lot in letter.lots])),
        (_("Sent"), channel),
    ]
    if letter.reference:
        details.insert(0, (_("Reference"), letter.reference))
    return Section(
        kit=kit,
        title=_(_CONVOCATION_TITLES[(letter.kind, letter.second_assembly)]),
        dated=letter.sent_on,
        story=(*_convocation_story(letter, kit), *_proxy_form(letter, kit)),
        recipient=letter.recipient,
        details=tuple(details),
        footer=letter.recipient.name,
    )


def render_convocation(letter: ConvocationLetter, translate: Translate = translator) -> bytes:
    """One owner's convocation, with its proxy form, as PDF bytes in the
    owner's language."""
    return render_letter(letter.letterhead, convocation_section(letter, translate))


def render_convocations(
    letters: Sequence[ConvocationLetter], translate: Translate = translator
) -> bytes:
    """Many owners' convocations of one association in one PDF for printing:
    each starts on a new page, in its owner's language, numbered on its own."""
    return render_letters([(x.letterhead, convocation_section(x, translate)) for x in letters])


# -- the minutes -----------------------------------------------------------------------


class BallotIssue(StrEnum):
    REFUSED = "refused"  # late, foreign, forged… (node.domain.meeting.Refusal)
    CONFLICT = "conflict"  # one owner's remote ballots differ: neither counts


@dataclass(frozen=True)
class BallotNote:
    """Remote ballots that did not count, how many and why. ``reason`` is an
    English message (e.g. from :data:`node.domain.meeting.REFUSAL_REASONS`)
    translated when printed; other text is printed as is."""

    issue: BallotIssue
    count: int
    reason: str

    def __post_init__(self) -> None:
        _coerce(self, "issue", BallotIssue, _("Unknown ballot issue {value!r}."))
        _require(
            _whole(self.count) and self.count > 0,
            _("A note on remote ballots counts at least one ballot."),
        )
        _require(
            bool(self.reason.strip()), _("A note on remote ballots says why they did not count.")
        )


@dataclass(frozen=True)
class Attendee:
    """One owner on the attendance list: present, represented by
    ``holder`` (the proxy holder's name), or taking part from a distance."""

    name: str
    lots: tuple[str, ...]
    votes: int
    mode: Mode
    holder: str = ""

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), _("A person needs a name."))
        _coerce(self, "mode", Mode, _("Unknown way of attending {value!r}."))
        _require(
            _whole(self.votes) and self.votes >= 0,
            _("The votes of {name} must be a whole number, zero or more.").format(name=self.name),
        )
        _require(
            self.mode is not Mode.PROXY or bool(self.holder.strip()),
            _("The proxy holder of {name} needs a name.").format(name=self.name),
        )


def _figure(value: object, name: str) -> Fraction:
    """Votes are whole quotas, or fractions once the vote cap shares a
    holder's votes among their principals (art. 3.87 §6); never floats."""
    _require(
        (_whole(value) or isinstance(value, Fraction)) and value >= 0,  # type: ignore[operator]
        _(
            "The votes of resolution {number} must be whole or fractional quotas, zero or more."
        ).format(number=name),
    )
    return Fraction(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Resolution:
    """One decision put to the vote and its outcome as the meeting derived
    it. ``against`` and ``abstained`` are owners' names (art. 3.87 §10);
    ``excluded`` are (name, why) of owners who could not vote on it."""

    number: int
    title: str
    majority: Majority
    votes_for: Fraction | int
    votes_against: Fraction | int
    abstentions: Fraction | int
    adopted: bool
    reason: str = ""
    text: str = ""
    against: tuple[str, ...] = ()
    abstained: tuple[str, ...] = ()
    excluded: tuple[tuple[str, str], ...] = ()
    ballot_notes: tuple[BallotNote, ...] = ()
    voted: bool = True  # False: never put to the vote before the meeting closed

    def __post_init__(self) -> None:
        _require(
            _whole(self.number) and self.number > 0,
            _("A resolution needs a number above zero."),
        )
        _require(
            bool(self.title.strip()),
            _("Resolution {number} needs a title.").format(number=self.number),
        )
        _coerce(self, "majority", Majority, _("Unknown majority {value!r}."))
        for name in ("votes_for", "votes_against", "abstentions"):
            object.__setattr__(self, name, _figure(getattr(self, name), str(self.number)))

    @property
    def votes_cast(self) -> Fraction:
        """Abstentions, blank and void votes are not votes cast (art. 3.88 §1)."""
        return Fraction(self.votes_for) + Fraction(self.votes_against)

    @property
    def share(self) -> Fraction | None:
        cast = self.votes_cast
        return Fraction(self.votes_for) / cast if cast else None


@dataclass(frozen=True)
class Agreement:
    """A written procedure: one owner's agreement, signed on ``signed_on``
    (``None`` when the owner did not sign)."""

    name: str
    signed_on: date | None = None

    def __post_init__(self) -> None:
        _require(bool(self.name.strip()), _("A person needs a name."))


@dataclass(frozen=True)
class Minutes:
    """The minutes of one meeting (art. 3.87 §10), or of a written
    procedure (``kind`` written, art. 3.87 §4: ``agreements`` instead of
    attendance, quorum and signatories).

    ``quorum`` is the domain's count at the opening; ``signatories`` the
    owners present at the end. ``made_on`` is the date the minutes are drawn
    up: with it the document depends on its input only."""

    letterhead: Letterhead
    language: str
    kind: MeetingKind
    title: str
    starts: datetime
    made_on: date
    resolutions: tuple[Resolution, ...]
    place: str = ""
    second_assembly: bool = False
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    chair: str = ""
    secretary: str = ""
    attendance: tuple[Attendee, ...] = ()
    quorum: Quorum | None = None
    signatories: tuple[str, ...] = ()
    agreements: tuple[Agreement, ...] = ()
    ballot_notes: tuple[BallotNote, ...] = ()
    reference: str = ""

    def __post_init__(self) -> None:
        _check_language(self.language)
        _coerce(self, "kind", MeetingKind, _("Unknown kind of meeting {value!r}."))
        _require(self.kind is not MeetingKind.POLL, _("A poll decides nothing: it has no minutes."))
        _unique_numbers(
            (r.number for r in self.resolutions), _("Resolution {number} appears twice.")
        )
        _require(
            self.made_on >= self.starts.date(),
            _("The minutes cannot be dated before the meeting."),
        )
        if self.kind is MeetingKind.WRITTEN:
            _require(
                bool(self.agreements), _("A written decision lists the agreement of every owner.")
            )
            _require(bool(self.resolutions), _("A written decision needs at least one resolution."))
            return
        _require(bool(self.place.strip()), _("The minutes need the place of the meeting."))
        _require(
            bool(self.chair.strip() and self.secretary.strip()),
            _("The minutes need the names of the chair and the secretary."),
        )
        _require(self.quorum is not None, _("The minutes need the quorum at the opening."))
        _require(
            self.quorum is None or self.quorum.reached or not self.resolutions,
            _("An assembly without quorum decides nothing: its minutes hold no resolution."),
        )
        _require(
            self.opened_at is None or self.closed_at is None or self.opened_at <= self.closed_at,
            _("The meeting closes before it opens."),
        )

    @property
    def decided_on(self) -> date:
        """The day the decisions were taken, from which the deadlines run: the
        meeting's, or the last signature of a written procedure."""
        signed = [a.signed_on for a in self.agreements if a.signed_on is not None]
        if self.kind is MeetingKind.WRITTEN and signed:
            return max(signed)
        return self.starts.date()


def _votes(kit: Kit, value: Fraction | int) -> str:
    """Whole votes as integers, shared ones with two decimals (``412,50``)."""
    value = Fraction(value)
    if value.denominator == 1:
        return kit.number(value.numerator)
    # node.pdf.formats writes whole numbers only; same locales, same no-break spaces
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    text = format_decimal(decimal, format="#,##0.00", locale=BABEL_LOCALES[kit.language])
    return text.replace("\u202f", "\xa0")


def _share_of(kit: Kit, part: Fraction) -> str:
    return formats.format_share(part.numerator, part.denominator, kit.language)


def _names(kit: Kit, names: Sequence[str]) -> str:
    _ = kit.gettext
    return ", ".join(names) if names else _("nobody")


def _attendance(minutes: Minutes, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    quorum = minutes.quorum
    assert quorum is not None  # checked when built
    modes = {
        Mode.PRESENT: _("present"),
        Mode.REMOTE: _("remote ballot"),
    }
    columns = (
        Column(_("Owner"), 33),
        Column(_("Lots"), 19),
        Column(_("Votes (quotas)"), 20, "right"),
        Column(_("Attendance"), 28),
    )
    rows = [
        (
            a.name,
            kit.lot_list(a.lots),
            kit.number(a.votes),
            modes.get(a.mode) or _("represented by {holder}").format(holder=a.holder),
        )
        for a in minutes.attendance
    ]
    votes = sum(a.votes for a in minutes.attendance)
    total = (
        _("{count} of {total} owners").format(
            count=kit.number(len(minutes.attendance)), total=kit.number(quorum.owners_total)
        ),
        "",
        kit.weight(votes, quorum.quotas_total),
        kit.share(votes, quorum.quotas_total),
    )
    return [kit.para(_("Attendance"), "heading"), kit.table(columns, rows, total)]


_QUORUM_RULES = {
    QuorumRule.HEADS_AND_HALF: N_(
        "Quorum reached: more than half of the owners are present or represented and they hold "
        "at least half of the quotas (Civil Code, art. 3.87 §5)."
    ),
    QuorumRule.THREE_QUARTERS: N_(
        "Quorum reached: the owners present or represented hold more than three quarters of the "
        "quotas (Civil Code, art. 3.87 §5)."
    ),
    QuorumRule.SECOND_ASSEMBLY: N_(
        "Second assembly: it deliberates validly whatever the number of owners present or "
        "represented and the quotas they hold (Civil Code, art. 3.87 §5)."
    ),
}


def _quorum(quorum: Quorum, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    figures = _(
        "At the opening, {owners} of {owners_total} owners are present or represented, holding "
        "{quotas} of {quotas_total} quotas ({share})."
    ).format(
        owners=kit.number(quorum.owners_present),
        owners_total=kit.number(quorum.owners_total),
        quotas=kit.number(quorum.quotas_present),
        quotas_total=kit.number(quorum.quotas_total),
        share=kit.share(quorum.quotas_present, quorum.quotas_total),
    )
    if quorum.rule is None:
        rule = _(
            "The quorum is not reached: the assembly cannot deliberate. A second assembly will "
            "be convened at least 15 days later (Civil Code, art. 3.87 §5)."
        )
    else:
        rule = _(_QUORUM_RULES[quorum.rule])
    return [kit.para(_("Quorum"), "heading"), kit.para(figures), kit.para(rule, "strong")]


def _ballot_notes(kit: Kit, notes: Sequence[BallotNote]) -> list[Flowable]:
    ngettext = kit.ngettext
    lines = []
    for note in notes:
        if note.issue is BallotIssue.REFUSED:
            text = ngettext(
                "{count} remote ballot refused: {reason}.",
                "{count} remote ballots refused: {reason}.",
                note.count,
            )
        else:
            text = ngettext(
                "{count} remote ballot in conflict with another of the same owner, not counted: "
                "{reason}.",
                "{count} remote ballots in conflict with another of the same owner, not counted: "
                "{reason}.",
                note.count,
            )
        reason = kit.gettext(note.reason)
        lines.append(kit.para(text.format(count=kit.number(note.count), reason=reason), "small"))
    return lines


def _resolution(resolution: Resolution, kit: Kit) -> Flowable:
    _ = kit.gettext
    block: list[Flowable] = [kit.para(f"{resolution.number}. {resolution.title}", "subheading")]
    block += _paragraphs(kit, resolution.text)
    block += _majority_lines(kit, resolution.majority, resolution.reason)
    share = resolution.share
    columns = (
        Column(_("For"), 18, "right"),
        Column(_("Against"), 18, "right"),
        Column(_("Abstentions"), 18, "right"),
        Column(_("Votes cast"), 18, "right"),
        Column(_("For, share of votes cast"), 28, "right"),
    )
    row = (
        _votes(kit, resolution.votes_for),
        _votes(kit, resolution.votes_against),
        _votes(kit, resolution.abstentions),
        _votes(kit, resolution.votes_cast),
        _share_of(kit, share) if share is not None else _("no vote cast"),
    )
    if not resolution.voted:  # found by hand: printed "rejected" where the screens said "not voted"
        outcome = _("The resolution was not put to the vote.")
    elif resolution.adopted:
        outcome = _("The resolution is adopted.")
    else:
        outcome = _("The resolution is rejected.")
    block += [
        Spacer(0, 1 * mm),
        kit.table(columns, [row]),
        Spacer(0, 1 * mm),
        kit.para(outcome, "strong"),
        kit.para(_("Voted against: {names}.").format(names=_names(kit, resolution.against))),
        kit.para(_("Abstained: {names}.").format(names=_names(kit, resolution.abstained))),
    ]
    for name, why in resolution.excluded:
        excluded = _("Did not take part in the vote: {name} ({why}).")
        block.append(kit.para(excluded.format(name=name, why=why), "small"))
    block += _ballot_notes(kit, resolution.ballot_notes)
    return KeepTogether(block)


def _signature_table(kit: Kit, rows: Sequence[tuple[str, str]]) -> Flowable:
    _ = kit.gettext
    columns = [TEXT_WIDTH * 0.25, TEXT_WIDTH * 0.4, TEXT_WIDTH * 0.35]
    header = [kit.para(_("Role"), "label"), kit.para(_("Name"), "label")]
    header.append(kit.para(_("Signature"), "label"))
    data = [header, *([kit.para(role, "small"), kit.para(name), ""] for role, name in rows)]
    return kit.grid(
        data,
        columns,
        [
            ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 1), (-1, -1), 9 * mm),
            ("LINEBELOW", (2, 1), (2, -1), 0.5, INK),
        ],
        repeat_rows=1,
    )


def _signatures(minutes: Minutes, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    if minutes.kind is MeetingKind.WRITTEN:
        syndic = minutes.letterhead.syndic
        signer = syndic.name if syndic else minutes.letterhead.association.name
        intro = _("Drawn up by the syndic.")
        rows = [(_("Syndic"), signer)]
    else:
        intro = _(
            "Signed at the end of the meeting by the chair, the secretary and the owners still "
            "present (Civil Code, art. 3.87 §10)."
        )
        rows = [(_("Chair"), minutes.chair), (_("Secretary"), minutes.secretary)]
        rows += [(_("Owner present at the end"), name) for name in minutes.signatories]
    return [
        kit.para(_("Signatures"), "heading"),
        kit.para(intro, "small"),
        _signature_table(kit, rows),
    ]


def _agreements(minutes: Minutes, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    columns = (Column(_("Owner"), 60), Column(_("Agreement signed on"), 40, "right"))
    rows = [
        (a.name, kit.day(a.signed_on) if a.signed_on else _("not signed"))
        for a in minutes.agreements
    ]
    signed = sum(1 for a in minutes.agreements if a.signed_on is not None)
    total = (
        _("{count} of {total} owners").format(
            count=kit.number(signed), total=kit.number(len(minutes.agreements))
        ),
        "",
    )
    intro = _(
        "The owners may take unanimously and in writing any decision within the assembly's "
        "powers that needs no notarial deed (Civil Code, art. 3.87 §4). Proposal sent on {date}."
    ).format(date=kit.day(minutes.starts.date()))
    return [
        kit.para(intro),
        kit.para(_("Agreements of the owners"), "heading"),
        kit.table(columns, rows, total),
    ]


def _minutes_story(minutes: Minutes, kit: Kit) -> list[Flowable]:
    _ = kit.gettext
    story: list[Flowable] = _subtitle(kit, minutes.title)
    if minutes.kind is MeetingKind.WRITTEN:
        story += _agreements(minutes, kit)
    else:
        facts = [(_("Date and time"), _moment(kit, minutes.starts)), (_("Place"), minutes.place)]
        if minutes.opened_at is not None:
            facts.append((_("Opened at"), _clock(minutes.opened_at)))
        facts += [(_("Chair"), minutes.chair), (_("Secretary"), minutes.secretary)]
        story += [_facts(kit, facts), *_attendance(minutes, kit)]
        assert minutes.quorum is not None  # checked when built
        story += _quorum(minutes.quorum, kit)
    if minutes.resolutions:
        story.append(kit.para(_("Resolutions"), "heading"))
        story += [_resolution(r, kit) for r in minutes.resolutions]
    if minutes.ballot_notes:
        story.append(kit.para(_("Remote ballots"), "heading"))
        story += _ballot_notes(kit, minutes.ballot_notes)
    if minutes.closed_at is not None and minutes.kind is not MeetingKind.WRITTEN:
        closed = _("The chair closes the meeting at {time}.").format(time=_clock(minutes.closed_at))
        story += [Spacer(0, 3 * mm), kit.para(closed)]
    story += _signatures(minutes, kit)
    story += [
        Spacer(0, 5 * mm),
        kit.para(
            _(
                "To be sent to the owners by {date} (within 30 days, Civil Code, art. 3.87 §10)."
            ).format(date=kit.day(minutes_due(minutes.decided_on))),
            "legal",
        ),
        kit.para(
            _(
                "A decision may be challenged before the justice of the peace until {date} "
                "(four months, Civil Code, art. 3.92 §3)."
            ).format(date=kit.day(challenge_until(minutes.decided_on))),
            "legal",
        ),
    ]
    return story


def minutes_section(minutes: Minutes, translate: Translate = translator) -> Section:
    """The minutes as one section of a PDF (see :func:`node.pdf.layout.render`)."""
    kit = Kit(minutes.language, translate(minutes.language), font_set_for(texts_of(minutes)))
    _ = kit.gettext
    details = [(_("Meeting"), kit.day(minutes.starts.date()))]
    if minutes.reference:
        details.insert(0, (_("Reference"), minutes.reference))
    key = (minutes.kind, minutes.second_assembly and minutes.kind is not MeetingKind.WRITTEN)
    return Section(
        kit=kit,
        title=_(_MINUTES_TITLES[key]),
        dated=minutes.made_on,
        story=tuple(_minutes_story(minutes, kit)),
        details=tuple(details),
        footer=minutes.title,
    )


def render_minutes(minutes: Minutes, translate: Translate = translator) -> bytes:
    """The minutes as PDF bytes in ``minutes.language``; the same minutes
    always give the same text (nothing here reads the clock)."""
    section = minutes_section(minutes, translate)
    return render(
        [section],
        letterhead=minutes.letterhead,
        title=section.title,
        subject=minutes.title,
        made_on=minutes.made_on,
    )
