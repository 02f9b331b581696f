"""Key-figure cards ("L'ESS en quelques chiffres") and map legends."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ess_diag import formatting
from ess_diag.formatting import escape

__all__ = [
    "CARD_SPECS",
    "card_texts",
    "key_figure_cards",
    "legend",
    "jobs_source_caption",
    "fiche_html",
]

#: (key in the indicators document, French label, kind): the order of the cards.
#: Labels are short enough for one line in a fifth of a projected page; the help says more.
CARD_SPECS: tuple[tuple[str, str, str], ...] = (
    ("ess_establishments", "Établissements", "count"),
    ("ess_jobs", "Emplois", "count"),
    ("ess_share_private_jobs", "Part de l'emploi privé", "share"),
    ("women_share", "Part des femmes", "share"),
    ("jobs_per_1000_inhabitants", "Emplois / 1 000 hab.", "ratio"),
)
CARD_HELP: dict[str, str] = {
    "ess_establishments": "Établissements employeurs de l'ESS (au moins un salarié).",
    "ess_jobs": "Emplois salariés de l'ESS.",
    "ess_share_private_jobs": "Emplois de l'ESS rapportés à l'ensemble des emplois privés.",
    "women_share": "Part des femmes parmi les salariés de l'ESS.",
    "jobs_per_1000_inhabitants": "Emplois de l'ESS pour 1 000 habitants (population municipale).",
}
_PARENT_NAMES = {"epci": "EPCI", "departement": "Département", "region": "Région"}


def _fmt(value, kind: str) -> str:
    if kind == "share":
        return formatting.fmt_pct(value)
    if kind == "count":
        return formatting.fmt_int(value)
    return formatting.fmt_num(value)


def _parent_label(parent: dict) -> str:
    if parent["level"] == "france":
        return "France"
    return f"{_PARENT_NAMES.get(parent['level'], parent['level'])} {parent['name']}"


def card_texts(doc: dict) -> list[dict]:
    """What each card shows: ``{key, label, value, comparisons, help, reason}`` (plain text;
    ``reason`` says why a value is not available).

    Shares and ratios are compared with the parents' values; counts are put in proportion of
    the parents' totals ("3,2 % du total Département Ain"), which is what a count can be compared with.
    """
    estimate = doc.get("jobs_source") == "estimation_sirene"
    parents = (doc.get("comparisons") or {}).get("parents", [])
    notes = doc.get("notes") or {}
    cards = []
    for key, label, kind in CARD_SPECS:
        value = doc.get(key)
        lines = []
        for parent in parents:
            other = parent.get(key)
            if other is None:
                continue
            if kind == "count":
                if value is None or not other:
                    continue
                lines.append(
                    f"{formatting.fmt_pct(value / other)} du total {_parent_label(parent)}"
                )
            else:
                lines.append(f"{_parent_label(parent)} : {_fmt(other, kind)}")
        shown_label = label
        if estimate and key in ("ess_jobs", "ess_share_private_jobs", "jobs_per_1000_inhabitants"):
            shown_label += " (estimation)"
        cards.append(
            {
                "key": key,
                "label": shown_label,
                "value": _fmt(value, kind),
                "comparisons": lines,
                "help": CARD_HELP[key],
                "reason": notes.get(key) if value is None else None,
            }
        )
    return cards


def key_figure_cards(doc: dict) -> None:
    """The five key-figure cards side by side, each with its comparisons underneath."""
    cards = card_texts(doc)
    cols = st.columns(len(cards))
    for col, card in zip(cols, cards, strict=True):
        with col.container(border=True):
            # No help icon: it would truncate the label in a fifth of the page; the
            # definitions are listed under the cards instead.
            st.metric(card["label"], card["value"])
            for line in card["comparisons"]:
                st.caption(escape(line))
            if card["reason"]:
                st.caption(escape(card["reason"]))
    with st.expander("Définitions de ces chiffres"):
        st.markdown("\n".join(f"- **{escape(c['label'])}** : {escape(c['help'])}" for c in cards))


def legend(title: str, items: Sequence, *, shape: str = "square") -> None:
    """A map legend: colour swatches and French labels (labels escaped: they may hold names)."""
    radius = "50%" if shape == "circle" else "3px"
    rows = "".join(
        f'<div style="display:flex;align-items:center;gap:.5rem;margin:.2rem 0;">'
        f'<span style="display:inline-block;width:1.1rem;height:1.1rem;border-radius:{radius};'
        f'background:{escape(item.color)};border:1px solid #555;flex:none;"></span>'
        f'<span style="font-size:1rem;">{escape(item.label)}</span></div>'
        for item in items
    )
    st.markdown(
        f'<div style="margin-bottom:.8rem;"><div style="font-weight:600;margin-bottom:.3rem;">'
        f"{escape(title)}</div>{rows}</div>",
        unsafe_allow_html=True,
    )


_SOURCE_NAMES = {"demo": "données de démonstration", "sirene": "répertoire SIRENE"}


def jobs_source_caption(doc: dict) -> None:
    """Where the ESS jobs come from, in one line (estimate clearly labelled)."""
    source = doc.get("jobs_source")
    names = ", ".join(_SOURCE_NAMES.get(n, n) for n in doc.get("sources") or [])
    if source == "estimation_sirene":
        st.caption(
            "**Estimation** : emplois estimés à partir des tranches d'effectifs du répertoire "
            "SIRENE (centre de chaque tranche) — pas de statistiques d'emploi importées pour "
            f"cette année. Sources : {escape(names) or 'répertoire des acteurs'}."
        )
    elif source == "statistiques":
        st.caption(f"Emplois issus des statistiques importées ({escape(names)}).")


def fiche_html(fiche: dict[str, str]) -> str:
    """An actor's fiche as an HTML table in which every label and value is escaped text.

    (``st.table`` would read Markdown in a name or comment that a file or a user wrote:
    ``![](http://…)`` would load an outside image.)
    """
    rows = "".join(
        f"<tr><th scope='row' style='text-align:left;padding:.2rem .8rem .2rem 0;"
        f"vertical-align:top'>{escape(label)}</th><td style='padding:.2rem 0'>{escape(value)}</td></tr>"
        for label, value in fiche.items()
    )
    return f"<table class='ess-fiche' style='border-collapse:collapse'>{rows}</table>"
