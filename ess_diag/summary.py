"""The short French summary written automatically from the indicators of a territory.

>>> summarize({"territory": {"name": "Ain", "level": "departement"}, "year": 2023,
...            "ess_establishments": None, "ess_jobs": None})[0]
"Aucune donnée sur l'ESS n'est chargée pour Ain : importez le répertoire SIRENE ou des statistiques (URSSAF, observatoire)."

Plain text (no markdown, no HTML): the page escapes it like any other text. Each sentence is
built only from figures the document holds; a figure that is not available is left out rather
than guessed.
"""

from __future__ import annotations

from . import formatting
from .formatting import fmt_signed_pct, is_missing
from .vocabulary import LEVEL_ADJECTIVES

__all__ = ["summarize", "compare_phrase"]

#: Below this gap (in share points), two shares are "au niveau de" each other.
_SAME_LEVEL = 0.0005


def compare_phrase(value: float, reference: float, level: str) -> str:
    """``"2,0 points de plus que la moyenne régionale (14,2 %)"`` for two shares."""
    diff = value - reference
    ref = formatting.fmt_pct(reference)
    where = f"la moyenne {LEVEL_ADJECTIVES.get(level, level)}"
    if abs(diff) < _SAME_LEVEL:
        return f"au niveau de {where} ({ref})"
    points = formatting.fmt_num(abs(diff) * 100, 1)
    unit = "point" if abs(diff) * 100 < 2 else "points"
    more = "de plus" if diff > 0 else "de moins"
    return f"{points} {unit} {more} que {where} ({ref})"


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:]


def summarize(doc: dict) -> list[str]:
    """A few French sentences on what stands out in ``doc`` (``indicators.compute``)."""
    if is_missing(doc.get("ess_jobs")) and is_missing(doc.get("ess_establishments")):
        name = (doc.get("territory") or {}).get("name", "ce territoire")
        return [
            f"Aucune donnée sur l'ESS n'est chargée pour {name} : importez le répertoire SIRENE "
            "ou des statistiques (URSSAF, observatoire)."
        ]
    sentences = (
        _size_sentence(doc),
        _share_sentence(doc),
        _family_sentence(doc),
        _sector_sentence(doc),
        _rural_sentence(doc),
        _evolution_sentence(doc),
        _concentration_sentence(doc),
    )
    return [s for s in sentences if s]


def _size_sentence(doc: dict) -> str:
    """« Ain : en 2023, l'ESS compte 3 761 établissements employeurs et 41 083 emplois. »"""
    name = (doc.get("territory") or {}).get("name", "ce territoire")
    year = doc.get("year")
    estimate = doc.get("jobs_source") == "estimation_sirene"
    jobs_text = formatting.fmt_int(doc.get("ess_jobs"))
    if estimate:
        jobs_text = f"environ {jobs_text}"
    when = f"en {year}, " if year and not estimate else ""
    sentence = (
        f"{name} : {when}l'ESS compte {formatting.fmt_int(doc.get('ess_establishments'))} "
        f"établissements employeurs et {jobs_text} emplois"
    )
    if estimate:
        sentence += " (estimation à partir des tranches d'effectifs du répertoire SIRENE)"
    return sentence + "."


def _share_sentence(doc: dict) -> str | None:
    """The share of private jobs, against the nearest parent and France."""
    share = doc.get("ess_share_private_jobs")
    if share is None or is_missing(share):
        return None
    sentence = f"Elle pèse {formatting.fmt_pct(share)} de l'emploi privé"
    parents = [
        p
        for p in (doc.get("comparisons") or {}).get("parents", [])
        if not is_missing(p.get("ess_share_private_jobs"))
    ]
    if parents:
        # The nearest parent first, France last when it is not the nearest.
        phrases = [compare_phrase(share, parents[0]["ess_share_private_jobs"], parents[0]["level"])]
        if len(parents) > 1 and parents[-1]["level"] == "france":
            phrases.append(compare_phrase(share, parents[-1]["ess_share_private_jobs"], "france"))
        sentence += ", " + " et ".join(phrases)
    return sentence + "."


def _family_sentence(doc: dict) -> str | None:
    """The family with the largest share of ESS jobs."""
    rows = [
        r
        for r in (doc.get("by_family") or {}).get("rows", [])
        if not is_missing(r.get("share_jobs"))
    ]
    if not rows:
        return None
    top = max(rows, key=lambda r: r["share_jobs"])
    if top["share_jobs"] <= 0:
        return None
    return (
        f"Les {_lower_first(top['label'])} portent {formatting.fmt_pct(top['share_jobs'])} "
        "des emplois de l'ESS."
    )


def _sector_sentence(doc: dict) -> str | None:
    """The first sector, and its specialisation when it is marked (index ≥ 1,2)."""
    sec = doc.get("by_sector") or {}
    rows = [r for r in sec.get("rows", []) if not is_missing(r.get("share_jobs"))]
    rows = [r for r in rows if r["share_jobs"] > 0 and r.get("sector") != "non_classe"]
    if not rows:
        return None
    top = max(rows, key=lambda r: r["share_jobs"])
    sentence = (
        f"Premier secteur : {_lower_first(top['label'])}, avec "
        f"{formatting.fmt_pct(top['share_jobs'])} des emplois de l'ESS"
    )
    lq = top.get("location_quotient")
    ref = (sec.get("reference") or {}).get("name")
    if not is_missing(lq) and ref and lq >= 1.2:
        sentence += f", un poids {formatting.fmt_num(lq, 1)} fois plus fort qu'en moyenne ({ref})"
    return sentence + "."


def _rural_sentence(doc: dict) -> str | None:
    """The rural share of ESS jobs, when the territory has both rural and urban communes."""
    rural = doc.get("rural") or {}
    share = rural.get("share_ess_jobs_rural")
    if is_missing(share) or not (rural.get("rural_communes") and rural.get("urban_communes")):
        return None
    return (
        f"{formatting.fmt_pct(share)} des emplois de l'ESS se trouvent dans des communes rurales."
    )


def _evolution_sentence(doc: dict) -> str | None:
    """ESS jobs' change over the period, against the rest of private jobs."""
    evo = doc.get("evolution") or {}
    change = evo.get("change") or {}
    ess_change = change.get("ess_jobs")
    if is_missing(ess_change) or evo.get("start_year") == evo.get("end_year"):
        return None
    sentence = (
        f"Entre {evo['start_year']} et {evo['end_year']}, les emplois de l'ESS ont évolué de "
        f"{fmt_signed_pct(ess_change)}"
    )
    other = change.get("non_ess_private_jobs")
    if not is_missing(other):
        sentence += f", contre {fmt_signed_pct(other)} pour le reste de l'emploi privé"
    return sentence + "."


def _concentration_sentence(doc: dict) -> str | None:
    """The five largest employers' share, when there are more than five."""
    res = doc.get("resilience") or {}
    top5 = res.get("top5_employers_share")
    if is_missing(top5) or res.get("employers", 0) <= 5:
        return None
    return (
        f"Les cinq premiers employeurs de l'ESS concentrent {formatting.fmt_pct(top5)} "
        "de ses emplois."
    )
