"""ESS nomenclatures: legal form → family, NAF → sector, effectif band → jobs, the perimeter.

Every mapping is data (the tables below), tested one by one in ``tests/test_nomenclatures.py``
and mirrored as SQL reference tables by :func:`register` so that whole tables are classified
with joins instead of Python loops. Sources: the observatoire national de l'ESS (CNCRESS),
INSEE's catégories juridiques, SIRENE's tranches d'effectifs; the rule is written out for
users in ``docs/methodologie.md`` (« Le périmètre de l'ESS »).

The perimeter rule, in this order:

1. the legal form makes a unit an association, coopérative, mutuelle or fondation;
2. those whose activity (NAF) is public administration (84.xx), an employers', consular or
   professional body, a trade union, a religious or political organisation are removed;
3. sociétés commerciales de l'ESS are added: units flagged ``economieSocialeSolidaireUniteLegale
   = 'O'`` (or listed by ESS France) whose legal form is none of the four families. They are
   added after step 2, so the NAF exclusion does not apply to them (their ESS status is a legal
   attestation, not a legal-form presumption).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

import duckdb

__all__ = [
    "FAMILIES",
    "FAMILY_ORDER",
    "Sector",
    "SECTORS",
    "SECTOR_LABELS",
    "CATEGORIES_JURIDIQUES",
    "EXCLUDED_NAF_CODES",
    "EXCLUDED_NAF_DIVISIONS",
    "EFFECTIF_BANDS",
    "normalize_naf",
    "normalize_categorie_juridique",
    "normalize_band",
    "naf_division",
    "sector_for_naf",
    "family_for",
    "legal_form_family",
    "is_excluded_naf",
    "is_ess",
    "jobs_estimate",
    "is_employer_band",
    "PurchaseSegment",
    "PURCHASE_SEGMENTS",
    "PURCHASE_SEGMENT_LABELS",
    "INCLUSIVE_KINDS",
    "LEGAL_BASES",
    "segment_key",
    "segments_for_naf",
    "legal_bases_for",
    "register",
    "ProximityService",
    "PROXIMITY_SERVICES",
    "PROXIMITY_SERVICE_LABELS",
    "PROXIMITY_SOURCE",
]

#: ESS family key → French label (order = display order).
FAMILIES: dict[str, str] = {
    "association": "Associations",
    "cooperative": "Coopératives",
    "mutuelle": "Mutuelles",
    "fondation": "Fondations",
    "societe_commerciale": "Sociétés commerciales de l'ESS",
}
FAMILY_ORDER: tuple[str, ...] = tuple(FAMILIES)


def _codes(*items: int | tuple[int, int]) -> tuple[str, ...]:
    """Expand ``5453`` and ``(5453, 5455)`` (inclusive range) into 4-digit code strings."""
    out: list[str] = []
    for item in items:
        if isinstance(item, tuple):
            out.extend(str(c) for c in range(item[0], item[1] + 1))
        else:
            out.append(str(item))
    return tuple(out)


_ASSOCIATIONS = _codes(9210, 9220, 9221, 9222, 9223, 9230, 9240, 9260)
_FONDATIONS = _codes(9300)
_MUTUELLES = _codes(8210, 8250, 8290, 6411)
# Every catégorie juridique whose INSEE label says "coopérative", plus the cooperative and
# mutual banks and the SICA (sociétés d'intérêt collectif agricole).
_COOPERATIVES = _codes(
    5203,
    5307,
    5309,
    5443,
    5451,
    (5453, 5455),
    (5458, 5460),
    5543,
    5547,
    (5551, 5555),
    (5558, 5560),
    5643,
    5647,
    (5651, 5655),
    (5658, 5660),
    (6316, 6318),
    6543,
    6551,
    6554,
    6558,
    6560,
    5195,
    # cooperative and mutual banks
    (5191, 5194),
    5196,
    6100,
    6595,
    6596,
    # SICA
    5432,
    5532,
    5632,
    6532,
)

#: catégorie juridique (4 digits) → family key, for the four legal-form families.
CATEGORIES_JURIDIQUES: dict[str, str] = {
    **{c: "association" for c in _ASSOCIATIONS},
    **{c: "fondation" for c in _FONDATIONS},
    **{c: "mutuelle" for c in _MUTUELLES},
    **{c: "cooperative" for c in _COOPERATIVES},
}


@dataclass(frozen=True)
class Sector:
    """An ESS sector: key, French label and the NAF rev. 2 divisions (2 digits) it groups."""

    key: str
    label: str
    divisions: tuple[str, ...]


def _divs(*items: int | tuple[int, int]) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        lo, hi = item if isinstance(item, tuple) else (item, item)
        out.extend(f"{d:02d}" for d in range(lo, hi + 1))
    return tuple(out)


#: The ESS sectors in display order. ``autres_services`` takes every division not listed
#: elsewhere; ``non_classe`` is for a missing (or non-NAF rev. 2) activity code.
SECTORS: tuple[Sector, ...] = (
    Sector("action_sociale_sans_hebergement", "Action sociale sans hébergement", _divs(88)),
    Sector("action_sociale_avec_hebergement", "Action sociale avec hébergement", _divs(87)),
    Sector("sante", "Santé humaine", _divs(86)),
    Sector("enseignement", "Enseignement", _divs(85)),
    Sector("arts_spectacles", "Arts et spectacles", _divs((90, 91))),
    Sector("sport_loisirs", "Sport et loisirs", _divs(93)),
    Sector("finance_assurance", "Activités financières et d'assurance", _divs((64, 66))),
    Sector("commerce", "Commerce", _divs((45, 47))),
    Sector("hebergement_restauration", "Hébergement et restauration", _divs((55, 56))),
    Sector("agriculture", "Agriculture, sylviculture et pêche", _divs((1, 3))),
    Sector("industrie_construction", "Industrie et construction", _divs((5, 43))),
    Sector("soutien_entreprises", "Soutien aux entreprises", _divs((69, 82))),
    Sector("organisations_associatives", "Activités des organisations associatives", _divs(94)),
    Sector("autres_services", "Autres services", ()),
    Sector("non_classe", "Non classé", ()),
)
SECTOR_LABELS: dict[str, str] = {s.key: s.label for s in SECTORS}
_DIVISION_SECTOR: dict[str, str] = {d: s.key for s in SECTORS for d in s.divisions}


@dataclass(frozen=True)
class ProximityService:
    """A proximity service of the Kit (fiche 16, « besoins du territoire »): key, French label and
    the NAF rev. 2 sub-classes ('NN.NNX') of the establishments that provide it."""

    key: str
    label: str
    naf_codes: tuple[str, ...]


#: The Kit's proximity services, as the NAF sub-classes that provide them (zones blanches of the
#: Besoins page, ``ess_diag.needs``). The Kit names the services, not codes: the codes are ours,
#: chosen from the INSEE NAF rev. 2 labels (see :data:`PROXIMITY_SOURCE`).
PROXIMITY_SERVICES: tuple[ProximityService, ...] = (
    ProximityService("aide_domicile", "Aide à domicile", ("88.10A", "88.10B")),
    ProximityService("petite_enfance", "Petite enfance (accueil de jeunes enfants)", ("88.91A",)),
    ProximityService(
        "commerce_alimentaire",
        "Commerce alimentaire de proximité",
        ("47.11B", "47.11C", "47.11D", "47.21Z", "47.22Z", "47.23Z", "47.24Z", "47.25Z", "47.29Z"),
    ),
    ProximityService(
        "mobilite",
        "Mobilité (transport de personnes, location, auto-école)",
        ("49.32Z", "49.39A", "49.39B", "77.11A", "85.53Z"),
    ),
    ProximityService(
        "personnes_agees_hebergement",
        "Hébergement des personnes âgées",
        ("87.10A", "87.30A"),
    ),
)
PROXIMITY_SERVICE_LABELS: dict[str, str] = {s.key: s.label for s in PROXIMITY_SERVICES}
PROXIMITY_SOURCE = (
    "Services de proximité du Kit (fiche 16, besoins du territoire) ; codes de la nomenclature "
    "d'activités française NAF rév. 2 (INSEE) choisis par ESS Diag d'après leurs libellés : "
    "aide à domicile 88.10A-B, accueil de jeunes enfants 88.91A, commerce d'alimentation "
    "générale, supérettes, supermarchés et commerces alimentaires spécialisés 47.11B-D et "
    "47.21-47.29, taxis, transports routiers de voyageurs, location de voitures et auto-écoles "
    "49.32Z, 49.39A-B, 77.11A, 85.53Z, hébergement médicalisé et social des personnes âgées "
    "87.10A, 87.30A."
)


#: NAF sub-classes outside the ESS perimeter (for the legal-form families), and whole divisions.
EXCLUDED_NAF_CODES: tuple[str, ...] = ("94.11Z", "94.12Z", "94.20Z", "94.91Z", "94.92Z")
EXCLUDED_NAF_DIVISIONS: tuple[str, ...] = ("84",)

#: SIRENE tranche d'effectif salarié code → (French label, jobs estimate = band midpoint).
EFFECTIF_BANDS: dict[str, tuple[str, float]] = {
    "NN": ("Aucun salarié connu", 0.0),
    "00": ("0 salarié", 0.0),
    "01": ("1 ou 2 salariés", 1.5),
    "02": ("3 à 5 salariés", 4.0),
    "03": ("6 à 9 salariés", 7.5),
    "11": ("10 à 19 salariés", 14.5),
    "12": ("20 à 49 salariés", 34.5),
    "21": ("50 à 99 salariés", 74.5),
    "22": ("100 à 199 salariés", 149.5),
    "31": ("200 à 249 salariés", 224.5),
    "32": ("250 à 499 salariés", 374.5),
    "41": ("500 à 999 salariés", 749.5),
    "42": ("1 000 à 1 999 salariés", 1499.5),
    "51": ("2 000 à 4 999 salariés", 3499.5),
    "52": ("5 000 à 9 999 salariés", 7499.5),
    "53": ("10 000 salariés et plus", 10000.0),
}
_NON_EMPLOYER_BANDS = frozenset({"NN", "00"})

_NAF_RE = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])$")


# --- purchase segments and reserved public contracts (issue 15) ----------------------------


@dataclass(frozen=True)
class PurchaseSegment:
    """A purchase segment a public buyer reserves or allots: key, French label, the NAF rev. 2
    sub-classes whose activity is that segment, and whether art. L2113-15 of the Code de la
    commande publique (contracts reserved to ESS enterprises) can apply to it."""

    key: str
    label: str
    naf: tuple[str, ...]
    l2113_15: bool = False


#: Purchase segments, in display order. The segments are those Avise names for reserved and
#: socially responsible purchasing (espaces verts, second œuvre, déchets, restauration,
#: nettoyage…) and the Marché de l'inclusion's sectors; the NAF sub-classes are read from the
#: labels of the NAF rev. 2 (INSEE, décret n° 2007-1888) — ESS Diag's own mapping, written out
#: in docs/methodologie.md (« Acheter à l'ESS »). An actor offers a segment when its NAF is
#: listed here **or** its ``services`` name it.
PURCHASE_SEGMENTS: tuple[PurchaseSegment, ...] = (
    PurchaseSegment("espaces_verts", "Espaces verts et paysage", ("81.30Z", "02.40Z")),
    PurchaseSegment("nettoyage", "Nettoyage et propreté", ("81.21Z", "81.22Z", "81.29A", "81.29B")),
    PurchaseSegment(
        "restauration",
        "Restauration et traiteur",
        ("56.10A", "56.10B", "56.10C", "56.21Z", "56.29A", "56.29B"),
    ),
    PurchaseSegment(
        "second_oeuvre",
        "Bâtiment second œuvre",
        (
            "43.21A",
            "43.21B",
            "43.22A",
            "43.22B",
            "43.29A",
            "43.29B",
            "43.31Z",
            "43.32A",
            "43.32B",
            "43.32C",
            "43.33Z",
            "43.34Z",
            "43.39Z",
        ),
    ),
    PurchaseSegment(
        "dechets_reemploi",
        "Déchets, recyclage et réemploi",
        (
            "38.11Z",
            "38.12Z",
            "38.21Z",
            "38.22Z",
            "38.31Z",
            "38.32Z",
            "39.00Z",
            "47.79Z",
            "95.22Z",
            "95.23Z",
            "95.24Z",
            "95.29Z",
        ),
    ),
    PurchaseSegment("blanchisserie", "Blanchisserie et pressing", ("96.01A", "96.01B")),
    PurchaseSegment(
        "impression",
        "Impression, reprographie et routage",
        ("18.12Z", "18.13Z", "18.14Z", "82.19Z"),
    ),
    PurchaseSegment(
        "logistique",
        "Logistique, conditionnement et entreposage",
        ("52.10A", "52.10B", "52.24A", "52.24B", "52.29B", "82.92Z"),
    ),
    PurchaseSegment(
        "transport",
        "Transport de personnes et de marchandises",
        ("49.32Z", "49.39A", "49.39B", "49.39C", "49.41A", "49.41B", "49.41C", "49.42Z", "53.20Z"),
    ),
    PurchaseSegment(
        "numerique",
        "Numérique et informatique",
        ("58.29C", "62.01Z", "62.02A", "62.02B", "62.03Z", "62.09Z", "63.11Z", "63.12Z", "95.11Z"),
    ),
    PurchaseSegment(
        "services_personne",
        "Services à la personne et action sociale",
        ("88.10A", "88.10B", "88.10C", "88.91A", "88.91B", "88.99B", "97.00Z"),
        l2113_15=True,
    ),
    PurchaseSegment(
        "evenementiel",
        "Événementiel, accueil et animation",
        ("82.30Z", "90.01Z", "90.02Z", "93.29Z"),
    ),
)
PURCHASE_SEGMENT_LABELS: dict[str, str] = {s.key: s.label for s in PURCHASE_SEGMENTS}
_SEGMENT_BY_NORM: dict[str, str] = {}

#: Inclusive structures (actors.inclusive_kind) → French label.
INCLUSIVE_KINDS: dict[str, str] = {
    "EI": "Entreprise d'insertion",
    "AI": "Association intermédiaire",
    "ACI": "Atelier et chantier d'insertion",
    "ETTI": "Entreprise de travail temporaire d'insertion",
    "EITI": "Entreprise d'insertion par le travail indépendant",
    "GEIQ": "Groupement d'employeurs pour l'insertion et la qualification",
    "EA": "Entreprise adaptée",
    "EATT": "Entreprise adaptée de travail temporaire",
    "ESAT": "Établissement et service d'aide par le travail",
}

#: Reserved contracts of the Code de la commande publique: article → (French label, the
#: inclusive kinds it opens to; L2113-15 opens to ESS enterprises, see :func:`legal_bases_for`).
#: GEIQ are in none of the three.
LEGAL_BASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "L2113-12": ("Marché réservé handicap (EA, ESAT)", ("EA", "EATT", "ESAT")),
    "L2113-13": ("Marché réservé insertion (SIAE)", ("EI", "AI", "ACI", "ETTI", "EITI")),
    "L2113-15": ("Marché réservé ESS (services sociaux et spécifiques)", ()),
}


def _norm_text(value) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", str(value).replace("œ", "oe").replace("Œ", "OE"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()


def segment_key(value) -> str | None:
    """A purchase segment from its key or its French label (case, accents, punctuation
    ignored); None when it names none.

    >>> segment_key("Espaces verts et paysage"), segment_key("espaces_verts")
    ('espaces_verts', 'espaces_verts')
    """
    if _blank(value):
        return None
    if not _SEGMENT_BY_NORM:
        for s in PURCHASE_SEGMENTS:
            _SEGMENT_BY_NORM[_norm_text(s.key)] = s.key
            _SEGMENT_BY_NORM[_norm_text(s.label)] = s.key
    return _SEGMENT_BY_NORM.get(_norm_text(value))


def segments_for_naf(naf) -> tuple[str, ...]:
    """The purchase segments whose NAF sub-classes include ``naf``."""
    code = normalize_naf(naf)
    return tuple(s.key for s in PURCHASE_SEGMENTS if code is not None and code in s.naf)


def legal_bases_for(inclusive_kind, is_ess_actor: bool, segment: str) -> list[str]:
    """The reserved-contract articles a structure opens for ``segment``: L2113-12 for EA,
    EATT, ESAT; L2113-13 for EI, AI, ACI, ETTI, EITI; L2113-15 for an ESS enterprise when the
    segment is one of the services that article covers. GEIQ open none by their kind.

    >>> legal_bases_for("ACI", True, "nettoyage"), legal_bases_for(None, True, "services_personne")
    (['L2113-13'], ['L2113-15'])
    """
    out = [art for art, (_label, kinds) in LEGAL_BASES.items() if inclusive_kind in kinds]
    segment_def = next((s for s in PURCHASE_SEGMENTS if s.key == segment), None)
    if is_ess_actor and segment_def is not None and segment_def.l2113_15:
        out.append("L2113-15")
    return out


def _blank(value) -> bool:
    if value is None:
        return True
    try:
        if value != value:  # NaN / pd.NA-like floats
            return True
    except (TypeError, ValueError):
        return True
    return str(value).strip() == ""


def normalize_naf(naf) -> str | None:
    """``'9499Z'``, ``'94.99z'``, ``' 94.99Z '`` → ``'94.99Z'``; blank → None.

    A code that is not NAF rev. 2 shaped is returned stripped and upper-cased, unchanged.
    """
    if _blank(naf):
        return None
    text = str(naf).strip().upper()
    m = _NAF_RE.match(text)
    if m:
        return f"{m.group(1)}.{m.group(2)}{m.group(3)}"
    return text


def naf_division(naf) -> str | None:
    """The 2-digit division of a NAF code (``'88.10A'`` → ``'88'``), None when not NAF-shaped."""
    code = normalize_naf(naf)
    if code is None or not code[:2].isdigit():
        return None
    return code[:2]


def normalize_categorie_juridique(code) -> str | None:
    """``9220``, ``'9220'``, ``'9220.0'`` → ``'9220'``; blank → None."""
    if _blank(code):
        return None
    text = str(code).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text


def normalize_band(band) -> str | None:
    """``'1'`` → ``'01'``, ``'NN'`` stays, blank → None (same as NN: no employee known)."""
    if _blank(band):
        return None
    text = str(band).strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if text.isdigit() and len(text) == 1:
        text = "0" + text
    return text


def sector_for_naf(naf) -> str:
    """ESS sector key of a NAF rev. 2 code (``'88.10A'`` → ``'action_sociale_sans_hebergement'``).

    Missing or unreadable code → ``'non_classe'``; a division not grouped → ``'autres_services'``.
    """
    division = naf_division(naf)
    if division is None:
        return "non_classe"
    return _DIVISION_SECTOR.get(division, "autres_services")


def is_excluded_naf(naf) -> bool:
    """True for activities outside the ESS perimeter: 84.xx, 94.11Z, 94.12Z, 94.20Z, 94.91Z, 94.92Z."""
    code = normalize_naf(naf)
    if code is None:
        return False
    return code in EXCLUDED_NAF_CODES or code[:2] in EXCLUDED_NAF_DIVISIONS


def legal_form_family(categorie_juridique) -> str | None:
    """The family a legal form alone gives (association/cooperative/mutuelle/fondation) or None."""
    return CATEGORIES_JURIDIQUES.get(normalize_categorie_juridique(categorie_juridique) or "")


def _flagged(ess_flag, ess_france_listed) -> bool:
    return bool(ess_france_listed) or (
        not _blank(ess_flag) and str(ess_flag).strip().upper() == "O"
    )


def family_for(
    categorie_juridique, ess_flag: str | None = None, ess_france_listed: bool = False
) -> str | None:
    """ESS family of a unit: its legal-form family, else ``'societe_commerciale'`` when flagged
    ESS (``'O'``) or listed by ESS France, else None."""
    family = legal_form_family(categorie_juridique)
    if family is not None:
        return family
    if _flagged(ess_flag, ess_france_listed):
        return "societe_commerciale"
    return None


def is_ess(
    categorie_juridique,
    naf,
    ess_flag: str | None = None,
    ess_france_listed: bool = False,
) -> bool:
    """Whether a unit is in the ESS perimeter (see the module docstring for the rule)."""
    family = legal_form_family(categorie_juridique)
    if family is not None:
        return not is_excluded_naf(naf)
    return _flagged(ess_flag, ess_france_listed)


def jobs_estimate(band) -> float:
    """Jobs estimate of a SIRENE band (its midpoint); blank/NN/00 → 0.

    Raises ``ValueError`` (French message) for a code that is not a SIRENE band.
    """
    code = normalize_band(band)
    if code is None:
        return 0.0
    try:
        return EFFECTIF_BANDS[code][1]
    except KeyError:
        raise ValueError(f"Tranche d'effectif inconnue : {band!r}") from None


def is_employer_band(band) -> bool:
    """True for the bands 01–53 (at least one employee)."""
    code = normalize_band(band)
    return code is not None and code in EFFECTIF_BANDS and code not in _NON_EMPLOYER_BANDS


# --- SQL mirror -----------------------------------------------------------------------------

_REF_DDL = """
CREATE OR REPLACE TABLE ref_families (family VARCHAR PRIMARY KEY, label VARCHAR NOT NULL,
    ord INTEGER NOT NULL);
