"""The shape of the indicator document (``ess-diag indicators --json``), as ``TypedDict``s.

Every key is defined in ``docs/methodologie.md``. A figure that cannot be computed is None and
its key appears in the ``notes`` of the same section with a French reason.
"""

from __future__ import annotations

from typing import TypedDict

Notes = dict[str, str]


class Territory(TypedDict):
    level: str
    code: str
    name: str
    population: int | None


class _Figures(TypedDict):
    """The key figures themselves, shared by a territory's document and a comparison row."""

    year: int | None
    ess_establishments: int | None
    ess_jobs: float | None
    private_jobs: float | None
    non_ess_private_jobs: float | None
    ess_share_private_jobs: float | None
    jobs_per_1000_inhabitants: float | None
    women_share: float | None
    jobs_source: str | None  # "statistiques" | "estimation_sirene" | None
    notes: Notes


class KeyFigures(_Figures):
    territory: Territory
    sources: list[str]


class FamilyRow(TypedDict):
    family: str
    label: str
    establishments: int | None
    jobs: float | None
    share_establishments: float | None
    share_jobs: float | None


class ByFamily(TypedDict):
    rows: list[FamilyRow]
    notes: Notes


class SectorRow(TypedDict):
    sector: str
    label: str
    establishments: int | None
    jobs: float | None
    share_jobs: float | None
    private_jobs: float | None
    ess_share_in_sector: float | None
    reference_share_jobs: float | None
    location_quotient: float | None


class BySector(TypedDict):
    reference: Territory
    rows: list[SectorRow]
    notes: Notes


class RuralSplit(TypedDict):
    """The rural/urban split of jobs (part of :class:`Rurality`)."""

    ess_jobs_rural: float | None
    ess_jobs_urban: float | None
    share_ess_jobs_rural: float | None
    private_jobs_rural: float | None
    private_jobs_urban: float | None
    ess_share_private_jobs_rural: float | None
    ess_share_private_jobs_urban: float | None


class Rurality(TypedDict):
    definition: str  # "grille" | "estimation" | "mixte"
    definition_label: str
    rural_communes: int
    urban_communes: int
    rural_population: int
    rural_population_share: float | None
    ess_jobs_rural: float | None
    ess_jobs_urban: float | None
    share_ess_jobs_rural: float | None
    private_jobs_rural: float | None
    private_jobs_urban: float | None
    ess_share_private_jobs_rural: float | None
    ess_share_private_jobs_urban: float | None
    jobs_source: str | None
    notes: Notes


class RuralSectorRow(TypedDict):
    """One sector's ESS and private jobs in the rural and urban communes, and the ESS shares."""

    sector: str  # a sector key, or "action_sociale" (both action sociale sectors together)
    label: str
    ess_jobs_rural: float | None
    ess_jobs_urban: float | None
    private_jobs_rural: float | None
    private_jobs_urban: float | None
    ess_share_private_jobs_rural: float | None
    ess_share_private_jobs_urban: float | None


class RuralSectors(TypedDict):
    year: int | None
    jobs_source: str | None
    rows: list[RuralSectorRow]
    notes: Notes


class SeriesRow(TypedDict):
    year: int
    ess_jobs: float | None
    private_jobs: float | None
    non_ess_private_jobs: float | None
    ess_index: float | None
    non_ess_index: float | None


class Evolution(TypedDict):
    base_year: int | None
    start_year: int | None
    end_year: int | None
    series: list[SeriesRow]
    change: dict[str, float | None]  # ess_jobs, non_ess_private_jobs
    rural_change: dict[str, float | None]
    decline_years: dict[str, list[int]]
    notes: Notes


class HistoryRow(TypedDict):
    """A year of the SIRENE history series: ESS employer establishments on 31 December."""

    year: int
    establishments: int
    by_family: dict[str, int]  # every family key of nomenclatures.FAMILIES, 0 when none


class Employer(TypedDict):
    name: str | None  # None under partial diffusion
    partial: bool
    jobs: float
    establishments: int


class Resilience(TypedDict):
    sector_diversity: float | None
    sectors_present: int
    sectors_total: int
    top5_employers_share: float | None
    top5_employers: list[Employer]
    employers: int
    median_age_years: float | None
    reference_date: str
    jobs_source: str | None
    notes: Notes


class CompareRow(_Figures, Territory, total=False):
    """A key-figure row (the columns of ``KEY_FIGURE_COLUMNS``) plus ``notes``; similar
    territories also carry ``density``, ``rural_population_share`` and ``distance``."""

    density: float
    rural_population_share: float
    distance: float


class SimilarTerritory(TypedDict):
    level: str
    code: str
    name: str
    population: int
    density: float
    rural_population_share: float
    distance: float


class Similar(TypedDict):
    criteria: list[str]
    territories: list  # SimilarTerritory (similar_territories) or CompareRow (comparisons)
    notes: Notes


class Comparisons(TypedDict):
    parents: list[CompareRow]
    similar: Similar
    notes: Notes


class ZoneRow(TypedDict):
    sector: str
    label: str
    communes: int
    population: int
    population_share: float | None


class ZoneCommune(TypedDict):
    code: str
    name: str
    population: int


class ZonesBlanches(TypedDict):
    year: int | None
    jobs_source: str | None
    communes_total: int
    population_total: int
    by_sector: list[ZoneRow]
    sector: str | None
    communes: list[ZoneCommune]
    notes: Notes


class Document(KeyFigures):
    """The full indicator set of one territory (:func:`ess_diag.indicators.compute`): its key
    figures, and the sections below."""

    schema_version: int
    years_available: list[int]
    demo: bool
    by_family: ByFamily
    by_sector: BySector
    rural: Rurality
    evolution: Evolution
    sirene_history: list[HistoryRow]
    resilience: Resilience
    comparisons: Comparisons
    zones_blanches: ZonesBlanches
