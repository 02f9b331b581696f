"""Seeded, cached national-scale inputs for the benchmarks (simulated rows, real geography).

* :func:`sirene` writes a *StockEtablissement* CSV in INSEE's official layout (53 columns, the
  order of the published stock) and the matching *StockUniteLegale* CSV (34 columns). Codes are
  realistic: SIREN/SIRET pass the Luhn check and are text with leading zeros, NAF rev. 2 codes,
  SIRENE effectif bands, real commune codes drawn in proportion to population (Paris, Lyon and
  Marseille as their arrondissements, a few communes déléguées, a few establishments abroad),
  Lambert 93 coordinates, ≈ 30 % closed establishments, partial-diffusion entries written with
  ``[ND]`` as INSEE does.
* :func:`urssaf` writes the URSSAF open-data table "établissements employeurs et effectifs
  salariés du secteur privé par commune × APE" (French headers, ``;`` separator, one pair of
  columns per year) for ten years.

Files go to ``benchmarks/cache/`` (git-ignored) under a name that holds the row count, the
seed, the generator version and a digest of the geography, so a second run reuses them. Every
draw comes from ``numpy.random.default_rng((seed, part))``: the same arguments give the same
bytes. Rows are drawn as integer columns with numpy and turned into text by DuckDB (``COPY``),
one million rows at a time, so 3 million rows need well under 1 GB.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

__all__ = [
    "CACHE_DIR",
    "DEFAULT_SEED",
    "ETABLISSEMENT_COLUMNS",
    "UNITE_LEGALE_COLUMNS",
    "URSSAF_YEARS",
    "SireneFiles",
    "load_geography",
    "sirene",
    "sirene_zipped",
    "INSEE_MEMBERS",
    "urssaf",
]

CACHE_DIR = Path(__file__).resolve().parent / "cache"
DEFAULT_SEED = 20261123
GENERATOR_VERSION = 2
URSSAF_YEARS = tuple(range(2015, 2025))
_PART_ROWS = 1_000_000

#: INSEE StockEtablissement columns, in the order of the published file.
ETABLISSEMENT_COLUMNS: tuple[str, ...] = (
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
    "dateDebut",
    "etatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
)

#: INSEE StockUniteLegale columns, in the order of the published file.
UNITE_LEGALE_COLUMNS: tuple[str, ...] = (
    "siren",
    "statutDiffusionUniteLegale",
    "unitePurgeeUniteLegale",
    "dateCreationUniteLegale",
    "sigleUniteLegale",
    "sexeUniteLegale",
    "prenom1UniteLegale",
    "prenom2UniteLegale",
    "prenom3UniteLegale",
    "prenom4UniteLegale",
    "prenomUsuelUniteLegale",
    "pseudonymeUniteLegale",
    "identifiantAssociationUniteLegale",
    "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale",
    "dateDernierTraitementUniteLegale",
    "nombrePeriodesUniteLegale",
    "categorieEntreprise",
    "anneeCategorieEntreprise",
    "dateDebut",
    "etatAdministratifUniteLegale",
    "nomUniteLegale",
    "nomUsageUniteLegale",
    "denominationUniteLegale",
    "denominationUsuelle1UniteLegale",
    "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale",
    "categorieJuridiqueUniteLegale",
    "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
    "nicSiegeUniteLegale",
    "economieSocialeSolidaireUniteLegale",
    "societeMissionUniteLegale",
    "caractereEmployeurUniteLegale",
)

# --- legal forms: (catégorie juridique, weight among units, kind) ---------------------------
# kind: EI (entrepreneur individuel: a person, often partial diffusion), ASSO, COOP, MUT, FOND,
# SOC (commercial company: may carry the ESS flag), PUB (public body), OTHER.
_LEGAL_FORMS: tuple[tuple[str, float, str], ...] = (
    ("1000", 0.400, "EI"),
    ("5710", 0.110, "SOC"),
    ("5720", 0.050, "SOC"),
    ("5499", 0.070, "SOC"),
    ("5498", 0.030, "SOC"),
    ("5599", 0.008, "SOC"),
    ("6540", 0.080, "OTHER"),
    ("6599", 0.010, "OTHER"),
    ("6220", 0.002, "OTHER"),
    ("9220", 0.150, "ASSO"),
    ("9210", 0.004, "ASSO"),
    ("9230", 0.004, "ASSO"),
    ("9260", 0.002, "ASSO"),
    ("9300", 0.002, "FOND"),
    ("5458", 0.002, "COOP"),
    ("5560", 0.001, "COOP"),
    ("6316", 0.004, "COOP"),
    ("6318", 0.002, "COOP"),
    ("5432", 0.001, "COOP"),
    ("5191", 0.001, "COOP"),
    ("6100", 0.001, "COOP"),
    ("8210", 0.001, "MUT"),
    ("6411", 0.001, "MUT"),
    ("7210", 0.012, "PUB"),
    ("7220", 0.001, "PUB"),
    ("7364", 0.002, "PUB"),
    ("7389", 0.002, "PUB"),
)

# --- NAF rev. 2 codes per kind of unit: (code, weight, URSSAF label) ------------------------
_NAF: dict[str, tuple[tuple[str, float], ...]] = {
    "EI": (
        ("47.11D", 1),
        ("43.99C", 2),
        ("43.21A", 1),
        ("56.10A", 1),
        ("56.10C", 1),
        ("62.01Z", 1),
        ("70.22Z", 2),
        ("86.21Z", 2),
        ("86.90E", 1),
        ("96.02A", 2),
        ("49.32Z", 1),
        ("01.11Z", 1),
        ("01.21Z", 1),
        ("68.20A", 1),
        ("74.90B", 1),
        ("85.59B", 1),
        ("90.03A", 1),
        ("47.91B", 1),
    ),
    "SOC": (
        ("47.11D", 1),
        ("46.90Z", 1),
        ("41.20A", 1),
        ("43.21A", 1),
        ("45.20A", 1),
        ("56.10A", 2),
        ("62.01Z", 2),
        ("70.10Z", 2),
        ("70.22Z", 2),
        ("68.20B", 1),
        ("81.21Z", 1),
        ("88.10A", 0.3),
        ("49.41A", 1),
        ("10.71C", 0.5),
        ("25.62B", 0.5),
        ("71.12B", 1),
    ),
    "OTHER": (("68.20B", 6), ("68.20A", 2), ("69.10Z", 1), ("86.22C", 1), ("82.99Z", 1)),
    "ASSO": (
        ("94.99Z", 10),
        ("88.99B", 2),
        ("88.10A", 1),
        ("88.10C", 1),
        ("87.30A", 0.5),
        ("87.10A", 0.5),
        ("85.59A", 1),
        ("85.59B", 1),
        ("85.10Z", 0.3),
        ("93.12Z", 3),
        ("93.19Z", 1),
        ("93.29Z", 1),
        ("90.01Z", 1),
        ("90.04Z", 0.5),
        ("91.02Z", 0.3),
        ("86.10Z", 0.2),
        ("94.91Z", 0.8),
        ("94.20Z", 0.4),
        ("94.11Z", 0.1),
        ("84.11Z", 0.05),
        ("55.20Z", 0.2),
        ("", 0.2),
    ),
    "COOP": (
        ("01.61Z", 2),
        ("10.51A", 1),
        ("46.21Z", 2),
        ("64.19Z", 2),
        ("47.11F", 1),
        ("41.20A", 1),
        ("43.21A", 1),
        ("71.12B", 1),
        ("88.10A", 0.5),
    ),
    "MUT": (("65.12Z", 3), ("65.11Z", 1), ("86.10Z", 1), ("86.23Z", 1), ("47.78A", 1)),
    "FOND": (("87.10A", 2), ("86.10Z", 1), ("72.19Z", 1), ("94.99Z", 2), ("88.99B", 1)),
    "PUB": (("84.11Z", 8), ("85.20Z", 1), ("91.01Z", 1)),
}

# Effectif bands (SIRENE codes, in order) and their weight among employer establishments.
_BANDS = ("01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51", "52", "53")
_BAND_WEIGHTS = (38, 22, 13, 11, 8, 3.5, 2, 0.6, 0.8, 0.4, 0.15, 0.06, 0.02, 0.005)
#: Probability that an active establishment of each kind is an employer.
_EMPLOYER_RATE = {
    "EI": 0.05,
    "SOC": 0.35,
    "OTHER": 0.05,
    "ASSO": 0.18,
    "COOP": 0.45,
    "MUT": 0.6,
    "FOND": 0.5,
    "PUB": 0.7,
}

_VOIES = ("RUE", "AV", "BD", "CHE", "PL", "IMP", "RTE", "ALL", "QUAI", "LD")
_NOMS_VOIE = (
    "DE LA REPUBLIQUE",
    "JEAN JAURES",
    "VICTOR HUGO",
    "DU MOULIN",
    "DE L EGLISE",
    "DES ECOLES",
    "DE LA GARE",
    "PASTEUR",
    "DU GENERAL DE GAULLE",
    "DES TILLEULS",
    "DE LA MAIRIE",
    "GAMBETTA",
    "DU STADE",
    "DES ACACIAS",
    "NATIONALE",
)
_NOMS = ("MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU")
_PRENOMS = ("MARIE", "JEAN", "PIERRE", "NATHALIE", "ISABELLE", "PHILIPPE", "CAMILLE", "LEA")
_MOTS = (
    "SOLIDAIRE",
    "DU VAL",
    "DES PAYS",
    "HORIZON",
    "AVENIR",
    "LES AMIS",
    "ENTRAIDE",
    "ATELIER",
    "TERRE",
    "LIEN",
    "ENSEMBLE",
    "SERVICES",
    "CONSEIL",
    "BATIMENT",
    "TRANSPORTS",
)
_PAYS = (("99109", "ALLEMAGNE", "BERLIN"), ("99131", "BELGIQUE", "BRUXELLES"))


@dataclass(frozen=True)
class SireneFiles:
    """A generated SIRENE extract: the establishments CSV and its unités légales CSV."""

    etablissements: Path
    unites_legales: Path
    n_rows: int
    n_units: int


# --------------------------------------------------------------------------- geography
def load_geography(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Communes (code, name, population, lon, lat, departement_code) and commune aliases
    (code, commune_code, kind) of a store, ordered by code."""
    communes = con.execute(
        "SELECT code, name, COALESCE(population, 0) AS population, lon, lat, departement_code "
        "FROM territories WHERE level = 'commune' ORDER BY code"
    ).df()
    aliases = con.execute(
        "SELECT code, commune_code, kind FROM commune_aliases WHERE kind <> 'COM' ORDER BY code"
    ).df()
    return communes, aliases


