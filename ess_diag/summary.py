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
from .figures import LEVEL_ADJECTIVES
from .formatting import fmt_signed_pct, is_missing

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
    territory = doc.get("territory") or {}
    name = territory.get("name", "ce territoire")
    year = doc.get("year")
    jobs = doc.get("ess_jobs")
    estab = doc.get("ess_establishments")
    if is_missing(jobs) and is_missing(estab):
        return [
            f"Aucune donnée sur l'ESS n'est chargée pour {name} : importez le répertoire SIRENE "
            "ou des statistiques (URSSAF, observatoire)."
        ]
    estimate = doc.get("jobs_source") == "estimation_sirene"
    out: list[str] = []
    jobs_text = formatting.fmt_int(jobs)
    if estimate:
        jobs_text = f"environ {jobs_text}"
    when = f"en {year}, " if year and not estimate else ""
    first = (
        f"{name} : {when}l'ESS compte {formatting.fmt_int(estab)} établissements employeurs "
        f"et {jobs_text} emplois"
    )
    if estimate:
        first += " (estimation à partir des tranches d'effectifs du répertoire SIRENE)"
    out.append(first + ".")

    share = doc.get("ess_share_private_jobs")
    if not is_missing(share):
        sentence = f"Elle pèse {formatting.fmt_pct(share)} de l'emploi privé"
        parents = [
            p
            for p in (doc.get("comparisons") or {}).get("parents", [])
            if not is_missing(p.get("ess_share_private_jobs"))
        ]
        if parents:
            # The nearest parent first, France last when it is not the nearest.
            phrases = [
                compare_phrase(share, parents[0]["ess_share_private_jobs"], parents[0]["level"])
            ]
            if len(parents) > 1 and parents[-1]["level"] == "france":
                phrases.append(
                    compare_phrase(share, parents[-1]["ess_share_private_jobs"], "france")
                )
            sentence += ", " + " et ".join(phrases)
        out.append(sentence + ".")

    fam_rows = [
        r
        for r in (doc.get("by_family") or {}).get("rows", [])
        if not is_missing(r.get("share_jobs"))
    ]
    if fam_rows:
        top = max(fam_rows, key=lambda r: r["share_jobs"])
        if top["share_jobs"] > 0:
            out.append(
                f"Les {_lower_first(top['label'])} portent {formatting.fmt_pct(top['share_jobs'])} "
                "des emplois de l'ESS."
            )

    sec = doc.get("by_sector") or {}
    sec_rows = [r for r in sec.get("rows", []) if not is_missing(r.get("share_jobs"))]
    sec_rows = [r for r in sec_rows if r["share_jobs"] > 0 and r.get("sector") != "non_classe"]
    if sec_rows:
        top = max(sec_rows, key=lambda r: r["share_jobs"])
        sentence = (
            f"Premier secteur : {_lower_first(top['label'])}, avec "
            f"{formatting.fmt_pct(top['share_jobs'])} des emplois de l'ESS"
        )
        lq = top.get("location_quotient")
        ref = (sec.get("reference") or {}).get("name")
        if not is_missing(lq) and ref and lq >= 1.2:
            sentence += (
                f", un poids {formatting.fmt_num(lq, 1)} fois plus fort qu'en moyenne ({ref})"
            )
        out.append(sentence + ".")

    rural = doc.get("rural") or {}
    rshare = rural.get("share_ess_jobs_rural")
    if not is_missing(rshare) and rural.get("rural_communes") and rural.get("urban_communes"):
        out.append(
            f"{formatting.fmt_pct(rshare)} des emplois de l'ESS se trouvent dans des communes "
            "rurales."
        )

    evo = doc.get("evolution") or {}
    change = evo.get("change") or {}
    ess_change = change.get("ess_jobs")
    if not is_missing(ess_change) and evo.get("start_year") != evo.get("end_year"):
        sentence = (
            f"Entre {evo['start_year']} et {evo['end_year']}, les emplois de l'ESS ont évolué de "
            f"{fmt_signed_pct(ess_change)}"
        )
        other = change.get("non_ess_private_jobs")
        if not is_missing(other):
            sentence += f", contre {fmt_signed_pct(other)} pour le reste de l'emploi privé"
        out.append(sentence + ".")

    res = doc.get("resilience") or {}
    top5 = res.get("top5_employers_share")
    if not is_missing(top5) and res.get("employers", 0) > 5:
        out.append(
            f"Les cinq premiers employeurs de l'ESS concentrent {formatting.fmt_pct(top5)} "
            "de ses emplois."
        )
    return out
