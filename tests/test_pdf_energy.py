"""The summary of a group energy purchase for the general assembly
(issue 6, DOMAIN §11): the campaign, the k-anonymous figures per energy
(nothing below 5 verified participants, never a minimum or a maximum),
the offers side by side with their green score, the chosen offer and the
privacy note — in French, Dutch, German and English.

The energy messages are new: until the catalogs are translated, French,
Dutch and German documents print them in English. Per language, these
tests therefore check what Babel and the existing catalog write (numbers,
amounts, dates, page labels), that every message goes through the
document's translations, and the translated wording once it exists."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest

from node.domain import energy as rules
from node.errors import InputError
from node.i18n import translator
from node.pdf.energy import (
    TITLE,
    CampaignSummary,
    EnergyFigures,
    OfferLine,
    render_summary,
    summary_section,
)
from shared.energy import Offer
from tests.helpers import elsewhere
from tests.test_pdf_helpers import MarkedTranslations, letterhead, pages_text, reader

ELECTRICITY = EnergyFigures("electricity", 12, 20, 60, 48_213, 4_018, 3_720)
GAS_HIDDEN = EnergyFigures("gas", 3, 20, 15)

LAMPIRIS = OfferLine(
    "o-lampiris", "Lampiris", "electricity:1", 27_350, 450, 100, 10, 12, 8, 112_345,
    date(2027, 6, 30),
)  # fmt: skip
ENGIE = OfferLine(
    "o-engie", "Engie Électrabel", "electricity:1", 26_355, 590, 60, 5, 36, 11, 154_321,
    date(2027, 7, 15),
)  # fmt: skip
TOTAL = OfferLine(
    "o-total", "TotalEnergies", "gas:1", 9_876, 300, 0, 0, 12, 5, 2_000, date(2027, 7, 1)
)
OFFERS = (LAMPIRIS, ENGIE, TOTAL)


def summary(language: str = "en", **changes: object) -> CampaignSummary:
    """The Tilleuls buy electricity and gas together: 12 of 20 units gave
    their electricity, only 3 their gas; three offers came back and the
    final vote chose Engie's."""
    values: dict[str, object] = {
        "letterhead": letterhead(),
        "language": language,
        "name": "Achat groupé 2027",
        "status": "finalized",
        "energy_types": ("electricity", "gas"),
        "deadline": date(2027, 4, 30),
        "contract_months": 12,
        "contract_type": "fixed",
        "mandate": "AG du 15 mars 2027, point 3",
        "figures": (ELECTRICITY, GAS_HIDDEN),
        "offers": OFFERS,
        "chosen_offer": "o-engie",
        "generated_on": date(2027, 5, 2),
    }
    values.update(changes)
    return CampaignSummary(**values)  # type: ignore[arg-type]


def text_of(the_summary: CampaignSummary) -> str:
    return "\n".join(pages_text(render_summary(the_summary)))


def flat(text: str) -> str:
    """Text with its lines joined, to read sentences the page wrapped."""
    return " ".join(text.split())


# -- what the assembly reads -----------------------------------------------------------


def test_what_the_assembly_reads():
    text = text_of(summary())
    for expected in (
        "Group energy purchase: summary for the general assembly",
        "ACP Résidence Les Tilleuls",
        "Uccle, 2 May 2027",
        "Achat groupé 2027",
        "Status\nFinalized",
        "Energies\nElectricity, Gas",
        "Contract sought\n12 months, fixed price",
        "Taking part until\n30 April 2027",
        "Assembly's mandate\nAG du 15 mars 2027, point 3",
        "Electricity\n 12\n 20\n 60%\n 48,213 kWh\n 4,018 kWh\n 3,720 kWh",
        "Gas\n 3\n 20\n 15%\n —\n —\n —",
        "Lampiris\n €0.2735\n €4.50\n 100%\n 10/10\n 12\n 8%\n €1,123.45\n 30/06/2027",
        "TotalEnergies\n €0.09876\n €3.00\n 0%\n 0/10\n 12\n 5%\n €20.00\n 01/07/2027",
        "Privacy",
    ):
        assert expected in text
    for sentence in (
        "Only the total, the average and the median are shown, never a minimum or a maximum.",
        "Each owner's consumption could be read only on the owner's own devices and on the "
        "syndic's: it was stored and exchanged encrypted.",
        "Only anonymous totals of at least 5 participants were shared with the broker, never a "
        "minimum or a maximum.",
        "The data of each unit is deleted 90 days after the campaign ends; only the anonymous "
        "totals are kept.",
    ):
        assert sentence in flat(text)
    assert reader(render_summary(summary())).metadata.title == TITLE