def _geo_digest(communes: pd.DataFrame, aliases: pd.DataFrame) -> str:
    h = hashlib.sha256()
    h.update("|".join(communes["code"]).encode())
    h.update("|".join(aliases["code"]).encode())
    return h.hexdigest()[:10]


# --------------------------------------------------------------------------- helpers
def _luhn_digit(payload: np.ndarray, width: int) -> np.ndarray:
    """Check digit to append to ``payload`` (``width`` digits) so the number passes Luhn."""
    total = np.zeros(len(payload), dtype=np.int64)
    rest = payload.astype(np.int64).copy()
    for position in range(width):  # from the right: the rightmost payload digit is doubled
        digit = rest % 10
        rest //= 10
        if position % 2 == 0:
            digit = digit * 2
            digit = np.where(digit > 9, digit - 9, digit)
        total += digit
    return (10 - total % 10) % 10


def _choice(rng: np.random.Generator, n: int, weights) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int32)


def _cat(codes: np.ndarray, categories) -> pd.Categorical:
    """A categorical column (DuckDB reads it as an ENUM); code -1 is NULL."""
    cats = list(dict.fromkeys(categories))
    index = {c: i for i, c in enumerate(cats)}
    remap = np.array([index[c] for c in categories], dtype=np.int32)
    out = np.where(codes < 0, -1, remap[np.clip(codes, 0, None)])
    return pd.Categorical.from_codes(out, categories=cats)


