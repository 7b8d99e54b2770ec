"""A realistic demo building, to try KoproGo without typing a registry.

"Résidence Les Tilleuls" in Uccle: 24 units (19 flats, a shop, 2 cellars,
2 garages), 20 legal lots so the council is mandatory, quotas out of
10 000, ~20 persons with spouses holding 50/50, a flat split between an
usufructuary and two bare owners, tenants, and two special keys (lift and
heating). Every name, address and e-mail is invented.
"""

from __future__ import annotations

from datetime import date

from shared.ids import new_ulid

from .documents import registry_doc as rdoc
from .domain.registry import (
    Address,
    Association,
    DistributionKey,
    Lot,
    LotType,
    Occupant,
    Ownership,
    Person,
    Right,
)
from .session import Session

DEMO_ASSOCIATION = Association(
    name="ACP Résidence Les Tilleuls",
    quota_total=10_000,
    bce_number="0842331568",
    address=Address("Avenue des Tilleuls 42", "1180", "Uccle"),
    provisional_acceptance=date(2019, 6, 14),
    fiscal_year_start="01-01",
    iban="BE68 5390 0754 7034",
    reserve_iban="BE71 0961 2345 6769",
    bic="GKCCBEBB",
)

# (number, type, floor, quota)
_LOTS = [
    ("Shop", LotType.COMMERCIAL, 0, 520),
    *[
        (f"A{floor}.{side}", LotType.APARTMENT, floor, q)
        for floor, side, q in [
            (1, 1, 520),
            (1, 2, 470),
            (1, 3, 430),
            (2, 1, 520),
            (2, 2, 470),
            (2, 3, 430),
            (3, 1, 530),
            (3, 2, 480),
            (3, 3, 440),
            (4, 1, 530),
            (4, 2, 480),
            (4, 3, 440),
            (5, 1, 540),
            (5, 2, 490),
            (5, 3, 450),
            (6, 1, 560),
            (6, 2, 500),
            (7, 1, 610),
            (7, 2, 430),
        ]
    ],
    ("C1", LotType.CELLAR, -1, 20),
    ("C2", LotType.CELLAR, -1, 20),
    ("G1", LotType.GARAGE, -1, 60),
    ("G2", LotType.GARAGE, -1, 60),
]

# (name, email, language, consent, address or None for "lives in the building")
_PERSONS = [
    ("Marie Lambert", "marie.lambert@example.be", "fr", True, None),
    ("Pierre Lambert", "", "fr", False, None),
    ("Jan Peeters", "jan.peeters@example.be", "nl", True, None),
    ("Annelies Peeters-Claes", "annelies.claes@example.be", "nl", True, None),
    ("Sophie Dubois", "sophie.dubois@example.be", "fr", True, None),
    ("Luc Janssens", "", "nl", False, Address("Kerkstraat 7", "2000", "Antwerpen")),
    ("Fatima El Amrani", "f.elamrani@example.be", "fr", False, None),
    ("Hélène Verstraete", "", "fr", False, None),
    (
        "Thomas Verstraete",
        "thomas.verstraete@example.be",
        "fr",
        True,
        Address("Rue de la Station 3", "1300", "Wavre"),
    ),
    (
        "Claire Verstraete",
        "claire.verstraete@example.be",
        "fr",
        True,
        Address("Chaussée de Louvain 118", "1030", "Schaerbeek"),
    ),
    ("Klaus Becker", "k.becker@example.de", "de", True, Address("Hauptstraße 21", "4700", "Eupen")),
    ("Nathalie Renard", "nathalie.renard@example.be", "fr", True, None),
    ("Olivier Mertens", "", "fr", False, None),
    ("Wouter De Smet", "wouter.desmet@example.be", "nl", True, None),
    ("Isabelle Fontaine", "isabelle.fontaine@example.be", "fr", True, None),
    ("Ahmed Benali", "ahmed.benali@example.be", "fr", False, None),
    ("Sarah Goossens", "sarah.goossens@example.be", "en", True, None),
    ("Michel Leroy", "", "fr", False, Address("Rue Haute 250", "1000", "Bruxelles")),
    ("Boulangerie Delvaux SRL", "contact@delvaux-bakery.example.be", "fr", True, None),
    ("Julie Martin", "julie.martin@example.be", "fr", True, None),
    ("Lucas Moreau", "lucas.moreau@example.be", "fr", False, None),
]

