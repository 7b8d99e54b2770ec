"""The chart of accounts of an ACP (AR 12 July 2012, DOMAIN §6).

The minimum standard chart for co-ownership associations follows the
Belgian PCMN's classes, reduced to what an ACP may have (art. 3.86 §1: no
assets but the movables its purpose needs). Labels are given in French and
Dutch as the decree does, with German and English translations; they are
data of the law, not interface strings, so they live here rather than in
the gettext catalogs.

Sub-accounts may be added under any account (e.g. ``6120`` "Électricité
communs" under ``612``, or ``5501`` for a second current account): a
sub-account's number extends its parent's digits.

Which accounts the engine posts to is fixed in :data:`POSTING` — one place,
so that an accountant who reads the decree differently changes it once
(DOMAIN: rules "to confirm" are configurable defaults, shown as such).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from ...errors import InputError
from ...i18n import _


class Kind(StrEnum):
    """What an account's balance means, from its class."""

    FUNDS = "funds"  # class 1: working fund, reserve fund, result carried forward, debts > 1 y
    FIXED = "fixed"  # class 2: movables, deposits paid
    RECEIVABLE_PAYABLE = "receivable_payable"  # class 4: owners, suppliers, taxes
    CASH = "cash"  # class 5: banks, cash
    EXPENSE = "expense"  # class 6
    INCOME = "income"  # class 7


_KIND_OF_CLASS = {
    "1": Kind.FUNDS,
    "2": Kind.FIXED,
    "4": Kind.RECEIVABLE_PAYABLE,
    "5": Kind.CASH,
    "6": Kind.EXPENSE,
    "7": Kind.INCOME,
}


@dataclass(frozen=True)
class Account:
    number: str
    labels: Mapping[str, str]  # language -> label (fr, nl, de, en)
    custom: bool = False  # a sub-account added by the syndic

    def __post_init__(self) -> None:
        if not (self.number.isdigit() and self.number[0] in _KIND_OF_CLASS):
            raise InputError(
                _(
                    "{number!r} is not an account number of the ACP chart (classes 1, 2, 4, 5, "
                    "6 and 7)."
                ).format(number=self.number)
            )
        object.__setattr__(self, "labels", MappingProxyType(dict(self.labels)))

    @property
    def kind(self) -> Kind:
        return _KIND_OF_CLASS[self.number[0]]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("fr") or self.number


def _a(number: str, fr: str, nl: str, de: str, en: str) -> Account:
    return Account(number, {"fr": fr, "nl": nl, "de": de, "en": en})


