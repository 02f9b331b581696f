"""Plotly figures of the diagnostic, built from ``ess_diag.indicators`` results.

Pure functions: an indicator result (the dicts of :func:`ess_diag.indicators.compute`) in, a
:class:`Chart` out — the figure, the data behind it as a frame with French column names (for
the CSV download), a title and, when nothing can be drawn, the French reason instead of an
empty chart. No query, no Streamlit.

Look: colour-blind-safe Okabe–Ito colours (one per ESS family, the same as the map), French
number formats (``separators=", "`` for plotly's own axis ticks, :mod:`ess_diag.formatting` for
every label and hover text we write), large type for a projector, and a modebar whose PNG
download works offline (plotly draws the image in the browser).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go

from . import formatting
from .formatting import is_missing

__all__ = [
    "FAMILY_COLORS",
    "ESS_COLOR",
    "NON_ESS_COLOR",
    "HIGHLIGHT_COLOR",
    "REFERENCE_COLOR",
    "Chart",
    "base_layout",
    "plotly_config",
    "family_chart",
    "comparison_chart",
    "sector_jobs_chart",
    "sector_share_chart",
    "specialisation_chart",
    "rural_chart",
    "index_chart",
    "jobs_series_chart",
    "history_frame",
    "history_chart",
    "top_employers_chart",
]

#: Okabe–Ito, one colour per family (identical in :mod:`ess_diag.maps`).
FAMILY_COLORS: dict[str, str] = {
    "association": "#0072B2",
    "cooperative": "#E69F00",
    "mutuelle": "#009E73",
    "fondation": "#CC79A7",
    "societe_commerciale": "#D55E00",
}
#: The ESS in series and bars; the rest of the private sector in a neutral dark grey.
ESS_COLOR = "#0072B2"
NON_ESS_COLOR = "#595959"
#: The selected territory among its references (parents), which stay grey.
HIGHLIGHT_COLOR = "#0072B2"
REFERENCE_COLOR = "#a6a6a6"
_TEXT_COLOR = "#1a1a1a"  # contrast 17:1 on white
_FONT = "Source Sans Pro, Arial, sans-serif"


@dataclass
class Chart:
    """A figure ready to show, the data behind it, and why it is empty when it is."""

    key: str
    title: str
    figure: go.Figure | None
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    empty_reason: str | None = None
    note: str | None = None

    @property
    def filename(self) -> str:
        return f"ess_diag_{self.key}"


def base_layout(fig: go.Figure, *, height: int = 420, legend: bool = False) -> go.Figure:
    """French separators, large readable type, white background, no title inside the image."""
    fig.update_layout(
        separators=", ",
        template="plotly_white",
        font={"family": _FONT, "size": 16, "color": _TEXT_COLOR},
        height=height,
        margin={"l": 10, "r": 30, "t": 20, "b": 10},
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font_size": 15, "font_family": _FONT},
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
    )
    fig.update_xaxes(automargin=True, gridcolor="#e5e5e5", zerolinecolor="#bfbfbf")
    fig.update_yaxes(automargin=True, gridcolor="#e5e5e5", zerolinecolor="#bfbfbf")
    return fig


#: Plotly's own texts in French (toolbar tooltips, double-click hint, snapshot messages), given
#: with each chart's config (plotly.js ``config.locales``): no locale script to load from a CDN.
PLOTLY_LOCALE_FR = {
    "dictionary": {
        "Autoscale": "Échelle automatique",
        "Box Select": "Sélection rectangulaire",
        "Compare data on hover": "Comparer les données au survol",
        "Double-click on legend to isolate one trace": (
            "Double-cliquez sur la légende pour isoler une série"
        ),
        "Double-click to zoom back out": "Double-cliquez pour revenir à la vue d'ensemble",
        "Download plot": "Télécharger le graphique",
        "Download plot as a png": "Télécharger le graphique en PNG",
        "Download plot as a PNG": "Télécharger le graphique en PNG",
        "Fullscreen": "Plein écran",
        "Exit fullscreen": "Quitter le plein écran",
        "Lasso Select": "Sélection au lasso",
        "Pan": "Déplacer",
        "Produced with Plotly.js": "Réalisé avec Plotly.js",
        "Reset": "Réinitialiser",
        "Reset axes": "Réinitialiser les axes",
        "Reset view": "Réinitialiser la vue",
        "Show closest data on hover": "Afficher la donnée la plus proche au survol",
        "Snapshot succeeded": "Image enregistrée",
        "Sorry, there was a problem downloading your snapshot!": (
            "Désolé, l'image n'a pas pu être téléchargée."
        ),
        "Taking snapshot - this may take a few seconds": (
            "Création de l'image : quelques secondes…"
        ),
        "Toggle Spike Lines": "Afficher ou masquer les lignes de repère",
        "Toggle show closest data on hover": (
            "Afficher ou masquer la donnée la plus proche au survol"
        ),
        "Zoom": "Zoom",
        "Zoom in": "Zoom avant",
        "Zoom out": "Zoom arrière",
    },
    "format": {
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": list(formatting.MONTHS),
        "shortMonths": [
            "janv.",
            "févr.",
            "mars",
            "avr.",
            "mai",
            "juin",
            "juil.",
            "août",
            "sept.",
            "oct.",
            "nov.",
            "déc.",
        ],  # fmt: skip
        "date": "%d/%m/%Y",
        "decimal": ",",
        "thousands": formatting.NBSP,
    },
}


def plotly_config(chart: Chart | None = None, **overrides) -> dict:
    """Plotly config: French texts, PNG download at twice the size (for slides), no logo."""
    config = {
        "locale": "fr",
        "locales": {"fr": PLOTLY_LOCALE_FR},
        "displaylogo": False,
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }
    if chart is not None:
        config["toImageButtonOptions"] = {
            "format": "png",
            "filename": chart.filename,
            "scale": 2,
        }
    config.update(overrides)
    return config


#: Shares are drawn in percent (0–100) with a French " %" suffix: d3's ".0%" writes "20%".
_PCT_AXIS = {"ticksuffix": "\u202f%", "tickformat": ",.0f"}


def _pct(value: float) -> float:
    return 100.0 * float(value)


def _jobs_text(value) -> str:
    return formatting.fmt_int(value)


def _notes_reason(section: dict, *keys: str) -> str | None:
    notes = section.get("notes") or {}
    for key in keys:
        if notes.get(key):
            return notes[key]
    return None


# --------------------------------------------------------------------------- families
def family_chart(by_family: dict, jobs_source: str | None = None) -> Chart:
    """ESS jobs by family (horizontal bars, share of ESS jobs as labels)."""
    rows = by_family.get("rows") or []
    frame = pd.DataFrame(
        [
            {
                "famille": r["label"],
                "établissements": r["establishments"],
                "emplois": r["jobs"],
                "part des établissements": r["share_establishments"],
                "part des emplois": r["share_jobs"],
            }
            for r in rows
        ],
        columns=[
            "famille",
            "établissements",
            "emplois",
            "part des établissements",
            "part des emplois",
        ],
    )
    title = "Emplois de l'ESS par famille"
    usable = [r for r in rows if not is_missing(r["jobs"])]
    if not usable or not any(r["jobs"] for r in usable):
        reason = _notes_reason(by_family, "by_family", "share_jobs") or (
            "Aucun emploi de l'ESS connu pour ce territoire."
        )
        return Chart("familles", title, None, frame, reason)
    usable = usable[::-1]  # first family at the top
    fig = go.Figure(
        go.Bar(
            x=[r["jobs"] for r in usable],
            y=[r["label"] for r in usable],
            orientation="h",
            marker_color=[FAMILY_COLORS.get(r["family"], REFERENCE_COLOR) for r in usable],
            text=[
                f"{_jobs_text(r['jobs'])} ({formatting.fmt_pct(r['share_jobs'])})" for r in usable
            ],
            textposition="outside",
            cliponaxis=False,
            customdata=[
                [
                    _jobs_text(r["jobs"]),
                    formatting.fmt_pct(r["share_jobs"]),
                    formatting.fmt_int(r["establishments"]),
                ]
                for r in usable
            ],
            hovertemplate="<b>%{y}</b><br>%{customdata[0]} emplois (%{customdata[1]})"
            "<br>%{customdata[2]} établissements<extra></extra>",
        )
    )
    base_layout(fig, height=340)
    fig.update_xaxes(title_text="emplois", tickformat=",d", rangemode="tozero")
    fig.update_layout(margin={"r": 140})
    note = _estimate_note(jobs_source)
    return Chart("familles", title, fig, frame, None, note)


def _estimate_note(jobs_source: str | None) -> str | None:
    if jobs_source == "estimation_sirene":
        return (
            "Estimation : emplois estimés à partir des tranches d'effectifs du répertoire SIRENE "
            "(centre de chaque tranche)."
        )
    return None


# --------------------------------------------------------------------------- comparisons
def comparison_chart(doc: dict, key: str = "ess_share_private_jobs") -> Chart:
    """A key figure of the territory next to its parents (département, région, France)."""
    spec = {
        "ess_share_private_jobs": ("Part de l'ESS dans l'emploi privé", "share"),
        "jobs_per_1000_inhabitants": ("Emplois de l'ESS pour 1 000 habitants", "ratio"),
        "women_share": ("Part des femmes dans les emplois de l'ESS", "share"),
    }
    label, kind = spec[key]
    territory = doc["territory"]
    rows = [{"name": territory["name"], "level": territory["level"], "value": doc.get(key)}]
    for parent in (doc.get("comparisons") or {}).get("parents", []):
        rows.append({"name": parent["name"], "level": parent["level"], "value": parent.get(key)})
    frame = pd.DataFrame(
        [{"territoire": r["name"], "niveau": r["level"], label: r["value"]} for r in rows],
        columns=["territoire", "niveau", label],
    )
    usable = [r for r in rows if not is_missing(r["value"])]
    if not usable:
        reason = (doc.get("notes") or {}).get(key) or "Indicateur non disponible."
        return Chart(f"comparaison_{key}", label, None, frame, reason)
    fmt = formatting.fmt_pct if kind == "share" else formatting.fmt_num
    usable = usable[::-1]
    fig = go.Figure(
        go.Bar(
            x=[_pct(r["value"]) if kind == "share" else r["value"] for r in usable],
            y=[_short_name(r["name"], r["level"]) for r in usable],
            orientation="h",
            marker_color=[HIGHLIGHT_COLOR if r is rows[0] else REFERENCE_COLOR for r in usable],
            text=[fmt(r["value"]) for r in usable],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="<b>%{y}</b><br>%{text}<extra></extra>",
        )
    )
    base_layout(fig, height=110 + 55 * len(usable))
    fig.update_xaxes(rangemode="tozero", title_text=None)
    fig.update_xaxes(**(_PCT_AXIS if kind == "share" else {"tickformat": ",.0f"}))
    fig.update_layout(margin={"r": 90})
    return Chart(f"comparaison_{key}", label, fig, frame)


def _short_name(name: str, level: str) -> str:
    """Axis label: the name, with its level in parentheses when it could be ambiguous."""
    tag = {"departement": "dép.", "region": "région", "epci": "EPCI"}.get(level)
    text = formatting.escape(name)
    return f"{text} ({tag})" if tag else text


# --------------------------------------------------------------------------- sectors
def _sector_frame(by_sector: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "secteur": r["label"],
                "établissements ESS": r["establishments"],
                "emplois ESS": r["jobs"],
                "part des emplois ESS": r["share_jobs"],
                "emplois privés du secteur": r["private_jobs"],
                "part de l'ESS dans le secteur": r["ess_share_in_sector"],
                "part des emplois ESS (référence)": r["reference_share_jobs"],
                "indice de spécialisation": r["location_quotient"],
            }
            for r in by_sector.get("rows") or []
        ],
        columns=[
            "secteur",
            "établissements ESS",
            "emplois ESS",
            "part des emplois ESS",
            "emplois privés du secteur",
            "part de l'ESS dans le secteur",
            "part des emplois ESS (référence)",
            "indice de spécialisation",
        ],
    )


def _hbar(
    labels: Sequence[str],
    values: Sequence[float],
    texts: Sequence[str],
    color: str | Sequence[str],
    hover: str,
) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=list(values)[::-1],
            y=list(labels)[::-1],
            orientation="h",
            marker_color=color[::-1] if isinstance(color, list) else color,
            text=list(texts)[::-1],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=hover,
        )
    )
    base_layout(fig, height=120 + 36 * len(labels))
    fig.update_layout(margin={"r": 110})
    return fig


def sector_jobs_chart(by_sector: dict) -> Chart:
    """ESS jobs by sector, largest first (sectors without ESS jobs left out)."""
    frame = _sector_frame(by_sector)
    title = "Emplois de l'ESS par secteur"
    rows = [r for r in by_sector.get("rows") or [] if not is_missing(r["jobs"]) and r["jobs"] > 0]
    if not rows:
        reason = _notes_reason(by_sector, "by_sector", "share_jobs") or (
            "Aucun emploi de l'ESS connu pour ce territoire."
        )
        return Chart("secteurs_emplois", title, None, frame, reason)
    rows.sort(key=lambda r: -r["jobs"])
    fig = _hbar(
        [r["label"] for r in rows],
        [r["jobs"] for r in rows],
        [f"{_jobs_text(r['jobs'])} ({formatting.fmt_pct(r['share_jobs'])})" for r in rows],
        ESS_COLOR,
        "<b>%{y}</b><br>%{text} des emplois ESS<extra></extra>",
    )
    fig.update_xaxes(title_text="emplois de l'ESS", tickformat=",d", rangemode="tozero")
    return Chart("secteurs_emplois", title, fig, frame)


def sector_share_chart(by_sector: dict) -> Chart:
    """The ESS share of private jobs within each sector (where private jobs are known)."""
    frame = _sector_frame(by_sector)
    title = "Part de l'ESS dans l'emploi privé de chaque secteur"
    rows = [r for r in by_sector.get("rows") or [] if not is_missing(r["ess_share_in_sector"])]
    rows = [r for r in rows if r["private_jobs"]]
    if not rows:
        reason = _notes_reason(by_sector, "ess_share_in_sector", "by_sector") or (
            "Pas de données d'emploi privé par secteur : importez le fichier URSSAF "
            "commune × APE pour cette année."
        )
        return Chart("secteurs_part_ess", title, None, frame, reason)
    rows.sort(key=lambda r: -r["ess_share_in_sector"])
    fig = _hbar(
        [r["label"] for r in rows],
        [_pct(r["ess_share_in_sector"]) for r in rows],
        [formatting.fmt_pct(r["ess_share_in_sector"]) for r in rows],
        ESS_COLOR,
        "<b>%{y}</b><br>%{text} des emplois privés du secteur<extra></extra>",
    )
    fig.update_xaxes(title_text="part de l'ESS", range=[0, 112], **_PCT_AXIS)
    return Chart("secteurs_part_ess", title, fig, frame)


def specialisation_chart(by_sector: dict) -> Chart:
    """Location quotients: > 1 means the sector weighs more here than in the reference."""
    frame = _sector_frame(by_sector)
    ref = (by_sector.get("reference") or {}).get("name", "la référence")
    title = f"Spécialisation de l'ESS (référence : {ref})"
    rows = [r for r in by_sector.get("rows") or [] if not is_missing(r["location_quotient"])]
    rows = [r for r in rows if r["jobs"]]
    if not rows:
        reason = _notes_reason(by_sector, "location_quotient", "by_sector") or (
            "Indice de spécialisation non calculable."
        )
        return Chart("secteurs_specialisation", title, None, frame, reason)
    rows.sort(key=lambda r: -r["location_quotient"])
    colors = [ESS_COLOR if r["location_quotient"] >= 1 else NON_ESS_COLOR for r in rows]
    # Bars start at 1 (as in the reference) and go right (more) or left (less).
    fig = _hbar(
        [r["label"] for r in rows],
        [r["location_quotient"] - 1 for r in rows],
        [formatting.fmt_num(r["location_quotient"], 2) for r in rows],
        colors,
        "<b>%{y}</b><br>indice %{text}<extra></extra>",
    )
    fig.update_traces(base=1)
    fig.add_vline(x=1, line_color=_TEXT_COLOR, line_width=2)
    lows = [r["location_quotient"] for r in rows]
    pad = max(0.15, (max(lows) - min(lows)) * 0.15)
    fig.update_xaxes(
        title_text="indice de spécialisation (1 = comme la référence)",
        range=[max(0.0, min(min(lows), 1) - pad), max(max(lows), 1) + pad],
        tickformat=",.1f",
    )
    return Chart("secteurs_specialisation", title, fig, frame)


# --------------------------------------------------------------------------- rurality
def rural_chart(rural: dict) -> Chart:
    """ESS share of private jobs in the rural and in the urban communes of the territory."""
    title = "Part de l'ESS dans l'emploi privé : communes rurales et urbaines"
    frame = pd.DataFrame(
        [
            {
                "communes": "rurales",
                "nombre de communes": rural.get("rural_communes"),
                "emplois ESS": rural.get("ess_jobs_rural"),
                "emplois privés": rural.get("private_jobs_rural"),
                "part de l'ESS": rural.get("ess_share_private_jobs_rural"),
            },
            {
                "communes": "urbaines",
                "nombre de communes": rural.get("urban_communes"),
                "emplois ESS": rural.get("ess_jobs_urban"),
                "emplois privés": rural.get("private_jobs_urban"),
                "part de l'ESS": rural.get("ess_share_private_jobs_urban"),
            },
        ]
    )
    pairs = [
        ("Communes rurales", rural.get("ess_share_private_jobs_rural")),
        ("Communes urbaines", rural.get("ess_share_private_jobs_urban")),
    ]
    usable = [(n, v) for n, v in pairs if v is not None and not is_missing(v)]
    if not usable:
        reason = _notes_reason(
            rural, "ess_share_private_jobs_rural", "ess_share_private_jobs_urban"
        ) or ("Part non calculable pour ce territoire.")
        return Chart("ruralite", title, None, frame, reason)
    fig = go.Figure(
        go.Bar(
            x=[n for n, _ in usable],
            y=[_pct(v) for _, v in usable],
            marker_color=["#009E73" if n.endswith("rurales") else "#56B4E9" for n, _ in usable],
            text=[formatting.fmt_pct(v) for _, v in usable],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="<b>%{x}</b><br>%{text} de l'emploi privé<extra></extra>",
            width=0.5,
        )
    )
    base_layout(fig, height=380)
    top = max(v for _, v in usable)
    fig.update_yaxes(range=[0, max(_pct(top) * 1.25, 5)], title_text="part de l'ESS", **_PCT_AXIS)
    return Chart("ruralite", title, fig, frame)


# --------------------------------------------------------------------------- evolution
def _series_frame(evolution: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "année": r["year"],
                "emplois ESS": r["ess_jobs"],
                "emplois privés": r["private_jobs"],
                "emplois privés hors ESS": r["non_ess_private_jobs"],
                "indice ESS": r["ess_index"],
                "indice privé hors ESS": r["non_ess_index"],
            }
            for r in evolution.get("series") or []
        ],
        columns=[
            "année",
            "emplois ESS",
            "emplois privés",
            "emplois privés hors ESS",
            "indice ESS",
            "indice privé hors ESS",
        ],
    )


def index_chart(evolution: dict) -> Chart:
    """Index base 100: ESS jobs against the rest of private jobs."""
    base = evolution.get("base_year")
    title = (
        f"Emplois : ESS et reste du privé (indice base 100 en {base})"
        if base
        else ("Emplois : ESS et reste du privé (indice base 100)")
    )
    frame = _series_frame(evolution)
    series = evolution.get("series") or []
    traces = [
        ("ess_index", "ESS", ESS_COLOR, "solid"),
        ("non_ess_index", "Reste du privé", NON_ESS_COLOR, "dash"),
    ]
    fig = go.Figure()
    drawn = 0
    for key, name, color, dash in traces:
        pts = [r for r in series if not is_missing(r.get(key))]
        if len(pts) < 2:
            continue
        drawn += 1
        fig.add_trace(
            go.Scatter(
                x=[r["year"] for r in pts],
                y=[r[key] for r in pts],
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 4, "dash": dash},
                marker={"size": 9},
                customdata=[formatting.fmt_num(r[key]) for r in pts],
                hovertemplate=f"<b>{name}</b> %{{x}}<br>indice %{{customdata}}<extra></extra>",
            )
        )
    if not drawn:
        reason = _notes_reason(evolution, "series", "ess_index") or (
            "Il faut au moins deux années de statistiques pour tracer une évolution."
        )
        return Chart("evolution_indice", title, None, frame, reason)
    fig.add_hline(y=100, line_color="#7f7f7f", line_width=1)
    base_layout(fig, height=420, legend=True)
    fig.update_xaxes(dtick=1, tickformat="d", title_text=None)
    fig.update_yaxes(title_text="indice (base 100)", tickformat=",.0f")
    return Chart("evolution_indice", title, fig, frame)


def jobs_series_chart(evolution: dict) -> Chart:
    """ESS jobs per year (absolute numbers)."""
    title = "Emplois de l'ESS par année"
    frame = _series_frame(evolution)
    pts = [r for r in evolution.get("series") or [] if not is_missing(r.get("ess_jobs"))]
    if not pts:
        reason = _notes_reason(evolution, "series") or "Aucune série annuelle disponible."
        return Chart("evolution_emplois", title, None, frame, reason)
    fig = go.Figure(
        go.Bar(
            x=[r["year"] for r in pts],
            y=[r["ess_jobs"] for r in pts],
            marker_color=ESS_COLOR,
            customdata=[formatting.fmt_int(r["ess_jobs"]) for r in pts],
            hovertemplate="%{x} : %{customdata} emplois<extra></extra>",
        )
    )
    base_layout(fig, height=340)
    fig.update_xaxes(dtick=1, tickformat="d")
    fig.update_yaxes(title_text="emplois de l'ESS", tickformat=",d", rangemode="tozero")
    return Chart("evolution_emplois", title, fig, frame)


def history_frame(history: list[dict]) -> pd.DataFrame:
    """The SIRENE history series as a table: year, total, one column per family."""
    from .nomenclatures import FAMILIES

    return pd.DataFrame(
        [
            {
                "année": r["year"],
                "établissements employeurs ESS": r["establishments"],
                **{label: r["by_family"].get(key, 0) for key, label in FAMILIES.items()},
            }
            for r in history
        ],
        columns=["année", "établissements employeurs ESS", *FAMILIES.values()],
    )


def history_chart(history: list[dict]) -> Chart:
    """ESS employer establishments on 31 December of each year (SIRENE history), stacked by
    family."""
    from .nomenclatures import FAMILIES

    title = "Établissements employeurs de l'ESS (SIRENE, historique)"
    frame = history_frame(history)
    if not history:
        return Chart(
            "historique_sirene",
            title,
            None,
            frame,
            "Aucun historique SIRENE n'est chargé.",
        )
    years = [r["year"] for r in history]
    fig = go.Figure()
    for key, label in FAMILIES.items():
        values = [r["by_family"].get(key, 0) for r in history]
        if not any(values):
            continue
        fig.add_trace(
            go.Bar(
                x=years,
                y=values,
                name=label,
                marker_color=FAMILY_COLORS.get(key, REFERENCE_COLOR),
                customdata=[formatting.fmt_int(v) for v in values],
                hovertemplate=f"{label} — %{{x}} : %{{customdata}} établissements<extra></extra>",
            )
        )
    base_layout(fig, height=360, legend=True)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(dtick=1, tickformat="d")
    fig.update_yaxes(
        title_text="établissements au 31 décembre", tickformat=",d", rangemode="tozero"
    )
    return Chart(
        "historique_sirene",
        title,
        fig,
        frame,
        note="Établissements actifs et employeurs au 31 décembre de chaque année : un nombre "
        "d'établissements, pas d'emplois (les effectifs ne sont pas historisés dans SIRENE).",
    )


# --------------------------------------------------------------------------- resilience
def top_employers_chart(resilience: dict) -> Chart:
    """The five largest ESS employers and their jobs (partial diffusion: no name)."""
    title = "Les cinq premiers employeurs de l'ESS"
    top = resilience.get("top5_employers") or []
    names = [
        "diffusion partielle" if t.get("partial") or not t.get("name") else str(t["name"])
        for t in top
    ]
    frame = pd.DataFrame(
        [
            {"employeur": n, "emplois": t["jobs"], "établissements": t["establishments"]}
            for n, t in zip(names, top, strict=True)
        ],
        columns=["employeur", "emplois", "établissements"],
    )
    if not top:
        reason = _notes_reason(resilience, "top5_employers_share") or (
            "Aucun employeur de l'ESS connu pour ce territoire."
        )
        return Chart("premiers_employeurs", title, None, frame, reason)
    # Names come from files: escaped, since plotly renders a subset of HTML in labels.
    labels = [_truncate(formatting.escape(n), 40) for n in names]
    fig = _hbar(
        labels,
        [t["jobs"] for t in top],
        [formatting.fmt_num(t["jobs"], 1 if t["jobs"] % 1 else 0) for t in top],
        ESS_COLOR,
        "<b>%{y}</b><br>%{text} emplois<extra></extra>",
    )
    fig.update_xaxes(title_text="emplois (estimation SIRENE)", tickformat=",d", rangemode="tozero")
    return Chart("premiers_employeurs", title, fig, frame)


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
