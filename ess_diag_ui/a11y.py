"""Accessibility helpers (RGAA / WCAG 2.1 AA, see ``docs/accessibilite.md``).

* :func:`plotly_chart` and :func:`deck_chart` draw a chart or a map **with its text
  alternative**: an ``alt`` sentence on the element, the same sentence under it, and its data in
  an expander « Données du graphique / de la carte » holding a real HTML table (reachable with the
  Tab key, read cell by cell by a screen reader). Every chart and map call site goes through them.
* :func:`french_toolbar` relabels the few English controls Streamlit draws itself (the
  element toolbar's « Fullscreen », the table toolbar's « Download as CSV »…), which Streamlit
  offers no option to translate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import pandas as pd
import streamlit as st

from ess_diag.formatting import escape, fmt_int, fmt_num, fmt_pct, is_missing

__all__ = [
    "MAX_TABLE_ROWS",
    "FRENCH_LABELS",
    "describe",
    "value_column",
    "format_table",
    "data_table",
    "plotly_chart",
    "deck_chart",
    "french_toolbar",
]

#: Above this many rows the data is shown with st.dataframe (scrollable grid, keyboard
#: navigable with the arrow keys) rather than an HTML table.
MAX_TABLE_ROWS = 60

#: Streamlit's own English labels (aria-label and tooltip), and their French.
FRENCH_LABELS: dict[str, str] = {
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Exit fullscreen": "Quitter le plein écran",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Clear selection": "Effacer la sélection",
    "Copy to clipboard": "Copier dans le presse-papiers",
    "Collapse sidebar": "Replier la barre latérale",
    "Expand sidebar": "Déplier la barre latérale",
    "Sidebar": "Barre latérale",
    "Open": "Ouvrir la liste",
    "Close": "Fermer",
    "Clear all": "Tout effacer",
    "Clear value": "Effacer",
    "Link to heading": "Lien vers ce titre",
    "Skip to main content": "Aller au contenu principal",
    "Show password text": "Afficher le mot de passe",
    "Hide password text": "Masquer le mot de passe",
    "Main menu": "Menu principal",
}


def _formatter(column: str, series: pd.Series) -> Callable[[object], str]:
    name = column.lower()
    if name == "année" or name == "annee":
        return lambda v: "" if is_missing(v) else str(int(v))  # type: ignore[call-overload]
    if not pd.api.types.is_numeric_dtype(series):
        return lambda v: "" if is_missing(v) else str(v)
    if name.startswith("part"):
        return fmt_pct
    if "pour 1 000" in name or "km" in name:
        return fmt_num
    if pd.api.types.is_integer_dtype(series) or name.startswith(
        ("emplois", "établissements", "nombre", "population", "habitants")
    ):
        return fmt_int
    return fmt_num


def format_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table written the French way (``1 234``, ``12,3 %``, « non disponible »)."""
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        fmt = _formatter(str(column), table[column])
        out[column] = [fmt(v) for v in table[column]]
    return out


def describe(
    title: str, table: pd.DataFrame, kind: str = "Graphique", value_column: str | None = None
) -> str:
    """A short French sentence of what a chart shows, from the data behind it.

    >>> describe("Emplois par famille", pd.DataFrame({"famille": ["A", "B"], "emplois": [3, 9]}))
    'Graphique : Emplois par famille (2 lignes). Valeur la plus élevée de « emplois » : B (9) ; la plus basse : A (3).'
    """
    n = len(table)
    head = f"{kind} : {title}"
    if n == 0 or table.shape[1] < 2:
        return f"{head}. Aucune donnée."
    label_col = table.columns[0]
    numeric = [
        c for c in table.columns[1:] if pd.api.types.is_numeric_dtype(table[c]) and c != label_col
    ]
    if value_column in numeric:  # the column the chart draws first
        numeric.remove(value_column)
        numeric.insert(0, value_column)
    values = table[numeric[0]].dropna() if numeric else pd.Series(dtype=float)
    lines = f"{fmt_int(n)} ligne{'s' if n > 1 else ''}"
    if values.empty:
        return f"{head} ({lines})."
    fmt = _formatter(str(numeric[0]), table[numeric[0]])
    labels = format_table(table[[label_col]])[label_col]
    if str(label_col).lower() == "année":
        first, last = values.index[0], values.index[-1]
        return (
            f"{head}, de {labels[first]} à {labels[last]}. « {numeric[0]} » : "
            f"{fmt(values[first])} en {labels[first]}, {fmt(values[last])} en {labels[last]}."
        )
    hi, lo = values.idxmax(), values.idxmin()
    return (
        f"{head} ({lines}). Valeur la plus élevée de « {numeric[0]} » : {labels[hi]} "
        f"({fmt(values[hi])}) ; la plus basse : {labels[lo]} ({fmt(values[lo])})."
    )


def value_column(figure, table: pd.DataFrame) -> str | None:
    """The data column a plotly figure draws: the one named like one of its axis titles."""
    titles = []
    for axis in ("xaxis", "yaxis"):
        text = getattr(getattr(getattr(figure.layout, axis, None), "title", None), "text", None)
        if text:
            titles.append(str(text).lower())

    def words(text: str) -> set[str]:
        cleaned = re.sub(r"\b[ldLD]'", " ", text.lower())
        return {w for w in re.findall(r"\w+", cleaned) if len(w) > 2}

    wanted = set().union(*(words(t) for t in titles)) if titles else set()
    best, score = None, 0
    for column in table.columns[1:]:
        if not pd.api.types.is_numeric_dtype(table[column]):
            continue
        name = str(column).lower()
        # A column named like the axis title wins; otherwise the most words in common.
        shared = len(words(name) & wanted) + (10 if any(name.startswith(t) for t in titles) else 0)
        if shared > score:
            best, score = column, shared
    return best


def data_table(table: pd.DataFrame, title: str = "Données du graphique", *, key: str) -> None:
    """The data behind a chart or a map, in a collapsed expander (a real table when short)."""
    with st.expander(title):
        if table.empty:
            st.caption("Aucune donnée.")
        elif len(table) <= MAX_TABLE_ROWS:
            st.table(format_table(table).set_index(table.columns[0]))
        else:
            st.dataframe(format_table(table), hide_index=True, key=f"a11y_table_{key}")


def plotly_chart(
    figure,
    *,
    title: str,
    data: pd.DataFrame,
    key: str,
    config: dict | None = None,
    height: int | Literal["stretch", "content"] = "content",
    description: str | None = None,
    show_description: bool = True,
) -> None:
    """A plotly figure with its text alternative (sentence + data table)."""
    sentence = description or describe(title, data, value_column=value_column(figure, data))
    st.plotly_chart(figure, theme=None, config=config, key=key, height=height, alt=sentence)
    if show_description:
        st.caption(escape(sentence))
    data_table(data, "Données du graphique", key=key)


def deck_chart(
    deck,
    *,
    description: str,
    data: pd.DataFrame,
    key: str,
    height: int = 560,
    show_description: bool = True,
    table_title: str = "Données de la carte",
) -> None:
    """A pydeck map with its text alternative (sentence + data table)."""
    st.pydeck_chart(deck, height=height, key=key, alt=description)
    if show_description:
        st.caption(escape(description))
    data_table(data, table_title, key=key)


_TOOLBAR_SCRIPT = """
<script>
(() => {
  const doc = window.parent ? window.parent.document : document;
  const labels = %s;
  const ATTRS = ['aria-label', 'title', 'data-title'];
  const fix = () => {
    // The document is French (Streamlit writes lang="en"): screen readers pick their voice by it.
    if (doc.documentElement.lang !== 'fr') doc.documentElement.lang = 'fr';
    doc.querySelectorAll('[aria-label],[title],[data-title]').forEach((el) => {
      for (const attr of ATTRS) {
        const v = el.getAttribute(attr);
        if (!v) continue;
        for (const [en, fr] of Object.entries(labels)) {
          if (v === en || v.startsWith(en + ':')) el.setAttribute(attr, fr + v.slice(en.length));
        }
      }
    });
    // Texts Streamlit writes itself: the skip link, the toolbar's tooltips.
    doc.querySelectorAll('a, [data-testid="stTooltipContent"]').forEach((el) => {
      if (el.children.length) return;
      const t = el.textContent.trim();
      if (labels[t]) el.textContent = labels[t];
    });
  };
  if (!doc.__essDiagLabels) {
    doc.__essDiagLabels = new MutationObserver(fix);
    doc.__essDiagLabels.observe(doc.documentElement, {subtree: true, childList: true,
      attributes: true, attributeFilter: ['aria-label', 'title', 'data-title', 'lang']});
  }
  fix();
})();
</script>
"""


def french_toolbar() -> None:
    """Relabel Streamlit's English toolbar controls in French (see :data:`FRENCH_LABELS`)."""
    import json

    st.html(
        _TOOLBAR_SCRIPT % json.dumps(FRENCH_LABELS, ensure_ascii=False),
        unsafe_allow_javascript=True,
    )