def _lambert93(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → Lambert 93 (EPSG:2154, GRS80 ellipsoid, secant cone 44°/49°)."""
    a, e = 6378137.0, 0.0818191910428158
    phi0, phi1, phi2 = np.radians([46.5, 44.0, 49.0])
    lon0, x0, y0 = np.radians(3.0), 700000.0, 6600000.0

    def m(phi):
        return np.cos(phi) / np.sqrt(1 - (e * np.sin(phi)) ** 2)

    def t(phi):
        s = np.sin(phi)
        return np.tan(np.pi / 4 - phi / 2) / ((1 - e * s) / (1 + e * s)) ** (e / 2)

    n = (np.log(m(phi1)) - np.log(m(phi2))) / (np.log(t(phi1)) - np.log(t(phi2)))
    f = m(phi1) / (n * t(phi1) ** n)
    rho0 = a * f * t(phi0) ** n
    phi, lam = np.radians(lat), np.radians(lon)
    rho = a * f * t(phi) ** n
    theta = n * (lam - lon0)
    return x0 + rho * np.sin(theta), y0 + rho0 - rho * np.cos(theta)


def _atomic_concat(parts: list[Path], target: Path) -> None:
    """Concatenate CSV parts (the first keeps its header) into ``target`` atomically."""
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    with tmp.open("wb") as out:
        for i, part in enumerate(parts):
            with part.open("rb") as src:
                if i:
                    src.readline()  # header
                shutil.copyfileobj(src, out, 16 << 20)
            part.unlink()
    tmp.replace(target)


# --------------------------------------------------------------------------- SIRENE
def _draw_part(
    rng: np.random.Generator,
    n_rows: int,
    unit_offset: int,
    communes: pd.DataFrame,
    aliases: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Integer/categorical columns of ``n_rows`` establishments and their units."""
    # Units and how many establishments each has (1 + geometric; the last one is cut).
    per_unit = rng.geometric(0.62, size=n_rows).astype(np.int64)
    ends = np.cumsum(per_unit)
    n_units = int(np.searchsorted(ends, n_rows) + 1)
    per_unit = per_unit[:n_units]
    per_unit[-1] -= ends[n_units - 1] - n_rows
    unit_of_row = np.repeat(np.arange(n_units), per_unit)
    rank_in_unit = np.arange(n_rows) - np.repeat(np.cumsum(per_unit) - per_unit, per_unit)

    forms = _LEGAL_FORMS
    form = _choice(rng, n_units, [w for _, w, _ in forms])
    kinds = sorted({k for _, _, k in forms})
    kind_of_form = np.array([kinds.index(k) for _, _, k in forms], dtype=np.int32)
    unit_kind = kind_of_form[form]
    row_kind = unit_kind[unit_of_row]

    # SIREN: 8-digit payload by an affine bijection of the global unit number (unique, about
    # one in ten starts with 0), then the Luhn digit. NIC: 4-digit payload + Luhn over SIRET.
    gid = np.arange(n_units, dtype=np.int64) + unit_offset
    payload = (gid * 7_919_347 + 1_234_567) % 100_000_000
    siren = payload * 10 + _luhn_digit(payload, 8)
    nic_payload = 1 + rank_in_unit.astype(np.int64) * 3 + rng.integers(0, 3, n_rows)
    siret_payload = siren[unit_of_row] * 10_000 + nic_payload
    nic = nic_payload * 10 + _luhn_digit(siret_payload, 13)

    # Unit attributes.
    ei = unit_kind == kinds.index("EI")
    family_kind = np.isin(unit_kind, [kinds.index(k) for k in ("ASSO", "COOP", "MUT", "FOND")])
    soc = unit_kind == kinds.index("SOC")
    u = rng.random(n_units)
    unit_partial = np.where(ei, u < 0.18, u < 0.004)
    # economieSocialeSolidaireUniteLegale: 0 'O', 1 'N', -1 empty.
    u = rng.random(n_units)
    ess_flag = np.where(
        family_kind,
        np.where(u < 0.85, 0, np.where(u < 0.9, 1, -1)),
        np.where(soc & (u < 0.012), 0, np.where(u < 0.75, 1, -1)),
    )

    # NAF: each unit draws from its kind's list; establishments mostly share it.
    naf_codes: list[str] = []
    naf_offset: dict[str, int] = {}
    for k in kinds:
        naf_offset[k] = len(naf_codes)
        naf_codes.extend(code for code, _ in _NAF[k])
    unit_naf = np.empty(n_units, dtype=np.int32)
    row_naf = np.empty(n_rows, dtype=np.int32)
    own = rng.random(n_rows) < 0.85
    for ki, k in enumerate(kinds):
        weights = [w for _, w in _NAF[k]]
        sel = unit_kind == ki
        unit_naf[sel] = naf_offset[k] + _choice(rng, int(sel.sum()), weights)
        rsel = row_kind == ki
        row_naf[rsel] = naf_offset[k] + _choice(rng, int(rsel.sum()), weights)
    row_naf = np.where(own, unit_naf[unit_of_row], row_naf)

    # State, bands, employer.
    closed = rng.random(n_rows) < 0.30
    employer_rate = np.array([_EMPLOYER_RATE[k] for k in kinds])[row_kind]
    employer = (~closed) & (rng.random(n_rows) < employer_rate)
    band = np.where(employer, _choice(rng, n_rows, _BAND_WEIGHTS), -1)
    # Non-employers: 'NN' mostly, sometimes '00' or empty.
    u = rng.random(n_rows)
    band_code = np.where(band >= 0, band, np.where(u < 0.8, len(_BANDS), np.where(u < 0.9, -2, -1)))

    # Place: communes by population (+ a floor so that every commune gets some).
    weight = communes["population"].to_numpy(dtype=float) + 40.0
    com = _choice(rng, n_rows, weight)
    com_codes = communes["code"].to_numpy(dtype=object)
    arm = aliases[aliases["kind"] == "ARM"]
    comd = aliases[aliases["kind"].isin(["COMD", "COMA"])]
    # Paris, Lyon and Marseille establishments carry their arrondissement, as in the stock.
    place_code = np.full(n_rows, -1, dtype=np.int64)
    place_names = list(com_codes) + list(arm["code"]) + list(comd["code"])
    n_com, n_arm = len(com_codes), len(arm)
    place_code[:] = com
    code_index = {c: i for i, c in enumerate(com_codes)}
    for city, group in arm.groupby("commune_code"):
        if city not in code_index:
            continue
        rows = np.nonzero(com == code_index[city])[0]
        members = np.array([n_com + arm.index.get_loc(i) for i in group.index])
        place_code[rows] = members[rng.integers(0, len(members), len(rows))]
    # A few establishments still carry the code of a commune déléguée (merged since).
    if len(comd):
        rows = np.nonzero(rng.random(n_rows) < 0.004)[0]
        picked = rng.integers(0, len(comd), len(rows))
        place_code[rows] = n_com + n_arm + picked
        com[rows] = [code_index.get(c, 0) for c in comd["commune_code"].to_numpy()[picked]]
    abroad = rng.random(n_rows) < 0.001
    place_code[abroad] = -1

    lon = communes["lon"].to_numpy(dtype=float)[com] + rng.normal(0, 0.02, n_rows)
    lat = communes["lat"].to_numpy(dtype=float)[com] + rng.normal(0, 0.014, n_rows)
    x, y = _lambert93(lon, lat)
    dep = communes["departement_code"].to_numpy(dtype=object)[com]
    overseas = np.array([str(d).startswith("97") for d in dep])
    no_coord = overseas | abroad | (rng.random(n_rows) < 0.08)

    row_partial = unit_partial[unit_of_row] | (rng.random(n_rows) < 0.002)
    created = rng.integers(0, 27_000, n_rows)  # days after 1950-01-01
    created = np.maximum(created, rng.integers(10_000, 27_000, n_rows) * (rng.random(n_rows) < 0.6))
    rows = pd.DataFrame(
        {
            "unit": unit_of_row.astype(np.int64) + unit_offset,
            "siren": siren[unit_of_row],
            "nic": nic,
            "partial": row_partial,
            "created": np.where(rng.random(n_rows) < 0.02, -1, created),
            "band": _cat(band_code, list(_BANDS) + ["NN", "00"]),
            "siege": rank_in_unit == 0,
            "periods": rng.integers(1, 6, n_rows),
            "num": rng.integers(1, 180, n_rows),
            "voie": _cat(_choice(rng, n_rows, [1] * len(_VOIES)), _VOIES),
            "nomvoie": _cat(_choice(rng, n_rows, [1] * len(_NOMS_VOIE)), _NOMS_VOIE),
            "place": _cat(place_code, place_names),
            "commune": _cat(np.where(abroad, -1, com), com_codes),
            "abroad": abroad,
            "pays": rng.integers(0, len(_PAYS), n_rows),
            "x": np.where(no_coord, np.nan, np.round(x, 1)),
            "y": np.where(no_coord, np.nan, np.round(y, 1)),
            "closed": closed,
            "naf": _cat(row_naf, naf_codes),
            "employer": employer,
            "enseigne": rng.random(n_rows) < 0.08,
            "w1": rng.integers(0, len(_MOTS), n_rows),
            "w2": rng.integers(0, len(_MOTS), n_rows),
            "treated": rng.integers(0, 86_400 * 365, n_rows),
        }
    )
    units = pd.DataFrame(
        {
            "unit": gid,
            "siren": siren,
            "partial": unit_partial,
            "created": rng.integers(0, 27_000, n_units),
            "kind": _cat(unit_kind, kinds),
            "cj": _cat(form, [c for c, _, _ in forms]),
            "naf": _cat(unit_naf, naf_codes),
            "ess": _cat(ess_flag, ["O", "N"]),
            "nic_siege": nic[np.cumsum(per_unit) - per_unit],
            "employer": np.bincount(unit_of_row, weights=employer, minlength=n_units) > 0,
            "w1": rng.integers(0, len(_MOTS), n_units),
            "w2": rng.integers(0, len(_MOTS), n_units),
            "nom": rng.integers(0, len(_NOMS), n_units),
            "prenom": rng.integers(0, len(_PRENOMS), n_units),
            "sexe": rng.random(n_units) < 0.5,
            "band": _cat(
                np.where(
                    rng.random(n_units) < 0.7, len(_BANDS), _choice(rng, n_units, _BAND_WEIGHTS)
                ),
                list(_BANDS) + ["NN"],
            ),
            "closed": rng.random(n_units) < 0.25,
            "treated": rng.integers(0, 86_400 * 365, n_units),
        }
    )
    return rows, units


def _list_sql(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


_ND = "'[ND]'"


def _etab_sql() -> str:
    """SELECT turning the drawn columns into the 53 INSEE columns (text)."""
    nd = f"CASE WHEN partial THEN {_ND} ELSE {{}} END"
    pays_codes = _list_sql([p[0] for p in _PAYS])
    pays_names = _list_sql([p[1] for p in _PAYS])
    pays_cities = _list_sql([p[2] for p in _PAYS])
    mots = _list_sql(_MOTS)
    cols = {
        "siren": "lpad(siren::VARCHAR, 9, '0')",
        "nic": "lpad(nic::VARCHAR, 5, '0')",
        "siret": "lpad(siren::VARCHAR, 9, '0') || lpad(nic::VARCHAR, 5, '0')",
        "statutDiffusionEtablissement": "CASE WHEN partial THEN 'P' ELSE 'O' END",
        "dateCreationEtablissement": "CASE WHEN created >= 0 THEN strftime(DATE '1950-01-01' + created::INTEGER, '%Y-%m-%d') END",
        "trancheEffectifsEtablissement": "band::VARCHAR",
        "anneeEffectifsEtablissement": "CASE WHEN employer THEN '2022' END",
        "activitePrincipaleRegistreMetiersEtablissement": "NULL",
        "dateDernierTraitementEtablissement": "strftime(TIMESTAMP '2023-06-01' + to_seconds(treated), '%Y-%m-%dT%H:%M:%S')",
        "etablissementSiege": "CASE WHEN siege THEN 'true' ELSE 'false' END",
        "nombrePeriodesEtablissement": "periods::VARCHAR",
        "complementAdresseEtablissement": "CASE WHEN partial THEN '[ND]' END",
        "numeroVoieEtablissement": nd.format("num::VARCHAR"),
        "indiceRepetitionEtablissement": "CASE WHEN partial THEN '[ND]' WHEN num % 17 = 0 THEN 'B' END",
        "dernierNumeroVoieEtablissement": "NULL",
        "indiceRepetitionDernierNumeroVoieEtablissement": "NULL",
        "typeVoieEtablissement": nd.format("voie::VARCHAR"),
        "libelleVoieEtablissement": nd.format("nomvoie::VARCHAR"),
        "codePostalEtablissement": "CASE WHEN NOT abroad THEN CASE WHEN left(place::VARCHAR, 2) IN ('2A', '2B') THEN '20' || right(place::VARCHAR, 3) ELSE place::VARCHAR END END",
        "libelleCommuneEtablissement": "CASE WHEN NOT abroad THEN upper(strip_accents(g.name)) END",
        "libelleCommuneEtrangerEtablissement": f"CASE WHEN abroad THEN {pays_cities}[pays + 1] END",
        "distributionSpecialeEtablissement": "NULL",
        "codeCommuneEtablissement": "place::VARCHAR",
        "codeCedexEtablissement": "NULL",
        "libelleCedexEtablissement": "NULL",
        "codePaysEtrangerEtablissement": f"CASE WHEN abroad THEN {pays_codes}[pays + 1] END",
        "libellePaysEtrangerEtablissement": f"CASE WHEN abroad THEN {pays_names}[pays + 1] END",
        "identifiantAdresseEtablissement": "CASE WHEN NOT partial AND NOT abroad AND x IS NOT NULL THEN place::VARCHAR || '_' || lpad((num * 37 % 9000)::VARCHAR, 4, '0') || '_' || lpad(num::VARCHAR, 5, '0') END",
        "coordonneeLambertAbscisseEtablissement": nd.format("x::VARCHAR"),
        "coordonneeLambertOrdonneeEtablissement": nd.format("y::VARCHAR"),
    }
    for c in ETABLISSEMENT_COLUMNS[30:44]:
        cols[c] = "NULL"
    cols.update(
        {
            "dateDebut": "CASE WHEN created >= 0 THEN strftime(DATE '1950-01-01' + (created + (periods - 1) * 400)::INTEGER, '%Y-%m-%d') END",
            "etatAdministratifEtablissement": "CASE WHEN closed THEN 'F' ELSE 'A' END",
            "enseigne1Etablissement": f"CASE WHEN partial AND enseigne THEN {_ND} WHEN enseigne THEN {mots}[w1 + 1] || ' ' || {mots}[w2 + 1] END",
            "enseigne2Etablissement": "NULL",
            "enseigne3Etablissement": "NULL",
            "denominationUsuelleEtablissement": "NULL",
            "activitePrincipaleEtablissement": "nullif(naf::VARCHAR, '')",
            "nomenclatureActivitePrincipaleEtablissement": "CASE WHEN naf::VARCHAR <> '' THEN 'NAFRev2' END",
            "caractereEmployeurEtablissement": "CASE WHEN employer THEN 'O' ELSE 'N' END",
        }
    )
    select = ",\n  ".join(f'{cols[c]} AS "{c}"' for c in ETABLISSEMENT_COLUMNS)
    return (
        f"SELECT {select}\nFROM bench_rows r LEFT JOIN bench_communes g ON g.code = r.commune::VARCHAR "
        "ORDER BY r.unit, r.nic"
    )


def _ul_sql() -> str:
    mots = _list_sql(_MOTS)
    noms = _list_sql(_NOMS)
    prenoms = _list_sql(_PRENOMS)
    person = "kind::VARCHAR = 'EI'"
    nd_person = f"CASE WHEN {person} AND partial THEN {_ND} WHEN {person} THEN {{}} END"
    cols = {
        "siren": "lpad(siren::VARCHAR, 9, '0')",
        "statutDiffusionUniteLegale": "CASE WHEN partial THEN 'P' ELSE 'O' END",
        "unitePurgeeUniteLegale": "NULL",
        "dateCreationUniteLegale": "strftime(DATE '1950-01-01' + created::INTEGER, '%Y-%m-%d')",
        "sigleUniteLegale": "NULL",
        "sexeUniteLegale": nd_person.format("CASE WHEN sexe THEN 'F' ELSE 'M' END"),
        "prenom1UniteLegale": nd_person.format(f"{prenoms}[prenom + 1]"),
        "prenom2UniteLegale": "NULL",
        "prenom3UniteLegale": "NULL",
        "prenom4UniteLegale": "NULL",
        "prenomUsuelUniteLegale": nd_person.format(f"{prenoms}[prenom + 1]"),
        "pseudonymeUniteLegale": "NULL",
        "identifiantAssociationUniteLegale": "CASE WHEN kind::VARCHAR = 'ASSO' THEN 'W' || lpad((siren % 1000000000)::VARCHAR, 9, '0') END",
        "trancheEffectifsUniteLegale": "band::VARCHAR",
        "anneeEffectifsUniteLegale": "CASE WHEN band::VARCHAR <> 'NN' THEN '2022' END",
        "dateDernierTraitementUniteLegale": "strftime(TIMESTAMP '2023-06-01' + to_seconds(treated), '%Y-%m-%dT%H:%M:%S')",
        "nombrePeriodesUniteLegale": "'1'",
        "categorieEntreprise": "CASE WHEN employer THEN 'PME' END",
        "anneeCategorieEntreprise": "CASE WHEN employer THEN '2022' END",
        "dateDebut": "strftime(DATE '1950-01-01' + created::INTEGER, '%Y-%m-%d')",
        "etatAdministratifUniteLegale": "CASE WHEN closed THEN 'C' ELSE 'A' END",
        "nomUniteLegale": nd_person.format(f"{noms}[nom + 1]"),
        "nomUsageUniteLegale": "NULL",
        "denominationUniteLegale": f"CASE WHEN {person} THEN NULL WHEN partial THEN {_ND} ELSE CASE kind::VARCHAR WHEN 'ASSO' THEN 'ASSOCIATION ' WHEN 'COOP' THEN 'COOPERATIVE ' WHEN 'MUT' THEN 'MUTUELLE ' WHEN 'FOND' THEN 'FONDATION ' WHEN 'PUB' THEN 'COMMUNE ' ELSE '' END || {mots}[w1 + 1] || ' ' || {mots}[w2 + 1] END",
        "denominationUsuelle1UniteLegale": "NULL",
        "denominationUsuelle2UniteLegale": "NULL",
        "denominationUsuelle3UniteLegale": "NULL",
        "categorieJuridiqueUniteLegale": "cj::VARCHAR",
        "activitePrincipaleUniteLegale": "nullif(naf::VARCHAR, '')",
        "nomenclatureActivitePrincipaleUniteLegale": "CASE WHEN naf::VARCHAR <> '' THEN 'NAFRev2' END",
        "nicSiegeUniteLegale": "lpad(nic_siege::VARCHAR, 5, '0')",
        "economieSocialeSolidaireUniteLegale": "ess::VARCHAR",
        "societeMissionUniteLegale": "NULL",
        "caractereEmployeurUniteLegale": "CASE WHEN employer THEN 'O' ELSE 'N' END",
    }
    select = ",\n  ".join(f'{cols[c]} AS "{c}"' for c in UNITE_LEGALE_COLUMNS)
    return f"SELECT {select}\nFROM bench_units ORDER BY unit"


def sirene(
    n_rows: int,
    communes: pd.DataFrame,
    aliases: pd.DataFrame,
    *,
    seed: int = DEFAULT_SEED,
    cache_dir: str | os.PathLike = CACHE_DIR,
) -> SireneFiles:
    """The StockEtablissement CSV of ``n_rows`` establishments and its StockUniteLegale CSV.

    Reused from ``cache_dir`` when already generated with the same arguments and geography.
    """
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"{n_rows}_s{seed}_v{GENERATOR_VERSION}_{_geo_digest(communes, aliases)}"
    etab = cache / f"StockEtablissement_{tag}.csv"
    ul = cache / f"StockUniteLegale_{tag}.csv"
    if etab.exists() and ul.exists():
        with ul.open("rb") as fh:
            n_units = sum(buf.count(b"\n") for buf in iter(lambda: fh.read(1 << 24), b"")) - 1
        return SireneFiles(etab, ul, n_rows, n_units)

    con = duckdb.connect(":memory:")
    con.register("bench_communes", communes[["code", "name"]])
    etab_parts: list[Path] = []
    ul_parts: list[Path] = []
    unit_offset = 0
    try:
        for part, start in enumerate(range(0, n_rows, _PART_ROWS)):
            size = min(_PART_ROWS, n_rows - start)
            rng = np.random.default_rng((seed, part))
            rows, units = _draw_part(rng, size, unit_offset, communes, aliases)
            unit_offset += len(units)
            con.register("bench_rows", rows)
            con.register("bench_units", units)
            ep = cache / f"{etab.name}.part{part}"
            up = cache / f"{ul.name}.part{part}"
            con.execute(f"COPY ({_etab_sql()}) TO '{ep}' (FORMAT csv, HEADER true)")
            con.execute(f"COPY ({_ul_sql()}) TO '{up}' (FORMAT csv, HEADER true)")
            con.unregister("bench_rows")
            con.unregister("bench_units")
            etab_parts.append(ep)
            ul_parts.append(up)
    finally:
        con.close()
    _atomic_concat(ul_parts, ul)
    _atomic_concat(etab_parts, etab)
    return SireneFiles(etab, ul, n_rows, unit_offset)


# --------------------------------------------------------------------------- URSSAF
#: APE codes of the URSSAF table: (code without dot as URSSAF writes it, label, weight).
_URSSAF_APE: tuple[tuple[str, str, float], ...] = (
    ("4711D", "Supermarchés", 3),
    ("4711F", "Hypermarchés", 1),
    ("5610A", "Restauration traditionnelle", 4),
    ("5610C", "Restauration de type rapide", 2),
    ("4321A", "Travaux d'installation électrique dans tous locaux", 2),
    ("4399C", "Travaux de maçonnerie générale et gros œuvre de bâtiment", 2),
    ("4120A", "Construction de maisons individuelles", 1),
    ("4520A", "Entretien et réparation de véhicules automobiles légers", 1.5),
    ("4690Z", "Commerce de gros (commerce interentreprises) non spécialisé", 1),
    ("6201Z", "Programmation informatique", 1),
    ("7022Z", "Conseil pour les affaires et autres conseils de gestion", 1),
    ("6910Z", "Activités juridiques", 1),
    ("8121Z", "Nettoyage courant des bâtiments", 1),
    ("4941A", "Transports routiers de fret interurbains", 1),
    ("1071C", "Boulangerie et boulangerie-pâtisserie", 1.5),
    ("8810A", "Aide à domicile", 2),
    ("8810C", "Aide par le travail", 1),
    ("8899B", "Action sociale sans hébergement n.c.a.", 1.5),
    ("8730A", "Hébergement social pour personnes âgées", 1),
    ("8710A", "Hébergement médicalisé pour personnes âgées", 1),
    ("8610Z", "Activités hospitalières", 0.5),
    ("8559A", "Formation continue d'adultes", 1),
    ("8510Z", "Enseignement pré-primaire", 0.5),
    ("9312Z", "Activités de clubs de sports", 1.5),
    ("9001Z", "Arts du spectacle vivant", 0.5),
    ("6419Z", "Autres intermédiations monétaires", 1),
    ("6512Z", "Autres assurances", 0.5),
    ("9499Z", "Autres organisations fonctionnant par adhésion volontaire", 2),
    ("0161Z", "Activités de soutien aux cultures", 0.5),
    ("9602A", "Coiffure", 1.5),
)


def urssaf(
    communes: pd.DataFrame,
    *,
    years=URSSAF_YEARS,
    seed: int = DEFAULT_SEED,
    cache_dir: str | os.PathLike = CACHE_DIR,
) -> Path:
    """URSSAF commune × APE table (French headers, ``;``), one pair of columns per year."""
    years = tuple(int(y) for y in years)
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256("|".join(communes["code"]).encode()).hexdigest()[:10]
    target = (
        cache
        / f"urssaf_commune_ape_{years[0]}-{years[-1]}_s{seed}_v{GENERATOR_VERSION}_{digest}.csv"
    )
    if target.exists():
        return target
    rng = np.random.default_rng((seed, 999))
    pop = communes["population"].to_numpy(dtype=float)
    # A commune has more APE lines the bigger it is; each line's jobs follow population.
    k = np.clip(np.round(1 + 2.2 * np.log1p(pop / 150)), 1, len(_URSSAF_APE)).astype(int)
    weights = np.array([w for _, _, w in _URSSAF_APE])
    com_idx = np.repeat(np.arange(len(communes)), k)
    # k APE codes per commune without replacement, weighted (Gumbel top-k, vectorised).
    keys = np.log(weights)[None, :] - np.log(-np.log(rng.random((len(communes), len(weights)))))
    order = np.argsort(-keys, axis=1)
    ape_idx = order[np.arange(len(weights))[None, :] < k[:, None]]
    n = len(com_idx)
    base_jobs = np.maximum(1, rng.lognormal(0, 1.0, n) * pop[com_idx] * 0.35 / k[com_idx])
    trend = rng.normal(0.005, 0.03, n)
    data: dict[str, object] = {
        "Région": communes["region_name"].to_numpy(dtype=object)[com_idx]
        if "region_name" in communes
        else np.full(n, None, dtype=object),
        "Département": (communes["departement_code"].astype(str).to_numpy(dtype=object)[com_idx]),
        "Code commune": communes["code"].to_numpy(dtype=object)[com_idx],
        "Commune": communes["name"].to_numpy(dtype=object)[com_idx],
        "Code APE": np.array([a for a, _, _ in _URSSAF_APE], dtype=object)[ape_idx],
        "APE": np.array([f"{a} {lab}" for a, lab, _ in _URSSAF_APE], dtype=object)[ape_idx],
    }
    last = len(years) - 1
    for i, year in enumerate(years):
        jobs = np.round(base_jobs * (1 + trend) ** (i - last))
        estab = np.maximum(1, np.round(jobs / rng.uniform(4, 12, n)))
        alive = rng.random(n) > 0.02 * (last - i)
        data[f"Nombre d'établissements {year}"] = np.where(alive, estab, 0).astype(np.int64)
        data[f"Effectifs salariés {year}"] = np.where(alive, jobs, 0).astype(np.int64)
    frame = pd.DataFrame(data)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    con = duckdb.connect(":memory:")
    try:
        con.register("urssaf_frame", frame)
        con.execute(f"COPY urssaf_frame TO '{tmp}' (FORMAT csv, HEADER true, DELIMITER ';')")
    finally:
        con.close()
    tmp.replace(target)
    return target


# --------------------------------------------------------------------------- national, zipped
#: INSEE's names: the archive and the CSV it holds.
INSEE_MEMBERS = {
    "etablissements": ("StockEtablissement_utf8.zip", "StockEtablissement_utf8.csv"),
    "unites_legales": ("StockUniteLegale_utf8.zip", "StockUniteLegale_utf8.csv"),
}


def sirene_zipped(
    n_rows: int,
    communes: pd.DataFrame,
    aliases: pd.DataFrame,
    *,
    seed: int = DEFAULT_SEED,
    cache_dir: str | os.PathLike = CACHE_DIR,
    log=None,
) -> SireneFiles:
    """The two SIRENE stocks of ``n_rows`` establishments zipped as INSEE publishes them
    (``StockEtablissement_utf8.zip`` holding ``StockEtablissement_utf8.csv``, same for the
    unités légales), in ``cache_dir/<tag>/``, reused when present.

    Each million-row part is drawn (numpy), written as CSV by DuckDB (``COPY``, all cores),
    then streamed into the archive's member and deleted: the full CSV never sits on disk, and
    memory stays that of one part (≈ 1.5 GB). Deflate level 1 (INSEE's archives are deflate too;
    a higher level only costs generation time)."""
    import zipfile

    tag = f"{n_rows}_s{seed}_v{GENERATOR_VERSION}_{_geo_digest(communes, aliases)}"
    folder = Path(cache_dir) / tag
    folder.mkdir(parents=True, exist_ok=True)
    etab_zip = folder / INSEE_MEMBERS["etablissements"][0]
    ul_zip = folder / INSEE_MEMBERS["unites_legales"][0]
    counts = folder / "counts.txt"
    if etab_zip.exists() and ul_zip.exists() and counts.exists():
        n_units = int(counts.read_text().split()[1])
        return SireneFiles(etab_zip, ul_zip, n_rows, n_units)
    tmp_e = etab_zip.with_name(etab_zip.name + ".tmp")
    tmp_u = ul_zip.with_name(ul_zip.name + ".tmp")
    con = duckdb.connect(":memory:")
    con.register("bench_communes", communes[["code", "name"]])
    unit_offset = 0
    opts = {"compression": zipfile.ZIP_DEFLATED, "compresslevel": 1, "allowZip64": True}
    n_parts = -(-n_rows // _PART_ROWS)
    # Drawing part k + 1 (numpy, DuckDB) runs while a thread deflates part k (zlib releases
    # the GIL): on 2 cores the two halves overlap.
    pending: queue.Queue = queue.Queue(maxsize=1)
    failure: list[BaseException] = []

    def writer() -> None:
        try:
            with (
                zipfile.ZipFile(tmp_e, "w", **opts) as ze,
                zipfile.ZipFile(tmp_u, "w", **opts) as zu,
                ze.open(INSEE_MEMBERS["etablissements"][1], "w", force_zip64=True) as me,
                zu.open(INSEE_MEMBERS["unites_legales"][1], "w", force_zip64=True) as mu,
            ):
                while (item := pending.get()) is not None:
                    part, files = item
                    for part_csv, member in zip(files, (me, mu), strict=True):
                        with part_csv.open("rb") as src:
                            if part:
                                src.readline()  # the header only once
                            shutil.copyfileobj(src, member, 16 << 20)
                        part_csv.unlink()
                    if log is not None:
                        log(f"  partie {part + 1}/{n_parts} compressée")
        except BaseException as exc:  # reported by the main thread
            failure.append(exc)
            while pending.get() is not None:
                pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        for part, start in enumerate(range(0, n_rows, _PART_ROWS)):
            if failure:
                break
            size = min(_PART_ROWS, n_rows - start)
            rng = np.random.default_rng((seed, part))
            rows, units = _draw_part(rng, size, unit_offset, communes, aliases)
            unit_offset += len(units)
            con.register("bench_rows", rows)
            con.register("bench_units", units)
            files = (folder / f"part{part}_e.csv", folder / f"part{part}_u.csv")
            con.execute(f"COPY ({_etab_sql()}) TO '{files[0]}' (FORMAT csv, HEADER true)")
            con.execute(f"COPY ({_ul_sql()}) TO '{files[1]}' (FORMAT csv, HEADER true)")
            con.unregister("bench_rows")
            con.unregister("bench_units")
            pending.put((part, files))
    finally:
        pending.put(None)
        thread.join()
        con.close()
    if failure:
        raise failure[0]
    tmp_e.replace(etab_zip)
    tmp_u.replace(ul_zip)
    counts.write_text(f"{n_rows} {unit_offset}\n")
    return SireneFiles(etab_zip, ul_zip, n_rows, unit_offset)