CREATE OR REPLACE TABLE ref_sectors (sector VARCHAR PRIMARY KEY, label VARCHAR NOT NULL,
    ord INTEGER NOT NULL);
CREATE OR REPLACE TABLE ref_naf_divisions (division VARCHAR PRIMARY KEY,
    sector VARCHAR NOT NULL);
CREATE OR REPLACE TABLE ref_categories_juridiques (code VARCHAR PRIMARY KEY,
    family VARCHAR NOT NULL);
CREATE OR REPLACE TABLE ref_effectifs (band VARCHAR PRIMARY KEY, label VARCHAR NOT NULL,
    jobs_estimate DOUBLE NOT NULL, employer BOOLEAN NOT NULL);
CREATE OR REPLACE TABLE ref_excluded_naf (code VARCHAR PRIMARY KEY);
"""
_REF_TABLES = (
    "ref_families",
    "ref_sectors",
    "ref_naf_divisions",
    "ref_categories_juridiques",
    "ref_effectifs",
    "ref_excluded_naf",
)


def _rows() -> dict[str, list[tuple]]:
    # Every NAF rev. 2 division 01–99 gets a row, so a join always finds a sector for a
    # NAF-shaped code; divisions not grouped go to autres_services.
    divisions = [
        (f"{d:02d}", _DIVISION_SECTOR.get(f"{d:02d}", "autres_services")) for d in range(1, 100)
    ]
    return {
        "ref_families": [(k, v, i) for i, (k, v) in enumerate(FAMILIES.items(), 1)],
        "ref_sectors": [(s.key, s.label, i) for i, s in enumerate(SECTORS, 1)],
        "ref_naf_divisions": divisions,
        "ref_categories_juridiques": sorted(CATEGORIES_JURIDIQUES.items()),
        "ref_effectifs": [
            (code, label, est, code not in _NON_EMPLOYER_BANDS)
            for code, (label, est) in EFFECTIF_BANDS.items()
        ],
        "ref_excluded_naf": [(c,) for c in EXCLUDED_NAF_CODES],
    }


def _fingerprint(rows: dict[str, list[tuple]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def register(
    con: duckdb.DuckDBPyConnection, *, force: bool = False, temporary: bool = False
) -> bool:
    """(Re)create the ``ref_*`` tables from the mappings above.

    Skips the rewrite when the tables already hold this version of the mappings (recorded in
    ``meta`` under ``nomenclatures``), so calling it before every import does not change the
    database file. Returns True when the tables were (re)written.

    ``temporary=True`` creates them as TEMP tables of this connection (they shadow the stored
    ones): the importers classify with them without writing to the database file before their
    final transaction.
    """
    rows = _rows()
    fingerprint = _fingerprint(rows)
    has_meta = not temporary and bool(
        con.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'meta' "
            "AND table_catalog = current_database()"
        ).fetchall()
    )
    if not force and has_meta:
        present = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE list_contains(?, table_name) AND table_catalog = current_database()",
            [list(_REF_TABLES)],
        ).fetchall()[0][0]
        current = con.execute("SELECT value FROM meta WHERE key = 'nomenclatures'").fetchall()
        if present == len(_REF_TABLES) and current and current[0][0] == fingerprint:
            return False
    ddl = (
        _REF_DDL.replace("CREATE OR REPLACE TABLE", "CREATE OR REPLACE TEMP TABLE")
        if temporary
        else _REF_DDL
    )
    for statement in ddl.split(";"):
        if statement.strip():
            con.execute(statement)
    for table, data in rows.items():
        # One statement per table: executemany runs one statement per row, which costs tenths
        # of a second on a connection that holds large staged tables (during an import).
        row = "(" + ", ".join("?" for _ in data[0]) + ")"
        values = ", ".join(row for _ in data)
        params = [value for item in data for value in item]
        con.execute(f"INSERT INTO {table} VALUES {values}", params)  # noqa: S608
    if has_meta:
        con.execute("INSERT OR REPLACE INTO meta VALUES ('nomenclatures', ?)", [fingerprint])
    return True