@pytest.mark.parametrize(
    ("language", "forms"),
    [
        (
            "fr",
            (
                "Uccle, le 2 mai 2027",
                "30 avril 2027",
                " 60 %\n 48 213 kWh\n 4 018 kWh\n 3 720 kWh",
                " 0,2735 €\n 4,50 €\n 100 %",
                " 0,26355 €\n 5,90 €\n 60 %",
                " 11 %\n 1 543,21 €\n 15/07/2027",
                "État",
                "Page 1 / 2",
                "Réalisé avec KoproGo le 02/05/2027",
            ),
        ),
        (
            "nl",
            (
                "Uccle, 2 mei 2027",
                "30 april 2027",
                " 60%\n 48.213 kWh\n 4.018 kWh\n 3.720 kWh",
                " € 0,2735\n € 4,50\n 100%",
                " € 0,26355\n € 5,90\n 60%",
                " 11%\n € 1.543,21\n 15/07/2027",
                "Pagina 1 / 2",
                "Gemaakt met KoproGo op 02/05/2027",
            ),
        ),
        (
            "de",
            (
                "Uccle, 2. Mai 2027",
                "30. April 2027",
                " 60 %\n 48.213 kWh\n 4.018 kWh\n 3.720 kWh",
                " 0,2735 €\n 4,50 €\n 100 %",
                " 0,26355 €\n 5,90 €\n 60 %",
                " 11 %\n 1.543,21 €\n 15.07.2027",
                "Seite 1 / 2",
                "Erstellt mit KoproGo am 02.05.2027",
            ),
        ),
        (
            "en",
            (
                "Uccle, 2 May 2027",
                "30 April 2027",
                " 60%\n 48,213 kWh\n 4,018 kWh\n 3,720 kWh",
                " €0.2735\n €4.50\n 100%",
                " €0.26355\n €5.90\n 60%",
                " 11%\n €1,543.21\n 15/07/2027",
                "Page 1 / 2",
                "Made with KoproGo on 02/05/2027",
            ),
        ),
    ],
)
def test_figures_amounts_and_dates_are_written_the_languages_way(
    language: str, forms: tuple[str, ...]
):
    data = render_summary(summary(language))
    text = "\n".join(pages_text(data))
    for expected in forms:
        assert expected in text
    assert reader(data).trailer["/Root"]["/Lang"].startswith(language)


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_every_offer_shows_its_provider_and_green_score(language: str):
    text = text_of(summary(language))
    for offer in OFFERS:
        # provider, the chosen offer's mark (one or two lines), price, fee, green %, score
        row = re.search(rf"{re.escape(offer.provider)}\n(?:.*\n){{3,5}}? (\d+)/10\n", text)
        assert row is not None, offer.provider
        assert int(row.group(1)) == offer.green_score


@pytest.mark.parametrize(
    ("millicents", "price"),
    [(27_350, "€0.2735"), (27_355, "€0.27355"), (100_000, "€1.0000"), (1, "€0.00001")],
)
def test_a_price_per_kwh_has_four_decimals_five_when_needed(millicents: int, price: str):
    offer = replace(LAMPIRIS, price_kwh_millicents=millicents)
    assert f"Lampiris\n {price}\n" in text_of(summary(offers=(offer,), chosen_offer=""))


# -- the chosen offer --------------------------------------------------------------------


def test_the_chosen_offer_is_marked_in_the_table_and_named_below():
    text = text_of(summary())
    assert "Engie Électrabel\n(chosen)\n €0.26355" in text
    assert text.count("(chosen)") == 1
    assert (
        "Offer chosen: Engie Électrabel (Electricity), €0.26355 per kWh and €5.90 a month, "
        "for 36 months, valid until 15 July 2027." in flat(text)
    )


