"""The workshop synthesis: a self-contained HTML page, an A4 PDF and an XLSX of contributions.

Content comes from :func:`ess_diag.workshop.synthesis` (the room's contributions and votes) and
:func:`key_figures` (the territory's figures, from ``ess_diag.indicators``). Charts and the map
are drawn here without a browser: inline SVG in the HTML, vector drawing in the PDF, so the
export works offline, in a town hall with no internet, and the HTML opens anywhere.

Everything a participant wrote is escaped before it reaches HTML or SVG; XLSX cells are written
as text so a contribution starting with ``=`` never becomes a formula.

>>> slug("Atelier ESS : Bâgé-le-Châtel !")
'atelier-ess-bage-le-chatel'
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import workshop
from .formatting import NOT_AVAILABLE, escape, fmt_date, fmt_int, fmt_num, fmt_pct

__all__ = [
    "KeyFigures",
    "key_figures",
    "build_html",
    "build_pdf",
    "build_xlsx",
    "export_all",
    "slug",
    "file_stem",
    "FONT_CANDIDATES",
]

#: TTF fonts tried in order for the PDF (Debian's fonts-dejavu-core); without one the PDF uses
#: the PDF core font Helvetica, whose Latin-1 still covers French accents.
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)

_FAMILY_LABELS_FALLBACK = {
    "association": "Associations",
    "cooperative": "Coopératives",
    "mutuelle": "Mutuelles",
    "fondation": "Fondations",
    "societe_commerciale": "Sociétés commerciales de l'ESS",
}
#: One colour per category (board, map, charts), readable on white and on a projector.
CATEGORY_COLOURS = {
    "forces": "#2e7d32",
    "faiblesses": "#c62828",
    "besoins": "#1565c0",
    "opportunites": "#6a1b9a",
    "freins": "#ef6c00",
    "pistes": "#00838f",
}
_BAR = "#1f6f8b"


# --- key figures: the one integration point with ess_diag.indicators --------------------------


@dataclass
class KeyFigures:
    """The territory's headline figures, already formatted in French, and two bar series."""

    year: int | None = None
    #: (label, formatted value, note) in display order.
    cards: list[tuple[str, str, str]] = field(default_factory=list)
    #: (label, jobs) by ESS family and by sector (largest first), for the bar charts.
    by_family: list[tuple[str, float]] = field(default_factory=list)
    by_sector: list[tuple[str, float]] = field(default_factory=list)
    source_note: str = ""
    #: Why figures are missing (indicators unavailable or failing), in French.
    unavailable: str | None = None


def _value(item):
    # Indicators may return a bare number or {"value": …, "reason": …} for figures with a caveat.
    if isinstance(item, dict):
        return item.get("value")
    return item


def _pairs(block, labels: dict[str, str], key_name: str) -> list[tuple[str, float]]:
    """``by_family``/``by_sector`` as a dict keyed by family or a list of records → pairs."""
    records: list[tuple[str, dict]] = []
    if isinstance(block, dict) and isinstance(block.get("rows"), list):
        block = block["rows"]  # indicators: {"rows": [...], "notes": {...}}
    if isinstance(block, dict):
        records = [(k, v if isinstance(v, dict) else {"jobs": v}) for k, v in block.items()]
    elif isinstance(block, list):
        records = [(r.get(key_name) or r.get("key"), r) for r in block if isinstance(r, dict)]
    out = []
    for key, record in records:
        jobs = _value(record.get("jobs", record.get("ess_jobs")))
        if not jobs or (isinstance(jobs, float) and math.isnan(jobs)):
            continue
        label = record.get("label") or labels.get(key) or str(key)
        out.append((label, float(jobs)))
    return sorted(out, key=lambda p: -p[1])


