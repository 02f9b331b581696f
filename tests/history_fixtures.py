"""A hand-made SIRENE stock and history (imported as ``history_fixtures``), and the yearly
counts expected from it, computed by hand in the comments below.

Units: 200000001 association (9220); 200000002 SCOP (5458); 200000003 an association until
30 June 2015, then a SAS (5710, not ESS) — its legal form changes in the unit history only;
200000005 a SARL (5499, not ESS).

Establishments (current stock commune; history periods):

* E1 200000001 00011, 01001: employer from 1 June 2013 (period before: not employer) → 2013–2022;
* E2 200000001 00029, 01002: opens 10 January 2012, closes 1 January 2017 → 2012–2016;
* E3 200000002 00013, 01004: the SCOP's first SIRET, closed 1 October 2014 (moved) → 2008–2013;
* E4 200000002 00021, 01005: the SCOP's new SIRET after the move, from 1 October 2014 → 2014–2022;
* E5 200000003 00017, 69123: employer since 2011; ESS while the unit is an association →
  2011–2014 with the unit history, never without it (the current unit is a SAS);
* E6 200000001 00037, 01001: NAF1993 until 2007 (outside the series), enseignement 2008 → June
  2018, then sport → enseignement 2008–2017, sport_loisirs 2018–2022;
* E7 200000005 00019, 01004: not ESS; its last period starts 1 March 2023: the file's latest
  date, so the last full year is 2022;
* E8 200000001 00045: ESS employer 2009–2010 but absent from the stock: set aside, listed;
* two bad rows: a SIRET of 4 digits, a date « 2015-13-01 ».

The series runs from 2008 (the earliest date is 2005) to 2022.
"""

from __future__ import annotations

from pathlib import Path

UL_STOCK = """siren,categorieJuridiqueUniteLegale,economieSocialeSolidaireUniteLegale,denominationUniteLegale,activitePrincipaleUniteLegale
200000001,9220,O,ASSO DU BOCAGE,88.10A
200000002,5458,O,SCOP DU BUGEY,43.32A
200000003,5710,N,SAS EX ASSO,88.91A
200000005,5499,N,SUPERETTE,47.11C
"""

ETAB_STOCK = """siret,siren,codeCommuneEtablissement,activitePrincipaleEtablissement,etatAdministratifEtablissement,trancheEffectifsEtablissement
20000000100011,200000001,01001,88.10A,A,11
20000000100029,200000001,01002,88.10A,F,NN
20000000200013,200000002,01004,43.32A,F,NN
20000000200021,200000002,01005,43.32A,A,03
20000000300017,200000003,69123,88.91A,A,02
20000000100037,200000001,01001,93.12Z,A,01
20000000500019,200000005,01004,47.11C,A,01
"""

_ETAB_HEADER = (
    "siren,nic,siret,dateFin,dateDebut,etatAdministratifEtablissement,"
    "changementEtatAdministratifEtablissement,enseigne1Etablissement,enseigne2Etablissement,"
    "enseigne3Etablissement,changementEnseigneEtablissement,denominationUsuelleEtablissement,"
    "changementDenominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,changementActivitePrincipaleEtablissement,"
    "caractereEmployeurEtablissement,changementCaractereEmployeurEtablissement"
)

#: siret, dateFin, dateDebut, state, NAF, nomenclature, employer (INSEE's column order).
ETAB_PERIODS = [
    ("20000000100011", "", "2013-06-01", "A", "88.10A", "NAFRev2", "O"),
    ("20000000100011", "2013-05-31", "2010-03-15", "A", "88.10A", "NAFRev2", "N"),
    ("20000000100029", "", "2017-01-01", "F", "88.10A", "NAFRev2", "O"),
    ("20000000100029", "2016-12-31", "2012-01-10", "A", "88.10A", "NAFRev2", "O"),
    ("20000000200013", "", "2014-10-01", "F", "43.32A", "NAFRev2", "O"),
    ("20000000200013", "2014-09-30", "2008-01-01", "A", "43.32A", "NAFRev2", "O"),
    ("20000000200021", "", "2014-10-01", "A", "43.32A", "NAFRev2", "O"),
    ("20000000300017", "", "2011-01-01", "A", "88.91A", "NAFRev2", "O"),
    ("20000000100037", "", "2018-07-01", "A", "93.12Z", "NAFRev2", "O"),
    ("20000000100037", "2018-06-30", "2008-01-01", "A", "85.59A", "NAFRev2", "O"),
    ("20000000100037", "2007-12-31", "2005-04-01", "A", "80.4D", "NAF1993", "O"),
    ("20000000500019", "", "2023-03-01", "A", "47.11C", "NAFRev2", "O"),
    ("20000000500019", "2023-02-28", "2008-01-01", "A", "47.11B", "NAFRev2", "O"),
    ("20000000100045", "", "2011-01-01", "F", "88.10A", "NAFRev2", "O"),
    ("20000000100045", "2010-12-31", "2009-01-01", "A", "88.10A", "NAFRev2", "O"),
    ("1234", "", "2015-01-01", "A", "88.10A", "NAFRev2", "O"),
    ("20000000100052", "", "2015-13-01", "A", "88.10A", "NAFRev2", "O"),
]

