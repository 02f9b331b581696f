"""Figures and the automatic summary, from indicator results of the fixture territory."""

from __future__ import annotations

import indicators_fixtures as fx
import pandas as pd
import pytest

from ess_diag import figures, indicators, summary
from ess_diag.formatting import NBSP


@pytest.fixture
def doc_con(geo_con):
    fx.insert_stats(geo_con)
    fx.insert_private(geo_con)
    fx.insert_actors(geo_con)
    return geo_con


@pytest.fixture
def ain(doc_con):
    return indicators.compute(doc_con, "departement", "01", 2023)


def test_layout_is_french_and_readable(ain):
    chart = figures.family_chart(ain["by_family"], ain["jobs_source"])
    layout = chart.figure.layout
    assert layout.separators == ", "
    assert layout.font.size >= 16
    assert layout.font.color == "#1a1a1a"


def test_plotly_config_is_french_and_offline(ain):
    chart = figures.family_chart(ain["by_family"], ain["jobs_source"])
    config = figures.plotly_config(chart)
    assert config["locale"] == "fr"
    words = config["locales"]["fr"]["dictionary"]
    assert words["Download plot as a png"] == "Télécharger le graphique en PNG"
    assert config["locales"]["fr"]["format"]["decimal"] == ","
    assert config["toImageButtonOptions"]["filename"] == chart.filename
    assert config["displaylogo"] is False
    assert figures.plotly_config(chart, displayModeBar=False)["displayModeBar"] is False
    assert "toImageButtonOptions" not in figures.plotly_config()


def test_family_chart_values_colours_and_labels(ain):
    chart = figures.family_chart(ain["by_family"], ain["jobs_source"])
    bar = chart.figure.data[0]
    # Ain 2023 (fixture): associations 25+150+50, coopératives 5+10, mutuelles 40 = 280 jobs;
    # bars listed bottom-up (first family at the top).
    by_label = dict(zip(bar.y, bar.x, strict=True))
    assert by_label == {
        "Associations": 225.0,
        "Coopératives": 15.0,
        "Mutuelles": 40.0,
        "Fondations": 0.0,
        "Sociétés commerciales de l'ESS": 0.0,
    }
    assert bar.y[-1] == "Associations"
    colours = dict(zip(bar.y, bar.marker.color, strict=True))
    assert colours["Associations"] == "#0072B2"
    assert colours["Coopératives"] == "#E69F00"
    texts = dict(zip(bar.y, bar.text, strict=True))
    assert texts["Associations"] == f"225 (80,4{NBSP}%)"
    assert chart.note is None  # statistics, not an estimate
    assert list(chart.data.columns)[:3] == ["famille", "établissements", "emplois"]
    assert chart.data["emplois"].tolist() == [225.0, 15.0, 40.0, 0.0, 0.0]


def test_family_chart_estimate_is_labelled(ain):
    chart = figures.family_chart(ain["by_family"], "estimation_sirene")
    assert chart.note.startswith("Estimation")


def test_comparison_chart_highlights_territory(ain):
    chart = figures.comparison_chart(ain)
    bar = chart.figure.data[0]
    values = dict(zip(bar.y, bar.x, strict=True))
    # Drawn in percent (French " %" ticks), labelled with the formatted share.
    assert values["Ain (dép.)"] == pytest.approx(20.0)
    assert values["Auvergne-Rhône-Alpes (région)"] == pytest.approx(
        100 * ain["comparisons"]["parents"][0]["ess_share_private_jobs"]
    )
    assert chart.figure.layout.xaxis.ticksuffix == f"{NBSP}%"
    colours = dict(zip(bar.y, bar.marker.color, strict=True))
    assert colours["Ain (dép.)"] == figures.HIGHLIGHT_COLOR
    assert colours["France"] == figures.REFERENCE_COLOR
    assert dict(zip(bar.y, bar.text, strict=True))["Ain (dép.)"] == f"20,0{NBSP}%"


def test_sector_charts(ain):
    jobs = figures.sector_jobs_chart(ain["by_sector"])
    bar = jobs.figure.data[0]
    # Largest first at the top (plotly draws the last y at the top).
    assert list(bar.y)[::-1] == [
        "Action sociale sans hébergement",
        "Santé humaine",
        "Enseignement",
        "Activités financières et d'assurance",
        "Sport et loisirs",
    ]
    assert list(bar.x)[::-1] == [120.0, 60.0, 50.0, 40.0, 10.0]
    assert len(jobs.data) == 15  # the CSV keeps every sector, zeros included
    share = figures.sector_share_chart(ain["by_sector"])
    rows = {r["label"]: r["ess_share_in_sector"] for r in ain["by_sector"]["rows"]}
    got = dict(zip(share.figure.data[0].y, share.figure.data[0].x, strict=True))
    assert got == pytest.approx({k: 100 * v for k, v in rows.items() if k in got})
    assert all(v is not None for v in got.values())
    spec = figures.specialisation_chart(ain["by_sector"])
    assert spec.title == "Spécialisation de l'ESS (référence : France)"
    bar = spec.figure.data[0]
    lqs = {r["label"]: r["location_quotient"] for r in ain["by_sector"]["rows"]}
    # Bars start at 1: base 1, length lq − 1.
    assert bar.base == 1
    assert {y: x + 1 for y, x in zip(bar.y, bar.x, strict=True)} == pytest.approx(
        {y: lqs[y] for y in bar.y}
    )


