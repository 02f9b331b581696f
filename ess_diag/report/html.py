"""The synthesis as one self-contained HTML page: inline CSS and SVG, no script, no outside
resource, so it opens anywhere, offline. Everything a participant wrote is escaped."""

from __future__ import annotations

from ..formatting import NOT_AVAILABLE, escape, fmt_int
from .content import (
    BAR_COLOUR,
    Bars,
    CategoryBlock,
    FollowUp,
    KeyFigures,
    MapData,
    Priority,
    SynthesisReport,
)

__all__ = ["render"]

#: The SVG map's box (user units; the page scales it to its width).
MAP_WIDTH, MAP_HEIGHT = 640.0, 440.0
NO_SPOT = "Aucune contribution n'est rattachée à une commune."

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 color:#1b1b1b;max-width:960px;margin:2rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.8rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1f6f8b;padding-bottom:.2rem;
 margin-top:2rem}h3{margin-bottom:.3rem}.sub{color:#555;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #ccc;border-radius:8px;
 padding:.6rem .9rem;min-width:180px;flex:1}.card .v{font-size:1.6rem;font-weight:700}
.card .l{color:#444}.card .n{color:#777;font-size:.8rem}
ol.contribs{padding-left:1.4rem}ol.contribs li{margin:.35rem 0}.votes{font-weight:700;
 white-space:nowrap}.meta{color:#666;font-size:.85rem}.note{color:#666;font-size:.85rem}
.cat{border-left:6px solid var(--c);padding-left:.8rem;margin:1.2rem 0}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;
 text-align:left}td.n{text-align:right}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.cat{break-inside:avoid}}
"""


def _note(text: str) -> str:
    """A grey note; ``text`` is escaped (figures' reasons and sources come from data)."""
    return f'<p class="note">{escape(text)}</p>'


def _fixed_note(text: str) -> str:
    """A grey note of ours (no markup in it): written as is, apostrophes included."""
    return f'<p class="note">{text}</p>'


def _svg_bars(bars: Bars) -> str:
    """One horizontal bar chart (labels left, values right of each bar)."""
    if not bars.pairs:
        return _note(f"{bars.title} : {NOT_AVAILABLE}.")
    row_h, label_w, bar_w = 26, 290, 360
    height = row_h * len(bars.pairs) + 10
    top = max(v for _, v in bars.pairs) or 1
    title = escape(bars.title)
    parts = [
        f'<svg role="img" aria-label="{title}" width="100%" viewBox="0 0 '
        f'{label_w + bar_w + 90} {height}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="13"><title>{title}</title>'
    ]
    for i, (label, value) in enumerate(bars.pairs):
        y = 5 + i * row_h
        w = bar_w * value / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{BAR_COLOUR}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{escape(fmt_int(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_map(map_data: MapData) -> str:
    """The territory's communes and a circle per commune cited, then the counts as a table."""
    if not map_data.drawable:
        return _fixed_note(NO_SPOT)
    rings, circles = map_data.project(MAP_WIDTH, MAP_HEIGHT)
    parts = [
        f'<svg role="img" aria-label="Carte de l\'atelier" width="100%" viewBox="0 0 '
        f'{MAP_WIDTH:.0f} {MAP_HEIGHT:.0f}" style="max-width:760px" '
        'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">'
    ]
    for ring in rings:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring)
        parts.append(
            f'<polygon points="{path}" fill="#f3f1ea" stroke="#9a9a9a" stroke-width=".6"/>'
        )
    for x, y, spot in circles:
        texts = " | ".join(escape(t) for t in spot.texts)
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{spot.radius * 3:.1f}" fill="#c62828" '
            f'fill-opacity=".7" stroke="#fff"><title>{escape(spot.name)} : '
            f"{escape(fmt_int(spot.contributions))} contribution(s) — {texts}</title></circle>"
        )
    parts.append("</svg>")
    # Names in a table rather than on the map: labels of neighbouring communes would overlap.
    parts.append("<table><tr><th>Commune</th><th>Contributions</th></tr>")
    for spot in map_data.spots:
        parts.append(
            f"<tr><td>{escape(spot.name)}</td>"
            f'<td class="n">{escape(fmt_int(spot.contributions))}</td></tr>'
        )
    parts.append("</table>")
    return "".join(parts)


def _figures(figures: KeyFigures) -> list[str]:
    if figures.unavailable:
        return [_note(figures.unavailable)]
    out = [_note(f"Année {figures.year}.")] if figures.year else []
    out.append('<div class="cards">')
    for label, value, note in figures.cards:
        out.append(
            f'<div class="card"><div class="v">{escape(value)}</div>'
            f'<div class="l">{escape(label)}</div>'
            + (f'<div class="n">{escape(note)}</div>' if note else "")
            + "</div>"
        )
    out.append("</div>")
    if figures.source_note:
        out.append(_note(figures.source_note))
    for bars in figures.bars:
        out.append(f"<h3>{escape(bars.title)}</h3>")
        out.append(_svg_bars(bars))
    return out


def _priorities(priorities: list[Priority]) -> list[str]:
    if not priorities:
        return [_fixed_note("Aucun vote.")]
    out = ["<table><tr><th>Rang</th><th>Contribution</th><th>Catégorie</th><th>Votes</th></tr>"]
    for p in priorities:
        out.append(
            f'<tr><td class="n">{p.rank}</td><td>{escape(p.text)}</td>'
            f'<td>{escape(p.category_label)}</td><td class="n">{fmt_int(p.votes)}</td></tr>'
        )
    out.append("</table>")
    return out


def _follow_up(items: list[FollowUp]) -> list[str]:
    """« Suites données »: shown only once a plan holds actions decided from this workshop."""
    if not items:
        return []
    out = ["<h2>Suites données</h2>", '<ol class="contribs">']
    for item in items:
        out.append(
            f"<li>{escape(item.summary)}"
            + (
                f'<br><span class="meta">{escape(item.indicator_line)}</span>'
                if item.indicator_line
                else ""
            )
            + "</li>"
        )
    out.append("</ol>")
    return out


def _category(block: CategoryBlock) -> list[str]:
    out = [
        f'<section class="cat" style="--c:{block.colour}">'
        f"<h3>{escape(block.label)} ({fmt_int(len(block.items))})</h3>"
    ]
    if not block.items:
        out.append(_fixed_note("Aucune contribution."))
    else:
        out.append('<ol class="contribs">')
        for c in block.items:
            votes = f' <span class="votes">— {escape(c.votes_label)}</span>'
            out.append(
                f"<li>{escape(c.text)}"
                + (votes if block.votable else "")
                + (f'<br><span class="meta">{escape(c.meta)}</span>' if c.meta else "")
                + "</li>"
            )
        out.append("</ol>")
    out.append("</section>")
    return out


def render(synthesis: SynthesisReport) -> str:
    """The HTML page of a :class:`~ess_diag.report.content.SynthesisReport`."""
    title = escape(synthesis.title)
    out = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Synthèse — {title}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Synthèse de l'atelier : {title}</h1>",
        f'<p class="sub">{escape(synthesis.session_line)}</p>',
        f"<p>{escape(synthesis.stats_line)}</p>",
        "<h2>Chiffres clés du territoire</h2>",
        *_figures(synthesis.figures),
        "<h2>Carte de l'atelier</h2>",
        _svg_map(synthesis.map),
        "<h2>Priorités votées</h2>",
        *_priorities(synthesis.priorities),
        *_follow_up(synthesis.follow_up),
        "<h2>Contributions</h2>",
    ]
    for block in synthesis.categories:
        out.extend(_category(block))
    out.append(f"{_note(synthesis.footer)}</body></html>")
    return "\n".join(out)
