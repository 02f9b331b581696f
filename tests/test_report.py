"""Workshop synthesis exports: HTML, PDF (text extraction), XLSX (ess_diag.report)."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from workshop_fixtures import EVIL, drive_session, fresh_con

from ess_diag import indicators, report, workshop
from ess_diag.formatting import NBSP
from ess_diag.report import content, html, pdf


@pytest.fixture(scope="module")
def driven():
    con = fresh_con()
    session, people, ids = drive_session(con)
    # A hidden contribution must stay out of every export.
    hidden = workshop.post(con, session.session_id, "freins", "Texte masqué par l'animateur")
    workshop.set_hidden(con, session.session_id, hidden)
    # A formula-looking contribution must stay text in the XLSX.
    workshop.post(con, session.session_id, "pistes", '=HYPERLINK("http://x","clic")')
    exports = report.export_all(con, session.session_id)
    yield con, session, ids, exports
    con.close()


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_key_figures_from_indicators(driven):
    con, session, ids, exports = driven
    figures = report.key_figures(con, "departement", "01")
    # Ain 2023 in the indicator fixtures: 3 + 10 + 5 establishments, 30 + 200 + 50 jobs.
    assert figures.year == 2023
    assert figures.unavailable is None
    assert figures.cards[:2] == [
        ("Établissements employeurs de l'ESS", "18", ""),
        ("Emplois dans l'ESS", "280", ""),
    ]
    assert figures.by_family == [
        ("Associations", 225.0),
        ("Mutuelles", 40.0),
        ("Coopératives", 15.0),
    ]
    assert figures.by_sector[0] == ("Action sociale sans hébergement", 120.0)


def test_key_figures_never_raise(driven):
    con, session, ids, exports = driven
    figures = report.key_figures(con, "departement", "99")
    assert figures.cards == []
    assert figures.unavailable.startswith("Chiffres clés indisponibles")


def test_key_figures_let_other_errors_through(driven, monkeypatch):
    """Only "unknown territory" is caught: a bug in the indicators is not hidden as a note."""
    con, session, ids, exports = driven

    def broken(*args, **kwargs):
        raise KeyError("ess_jobs")

    monkeypatch.setattr(indicators, "compute", broken)
    with pytest.raises(KeyError):
        report.key_figures(con, "departement", "01")


def test_export_all_describes_once_and_draws_once_per_format(driven, monkeypatch):
    con, session, ids, exports = driven
    calls: Counter[str] = Counter()

    def count(owner, name: str, key: str) -> None:
        original = getattr(owner, name)

        def counted(*args, **kwargs):
            calls[key] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)

    count(workshop, "synthesis", "synthesis")
    count(content, "key_figures", "key_figures")
    count(content, "_rings", "rings parsed")
    count(content.MapData, "project", "map projected")
    count(html, "_svg_bars", "html bars")
    count(html, "_svg_map", "html map")
    count(pdf, "_bars", "pdf bars")
    count(pdf, "_map", "pdf map")
    again = report.export_all(con, session.session_id)
    outlines = len(workshop.synthesis(con, session.session_id).outlines)
    calls["synthesis"] -= 1  # the line above
    assert outlines > 0
    assert dict(calls) == {
        "synthesis": 1,
        "key_figures": 1,
        "rings parsed": outlines,  # each outline once, for both drawings
        "map projected": 2,  # once into the SVG box, once onto the A4 page
        "html map": 1,
        "pdf map": 1,
        "html bars": 3,  # one chart per series (families, sectors, besoins)
        "pdf bars": 3,
    }
    assert set(again) == {"html", "pdf", "xlsx"}
    assert again["pdf"].startswith(b"%PDF") and again["xlsx"][:2] == b"PK"


def test_pdf_sections_in_order(driven):
    con, session, ids, exports = driven
    assert exports["pdf"].startswith(b"%PDF")
    text = _pdf_text(exports["pdf"])
    sections = [
        "Synthèse de l'atelier : Atelier ESS de l'Ain",
        "Ain · 23 novembre 2026 · Salle des fêtes",
        "Chiffres clés du territoire",
        "Emplois de l'ESS par famille",
        "Emplois de l'ESS par secteur",
        "Carte de l'atelier",
        "Priorités votées",
        "Contributions",
        "Forces (4)",
        "Faiblesses (3)",
        "Besoins (4)",
        "Opportunités (2)",
        "Freins (2)",
        "Pistes d'action (5)",
    ]
    positions = [text.find(s) for s in sections]
    assert -1 not in positions, [s for s, p in zip(sections, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert "1. Une épicerie solidaire — 2 votes (Besoins)" in text
    assert "1 doublon fusionné" in text
    assert "Texte masqué" not in text
    # Merged duplicate not listed on its own.
    assert "Épicerie solidaire !" not in text


def test_pdf_falls_back_to_core_font(driven):
    con, session, ids, exports = driven
    data = report.build_pdf(con, session.session_id, font_candidates=(Path("/nonexistent.ttf"),))
    text = _pdf_text(data)
    # Latin-1 core font: accents survive, the narrow no-break space becomes a space.
    assert "Synthèse de l'atelier" in text
    assert "Opportunités (2)" in text
    assert NBSP not in text


def test_xlsx_contributions_with_votes(driven):
    con, session, ids, exports = driven
    book = load_workbook(io.BytesIO(exports["xlsx"]))
    sheet = book["Contributions"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Catégorie", "Contribution", "Votes", "Commune")
    body = rows[1:]
    # 20 posted - 1 merged + 1 formula-looking; the hidden one is left out.
    assert len(body) == 20
    votes = {r[1]: r[2] for r in body}
    assert votes["Une épicerie solidaire"] == 2
    assert votes["Créer un pôle territorial de coopération"] == 2
    assert votes["Un tiers-lieu"] == 1
    assert sum(votes.values()) == 6
    epicerie = next(r for r in body if r[1] == "Une épicerie solidaire")
    assert epicerie[:9] == (
        "Besoins",
        "Une épicerie solidaire",
        2,
        "L'Abergement-de-Varey",
        "01002",
        "Commerce",
        "Alice",
        1,
        "Épicerie solidaire !",
    )
    formula = next(c for c in sheet["B"] if str(c.value).startswith("=HYPERLINK"))
    assert formula.data_type == "s"
    info = dict(book["Atelier"].iter_rows(values_only=True))
    assert info["Contributions masquées (non exportées)"] == 1
    assert info["Votes"] == 6


def test_html_self_contained_and_escaped(driven):
    con, session, ids, exports = driven
    html = exports["html"].decode("utf-8")
    assert EVIL not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # Chloé's display name is the same probe: never shown raw either.
    assert "<img" not in html and "<script" not in html
    # No outside resource: no http(s) URL in src/href, no CDN.
    assert not re.search(r"(src|href)=\"https?://", html)
    for section in ("Chiffres clés du territoire", "Carte de l'atelier", "Priorités votées"):
        assert f"<h2>{section}</h2>" in html
    assert "<svg" in html and "<polygon" in html and "<circle" in html
    assert "Texte masqué" not in html


def test_synthesis_without_any_contribution():
    con = fresh_con()
    session = workshop.create_session(con, "departement", "01", "Atelier vide")
    html = report.build_html(con, session.session_id)
    assert "Aucune contribution n'est rattachée à une commune." in html
    assert "Aucun vote." in html
    text = _pdf_text(report.build_pdf(con, session.session_id))
    assert "Aucune contribution." in text
    book = load_workbook(io.BytesIO(report.build_xlsx(con, session.session_id)))
    assert book["Contributions"].max_row == 1
    con.close()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Atelier ESS : Bâgé-le-Châtel !", "atelier-ess-bage-le-chatel"),
        ("<script>", "script"),
        ("???", "atelier"),
    ],
)
def test_slug(title, expected):
    assert report.slug(title) == expected


def test_file_stem(driven):
    con, session, ids, exports = driven
    assert report.file_stem(session) == "synthese-2026-11-23-atelier-ess-de-l-ain"