# lot number -> [(person index, share in hundredths of %, right, voting)]
_HOLDINGS = {
    "Shop": [(18, 10_000, Right.FULL, True)],
    "A1.1": [(0, 5_000, Right.FULL, True), (1, 5_000, Right.FULL, False)],
    "A1.2": [(2, 5_000, Right.FULL, False), (3, 5_000, Right.FULL, True)],
    "A1.3": [(4, 10_000, Right.FULL, True)],
    "A2.1": [(5, 10_000, Right.FULL, True)],
    "A2.2": [(6, 10_000, Right.FULL, True)],
    # usufruct for the mother, bare ownership for her two children
    "A2.3": [
        (7, 10_000, Right.USUFRUCT, True),
        (8, 5_000, Right.BARE, False),
        (9, 5_000, Right.BARE, False),
    ],
    "A3.1": [(10, 10_000, Right.FULL, True)],
    "A3.2": [(11, 10_000, Right.FULL, True)],
    "A3.3": [(12, 10_000, Right.FULL, True)],
    "A4.1": [(13, 10_000, Right.FULL, True)],
    "A4.2": [(14, 10_000, Right.FULL, True)],
    "A4.3": [(5, 10_000, Right.FULL, True)],
    "A5.1": [(15, 10_000, Right.FULL, True)],
    "A5.2": [(16, 10_000, Right.FULL, True)],
    "A5.3": [(17, 10_000, Right.FULL, True)],
    "A6.1": [(0, 5_000, Right.FULL, True), (1, 5_000, Right.FULL, False)],
    "A6.2": [(19, 10_000, Right.FULL, True)],
    "A7.1": [(10, 10_000, Right.FULL, True)],
    "A7.2": [(17, 10_000, Right.FULL, True)],
    "C1": [(4, 10_000, Right.FULL, True)],
    "C2": [(12, 10_000, Right.FULL, True)],
    "G1": [(13, 10_000, Right.FULL, True)],
    "G2": [(5, 10_000, Right.FULL, True)],
}

# tenants: lot number -> person index
_OCCUPANTS = {"A2.1": 20, "A4.3": 19, "A7.2": 16}


def build_demo(session: Session) -> None:
    """Fill an empty profile with the demo building, in one durable edit."""
    registry = session.registry
    registry.create_building(DEMO_ASSOCIATION)
    lots = {n: Lot(new_ulid(), n, t, q, f) for n, t, f, q in _LOTS}
    persons = []
    for name, email, language, consent, address in _PERSONS:
        persons.append(
            Person(
                new_ulid(),
                name,
                email=email,
                language=language,
                email_consent=consent,
                address=address or DEMO_ASSOCIATION.address,
            )
        )
    flats = [lot for lot in lots.values() if lot.type is LotType.APARTMENT]
    # The lift serves floors 1-7, weighted by floor; heating follows flat size,
    # approximated by the quota, and leaves out shop, cellars and garages.
    lift = DistributionKey(
        new_ulid(), "Ascenseur / Lift", {lot.id: lot.floor or 0 for lot in flats}
    )
    heating = DistributionKey(
        new_ulid(), "Chauffage / Verwarming", {lot.id: lot.quota for lot in flats}
    )
    with session.document("registry").edit() as doc:
        for lot in lots.values():
            rdoc.put_record(doc, "lots", lot.id, rdoc.lot_fields(lot))
        for person in persons:
            rdoc.put_record(doc, "persons", person.id, rdoc.person_fields(person))
        for number, holdings in _HOLDINGS.items():
            for index, share, right, voting in holdings:
                o = Ownership(new_ulid(), lots[number].id, persons[index].id, share, right, voting)
                rdoc.put_record(doc, "ownerships", o.id, rdoc.ownership_fields(o))
        for number, index in _OCCUPANTS.items():
            occupant = Occupant(new_ulid(), lots[number].id, persons[index].id, date(2023, 9, 1))
            rdoc.put_record(doc, "occupants", occupant.id, rdoc.occupant_fields(occupant))
        rdoc.put_key(doc, lift)
        rdoc.put_key(doc, heating)
    session.document("registry").clear_undo()


def demo_personal_strings() -> list[str]:
    """Names, e-mails and street addresses of the demo's persons: what must
    never appear in clear in a profile's files (used by the privacy test)."""
    strings = []
    for name, email, _language, _consent, address in _PERSONS:
        strings.append(name)
        if email:
            strings.append(email)
        if address:
            strings.append(address.street)
    strings.append(DEMO_ASSOCIATION.address.street)
    return strings