def test_before_the_final_vote_no_offer_is_marked():
    text = text_of(summary(status="awaiting_final_vote", chosen_offer=""))
    assert "(chosen)" not in text
    assert "Offer chosen" not in text
    assert "No offer has been chosen yet: the assembly chooses by vote among these offers." in flat(
        text
    )
    assert "Status\nAwaiting the final vote" in text


# -- k-anonymity -----------------------------------------------------------------------


def test_below_five_participants_the_summary_explains_and_shows_no_kwh():
    hidden = (EnergyFigures("electricity", 4, 20, 20), EnergyFigures("gas", 1, 20, 5))
    text = text_of(summary(figures=hidden))
    assert not re.search(r"\d kWh", text)
    assert "Electricity\n 4\n 20\n 20%\n —\n —\n —" in text
    for sentence in (
        "Electricity: 4 verified participants. Nothing is shown below 5 participants, so that "
        "nobody's consumption can be guessed.",
        "Gas: 1 verified participant. Nothing is shown below 5 participants, so that "
        "nobody's consumption can be guessed.",
    ):
        assert sentence in flat(text)


def test_from_five_participants_the_figures_are_shown_and_never_a_minimum_or_maximum():
    yearly = [2_100, 3_400, 3_720, 5_000, 9_000]
    figures = EnergyFigures.from_figures(rules.figures("electricity", yearly, 20))
    assert figures == EnergyFigures("electricity", 5, 20, 25, 23_220, 4_644, 3_720)
    text = text_of(
        summary(energy_types=("electricity",), figures=(figures,), offers=(), chosen_offer="")
    )
    assert "Electricity\n 5\n 20\n 25%\n 23,220 kWh\n 4,644 kWh\n 3,720 kWh" in text
    assert "2,100" not in text and "9,000" not in text
    assert "Nothing is shown below" not in text


def test_fewer_than_five_participants_can_not_be_given_figures():
    with pytest.raises(InputError, match="fewer than 5 participants may not be shown"):
        EnergyFigures("gas", 4, 20, 20, 12_000, 3_000, 2_900)
    assert not EnergyFigures.from_figures(rules.figures("gas", [1_000] * 4, 20)).shown


# -- a campaign at its start -------------------------------------------------------------


def test_before_the_mandate_the_summary_says_what_is_missing():
    text = text_of(
        summary(
            status="awaiting_ag_vote",
            mandate="",
            deadline=None,
            figures=(),
            offers=(),
            chosen_offer="",
            contract_months=1,
            contract_type="variable",
        )
    )
    for expected in (
        "Status\nAwaiting the assembly's vote",
        "Contract sought\n1 month, variable price",
        "Assembly's mandate\nnot given yet",
        "No consumption has been gathered yet.",
        "No offer has been received yet.",
    ):
        assert expected in text
    assert "Taking part until" not in text


def test_an_offer_from_the_broker_becomes_a_line():
    offer = Offer("o-1", "electricity:1", "Mega", 27_350, 450, 100, 12, 8, valid_until="2027-06-30")
    line = OfferLine.from_offer(offer, 112_345)
    assert line == replace(LAMPIRIS, id="o-1", provider="Mega")


# -- translations ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["fr", "nl", "de", "en"])
def test_every_word_of_the_summary_goes_through_the_translations(language: str):
    data = render_summary(summary(language), translate=MarkedTranslations)
    text = flat("\n".join(pages_text(data)))
    assert reader(data).metadata.title == f"«[{language}] {TITLE}»"
    for message in (
        "Status»",
        "Finalized»",
        "Electricity»",
        "Participation and consumption»",
        "Offers received»",
        "Provider»",
        "Green score»",
        "Engie Électrabel (chosen)»",
        "Privacy»",
        f"«[{language}] Gas»: 3 verified participants.",
    ):
        assert f"«[{language}] {message}" in text


@pytest.mark.parametrize("language", ["fr", "nl", "de"])
def test_once_translated_the_summary_reads_in_the_language(language: str):
    _ = translator(language).gettext
    assert _(TITLE) != TITLE  # the catalogs translate the summary
    text = flat(text_of(summary(language)))
    for message in (
        TITLE,
        "Offers received",
        "Participation and consumption",
        "Privacy",
        "Finalized",
    ):
        assert flat(_(message)) in text
    assert flat(_("{provider} (chosen)").format(provider="Engie Électrabel")) in text