def test_rural_and_evolution_charts(ain):
    rural = figures.rural_chart(ain["rural"])
    bar = rural.figure.data[0]
    assert list(bar.x) == ["Communes rurales", "Communes urbaines"]
    assert list(bar.y) == pytest.approx(
        [
            100 * ain["rural"]["ess_share_private_jobs_rural"],
            100 * ain["rural"]["ess_share_private_jobs_urban"],
        ]
    )
    index = figures.index_chart(ain["evolution"])
    ess = index.figure.data[0]
    assert list(ess.x) == [2021, 2022, 2023]
    # Ain ESS jobs 274 (2021) → 262 → 280 (fixture); base 100 on 2021.
    assert list(ess.y) == pytest.approx([100.0, 100 * 262 / 274, 100 * 280 / 274])
    assert index.title.endswith("base 100 en 2021)")
    pd.testing.assert_series_equal(
        index.data["emplois ESS"], pd.Series([274.0, 262.0, 280.0], name="emplois ESS")
    )


@pytest.mark.parametrize(
    ("builder", "section"),
    [
        (figures.family_chart, "by_family"),
        (figures.sector_jobs_chart, "by_sector"),
        (figures.sector_share_chart, "by_sector"),
        (figures.rural_chart, "rural"),
        (figures.index_chart, "evolution"),
        (figures.top_employers_chart, "resilience"),
    ],
)
def test_empty_territory_explains_why(geo_con, builder, section):
    """No data loaded at all: no figure, a French reason saying what to import."""
    doc = indicators.compute(geo_con, "epci", "200000001")
    chart = builder(doc[section])
    assert chart.figure is None
    assert chart.empty_reason
    assert chart.empty_reason[0].isupper()


def test_top_employers_escape_and_partial_diffusion():
    res = {
        "top5_employers": [
            {
                "name": "<img src=x onerror=alert(1)>",
                "partial": False,
                "jobs": 10.0,
                "establishments": 1,
            },
            {"name": None, "partial": True, "jobs": 4.0, "establishments": 1},
        ],
        "notes": {},
    }
    chart = figures.top_employers_chart(res)
    labels = list(chart.figure.data[0].y)
    assert "&lt;img src=x onerror=alert(1)&gt;" in labels
    assert "diffusion partielle" in labels
    assert not any("<img" in label for label in labels)
    assert chart.data["employeur"].tolist() == [
        "<img src=x onerror=alert(1)>",
        "diffusion partielle",
    ]


def test_summary_of_ain(ain):
    lines = summary.summarize(ain)
    region = ain["comparisons"]["parents"][0]["ess_share_private_jobs"]
    assert lines[0] == "Ain : en 2023, l'ESS compte 18 établissements employeurs et 280 emplois."
    assert lines[1].startswith(f"Elle pèse 20,0{NBSP}% de l'emploi privé, ")
    assert summary.compare_phrase(0.2, region, "region") in lines[1]
    assert f"Les associations portent 80,4{NBSP}% des emplois de l'ESS." in lines
    assert any(
        line.startswith("Entre 2021 et 2023, les emplois de l'ESS ont évolué de +2,2")
        for line in lines
    )


@pytest.mark.parametrize(
    ("value", "reference", "level", "expected"),
    [
        (0.162, 0.142, "region", f"2,0 points de plus que la moyenne régionale (14,2{NBSP}%)"),
        (0.10, 0.115, "france", f"1,5 point de moins que la moyenne nationale (11,5{NBSP}%)"),
        (0.1402, 0.1400, "departement", f"au niveau de la moyenne départementale (14,0{NBSP}%)"),
    ],
)
def test_compare_phrase(value, reference, level, expected):
    assert summary.compare_phrase(value, reference, level) == expected


def test_summary_without_data(geo_con):
    doc = indicators.compute(geo_con, "epci", "200000001")
    assert summary.summarize(doc) == [
        "Aucune donnée sur l'ESS n'est chargée pour CC du Bocage : importez le répertoire "
        "SIRENE ou des statistiques (URSSAF, observatoire)."
    ]
