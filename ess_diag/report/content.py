"""One description of the workshop synthesis, built once and rendered by every output.

:func:`describe` gathers everything the synthesis shows — the session, the territory's key
figures (from ``ess_diag.indicators``), the family and sector bars, the map's rings and
circles, the voted priorities, the contributions by category — into a
:class:`SynthesisReport`.
The renderers (``html.py``, ``pdf.py``, ``xlsx.py``) only lay that description out: no query,
no ranking, no wording of their own beyond their layout.

>>> slug("Atelier ESS : Bâgé-le-Châtel !")
'atelier-ess-bage-le-chatel'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from .. import geography, indicators, plan, workshop
from ..formatting import fmt_date, fmt_int, fmt_num, fmt_pct, is_missing
from ..nomenclatures import SECTOR_LABELS
from ..vocabulary import LEVEL_LABELS

__all__ = [
    "CATEGORY_COLOURS",
    "BAR_COLOUR",
    "KeyFigures",
    "Bars",
    "Spot",
    "MapData",
    "Contribution",
    "CategoryBlock",
    "Priority",
    "FollowUp",
    "SynthesisReport",
    "DEMO_NOTE",
    "key_figures",
    "describe",
    "slug",
    "file_stem",
]

#: One colour per category (board, map, charts), readable on white and on a projector.
CATEGORY_COLOURS = {
    "forces": "#2e7d32",
    "faiblesses": "#c62828",
    "besoins": "#1565c0",
    "opportunites": "#6a1b9a",
    "freins": "#ef6c00",
    "pistes": "#00838f",
}
#: The colour of the family and sector bars.
BAR_COLOUR = "#1f6f8b"
#: How many sectors the sector bars show, and how many voted priorities are listed.
TOP_SECTORS = 10
TOP_PRIORITIES = 10


# --- key figures: the one integration point with ess_diag.indicators --------------------------


@dataclass
class Bars:
    """One bar chart: a title and ``(label, jobs)`` pairs, largest first (empty: none known)."""

    title: str
    pairs: list[tuple[str, float]] = field(default_factory=list)


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
    #: (proximity service, inhabitants of its zones blanches), in the Kit's order (ess_diag.needs).
    needs: list[tuple[str, float]] = field(default_factory=list)
    #: Why figures are missing (unknown territory for the indicators), in French.
    unavailable: str | None = None

    @property
    def bars(self) -> list[Bars]:
        """The two bar charts, in display order."""
        return [
            Bars("Emplois de l'ESS par famille", self.by_family),
            Bars("Emplois de l'ESS par secteur", self.by_sector),
            *(
                [Bars("Besoins : habitants sans service de proximité de l'ESS", self.needs)]
                if self.needs
                else []
            ),
        ]


def _job_pairs(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, float]]:
    """``(label, jobs)`` of the rows with jobs, largest first (a 0 or unknown draws no bar)."""
    pairs = [(r["label"], float(r["jobs"])) for r in rows if not is_missing(r["jobs"])]
    return sorted((p for p in pairs if p[1] > 0), key=lambda p: -p[1])


#: Said instead of a source name when the figures are simulated (``ess-diag init --demo``).
DEMO_NOTE = "Données de démonstration (simulées) : elles ne décrivent pas le territoire réel."


def _source_note(doc: indicators.Document) -> str:
    if doc.get("demo"):
        return DEMO_NOTE
    if doc["jobs_source"] == indicators.JOBS_SOURCE_ESTIMATE:
        return "Emplois estimés d'après les tranches d'effectifs SIRENE (milieu de tranche)."
    names = [
        "données de démonstration" if str(s) == "demo" else str(s) for s in doc["sources"] or []
    ]
    return f"Source : {', '.join(names)}." if names else ""


def _cards(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    estimate = doc["jobs_source"] == indicators.JOBS_SOURCE_ESTIMATE
    jobs_note = "estimation d'après les tranches d'effectifs SIRENE" if estimate else ""
    notes = doc["notes"] or {}

    def card(key: str, label: str, fmt: Callable, note: str = "") -> tuple[str, str, str]:
        value = doc[key]
        # A figure that cannot be computed shows "n.d." with the indicators' French reason.
        reason = notes.get(key, "") if value is None else note
        return (label, fmt(value), str(reason or ""))

    return [
        card("ess_establishments", "Établissements employeurs de l'ESS", fmt_int),
        card("ess_jobs", "Emplois dans l'ESS", fmt_int, jobs_note),
        card("ess_share_private_jobs", "Part de l'ESS dans l'emploi privé", fmt_pct, jobs_note),
        card("private_jobs", "Emplois privés", fmt_int),
        card("jobs_per_1000_inhabitants", "Emplois ESS pour 1 000 habitants", fmt_num),
    ]


def key_figures(
    con: duckdb.DuckDBPyConnection, level: str, code: str, year: int | None = None
) -> KeyFigures:
    """The territory's key figures from :func:`ess_diag.indicators.compute`.

    A territory the indicators do not know gives a :class:`KeyFigures` that says why
    (``unavailable``): the workshop's own content still exports.
    """
    try:
        doc = indicators.compute(con, level, code, year)
    except (indicators.IndicatorError, geography.UnknownTerritoryError) as exc:
        return KeyFigures(year=year, unavailable=f"Chiffres clés indisponibles : {exc}")
    return KeyFigures(
        year=doc["year"],
        cards=_cards(doc),
        by_family=_job_pairs(doc["by_family"]["rows"]),
        by_sector=_job_pairs(doc["by_sector"]["rows"])[:TOP_SECTORS],
        source_note=_source_note(doc),
        needs=_needs(con, level, code, doc["year"]),
    )


def _needs(con: duckdb.DuckDBPyConnection, level: str, code: str, year) -> list[tuple[str, float]]:
    """Inhabitants of the zones blanches of each proximity service (none for France: too many
    communes for a workshop's synthesis)."""
    if level == "france":
        return []
    from .. import needs, nomenclatures

    out = []
    for service in nomenclatures.PROXIMITY_SERVICES:
        result = needs.zones(con, level, code, f"service:{service.key}", year)
        out.append((service.label, float(result["population"])))
    return out


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
    level_label = LEVEL_LABELS.get(session.territory_level, session.territory_level)
    return session.territory_name or f"{level_label} {session.territory_code}"


def _session_line(session: workshop.Session) -> str:
    parts = [_territory_label(session)]
    if session.session_date:
        parts.append(fmt_date(session.session_date))
    if session.place:
        parts.append(session.place)
    return " · ".join(parts)


def _plural(count: int, word: str) -> str:
    return f"{fmt_int(count)} {word}{'s' if count > 1 else ''}"


# --- the map: rings parsed once, projected by each output into its own box --------------------


def _rings(geojson: str) -> list[list[tuple[float, float]]]:
    """The outer rings of a GeoJSON Polygon or MultiPolygon, as ``(lon, lat)`` lists."""
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


@dataclass
class Spot:
    """A commune with contributions: where it is, its name, how many, what was said."""

    code: str
    name: str
    lon: float
    lat: float
    contributions: int
    texts: list[str] = field(default_factory=list)

    @property
    def radius(self) -> float:
        """Circle radius in map units (mm on the PDF): area proportional to the count, in
        absolute terms (1 contribution ≈ 3 mm wide): with many communes each cited once,
        relative sizes would all be the largest circle."""
        return min(1.0 + 0.8 * math.sqrt(self.contributions), 6.0)


@dataclass
class MapData:
    """The workshop map: the territory's commune rings and the communes cited, largest first."""

    rings: list[list[tuple[float, float]]] = field(default_factory=list)
    spots: list[Spot] = field(default_factory=list)

    @property
    def drawable(self) -> bool:
        return bool(self.spots)

    def project(self, width: float, height: float):
        """``(rings, circles)`` in a ``width`` × ``height`` box; circles ``(x, y, spot)``."""
        points = [p for ring in self.rings for p in ring] + [(s.lon, s.lat) for s in self.spots]
        project = _Projection(points, width, height)
        rings = [[project(*p) for p in ring] for ring in self.rings]
        circles = [(*project(s.lon, s.lat), s) for s in self.spots]
        return rings, circles


def _map_data(content: workshop.Synthesis) -> MapData:
    spots = [
        Spot(
            code=c["commune_code"],
            name=c.get("name") or c["commune_code"],
            lon=float(c["lon"]),
            lat=float(c["lat"]),
            contributions=int(c["contributions"]),
            texts=list(c.get("texts") or []),
        )
        for c in content.communes
        if not is_missing(c.get("lon")) and not is_missing(c.get("lat"))
    ]
    spots.sort(key=lambda s: (-s.contributions, s.name))
    return MapData(
        rings=[ring for o in content.outlines for ring in _rings(o["geojson"])], spots=spots
    )


# --- contributions and votes ------------------------------------------------------------------


@dataclass
class Contribution:
    """One contribution as every output shows it (hidden ones never get here)."""

    category: str
    text: str
    votes: int
    #: "Commune · Secteur · Acteurs : A, B · 1 doublon fusionné", under the text.
    meta: str
    commune_name: str | None
    commune_code: str | None
    sector_label: str | None
    author: str | None
    merged_count: int
    merged_texts: list[str]
    by_facilitator: bool
    created_at: dt.datetime
    #: Names of the actors the contribution names (partial-diffusion rule applied), sorted.
    actors: list[str] = field(default_factory=list)

    @property
    def votes_label(self) -> str:
        """``'2 votes'``, ``'0 vote'``."""
        return _plural(self.votes, "vote")


@dataclass
class CategoryBlock:
    """The contributions of one category, ranked by votes then time."""

    category: str
    label: str
    colour: str
    votable: bool
    items: list[Contribution]


@dataclass
class Priority:
    """A voted contribution in the ranking (top :data:`TOP_PRIORITIES`)."""

    rank: int
    text: str
    category_label: str
    votes: int

    @property
    def votes_label(self) -> str:
        return _plural(self.votes, "vote")


def _contribution(category: str, row: dict) -> Contribution:
    sector = row.get("sector") or None
    sector_label = SECTOR_LABELS.get(sector, sector) if sector else None
    commune = row.get("commune_name") or row.get("commune_code") or None
    merged = int(row.get("merged_count") or 0)
    actors = [str(a) for a in row.get("actors") or []]
    meta = [commune, sector_label]
    if actors:
        meta.append(f"{'Acteur' if len(actors) == 1 else 'Acteurs'} : {', '.join(actors)}")
    if merged:
        meta.append(f"{_plural(merged, 'doublon')} fusionné{'s' if merged > 1 else ''}")
    created = row["created_at"]
    return Contribution(
        category=category,
        text=row["text"],
        votes=int(row["votes"]),
        meta=" · ".join(str(m) for m in meta if m),
        commune_name=row.get("commune_name") or None,
        commune_code=row.get("commune_code") or None,
        sector_label=sector_label,
        author=row.get("author") or None,
        merged_count=merged,
        merged_texts=list(row.get("merged_texts") or []),
        by_facilitator=bool(row.get("by_facilitator")),
        created_at=created.to_pydatetime() if hasattr(created, "to_pydatetime") else created,
        actors=actors,
    )


def _categories(content: workshop.Synthesis) -> list[CategoryBlock]:
    return [
        CategoryBlock(
            category=category,
            label=workshop.CATEGORIES[category],
            colour=CATEGORY_COLOURS[category],
            votable=category in workshop.VOTABLE_CATEGORIES,
            items=[_contribution(category, r) for r in content.contributions.get(category, [])],
        )
        for category in workshop.CATEGORY_ORDER
    ]


def _priorities(blocks: list[CategoryBlock]) -> list[Priority]:
    voted = [c for b in blocks if b.votable for c in b.items if c.votes > 0]
    voted.sort(key=lambda c: (-c.votes, c.created_at))
    return [
        Priority(i, c.text, workshop.CATEGORIES[c.category], c.votes)
        for i, c in enumerate(voted[:TOP_PRIORITIES], 1)
    ]


# --- what was decided since: the plan's actions drawn from this workshop -----------------------


@dataclass
class FollowUp:
    """An action of the territory's plan decided from this workshop (« Suites données »)."""

    rank: int
    title: str
    status_label: str
    owner: str | None
    due: str | None
    #: "Emplois de l'ESS : 280 en 2023 · cible 300 · dernière valeur 290 en 2024".
    indicator_line: str

    @property
    def summary(self) -> str:
        """``"Ouvrir une épicerie solidaire — en cours · porteur : CCAS · échéance : …"``."""
        parts = [self.status_label]
        if self.owner:
            parts.append(f"porteur : {self.owner}")
        if self.due:
            parts.append(f"échéance : {self.due}")
        return f"{self.title} — {' · '.join(parts)}"

    @property
    def line(self) -> str:
        """The summary with its rank: ``"1. Ouvrir une épicerie solidaire — en cours"``."""
        return f"{self.rank}. {self.summary}"


def _follow_up(con: duckdb.DuckDBPyConnection, session_id: str) -> list[FollowUp]:
    return [
        FollowUp(
            rank=i,
            title=a["title"],
            status_label=a["status_label"],
            owner=a["owner"],
            due=fmt_date(a["due_date"]) if a["due_date"] else None,
            indicator_line=plan.indicator_line(a),
        )
        for i, a in enumerate(plan.sessions_with_actions(con, session_id), 1)
    ]


# --- the whole description --------------------------------------------------------------------


@dataclass
class SynthesisReport:
    """Everything the synthesis shows, in display order, for every output."""

    title: str
    #: "Ain · 23 novembre 2026 · Salle des fêtes".
    session_line: str
    #: "12 participants · 20 contributions · 6 votes".
    stats_line: str
    figures: KeyFigures
    map: MapData
    priorities: list[Priority]
    categories: list[CategoryBlock]
    #: (label, value) of the workshop facts (the XLSX's "Atelier" sheet).
    facts: list[tuple[str, object]]
    produced_on: dt.date
    #: The plan's actions decided from this workshop (empty: no plan yet, no section).
    follow_up: list[FollowUp] = field(default_factory=list)

    @property
    def footer(self) -> str:
        return f"Document produit par ESS Diag le {fmt_date(self.produced_on)}."


def _facts(content: workshop.Synthesis) -> list[tuple[str, object]]:
    session, stats = content.session, content.stats
    return [
        ("Atelier", session.title),
        ("Territoire", _territory_label(session)),
        ("Niveau", LEVEL_LABELS.get(session.territory_level, session.territory_level)),
        ("Code", session.territory_code),
        ("Date", fmt_date(session.session_date) if session.session_date else None),
        ("Lieu", session.place),
        ("Votes par participant", session.votes_per_participant),
        ("Participants", stats["participants"]),
        ("Contributions", stats["contributions"]),
        ("Votes", stats["votes"]),
        ("Contributions masquées (non exportées)", stats["hidden"]),
    ]


def describe(
    con: duckdb.DuckDBPyConnection,
    session_id: str,
    year: int | None = None,
    *,
    figures: KeyFigures | None = None,
) -> SynthesisReport:
    """The synthesis of a workshop session (its figures computed unless given)."""
    content = workshop.synthesis(con, session_id)
    session, stats = content.session, content.stats
    if figures is None:
        figures = key_figures(con, session.territory_level, session.territory_code, year)
    categories = _categories(content)
    return SynthesisReport(
        title=session.title,
        session_line=_session_line(session),
        stats_line=f"{fmt_int(stats['participants'])} participants · "
        f"{fmt_int(stats['contributions'])} contributions · {fmt_int(stats['votes'])} votes",
        figures=figures,
        map=_map_data(content),
        priorities=_priorities(categories),
        categories=categories,
        facts=_facts(content),
        produced_on=dt.date.today(),
        follow_up=_follow_up(con, session_id),
    )