def key_figures(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> KeyFigures:
    """The territory's key figures from ``ess_diag.indicators.compute`` (never raises).

    Keys read (issue 3 JSON): ``year``, ``ess_establishments``, ``ess_jobs``, ``private_jobs``,
    ``ess_share_private_jobs``, ``jobs_source``, ``by_family``, ``by_sector``; every other key
    is ignored, so the synthesis keeps working while indicators grow.
    """
    try:
        from . import indicators

        result = indicators.compute(con, level, code, year)
    except Exception as exc:  # the workshop's own content must export even without figures
        return KeyFigures(
            year=year,
            unavailable=f"Chiffres clés indisponibles ({type(exc).__name__} : {exc}).",
        )
    if hasattr(result, "to_dict"):
        result = result.to_dict()
    elif not isinstance(result, dict) and hasattr(result, "__dataclass_fields__"):
        import dataclasses

        result = dataclasses.asdict(result)
    estimate = result.get("jobs_source") == "estimation_sirene"
    jobs_note = "estimation d'après les tranches d'effectifs SIRENE" if estimate else ""
    figures = KeyFigures(year=result.get("year", year))
    notes = result.get("notes") or {}

    def card(key: str, label: str, fmt, note: str = "") -> tuple[str, str, str]:
        value = _value(result.get(key))
        # A figure that cannot be computed shows "n.d." with the indicators' French reason.
        reason = notes.get(key, "") if value is None else note
        return (label, fmt(value), str(reason or ""))

    figures.cards = [
        card("ess_establishments", "Établissements employeurs de l'ESS", fmt_int),
        card("ess_jobs", "Emplois dans l'ESS", fmt_int, jobs_note),
        card("ess_share_private_jobs", "Part de l'ESS dans l'emploi privé", fmt_pct, jobs_note),
        card("private_jobs", "Emplois privés", fmt_int),
        card("jobs_per_1000_inhabitants", "Emplois ESS pour 1 000 habitants", fmt_num),
    ]
    try:
        from .nomenclatures import FAMILIES, SECTOR_LABELS
    except ImportError:  # pragma: no cover - nomenclatures ships with the package
        FAMILIES, SECTOR_LABELS = _FAMILY_LABELS_FALLBACK, {}
    figures.by_family = _pairs(result.get("by_family"), dict(FAMILIES), "family")
    figures.by_sector = _pairs(result.get("by_sector"), dict(SECTOR_LABELS), "sector")[:10]
    sources = result.get("sources") or result.get("jobs_sources") or []
    if isinstance(sources, list | tuple):
        sources = ", ".join(str(s) for s in sources)
    figures.source_note = (
        "Emplois estimés d'après les tranches d'effectifs SIRENE (milieu de tranche)."
        if estimate
        else (f"Source : {sources}." if sources else "")
    )
    return figures


# --- names ------------------------------------------------------------------------------------


def slug(text: str) -> str:
    """A file-name-safe ASCII slug of a title."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "atelier"


def file_stem(session: workshop.Session) -> str:
    """``synthese-2026-11-23-atelier-ess-du-bocage`` (no extension)."""
    day = (session.session_date or session.created_at.date()).isoformat()
    return f"synthese-{day}-{slug(session.title)}"


def _territory_label(session: workshop.Session) -> str:
    return session.territory_name or f"{session.territory_level} {session.territory_code}"


def _session_line(session: workshop.Session) -> str:
    parts = [_territory_label(session)]
    if session.session_date:
        parts.append(fmt_date(session.session_date))
    if session.place:
        parts.append(session.place)
    return " · ".join(parts)


def _contribution_meta(row: dict) -> str:
    parts = []
    if row.get("commune_name") or row.get("commune_code"):
        parts.append(str(row.get("commune_name") or row.get("commune_code")))
    if row.get("sector"):
        try:
            from .nomenclatures import SECTOR_LABELS

            parts.append(SECTOR_LABELS.get(row["sector"], row["sector"]))
        except ImportError:  # pragma: no cover
            parts.append(row["sector"])
    if row.get("merged_count"):
        n = int(row["merged_count"])
        parts.append(f"{n} doublon{'s' if n > 1 else ''} fusionné{'s' if n > 1 else ''}")
    return " · ".join(parts)


def _votes_label(votes: int) -> str:
    return f"{fmt_int(votes)} vote{'s' if votes > 1 else ''}"


# --- geometry for the map (shared by SVG and PDF) ---------------------------------------------


def _rings(geojson: str) -> list[list[tuple[float, float]]]:
    try:
        geom = json.loads(geojson)
    except (TypeError, ValueError):
        return []
    if geom.get("type") == "Polygon":
        polygons = [geom["coordinates"]]
    elif geom.get("type") == "MultiPolygon":
        polygons = geom["coordinates"]
    else:
        return []
    return [[(float(x), float(y)) for x, y, *_ in poly[0]] for poly in polygons if poly]


class _Projection:
    """Equirectangular lon/lat → box coordinates, keeping the aspect ratio at mid-latitude."""

    def __init__(self, points: list[tuple[float, float]], width: float, height: float, pad=4.0):
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        self.lon0, self.lat1 = min(lons), max(lats)
        self.kx = math.cos(math.radians((min(lats) + max(lats)) / 2))
        span_x = max((max(lons) - self.lon0) * self.kx, 1e-6)
        span_y = max(self.lat1 - min(lats), 1e-6)
        self.scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        self.ox = pad + ((width - 2 * pad) - span_x * self.scale) / 2
        self.oy = pad + ((height - 2 * pad) - span_y * self.scale) / 2

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.ox + (lon - self.lon0) * self.kx * self.scale,
            self.oy + (self.lat1 - lat) * self.scale,
        )


def _map_layers(content: workshop.Synthesis, width: float, height: float):
    """Projected outlines and circles: ``(outlines, circles)`` or None when nothing to draw."""
    outlines = [ring for o in content.outlines for ring in _rings(o["geojson"])]
    spots = [
        c
        for c in content.communes
        if c.get("lon") is not None and not (isinstance(c["lon"], float) and math.isnan(c["lon"]))
    ]
    points = [p for ring in outlines for p in ring] + [(c["lon"], c["lat"]) for c in spots]
    if not points:
        return None
    project = _Projection(points, width, height)
    projected = [[project(*p) for p in ring] for ring in outlines]
    circles = []
    for c in sorted(spots, key=lambda c: -int(c["contributions"])):
        x, y = project(c["lon"], c["lat"])
        # Area proportional to the count, in absolute terms (1 contribution ≈ 3 mm wide): with
        # many communes each cited once, relative sizes would all be the largest circle.
        radius = min(1.0 + 0.8 * math.sqrt(int(c["contributions"])), 6.0)
        circles.append((x, y, radius, c))
    return projected, circles


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1b1b1b;max-width:960px;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1f6f8b;padding-bottom:.2rem;
 margin-top:2rem}h3{margin-bottom:.3rem}.sub{color:#555;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #ccc;border-radius:8px;
 padding:.6rem .9rem;min-width:180px;flex:1}.card .v{font-size:1.6rem;font-weight:700}
.card .l{color:#444}.card .n{color:#777;font-size:.8rem}
ol.contribs{padding-left:1.4rem}ol.contribs li{margin:.35rem 0}.votes{font-weight:700;
 white-space:nowrap}.meta{color:#666;font-size:.85rem}.note{color:#666;font-size:.85rem}
.cat{border-left:6px solid var(--c);padding-left:.8rem;margin:1.2rem 0}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;
 text-align:left}td.n{text-align:right}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.cat{break-inside:avoid}}
"""


def _svg_bars(pairs: list[tuple[str, float]], title: str) -> str:
    if not pairs:
        return f'<p class="note">{escape(title)} : {NOT_AVAILABLE}.</p>'
    row_h, label_w, bar_w = 26, 290, 360
    height = row_h * len(pairs) + 10
    top = max(v for _, v in pairs) or 1
    parts = [
        f'<svg role="img" aria-label="{escape(title)}" width="100%" viewBox="0 0 '
        f'{label_w + bar_w + 90} {height}" xmlns="http://www.w3.org/2000/svg" '
        'font-family="sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(pairs):
        y = 5 + i * row_h
        w = bar_w * value / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{_BAR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{escape(fmt_int(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_map(content: workshop.Synthesis) -> str:
    width, height = 640.0, 440.0
    layers = _map_layers(content, width, height)
    if layers is None or not content.communes:
        return '<p class="note">Aucune contribution n\'est rattachée à une commune.</p>'
    outlines, circles = layers
    parts = [
        f'<svg role="img" aria-label="Carte de l\'atelier" width="100%" viewBox="0 0 {width:.0f} '
        f'{height:.0f}" style="max-width:760px" xmlns="http://www.w3.org/2000/svg" '
        'font-family="sans-serif">'
    ]
    for ring in outlines:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
        parts.append(
            f'<polygon points="{path}" fill="#f3f1ea" stroke="#9a9a9a" stroke-width=".6"/>'
        )
    for x, y, r, c in circles:
        name = escape(c.get("name") or c["commune_code"])
        texts = " | ".join(escape(t) for t in c.get("texts", []))
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r * 3:.1f}" fill="#c62828" '
            f'fill-opacity=".7" stroke="#fff"><title>{name} : '
            f"{escape(fmt_int(c['contributions']))} contribution(s) — {texts}</title></circle>"
        )
    parts.append("</svg>")
    # Names in a table rather than on the map: labels of neighbouring communes would overlap.
    parts.append("<table><tr><th>Commune</th><th>Contributions</th></tr>")
    for c in sorted(content.communes, key=lambda c: (-int(c["contributions"]), c["name"] or "")):
        parts.append(
            f"<tr><td>{escape(c.get('name') or c['commune_code'])}</td>"
            f'<td class="n">{escape(fmt_int(c["contributions"]))}</td></tr>'
        )
    parts.append("</table>")
    return "".join(parts)


def build_html(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    year: int | None = None,
    *,
    figures: KeyFigures | None = None,
) -> str:
    """The synthesis as one self-contained HTML page (no script, no outside resource)."""
    content = workshop.synthesis(con, session_id)
    session = content.session
    figures = figures or key_figures(con, session.territory_level, session.territory_code, year)
    s = content.stats
    out = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Synthèse — {escape(session.title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Synthèse de l'atelier : {escape(session.title)}</h1>",
        f'<p class="sub">{escape(_session_line(session))}</p>',
        f"<p>{fmt_int(s['participants'])} participants · {fmt_int(s['contributions'])} "
        f"contributions · {fmt_int(s['votes'])} votes</p>",
        "<h2>Chiffres clés du territoire</h2>",
    ]
    if figures.unavailable:
        out.append(f'<p class="note">{escape(figures.unavailable)}</p>')
    else:
        if figures.year:
            out.append(f'<p class="note">Année {escape(figures.year)}.</p>')
        out.append('<div class="cards">')
        for label, value, note in figures.cards:
            out.append(
                f'<div class="card"><div class="v">{escape(value)}</div>'
                f'<div class="l">{escape(label)}</div>'
                + (f'<div class="n">{escape(note)}</div>' if note else "")
                + "</div>"
            )
        out.append("</div>")
        if figures.source_note:
            out.append(f'<p class="note">{escape(figures.source_note)}</p>')
        out.append("<h3>Emplois de l'ESS par famille</h3>")
        out.append(_svg_bars(figures.by_family, "Emplois de l'ESS par famille"))
        out.append("<h3>Emplois de l'ESS par secteur</h3>")
        out.append(_svg_bars(figures.by_sector, "Emplois de l'ESS par secteur"))
    out.append("<h2>Carte de l'atelier</h2>")
    out.append(_svg_map(content))
    out.append("<h2>Priorités votées</h2>")
    ranked = [
        r
        for c in workshop.VOTABLE_CATEGORIES
        for r in content.contributions.get(c, [])
        if r["votes"] > 0
    ]
    ranked.sort(key=lambda r: (-r["votes"], r["created_at"]))
    if ranked:
        out.append(
            "<table><tr><th>Rang</th><th>Contribution</th><th>Catégorie</th><th>Votes</th></tr>"
        )
        for i, r in enumerate(ranked[:10], 1):
            out.append(
                f'<tr><td class="n">{i}</td><td>{escape(r["text"])}</td>'
                f"<td>{escape(workshop.CATEGORIES[r['category']])}</td>"
                f'<td class="n">{fmt_int(r["votes"])}</td></tr>'
            )
        out.append("</table>")
    else:
        out.append('<p class="note">Aucun vote.</p>')
    out.append("<h2>Contributions</h2>")
    for category in workshop.CATEGORY_ORDER:
        rows = content.contributions.get(category, [])
        label = workshop.CATEGORIES[category]
        out.append(
            f'<section class="cat" style="--c:{CATEGORY_COLOURS[category]}">'
            f"<h3>{escape(label)} ({fmt_int(len(rows))})</h3>"
        )
        if not rows:
            out.append('<p class="note">Aucune contribution.</p>')
        else:
            out.append('<ol class="contribs">')
            for r in rows:
                meta = _contribution_meta(r)
                votes = (
                    f' <span class="votes">— {escape(_votes_label(r["votes"]))}</span>'
                    if category in workshop.VOTABLE_CATEGORIES
                    else ""
                )
                out.append(
                    f"<li>{escape(r['text'])}{votes}"
                    + (f'<br><span class="meta">{escape(meta)}</span>' if meta else "")
                    + "</li>"
                )
            out.append("</ol>")
        out.append("</section>")
    out.append(
        f'<p class="note">Document produit par ESS Diag le {escape(fmt_date(dt.date.today()))}.'
        "</p></body></html>"
    )
    return "\n".join(out)


# --- PDF --------------------------------------------------------------------------------------


def _pdf_font(pdf, candidates: tuple[Path, ...]) -> tuple[str, bool]:
    """Register a Unicode TTF when one is installed: ``(family, unicode_ok)``."""
    for path in candidates:
        bold = path.with_name(path.stem + "-Bold.ttf")
        if path.exists():
            pdf.add_font("ESSDiag", "", str(path))
            pdf.add_font("ESSDiag", "B", str(bold if bold.exists() else path))
            return "ESSDiag", True
    return "Helvetica", False


_LATIN1_REPLACEMENTS = {
    "\u202f": " ",
    "\u00a0": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u20ac": "EUR",
}


def _latin1(text: str) -> str:
    # The PDF core fonts only know Latin-1 (enough for é, è, à, ç, ô…): map the rest.
    for src, dst in _LATIN1_REPLACEMENTS.items():
        text = text.replace(src, dst)
    return text.encode("latin-1", "replace").decode("latin-1")


def build_pdf(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    year: int | None = None,
    *,
    figures: KeyFigures | None = None,
    font_candidates: tuple[Path, ...] | None = None,
) -> bytes:
    """The synthesis as an A4 portrait PDF (sections: Chiffres clés, Carte de l'atelier,
    Priorités votées, Contributions)."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    content = workshop.synthesis(con, session_id)
    session = content.session
    figures = figures or key_figures(con, session.territory_level, session.territory_code, year)

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_margins(15, 15, 15)
    family, unicode_ok = _pdf_font(
        pdf, FONT_CANDIDATES if font_candidates is None else font_candidates
    )
    clean = (lambda t: str(t)) if unicode_ok else (lambda t: _latin1(str(t)))
    pdf.set_title(clean(f"Synthèse — {session.title}"))
    pdf.set_creator("ESS Diag")
    page_w = pdf.w - pdf.l_margin - pdf.r_margin

    def footer_fn():
        pdf.set_y(-12)
        pdf.set_font(family, "", 8)
        pdf.set_text_color(120)
        pdf.cell(0, 5, clean(f"{session.title} — page {pdf.page_no()}"), align="C")
        pdf.set_text_color(0)

    pdf.footer = footer_fn  # type: ignore[method-assign]
    pdf.add_page()

    def para(text: str, size: float = 10, style: str = "", h: float = 5, colour: int = 0):
        pdf.set_font(family, style, size)
        pdf.set_text_color(colour)
        pdf.multi_cell(page_w, h, clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0)

    def heading(text: str, need: float = 30):
        # Keep a heading with what follows it (need = its height in mm).
        if pdf.will_page_break(need):
            pdf.add_page()
        pdf.ln(4)
        para(text, 15, "B", 8)
        pdf.set_draw_color(31, 111, 139)
        pdf.set_line_width(0.6)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + page_w, pdf.get_y())
        pdf.ln(3)

    para(f"Synthèse de l'atelier : {session.title}", 20, "B", 10)
    para(_session_line(session), 11, "", 6, 80)
    s = content.stats
    para(
        f"{fmt_int(s['participants'])} participants · {fmt_int(s['contributions'])} contributions"
        f" · {fmt_int(s['votes'])} votes",
        11,
    )

    heading("Chiffres clés du territoire")
    if figures.unavailable:
        para(figures.unavailable, 9, "", 5, 100)
    else:
        if figures.year:
            para(f"Année {figures.year}", 9, "", 5, 100)
        card_w = (page_w - 6) / 2
        for i, (label, value, note) in enumerate(figures.cards):
            if i % 2 == 0:
                y0 = pdf.get_y()
                if pdf.will_page_break(22):
                    pdf.add_page()
                    y0 = pdf.get_y()
            x0 = pdf.l_margin + (i % 2) * (card_w + 6)
            pdf.set_draw_color(190)
            pdf.set_line_width(0.3)
            pdf.rect(x0, y0, card_w, 20)
            pdf.set_xy(x0 + 3, y0 + 2)
            pdf.set_font(family, "B", 15)
            pdf.cell(card_w - 6, 8, clean(value))
            pdf.set_xy(x0 + 3, y0 + 10)
            pdf.set_font(family, "", 9)
            pdf.cell(card_w - 6, 4.5, clean(label))
            if note:
                pdf.set_xy(x0 + 3, y0 + 14.5)
                pdf.set_font(family, "", 7)
                pdf.set_text_color(110)
                pdf.cell(card_w - 6, 4, clean(note))
                pdf.set_text_color(0)
            if i % 2 == 1 or i == len(figures.cards) - 1:
                pdf.set_xy(pdf.l_margin, y0 + 23)
        if figures.source_note:
            para(figures.source_note, 8, "", 4, 110)
        for title, pairs in (
            ("Emplois de l'ESS par famille", figures.by_family),
            ("Emplois de l'ESS par secteur", figures.by_sector),
        ):
            pdf.ln(2)
            para(title, 11, "B", 6)
            _pdf_bars(pdf, family, clean, pairs, page_w)

    heading("Carte de l'atelier", need=145 if content.communes else 30)
    _pdf_map(pdf, family, clean, content, page_w)

    heading("Priorités votées")
    ranked = [
        r
        for c in workshop.VOTABLE_CATEGORIES
        for r in content.contributions.get(c, [])
        if r["votes"] > 0
    ]
    ranked.sort(key=lambda r: (-r["votes"], r["created_at"]))
    if not ranked:
        para("Aucun vote.", 10, "", 5, 100)
    for i, r in enumerate(ranked[:10], 1):
        para(
            f"{i}. {r['text']} — {_votes_label(r['votes'])} ({workshop.CATEGORIES[r['category']]})",
            10,
        )

    heading("Contributions")
    for category in workshop.CATEGORY_ORDER:
        rows = content.contributions.get(category, [])
        if pdf.will_page_break(20):
            pdf.add_page()
        pdf.ln(1)
        colour = CATEGORY_COLOURS[category]
        pdf.set_fill_color(*(int(colour[i : i + 2], 16) for i in (1, 3, 5)))
        pdf.rect(pdf.l_margin, pdf.get_y() + 1, 2, 5, style="F")
        pdf.set_x(pdf.l_margin + 4)
        pdf.set_font(family, "B", 12)
        pdf.cell(
            0,
            7,
            clean(f"{workshop.CATEGORIES[category]} ({fmt_int(len(rows))})"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if not rows:
            para("Aucune contribution.", 9, "", 5, 110)
        for r in rows:
            votes = (
                f" — {_votes_label(r['votes'])}" if category in workshop.VOTABLE_CATEGORIES else ""
            )
            para(f"• {r['text']}{votes}", 10, "", 5)
            meta = _contribution_meta(r)
            if meta:
                para(f"   {meta}", 8, "", 4, 110)
    pdf.ln(4)
    para(f"Document produit par ESS Diag le {fmt_date(dt.date.today())}.", 8, "", 4, 120)
    return bytes(pdf.output())


def _pdf_bars(pdf, family: str, clean, pairs, page_w: float) -> None:
    if not pairs:
        pdf.set_font(family, "", 9)
        pdf.cell(0, 5, clean(f"{NOT_AVAILABLE}."), new_x="LMARGIN", new_y="NEXT")
        return
    label_w, row_h = 70.0, 6.0
    bar_max = page_w - label_w - 25
    top = max(v for _, v in pairs) or 1
    pdf.set_fill_color(31, 111, 139)
    for label, value in pairs:
        if pdf.will_page_break(row_h):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font(family, "", 8.5)
        pdf.set_xy(pdf.l_margin, y)
        text = clean(label)
        if pdf.get_string_width(text) > label_w - 2:
            while pdf.get_string_width(text + "...") > label_w - 2 and len(text) > 4:
                text = text[:-1]
            text = text.rstrip() + "..."
        pdf.cell(label_w - 2, row_h, text, align="R")
        w = max(bar_max * value / top, 0.3)
        pdf.rect(pdf.l_margin + label_w, y + 1, w, row_h - 2, style="F")
        pdf.set_xy(pdf.l_margin + label_w + w + 1.5, y)
        pdf.cell(20, row_h, clean(fmt_int(value)))
        pdf.set_xy(pdf.l_margin, y + row_h)


def _pdf_map(pdf, family: str, clean, content: workshop.Synthesis, page_w: float) -> None:
    height = 110.0
    layers = _map_layers(content, page_w, height)
    if layers is None or not content.communes:
        pdf.set_font(family, "", 9)
        pdf.multi_cell(
            page_w,
            5,
            clean("Aucune contribution n'est rattachée à une commune."),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        return
    if pdf.will_page_break(height + 20):
        pdf.add_page()
    outlines, circles = layers
    x0, y0 = pdf.l_margin, pdf.get_y()
    pdf.set_draw_color(150)
    pdf.set_fill_color(243, 241, 234)
    pdf.set_line_width(0.15)
    for ring in outlines:
        if len(ring) >= 3:
            pdf.polygon([(x0 + x, y0 + y) for x, y in ring], style="DF")
    pdf.set_fill_color(198, 40, 40)
    pdf.set_draw_color(255)
    for x, y, r, _c in circles:
        pdf.circle(x0 + x, y0 + y, r, style="F")
    pdf.set_font(family, "", 7)
    for x, y, r, c in circles[:8]:
        label = clean(f"{c.get('name') or c['commune_code']} ({fmt_int(c['contributions'])})")
        w = pdf.get_string_width(label)
        pdf.text(x0 + x - w / 2, y0 + y - r - 1, label)
    pdf.set_xy(pdf.l_margin, y0 + height + 2)
    pdf.set_font(family, "", 8)
    pdf.set_text_color(100)
    pdf.multi_cell(
        page_w,
        4,
        clean("Cercles proportionnels au nombre de contributions rattachées à chaque commune."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(0)


# --- XLSX -------------------------------------------------------------------------------------


def build_xlsx(con: duckdb.DuckDBPyConnection, session_id: str) -> bytes:
    """The contributions (with votes, commune, sector, merged duplicates) as an Excel file."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    content = workshop.synthesis(con, session_id)
    session = content.session
    book = Workbook()
    sheet = book.active
    sheet.title = "Contributions"
    headers = [
        "Catégorie",
        "Contribution",
        "Votes",
        "Commune",
        "Code commune",
        "Secteur",
        "Auteur",
        "Doublons fusionnés",
        "Textes fusionnés",
        "Saisie par l'animateur",
        "Date (UTC)",
    ]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    try:
        from .nomenclatures import SECTOR_LABELS
    except ImportError:  # pragma: no cover
        SECTOR_LABELS = {}
    for category in workshop.CATEGORY_ORDER:
        for r in content.contributions.get(category, []):
            values = [
                workshop.CATEGORIES[category],
                r["text"],
                int(r["votes"]),
                r.get("commune_name") or None,
                r.get("commune_code") or None,
                SECTOR_LABELS.get(r.get("sector"), r.get("sector")) if r.get("sector") else None,
                r.get("author") or None,
                int(r["merged_count"]),
                " | ".join(r.get("merged_texts") or []) or None,
                "oui" if r.get("by_facilitator") else "non",
                r["created_at"].to_pydatetime()
                if hasattr(r["created_at"], "to_pydatetime")
                else r["created_at"],
            ]
            sheet.append(values)
            for cell in sheet[sheet.max_row]:
                # A text typed by someone is data, never a formula (CSV/XLSX injection).
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    widths = [16, 70, 8, 24, 13, 30, 18, 10, 40, 12, 18]
    for col, width in zip("ABCDEFGHIJK", widths, strict=True):
        sheet.column_dimensions[col].width = width
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions

    info = book.create_sheet("Atelier")
    for key, value in [
        ("Atelier", session.title),
        ("Territoire", _territory_label(session)),
        ("Niveau", session.territory_level),
        ("Code", session.territory_code),
        ("Date", fmt_date(session.session_date) if session.session_date else None),
        ("Lieu", session.place),
        ("Votes par participant", session.votes_per_participant),
        ("Participants", content.stats["participants"]),
        ("Contributions", content.stats["contributions"]),
        ("Votes", content.stats["votes"]),
        ("Contributions masquées (non exportées)", content.stats["hidden"]),
    ]:
        info.append([key, value])
        for cell in info[info.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    info.column_dimensions["A"].width = 38
    info.column_dimensions["B"].width = 50
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_all(
    con: duckdb.DuckDBPyConnection, session_id: str, year: int | None = None
) -> dict[str, bytes]:
    """The three exports at once, computing the key figures once: ``{"html", "pdf", "xlsx"}``."""
    session = workshop.get_session(con, session_id)
    figures = key_figures(con, session.territory_level, session.territory_code, year)
    return {
        "html": build_html(con, session_id, figures=figures).encode("utf-8"),
        "pdf": build_pdf(con, session_id, figures=figures),
        "xlsx": build_xlsx(con, session_id),
    }