_UL_HEADER = (
    "siren,dateFin,dateDebut,etatAdministratifUniteLegale,changementEtatAdministratifUniteLegale,"
    "nomUniteLegale,changementNomUniteLegale,nomUsageUniteLegale,changementNomUsageUniteLegale,"
    "denominationUniteLegale,changementDenominationUniteLegale,denominationUsuelle1UniteLegale,"
    "denominationUsuelle2UniteLegale,denominationUsuelle3UniteLegale,"
    "changementDenominationUsuelleUniteLegale,categorieJuridiqueUniteLegale,"
    "changementCategorieJuridiqueUniteLegale,activitePrincipaleUniteLegale,"
    "nomenclatureActivitePrincipaleUniteLegale,changementActivitePrincipaleUniteLegale,"
    "nicSiegeUniteLegale,changementNicSiegeUniteLegale,economieSocialeSolidaireUniteLegale,"
    "changementEconomieSocialeSolidaireUniteLegale,societeMissionUniteLegale,"
    "changementSocieteMissionUniteLegale,caractereEmployeurUniteLegale,"
    "changementCaractereEmployeurUniteLegale"
)

#: siren, dateFin, dateDebut, legal form, ESS flag.
UL_PERIODS = [
    ("200000001", "", "2005-01-01", "9220", "O"),
    ("200000002", "", "2000-01-01", "5458", "O"),
    ("200000003", "", "2015-07-01", "5710", "N"),
    ("200000003", "2015-06-30", "2011-01-01", "9220", ""),
    ("200000005", "", "2008-01-01", "5499", "N"),
]

YEARS = list(range(2008, 2023))

#: (commune, family, sector) → years counted, with the unit history.
EXPECTED_WITH_UNITS: dict[tuple[str, str, str], list[int]] = {
    ("01001", "association", "action_sociale_sans_hebergement"): list(range(2013, 2023)),
    ("01002", "association", "action_sociale_sans_hebergement"): list(range(2012, 2017)),
    ("01004", "cooperative", "industrie_construction"): list(range(2008, 2014)),
    ("01005", "cooperative", "industrie_construction"): list(range(2014, 2023)),
    ("69123", "association", "action_sociale_sans_hebergement"): list(range(2011, 2015)),
    ("01001", "association", "enseignement"): list(range(2008, 2018)),
    ("01001", "association", "sport_loisirs"): list(range(2018, 2023)),
}


def expected_rows(with_units: bool = True) -> list[tuple[str, int, str, str, int]]:
    """(commune, year, family, sector, establishments), sorted."""
    rows = [
        (commune, year, family, sector, 1)
        for (commune, family, sector), years in EXPECTED_WITH_UNITS.items()
        for year in years
        if with_units or commune != "69123"
    ]
    return sorted(rows)


def write_files(folder: Path) -> dict[str, Path]:
    """Write the four files; returns their paths by role."""
    paths = {
        "ul": folder / "StockUniteLegale_utf8.csv",
        "etab": folder / "StockEtablissement_utf8.csv",
        "etab_hist": folder / "StockEtablissementHistorique_utf8.csv",
        "ul_hist": folder / "StockUniteLegaleHistorique_utf8.csv",
    }
    paths["ul"].write_text(UL_STOCK, encoding="utf-8")
    paths["etab"].write_text(ETAB_STOCK, encoding="utf-8")
    lines = [_ETAB_HEADER]
    for siret, d1, d0, state, naf, nomenclature, employer in ETAB_PERIODS:
        siren, nic = siret[:9], siret[9:]
        lines.append(
            f"{siren},{nic},{siret},{d1},{d0},{state},false,,,,false,,false,{naf},"
            f"{nomenclature},false,{employer},false"
        )
    paths["etab_hist"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines = [_UL_HEADER]
    for siren, d1, d0, form, flag in UL_PERIODS:
        lines.append(
            f"{siren},{d1},{d0},A,false,,false,,false,,false,,,,false,{form},true,,,false,"
            f"00011,false,{flag},false,,false,O,false"
        )
    paths["ul_hist"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths
