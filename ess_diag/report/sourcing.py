"""What the page « Acheter à l'ESS » and its exports show of a sourcing result
(:class:`ess_diag.sourcing.SourcingResult`): the French table, the offline map, the XLSX
workbook and the A4 PDF for a « rencontre acheteurs–ESS ».

Pure functions of the result (and, for the map, of outlines already read): no query, no
Streamlit. Names typed by users or read from files reach the map as text tooltips (deck.gl's
``innerText``), the XLSX through :mod:`ess_diag.exports` (formula-like text written as text)
and the PDF as plain text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pydeck as pdk

from .. import exports, maps, nomenclatures
from ..formatting import fmt_int, fmt_num
from ..sourcing import SourcingResult
from .pdf import FONT_CANDIDATES, _Writer

__all__ = [
    "TABLE_COLUMNS",
    "BASIS_COLOURS",
    "table_frame",
    "summary_frame",
    "groupings_frame",
    "build_deck",
    "xlsx_bytes",
    "pdf_bytes",
    "file_stem",
]

#: Columns of :func:`table_frame` (French: the XLSX headers and the page's table).
TABLE_COLUMNS = [
    "distance (km)",
    "nom",
    "commune",
    "structure inclusive",
    "ESUS",
    "famille",
    "NAF",
    "offre le segment par",
    "emplois",
    "emplois : source",
    "bases légales",
    "atteint le minimum",
    "SIRET",
]

#: Point colour per legal basis (the first one a structure opens), grey when none.
BASIS_COLOURS: dict[str, str] = {
    "L2113-12": "#1f6f8b",
    "L2113-13": "#2e8b57",
    "L2113-15": "#d9822b",
    "": "#8c8c8c",
}
_SITE_COLOUR = [200, 30, 45, 255]
_JOBS_SOURCE = {"estimate": "estimés (tranche SIRENE)", "declared": "déclarés", None: "inconnus"}
_OFFERS_BY = {"naf": "code NAF", "prestations": "prestations déclarées"}


def _jobs_text(value) -> str:
    return "—" if value is None else fmt_num(value, 0 if float(value).is_integer() else 1)


def _km(value: float) -> str:
    return fmt_num(value, 0 if float(value).is_integer() else 1)


def table_frame(result: SourcingResult) -> pd.DataFrame:
    """One row per structure, nearest first, French headers (:data:`TABLE_COLUMNS`)."""
    rows = [
        {
            "distance (km)": r["distance_km"],
            "nom": r["name"],
            "commune": r["commune_name"] or r["commune_code"],
            "structure inclusive": r["inclusive_kind"] or "",
            "ESUS": "oui" if r["esus"] else "",
            "famille": nomenclatures.FAMILIES.get(
                r["family"], "famille non renseignée" if r["is_ess"] else "hors ESS"
            ),
            "NAF": r["naf"] or "",
            "offre le segment par": " et ".join(_OFFERS_BY[b] for b in r["offers_by"]),
            "emplois": r["jobs"],
            "emplois : source": _JOBS_SOURCE[r["jobs_source"]],
            "bases légales": ", ".join(r["legal_bases"]),
            "atteint le minimum": "oui" if r["reaches_min"] else "non",
            "SIRET": r["siret"] or "",
        }
        for r in result.results
    ]
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    if result.min_jobs is None:
        frame = frame.drop(columns=["atteint le minimum"])
    return frame


def summary_frame(result: SourcingResult) -> pd.DataFrame:
    """How many structures open each legal basis, and the total capacity."""
    rows = [
        {"ligne": f"{basis} — {nomenclatures.LEGAL_BASES[basis][0]}", "valeur": n}
        for basis, n in result.by_legal_basis.items()
    ]
    rows.append({"ligne": "Structures trouvées", "valeur": len(result.results)})
    rows.append({"ligne": "Capacité totale (emplois)", "valeur": result.total_jobs})
    if result.jobs_unknown:
        rows.append({"ligne": "Structures aux emplois inconnus", "valeur": result.jobs_unknown})
    return pd.DataFrame(rows)


def groupings_frame(result: SourcingResult) -> pd.DataFrame:
    """The possible groupings (GME), one per row."""
    return pd.DataFrame(
        [
            {
                "groupement": " + ".join(m["name"] for m in g["members"]),
                "emplois": g["jobs"],
                "distance maximale (km)": g["max_distance_km"],
                "bases légales (tous les membres)": ", ".join(g["legal_bases"]) or "aucune",
            }
            for g in result.groupings
        ],
        columns=[
            "groupement",
            "emplois",
            "distance maximale (km)",
            "bases légales (tous les membres)",
        ],
    )


def _request_lines(result: SourcingResult) -> list[str]:
    lines = [
        f"Segment : {result.segment_label}",
        f"Site : {result.site.label} — rayon {_km(result.radius_km)} km",
    ]
    if result.min_jobs is not None:
        lines.append(f"Emplois minimum attendus : {_jobs_text(result.min_jobs)}")
    return lines


# --------------------------------------------------------------------------- map


def _circle(lat: float, lon: float, radius_km: float, n: int = 72) -> list[list[float]]:
    """The radius as a closed ring (lon/lat) — small-distance approximation, drawn only."""
    ring = []
    for i in range(n + 1):
        a = 2 * math.pi * i / n
        dlat = radius_km * math.cos(a) / 111.2
        dlon = radius_km * math.sin(a) / (111.2 * max(math.cos(math.radians(lat)), 0.01))
        ring.append([round(lon + dlon, 5), round(lat + dlat, 5)])
    return ring


def _point(r: dict) -> dict:
    basis = r["legal_bases"][0] if r["legal_bases"] else ""
    kind = r["inclusive_kind"] or "structure de l'ESS"
    jobs = "emplois inconnus" if r["jobs"] is None else f"{_jobs_text(r['jobs'])} emplois"
    if r["jobs_source"] == "estimate":
        jobs += " (estimation)"
    bases = ", ".join(r["legal_bases"]) or "aucune base de marché réservé"
    return {
        "lon": round(r["lon"], 5),
        "lat": round(r["lat"], 5),
        "c": maps.hex_to_rgb(BASIS_COLOURS[basis], 230),
        "r": round(min(4 + 1.2 * math.sqrt(r["jobs"] or 0), 18), 1),
        "tip": f"{r['name']}\n{kind} · {_km(r['distance_km'])} km\n{jobs}\n{bases}",
    }


def build_deck(result: SourcingResult, outlines: Sequence[str] = (), height: int = 520):
    """The site, the radius, the structures (coloured by legal basis) over ``outlines``
    (GeoJSON geometries of the territories around, drawn as a background): no basemap."""
    site = result.site
    ring = _circle(site.lat, site.lon, result.radius_km)
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    bounds = (min(lons), min(lats), max(lons), max(lats))
    tolerance = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 1500
    geoms = [g for g in maps.simplify_geojson(list(outlines), tolerance, 4) if g is not None]
    layers = []
    if geoms:
        layers.append(
            pdk.Layer(
                "GeoJsonLayer",
                id="contours",
                data={
                    "type": "FeatureCollection",
                    "features": [
                        {"type": "Feature", "geometry": g, "properties": {}} for g in geoms
                    ],
                },
                stroked=True,
                filled=True,
                get_fill_color=[245, 245, 240, 255],
                get_line_color=[150, 150, 150, 255],
                line_width_min_pixels=1,
                pickable=False,
            )
        )
    layers.append(
        pdk.Layer(
            "PolygonLayer",
            id="rayon",
            data=[{"polygon": ring}],
            get_polygon="polygon",
            stroked=True,
            filled=True,
            get_fill_color=[200, 30, 45, 18],
            get_line_color=_SITE_COLOUR,
            line_width_min_pixels=2,
            pickable=False,
        )
    )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="structures",
            data=[_point(r) for r in reversed(result.results)],  # nearest drawn on top
            get_position=["lon", "lat"],
            get_fill_color="c",
            get_radius="r",
            radius_units=pdk.types.String("pixels"),
            stroked=True,
            get_line_color=[255, 255, 255, 230],
            line_width_min_pixels=1,
            pickable=True,
        )
    )
    layers.append(
        pdk.Layer(
            "ScatterplotLayer",
            id="site",
            data=[{"lon": site.lon, "lat": site.lat, "tip": f"Site : {site.label}"}],
            get_position=["lon", "lat"],
            get_fill_color=_SITE_COLOUR,
            get_radius=7,
            radius_units=pdk.types.String("pixels"),
            stroked=True,
            get_line_color=[255, 255, 255, 255],
            line_width_min_pixels=2,
            pickable=True,
        )
    )
    return maps.CompactDeck(
        layers=layers,
        initial_view_state=maps.view_state_for(bounds, height=height),
        map_provider=None,
        tooltip={
            "text": "{tip}",
            "style": {"backgroundColor": "#1a1a1a", "color": "#ffffff", "whiteSpace": "pre-line"},
        },
    )


# --------------------------------------------------------------------------- files


def file_stem(result: SourcingResult) -> str:
    from .content import slug

    return slug(f"acheter-ess-{result.segment}-{result.site.label}")[:80]


def xlsx_bytes(result: SourcingResult) -> bytes:
    """Workbook: « Structures » (the table), « Synthèse » (request, legal bases, capacity),
    « Groupements » when some were searched. Cells that look like formulas stay text."""
    import io

    request = pd.DataFrame({"ligne": _request_lines(result), "valeur": ""})
    summary = pd.concat([request, summary_frame(result)], ignore_index=True)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        exports.write_xlsx_sheet(writer, table_frame(result), "Structures")
        exports.write_xlsx_sheet(writer, summary, "Synthèse")
        if result.min_jobs is not None and not result.reached_by_one:
            exports.write_xlsx_sheet(writer, groupings_frame(result), "Groupements")
    return buffer.getvalue()


#: Columns of the PDF table: (header, width in mm, function of a result row).
_PDF_COLUMNS = (
    ("km", 12, lambda r: _km(r["distance_km"])),
    ("Structure", 62, lambda r: r["name"]),
    ("Commune", 34, lambda r: r["commune_name"] or r["commune_code"] or ""),
    ("Type", 13, lambda r: r["inclusive_kind"] or "ESS"),
    (
        "Emplois",
        17,
        lambda r: _jobs_text(r["jobs"]) + ("*" if r["jobs_source"] == "estimate" else ""),
    ),
    ("Bases", 42, lambda r: ", ".join(r["legal_bases"]) or "—"),
)


def pdf_bytes(result: SourcingResult, *, font_candidates=FONT_CANDIDATES) -> bytes:
    """An A4 document for a « rencontre acheteurs–ESS »: the request, the summary per legal
    basis, the structures nearest first, the groupings and the legal texts."""
    title = f"Acheter à l'ESS — {result.segment_label}"
    w = _Writer(title, font_candidates)
    w.pdf.set_title(w.clean(title))
    pdf = w.pdf
    w.para(title, 17, "B", 9)
    for line in _request_lines(result):
        w.para(line, 10, "", 5, 60)

    w.heading("Synthèse", need=40)
    for basis, n in result.by_legal_basis.items():
        w.para(f"{basis} — {nomenclatures.LEGAL_BASES[basis][0]} : {fmt_int(n)} structure(s)")
    w.para(
        f"{fmt_int(len(result.results))} structure(s) trouvée(s), capacité totale "
        f"{_jobs_text(result.total_jobs)} emplois"
        + (f" ({fmt_int(result.jobs_unknown)} aux emplois inconnus)" if result.jobs_unknown else "")
        + "."
    )

    w.heading("Structures, de la plus proche à la plus lointaine", need=30)
    if not result.results:
        w.para("Aucune structure ne propose ce segment dans ce rayon.")
    else:
        _pdf_table(w, result.results)
        w.para("* emplois estimés d'après la tranche d'effectif SIRENE.", 8, "", 4, 110)

    if result.min_jobs is not None and not result.reached_by_one:
        w.heading("Groupements possibles (GME)", need=30)
        w.para(
            f"Aucune structure seule n'atteint {_jobs_text(result.min_jobs)} emplois. "
            "Combinaisons de 2 ou 3 structures proches qui l'atteignent ensemble :"
        )
        if not result.groupings:
            w.para("Aucune combinaison de 2 ou 3 structures proches ne l'atteint.")
        for g in result.groupings:
            names = " + ".join(m["name"] for m in g["members"])
            bases = ", ".join(g["legal_bases"]) or "aucune base de marché réservé commune"
            w.para(
                f"• {names} — {_jobs_text(g['jobs'])} emplois, jusqu'à "
                f"{_km(g['max_distance_km'])} km ({bases})"
            )

    w.heading("Textes", need=40)
    for text in _LEGAL_TEXTS:
        w.para(text, 8.5, "", 4.2, 60)
        pdf.ln(1)
    return w.output()


def _pdf_table(w: _Writer, results: list[dict]) -> None:
    pdf = w.pdf

    def header() -> None:
        pdf.set_font(w.family, "B", 8.5)
        pdf.set_fill_color(230, 236, 240)
        for name, width, _f in _PDF_COLUMNS:
            pdf.cell(width, 6, w.clean(name), border=1, fill=True)
        pdf.ln(6)
        pdf.set_font(w.family, "", 8)

    header()
    for r in results:
        if pdf.will_page_break(6):
            pdf.add_page()
            header()
        for _name, width, func in _PDF_COLUMNS:
            text = w.clean(str(func(r)))
            while pdf.get_string_width(text) > width - 2 and len(text) > 3:
                text = text[:-2] + "…" if w.family != "Helvetica" else text[:-4] + "..."
            pdf.cell(width, 5.5, text, border=1)
        pdf.ln(5.5)


#: The articles of the Code de la commande publique, quoted (Légifrance).
_LEGAL_TEXTS = (
    "Art. L2113-12 : des marchés ou des lots d'un marché peuvent être réservés à des "
    "entreprises adaptées (art. L. 5213-13 du code du travail), à des établissements et "
    "services d'aide par le travail (art. L. 344-2 du CASF) ainsi qu'à des structures "
    "équivalentes, lorsqu'ils emploient une proportion minimale de travailleurs handicapés.",
    "Art. L2113-13 : des marchés ou des lots d'un marché peuvent être réservés à des "
    "structures d'insertion par l'activité économique (art. L. 5132-4 du code du travail) et à "
    "des structures équivalentes, lorsqu'elles emploient une proportion minimale de "
    "travailleurs défavorisés.",
    "Art. L2113-15 : des marchés ou des lots d'un marché, qui portent exclusivement sur des "
    "services sociaux et autres services spécifiques dont la liste figure dans un avis annexé "
    "au code, peuvent être réservés aux entreprises de l'économie sociale et solidaire (art. 1er "
    "de la loi du 31 juillet 2014) lorsqu'elles ont pour objectif d'assumer une mission de "
    "service public liée à la prestation de ces services.",
    "Données : ESS Diag (SIRENE, listes importées, modèle d'acteurs). Emplois « estimés » : "
    "milieu de la tranche d'effectif SIRENE ; « déclarés » : donnés par une liste.",
)