STANDARD: tuple[Account, ...] = (
    # Class 1 — funds and long-term debts
    _a("10", "Fonds de roulement", "Werkkapitaal", "Betriebsmittelfonds", "Working fund"),
    _a("100", "Fonds de roulement", "Werkkapitaal", "Betriebsmittelfonds", "Working fund"),
    _a(
        "14",
        "Résultat reporté",
        "Overgedragen resultaat",
        "Ergebnisvortrag",
        "Result carried forward",
    ),
    _a(
        "140",
        "Résultat reporté",
        "Overgedragen resultaat",
        "Ergebnisvortrag",
        "Result carried forward",
    ),
    _a(
        "16",
        "Fonds de réserve et provisions",
        "Reservekapitaal en voorzieningen",
        "Rücklagenfonds und Rückstellungen",
        "Reserve fund and provisions",
    ),
    _a("160", "Fonds de réserve", "Reservekapitaal", "Rücklagenfonds", "Reserve fund"),
    _a(
        "161",
        "Provisions pour risques et charges",
        "Voorzieningen voor risico's en kosten",
        "Rückstellungen für Risiken und Aufwendungen",
        "Provisions for risks and charges",
    ),
    _a(
        "17",
        "Dettes à plus d'un an",
        "Schulden op meer dan één jaar",
        "Verbindlichkeiten mit einer Restlaufzeit von mehr als einem Jahr",
        "Debts due after one year",
    ),
    _a(
        "173",
        "Emprunts auprès d'établissements de crédit",
        "Leningen bij kredietinstellingen",
        "Darlehen bei Kreditinstituten",
        "Loans from credit institutions",
    ),
    # Class 2 — the movables an ACP may own, and deposits
    _a(
        "23",
        "Installations, machines et outillage",
        "Installaties, machines en uitrusting",
        "Anlagen, Maschinen und Betriebsausstattung",
        "Plant, machinery and equipment",
    ),
    _a(
        "230",
        "Installations, machines et outillage",
        "Installaties, machines en uitrusting",
        "Anlagen, Maschinen und Betriebsausstattung",
        "Plant, machinery and equipment",
    ),
    _a(
        "239",
        "Amortissements actés sur installations",
        "Geboekte afschrijvingen op installaties",
        "Abschreibungen auf Anlagen",
        "Depreciation on plant",
    ),
    _a(
        "24",
        "Mobilier et matériel roulant",
        "Meubilair en rollend materieel",
        "Mobiliar und Fahrzeuge",
        "Furniture and vehicles",
    ),
    _a(
        "240",
        "Mobilier et matériel roulant",
        "Meubilair en rollend materieel",
        "Mobiliar und Fahrzeuge",
        "Furniture and vehicles",
    ),
    _a(
        "249",
        "Amortissements actés sur mobilier",
        "Geboekte afschrijvingen op meubilair",
        "Abschreibungen auf Mobiliar",
        "Depreciation on furniture",
    ),
    _a(
        "28",
        "Cautionnements versés",
        "Betaalde borgtochten",
        "Geleistete Kautionen",
        "Deposits paid",
    ),
    # Class 4 — owners, suppliers, taxes
    _a(
        "41",
        "Créances diverses",
        "Overige vorderingen",
        "Sonstige Forderungen",
        "Other receivables",
    ),
    _a("410", "Copropriétaires", "Mede-eigenaars", "Miteigentümer", "Owners"),
    _a(
        "4100",
        "Copropriétaires — appels au fonds de réserve",
        "Mede-eigenaars — oproepen reservekapitaal",
        "Miteigentümer — Anforderungen Rücklagenfonds",
        "Owners — calls to the reserve fund",
    ),
    _a(
        "4101",
        "Copropriétaires — appels au fonds de roulement et charges",
        "Mede-eigenaars — oproepen werkkapitaal en lasten",
        "Miteigentümer — Anforderungen Betriebsmittelfonds und Lasten",
        "Owners — calls to the working fund and charges",
    ),
    _a(
        "416",
        "Créances diverses",
        "Diverse vorderingen",
        "Verschiedene Forderungen",
        "Sundry receivables",
    ),
    _a(
        "44",
        "Dettes commerciales",
        "Handelsschulden",
        "Verbindlichkeiten aus Lieferungen",
        "Trade payables",
    ),
    _a("440", "Fournisseurs", "Leveranciers", "Lieferanten", "Suppliers"),
    _a("4400", "Fournisseurs", "Leveranciers", "Lieferanten", "Suppliers"),
    _a(
        "45",
        "Dettes fiscales, salariales et sociales",
        "Schulden met betrekking tot belastingen, bezoldigingen en sociale lasten",
        "Steuer-, Lohn- und Sozialverbindlichkeiten",
        "Tax, salary and social security debts",
    ),
    _a(
        "453",
        "Précomptes retenus",
        "Ingehouden voorheffingen",
        "Einbehaltene Vorabzüge",
        "Withholding taxes",
    ),
    _a(
        "454",
        "Office national de sécurité sociale",
        "Rijksdienst voor Sociale Zekerheid",
        "Landesamt für soziale Sicherheit",
        "National Social Security Office",
    ),
    _a("455", "Rémunérations", "Bezoldigingen", "Löhne", "Salaries"),
    _a(
        "49",
        "Comptes de régularisation et d'attente",
        "Overlopende rekeningen en wachtrekeningen",
        "Rechnungsabgrenzung und Zwischenkonten",
        "Accruals and suspense accounts",
    ),
    _a(
        "490",
        "Charges à reporter",
        "Over te dragen kosten",
        "Aktive Rechnungsabgrenzung",
        "Prepaid expenses",
    ),
    _a(
        "492",
        "Charges à imputer",
        "Toe te rekenen kosten",
        "Passive Rechnungsabgrenzung",
        "Accrued expenses",
    ),
    _a("499", "Compte d'attente", "Wachtrekening", "Zwischenkonto", "Suspense account"),
    # Class 5 — money
    _a(
        "55",
        "Établissements de crédit",
        "Kredietinstellingen",
        "Kreditinstitute",
        "Credit institutions",
    ),
    _a("550", "Compte courant", "Zichtrekening", "Girokonto", "Current account"),
    _a(
        "551",
        "Compte du fonds de réserve",
        "Rekening reservekapitaal",
        "Konto Rücklagenfonds",
        "Reserve fund account",
    ),
    _a("57", "Caisse", "Kas", "Kasse", "Cash"),
    _a("570", "Caisse", "Kas", "Kasse", "Cash"),
    _a(
        "58",
        "Virements internes",
        "Interne overboekingen",
        "Interne Überweisungen",
        "Internal transfers",
    ),
    _a(
        "580",
        "Virements internes",
        "Interne overboekingen",
        "Interne Überweisungen",
        "Internal transfers",
    ),
    # Class 6 — charges
    _a(
        "61",
        "Services et biens divers",
        "Diensten en diverse goederen",
        "Dienstleistungen und verschiedene Güter",
        "Services and other goods",
    ),
    _a(
        "610",
        "Loyers et charges locatives",
        "Huur en huurlasten",
        "Mieten und Nebenkosten",
        "Rents",
    ),
    _a(
        "611",
        "Entretien et réparations",
        "Onderhoud en herstellingen",
        "Instandhaltung und Reparaturen",
        "Maintenance and repairs",
    ),
    _a("612", "Énergie et eau", "Energie en water", "Energie und Wasser", "Energy and water"),
    _a(
        "613",
        "Honoraires et rétributions de tiers",
        "Erelonen en vergoedingen aan derden",
        "Honorare und Vergütungen Dritter",
        "Fees paid to third parties",
    ),
    _a("614", "Assurances", "Verzekeringen", "Versicherungen", "Insurance"),
    _a(
        "615",
        "Fournitures et petit matériel",
        "Leveringen en klein materiaal",
        "Lieferungen und Kleinmaterial",
        "Supplies and small equipment",
    ),
    _a(
        "616",
        "Frais d'administration",
        "Administratiekosten",
        "Verwaltungskosten",
        "Administration costs",
    ),
    _a(
        "62",
        "Rémunérations et charges sociales",
        "Bezoldigingen en sociale lasten",
        "Löhne und Sozialabgaben",
        "Salaries and social charges",
    ),
    _a(
        "620",
        "Rémunérations (concierge)",
        "Bezoldigingen (conciërge)",
        "Löhne (Hausmeister)",
        "Salaries (caretaker)",
    ),
    _a(
        "63",
        "Amortissements et provisions",
        "Afschrijvingen en voorzieningen",
        "Abschreibungen und Rückstellungen",
        "Depreciation and provisions",
    ),
    _a("630", "Dotations aux amortissements", "Afschrijvingen", "Abschreibungen", "Depreciation"),
    _a(
        "635",
        "Provisions pour risques et charges",
        "Voorzieningen voor risico's en kosten",
        "Rückstellungen",
        "Provisions for risks and charges",
    ),
    _a("64", "Autres charges", "Andere kosten", "Sonstige Aufwendungen", "Other charges"),
    _a("640", "Taxes et impôts", "Belastingen en taksen", "Steuern und Abgaben", "Taxes"),
    _a("65", "Charges financières", "Financiële kosten", "Finanzaufwendungen", "Financial charges"),
    _a(
        "650",
        "Intérêts et frais bancaires",
        "Interesten en bankkosten",
        "Zinsen und Bankgebühren",
        "Interest and bank charges",
    ),
    _a(
        "66",
        "Charges exceptionnelles",
        "Uitzonderlijke kosten",
        "Außerordentliche Aufwendungen",
        "Exceptional charges",
    ),
    _a(
        "660",
        "Charges exceptionnelles",
        "Uitzonderlijke kosten",
        "Außerordentliche Aufwendungen",
        "Exceptional charges",
    ),
    # Class 7 — income
    _a("70", "Appels de fonds", "Oproepen van fondsen", "Mittelanforderungen", "Calls for funds"),
    _a(
        "700",
        "Appels de fonds ordinaires",
        "Gewone oproepen",
        "Ordentliche Anforderungen",
        "Ordinary calls",
    ),
    _a(
        "701",
        "Appels de fonds extraordinaires",
        "Buitengewone oproepen",
        "Außerordentliche Anforderungen",
        "Extraordinary calls",
    ),
    _a("74", "Autres produits", "Andere opbrengsten", "Sonstige Erträge", "Other income"),
    _a(
        "740",
        "Produits divers (locations, indemnités)",
        "Diverse opbrengsten (verhuur, vergoedingen)",
        "Verschiedene Erträge (Vermietung, Entschädigungen)",
        "Sundry income (rents, compensation)",
    ),
    _a("75", "Produits financiers", "Financiële opbrengsten", "Finanzerträge", "Financial income"),
    _a("750", "Intérêts", "Interesten", "Zinsen", "Interest"),
    _a(
        "76",
        "Produits exceptionnels",
        "Uitzonderlijke opbrengsten",
        "Außerordentliche Erträge",
        "Exceptional income",
    ),
)