def test_the_same_summary_gives_the_same_document():
    """Byte for byte, in another process whose string hashing differs."""
    other = elsewhere(
        "import sys; from tests.test_pdf_energy import render_summary, summary; "
        "sys.stdout.buffer.write(render_summary(summary()))"
    )
    assert render_summary(summary()) == other
    assert summary_section(summary()).footer == "Achat groupé 2027"


# -- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: summary(language="es"), "language must be one of"),
        (lambda: summary(name=" "), "needs a name"),
        (lambda: summary(status="voting"), "Unknown campaign state 'voting'"),
        (lambda: summary(contract_type="indexed"), "fixed or variable"),
        (lambda: summary(contract_months=0), "from 1 to 120 months"),
        (lambda: summary(energy_types=()), "electricity, gas or both"),
        (lambda: summary(energy_types=("gas", "gas")), "electricity, gas or both"),
        (lambda: summary(energy_types=("electricity", "fuel")), "Unknown energy 'fuel'"),
        (
            lambda: summary(figures=(ELECTRICITY, ELECTRICITY)),
            "figures of each energy of the campaign once",
        ),
        (
            lambda: summary(
                energy_types=("electricity",), figures=(GAS_HIDDEN,), offers=(), chosen_offer=""
            ),
            "figures of each energy of the campaign once",
        ),
        (lambda: summary(chosen_offer="o-eni"), "chosen offer o-eni is not among the offers"),
        (lambda: summary(offers=(LAMPIRIS, LAMPIRIS)), "two have the same identifier"),
        (
            lambda: summary(energy_types=("electricity",), figures=(ELECTRICITY,)),
            "Offer o-total is for an energy this campaign does not buy",
        ),
        (lambda: EnergyFigures("fuel", 0, 20, 0), "Unknown energy 'fuel'"),
        (lambda: EnergyFigures("gas", -1, 20, 0), "between zero and the number of units"),
        (lambda: EnergyFigures("gas", 21, 20, 100), "between zero and the number of units"),
        (lambda: EnergyFigures("gas", 3, 20, 101), "whole percentage from 0 to 100"),
        (lambda: EnergyFigures("gas", 3, 20, -1), "whole percentage from 0 to 100"),
        (lambda: EnergyFigures("gas", 6, 20, 30, 100, None, 10), "together, or none"),
        (lambda: EnergyFigures("gas", 6, 20, 30, -100, 10, 10), "whole number of kWh"),
        (lambda: EnergyFigures("gas", 6, 20, 30), "5 participants or more, give the total"),
        (lambda: replace(LAMPIRIS, id=""), "needs its identifier"),
        (lambda: replace(LAMPIRIS, provider=" "), "o-lampiris needs the name of its provider"),
        (lambda: replace(LAMPIRIS, pool="electricity"), "unknown pool 'electricity'"),
        (lambda: replace(LAMPIRIS, pool="fuel:1"), "unknown pool 'fuel:1'"),
        (lambda: replace(LAMPIRIS, price_kwh_millicents=0), "price_kwh_millicents must be"),
        (lambda: replace(LAMPIRIS, fixed_monthly_fee_cents=-1), "fixed_monthly_fee_cents must"),
        (lambda: replace(LAMPIRIS, yearly_savings_cents=-5), "yearly_savings_cents must be"),
        (lambda: replace(LAMPIRIS, green_pct=101), "green_pct must be a whole number from 0"),
        (lambda: replace(LAMPIRIS, contract_months=0), "contract_months must be"),
        (lambda: replace(LAMPIRIS, estimated_savings_pct=-2), "estimated_savings_pct must be"),
        (lambda: replace(LAMPIRIS, green_score=5), "100 % green energy scores 10, not 5"),
        (lambda: replace(ENGIE, green_score=10), "60 % green energy scores 5, not 10"),
        (lambda: replace(LAMPIRIS, valid_until="2027-06-30"), "date it is valid until"),
    ],
)
def test_bad_summaries_are_refused_in_words(make, words: str):
    with pytest.raises(InputError, match=re.escape(words)):
        make()
