"""The small real-coded fixture geography shared by the tests (imported as ``geo_fixture``).

Kept out of ``conftest.py`` because the name ``conftest`` is ambiguous once ``tests/browser``
has its own conftest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely

from ess_diag import geography

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: Real published files live beside the project, in ../shared/data/real (never copied here).
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"


def _square(lon: float, lat: float, size: float = 0.05):
    return shapely.box(lon, lat, lon + size, lat + size)


#: code, name, population, EPCI, département, région, lower-left corner, side in degrees.
#: Areas follow from the squares (0.05° side ≈ 21 km² at these latitudes; 0.02° ≈ 3.4 km²).
FIXTURE_COMMUNES = [
    ("01001", "L'Abergement-Clémenciat", 800, "200000001", "01", "84", (4.90, 46.10), 0.05),
    ("01002", "L'Abergement-de-Varey", 200, "200000001", "01", "84", (4.95, 46.10), 0.05),
    ("01004", "Ambérieu-en-Bugey", 15000, "200000002", "01", "84", (5.30, 45.95), 0.05),
    ("01005", "Ambérieux-en-Dombes", 2000, "200000002", "01", "84", (5.35, 45.95), 0.02),
    ("69123", "Lyon", 500000, "200046977", "69", "84", (4.80, 45.72), 0.05),
]


def fixture_frames() -> dict[str, pd.DataFrame]:
    """Frames for :func:`geography.build_from_frames` describing the fixture territory."""
    communes = pd.DataFrame(
        {
            "code": [c[0] for c in FIXTURE_COMMUNES],
            "name": [c[1] for c in FIXTURE_COMMUNES],
            "population": [c[2] for c in FIXTURE_COMMUNES],
            "epci_code": [c[3] for c in FIXTURE_COMMUNES],
            "departement_code": [c[4] for c in FIXTURE_COMMUNES],
            "region_code": [c[5] for c in FIXTURE_COMMUNES],
            "geometry": [_square(*c[6], c[7]) for c in FIXTURE_COMMUNES],
        }
    )
    return {
        "communes": communes,
        "epci": pd.DataFrame(
            {
                "code": ["200000001", "200000002", "200046977"],
                "name": ["CC du Bocage", "CA de la Ville", "Métropole de Lyon"],
            }
        ),
        "departements": pd.DataFrame(
            {"code": ["01", "69"], "name": ["Ain", "Rhône"], "region_code": ["84", "84"]}
        ),
        "regions": pd.DataFrame({"code": ["84"], "name": ["Auvergne-Rhône-Alpes"]}),
        "aliases": pd.DataFrame(
            {
                "code": ["01099", "69381"],
                "commune_code": ["01001", "69123"],
                "kind": ["COMD", "ARM"],
                "name": ["Commune déléguée de test", "Lyon 1er Arrondissement"],
            }
        ),
        "arrondissements": pd.DataFrame(
            {"code": ["69381"], "geometry": [_square(4.80, 45.72, 0.01)]}
        ),
    }


def build_fixture_geography(con) -> None:
    geography.build_from_frames(con, **fixture_frames())
