"""Cooperations: the networks (PTCE, groupements momentanés d'entreprises, réseaux…) that actors
declare in the actor template's « Réseaux » column, and who their members are in a territory.

A **cooperation** of a territory is a network with at least :data:`MIN_MEMBERS` active members
located in the territory (their establishment's commune). The count is **not additive**: a
network counts once in every territory that holds at least two of its members, so a network with
one member in each of two communes counts 0 in each commune and 1 in their EPCI, and a network
with members in two EPCI counts once in each EPCI and once in their département. The members
involved are the distinct active actors of the territory belonging to at least one of those
networks (an actor in two networks counts once). Actors outside the ESS count too: a PTCE
associates companies and local authorities with ESS structures.

Network names are compared without case and with runs of blanks collapsed (« PTCE  Bocage » and
« ptce bocage » are one network); the spelling shown is the first in alphabetical order.

>>> import ess_diag.store as store
>>> con = store.connect(":memory:")
>>> cooperation_counts(con, "commune", "01001")["networks"] is None  # nothing declared
True
"""

from __future__ import annotations

import duckdb
import pandas as pd

__all__ = [
    "MIN_MEMBERS",
    "PARTIAL",
    "MEMBER_COLUMNS",
    "NOT_DECLARED",
    "network_members",
    "cooperation_counts",
]

#: A network is a cooperation of a territory when at least this many of its members are there.
MIN_MEMBERS = 2
#: What a partial-diffusion member shows instead of its name (as on the Acteurs page).
PARTIAL = "diffusion partielle"

#: Columns of :func:`network_members`.
MEMBER_COLUMNS = [
    "network",
    "network_key",
    "members",
    "actor_id",
    "name",
    "commune_code",
    "commune_name",
    "family",
    "lon",
    "lat",
]

# One row per (network, actor) of the territory; networks with fewer than $min members there are
# left out. Coordinates: the actor's own, else its commune's point (NULL when neither is known).
_MEMBERS_SQL = """
WITH declared AS (
    SELECT actor_id, commune_code, trim(regexp_replace(n, '\\s+', ' ', 'g')) AS network
    FROM (SELECT actor_id, commune_code, unnest(networks) AS n
          FROM actors WHERE active AND networks IS NOT NULL)
),
local AS (
    SELECT DISTINCT d.actor_id, d.network, lower(d.network) AS network_key
    FROM declared d
    JOIN territory_communes tc ON tc.commune_code = d.commune_code
    WHERE tc.level = $level AND tc.code = $code AND d.network <> ''
),
networks AS (
    SELECT network_key, min(network) AS network, count(DISTINCT actor_id) AS members
    FROM local GROUP BY network_key HAVING count(DISTINCT actor_id) >= $min
)
SELECT DISTINCT n.network, n.network_key, n.members, a.actor_id,
       CASE WHEN a.partial_diffusion OR coalesce(u.partial_diffusion, false) THEN $partial
            ELSE coalesce(a.name, u.denomination, '(sans nom)') END AS name,
       a.commune_code, c.name AS commune_name, a.family,
       coalesce(a.lon, c.lon) AS lon, coalesce(a.lat, c.lat) AS lat
FROM networks n
JOIN local l ON l.network_key = n.network_key
JOIN actors a ON a.actor_id = l.actor_id
LEFT JOIN territories c ON c.level = 'commune' AND c.code = a.commune_code
LEFT JOIN unites_legales u ON u.siren = a.siren
ORDER BY n.members DESC, n.network_key, name, a.actor_id
"""


def network_members(con: duckdb.DuckDBPyConnection, level: str, code: str) -> pd.DataFrame:
    """The members located in (level, code) of every network that is a cooperation there.

    One row per (network, member), columns :data:`MEMBER_COLUMNS`: ``members`` is the network's
    member count in the territory; ``name`` follows the partial-diffusion rule; ``lon``/``lat``
    are the actor's coordinates or, failing them, its commune's point. Largest networks first.
    """
    params = {"level": level, "code": str(code), "min": MIN_MEMBERS, "partial": PARTIAL}
    frame = con.cursor().execute(_MEMBERS_SQL, params).df()
    return frame[MEMBER_COLUMNS]


#: Why the counts are None: the figure cannot be told from zero when nobody declared a network.
NOT_DECLARED = (
    "Aucun acteur actif du territoire n'a déclaré de réseau (colonne « Réseaux » de la liste "
    "d'acteurs) : le nombre de coopérations n'est pas connu."
)

_DECLARED_SQL = """
SELECT count(*) FROM actors a
JOIN territory_communes tc ON tc.commune_code = a.commune_code
WHERE tc.level = ? AND tc.code = ? AND a.active
  AND len(list_filter(a.networks, lambda n: trim(n) <> '')) > 0
"""


def cooperation_counts(con: duckdb.DuckDBPyConnection, level: str, code: str) -> dict:
    """How many cooperations (networks with ≥ :data:`MIN_MEMBERS` members) the territory holds.

    Returns ``{"networks": int, "members": int, "by_network": [{"network": name, "members":
    int}, …], "declaring": int, "note": None}`` — ``members`` counts each actor once even when it
    belongs to several networks; ``by_network`` is largest first, then by name; ``declaring`` is
    the number of active actors of the territory that declared at least one network. When none
    did, ``networks`` and ``members`` are None (not 0) and ``note`` says why.
    """
    declaring = int(con.cursor().execute(_DECLARED_SQL, [level, str(code)]).fetchall()[0][0])
    if not declaring:
        return {
            "networks": None,
            "members": None,
            "by_network": [],
            "declaring": 0,
            "note": NOT_DECLARED,
        }
    frame = network_members(con, level, code)
    by_network = (
        frame.drop_duplicates("network_key")[["network", "members"]]
        .astype({"members": int})
        .to_dict("records")
    )
    return {
        "networks": len(by_network),
        "members": int(frame["actor_id"].nunique()),
        "by_network": by_network,
        "declaring": declaring,
        "note": None,
    }