@dataclass(frozen=True)
class Posting:
    """Where the engine posts what (DOMAIN §6; one place to change)."""

    working_fund: str = "100"
    reserve_fund: str = "160"
    result_carried: str = "140"
    owners_reserve: str = "4100"
    owners_working: str = "4101"
    suppliers: str = "4400"
    bank_current: str = "550"
    bank_reserve: str = "551"
    ordinary_calls: str = "700"
    extraordinary_calls: str = "701"
    suspense: str = "499"


POSTING = Posting()


@dataclass(frozen=True)
class Chart:
    """The standard accounts plus the building's own sub-accounts."""

    accounts: Mapping[str, Account] = field(
        default_factory=lambda: MappingProxyType({a.number: a for a in STANDARD})
    )

    @classmethod
    def with_custom(cls, custom: Iterable[Account]) -> Chart:
        accounts = {a.number: a for a in STANDARD}
        for account in sorted(custom, key=lambda a: a.number):
            accounts.setdefault(account.number, account)
        return cls(MappingProxyType(accounts))

    def get(self, number: str) -> Account | None:
        return self.accounts.get(number)

    def require(self, number: str) -> Account:
        account = self.accounts.get(number)
        if account is None:
            raise InputError(_("There is no account {number} in the chart.").format(number=number))
        return account

    def parent(self, number: str) -> Account | None:
        for length in range(len(number) - 1, 0, -1):
            parent = self.accounts.get(number[:length])
            if parent is not None:
                return parent
        return None

    def check_new_sub_account(self, number: str) -> None:
        """A new sub-account must extend an existing account and be new."""
        if number in self.accounts:
            raise InputError(_("Account {number} already exists.").format(number=number))
        Account(number, {})  # checks the class
        if self.parent(number) is None:
            raise InputError(
                _("A sub-account extends an existing account: no account starts {number}.").format(
                    number=number[:-1]
                )
            )

    def postable(self, number: str) -> bool:
        """Entries go to accounts of at least three digits (the classes and
        two-digit groups are headings)."""
        return number in self.accounts and len(number) >= 3

    def sorted(self) -> list[Account]:
        return sorted(self.accounts.values(), key=lambda a: (a.number[0], a.number))
