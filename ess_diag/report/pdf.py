"""The synthesis as an A4 portrait PDF, drawn with fpdf2 (vector bars and map, no browser).

Sections: Chiffres clés, Carte de l'atelier, Priorités votées, Contributions. A Unicode TTF
(DejaVu) is embedded when installed; otherwise the PDF core font Helvetica, whose Latin-1
still covers French accents, with the few other characters mapped.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ..formatting import NOT_AVAILABLE, fmt_int
from .content import BAR_COLOUR, Bars, CategoryBlock, KeyFigures, MapData, SynthesisReport

__all__ = ["render", "FONT_CANDIDATES"]

#: TTF fonts tried in order for the PDF (Debian's fonts-dejavu-core); without one the PDF uses
#: the PDF core font Helvetica, whose Latin-1 still covers French accents.
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
)
#: The map's height on the page, in mm (its width is the text width).
MAP_HEIGHT = 110.0
NO_SPOT = "Aucune contribution n'est rattachée à une commune."

_LATIN1_REPLACEMENTS = {
    "\u202f": " ",
    "\u00a0": " ",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u0153": "oe",
    "\u0152": "OE",
    "\u20ac": "EUR",
}


def _latin1(text: str) -> str:
    # The PDF core fonts only know Latin-1 (enough for é, è, à, ç, ô…): map the rest.
    for src, dst in _LATIN1_REPLACEMENTS.items():
        text = text.replace(src, dst)
    return text.encode("latin-1", "replace").decode("latin-1")


def _rgb(colour: str) -> tuple[int, int, int]:
    """``'#1f6f8b'`` → ``(31, 111, 139)``."""
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


class _Writer:
    """An A4 document with the font chosen once and the few text blocks the synthesis uses."""

    def __init__(self, title: str, font_candidates: tuple[Path, ...]):
        self.pdf = pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(True, margin=15)
        pdf.set_margins(15, 15, 15)
        self.family, unicode_ok = self._register_font(font_candidates)
        self.clean = (lambda t: str(t)) if unicode_ok else (lambda t: _latin1(str(t)))
        pdf.set_title(self.clean(f"Synthèse — {title}"))
        pdf.set_creator("ESS Diag")
        self.width = pdf.w - pdf.l_margin - pdf.r_margin
        pdf.footer = lambda: self._footer(title)  # type: ignore[method-assign]
        pdf.add_page()

    def _register_font(self, candidates: tuple[Path, ...]) -> tuple[str, bool]:
        """Register a Unicode TTF when one is installed: ``(family, unicode_ok)``."""
        for path in candidates:
            bold = path.with_name(path.stem + "-Bold.ttf")
            if path.exists():
                self.pdf.add_font("ESSDiag", "", str(path))
                self.pdf.add_font("ESSDiag", "B", str(bold if bold.exists() else path))
                return "ESSDiag", True
        return "Helvetica", False

    def _footer(self, title: str) -> None:
        pdf = self.pdf
        pdf.set_y(-12)
        pdf.set_font(self.family, "", 8)
        pdf.set_text_color(120)
        pdf.cell(0, 5, self.clean(f"{title} — page {pdf.page_no()}"), align="C")
        pdf.set_text_color(0)

    def para(
        self,
        text: str,
        size: float = 10,
        style: str = "",
        h: float = 5,
        colour: int = 0,
        align: str = "J",
    ):
        pdf = self.pdf
        pdf.set_font(self.family, style, size)
        pdf.set_text_color(colour)
        pdf.multi_cell(
            self.width, h, self.clean(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.set_text_color(0)

    def heading(self, text: str, need: float = 30) -> None:
        """A section title with a rule, kept with what follows it (``need`` mm)."""
        pdf = self.pdf
        if pdf.will_page_break(need):
            pdf.add_page()
        pdf.ln(4)
        self.para(text, 15, "B", 8, align="L")  # a wrapped title is not stretched
        pdf.set_draw_color(*_rgb(BAR_COLOUR))
        pdf.set_line_width(0.6)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + self.width, pdf.get_y())
        pdf.ln(3)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


def _card(w: _Writer, x0: float, y0: float, width: float, card: tuple[str, str, str]) -> None:
    label, value, note = card
    pdf = w.pdf
    pdf.set_draw_color(190)
    pdf.set_line_width(0.3)
    pdf.rect(x0, y0, width, 20)
    pdf.set_xy(x0 + 3, y0 + 2)
    pdf.set_font(w.family, "B", 15)
    pdf.cell(width - 6, 8, w.clean(value))
    pdf.set_xy(x0 + 3, y0 + 10)
    pdf.set_font(w.family, "", 9)
    pdf.cell(width - 6, 4.5, w.clean(label))
    if note:
        pdf.set_xy(x0 + 3, y0 + 14.5)
        pdf.set_font(w.family, "", 7)
        pdf.set_text_color(110)
        pdf.cell(width - 6, 4, w.clean(note))
        pdf.set_text_color(0)


def _cards(w: _Writer, cards: list[tuple[str, str, str]]) -> None:
    """The figure cards, two per row."""
    pdf = w.pdf
    card_w = (w.width - 6) / 2
    for start in range(0, len(cards), 2):
        if pdf.will_page_break(22):
            pdf.add_page()
        y0 = pdf.get_y()
        for i, card in enumerate(cards[start : start + 2]):
            _card(w, pdf.l_margin + i * (card_w + 6), y0, card_w, card)
        pdf.set_xy(pdf.l_margin, y0 + 23)


def _fit(w: _Writer, text: str, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm in the current font."""
    if w.pdf.get_string_width(text) <= width:
        return text
    while w.pdf.get_string_width(text + "...") > width and len(text) > 4:
        text = text[:-1]
    return text.rstrip() + "..."


def _bars(w: _Writer, bars: Bars) -> None:
    """One horizontal bar chart (labels right-aligned left of the bars, values after them)."""
    pdf = w.pdf
    pdf.ln(2)
    w.para(bars.title, 11, "B", 6)
    if not bars.pairs:
        w.para(f"{NOT_AVAILABLE}.", 9)
        return
    label_w, row_h = 70.0, 6.0
    bar_max = w.width - label_w - 25
    top = max(v for _, v in bars.pairs) or 1
    pdf.set_fill_color(*_rgb(BAR_COLOUR))
    for label, value in bars.pairs:
        if pdf.will_page_break(row_h):
            pdf.add_page()
        y = pdf.get_y()
        pdf.set_font(w.family, "", 8.5)
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_w - 2, row_h, _fit(w, w.clean(label), label_w - 2), align="R")
        bar = max(bar_max * value / top, 0.3)
        pdf.rect(pdf.l_margin + label_w, y + 1, bar, row_h - 2, style="F")
        pdf.set_xy(pdf.l_margin + label_w + bar + 1.5, y)
        pdf.cell(20, row_h, w.clean(fmt_int(value)))
        pdf.set_xy(pdf.l_margin, y + row_h)


def _figures(w: _Writer, figures: KeyFigures) -> None:
    w.heading("Chiffres clés du territoire")
    if figures.unavailable:
        w.para(figures.unavailable, 9, "", 5, 100)
        return
    if figures.year:
        w.para(f"Année {figures.year}", 9, "", 5, 100)
    _cards(w, figures.cards)
    if figures.source_note:
        w.para(figures.source_note, 8, "", 4, 110)
    for bars in figures.bars:
        _bars(w, bars)


def _map(w: _Writer, map_data: MapData) -> None:
    """Commune outlines, a red circle per commune cited, names of the eight most cited."""
    w.heading("Carte de l'atelier", need=MAP_HEIGHT + 35 if map_data.drawable else 30)
    if not map_data.drawable:
        w.para(NO_SPOT, 9)
        return
    pdf = w.pdf
    if pdf.will_page_break(MAP_HEIGHT + 20):
        pdf.add_page()
    rings, circles = map_data.project(w.width, MAP_HEIGHT)
    x0, y0 = pdf.l_margin, pdf.get_y()
    pdf.set_draw_color(150)
    pdf.set_fill_color(243, 241, 234)
    pdf.set_line_width(0.15)
    for ring in rings:
        if len(ring) >= 3:
            pdf.polygon([(x0 + x, y0 + y) for x, y in ring], style="DF")
    pdf.set_fill_color(198, 40, 40)
    for x, y, spot in circles:
        pdf.circle(x0 + x, y0 + y, spot.radius, style="F")
    pdf.set_font(w.family, "", 7)
    for x, y, spot in circles[:8]:
        label = w.clean(f"{spot.name} ({fmt_int(spot.contributions)})")
        pdf.text(x0 + x - pdf.get_string_width(label) / 2, y0 + y - spot.radius - 1, label)
    pdf.set_xy(pdf.l_margin, y0 + MAP_HEIGHT + 2)
    w.para(
        "Cercles proportionnels au nombre de contributions rattachées à chaque commune.",
        8,
        "",
        4,
        100,
    )


def _category(w: _Writer, block: CategoryBlock) -> None:
    pdf = w.pdf
    if pdf.will_page_break(20):
        pdf.add_page()
    pdf.ln(1)
    pdf.set_fill_color(*_rgb(block.colour))
    pdf.rect(pdf.l_margin, pdf.get_y() + 1, 2, 5, style="F")
    pdf.set_x(pdf.l_margin + 4)
    pdf.set_font(w.family, "B", 12)
    title = w.clean(f"{block.label} ({fmt_int(len(block.items))})")
    pdf.cell(0, 7, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if not block.items:
        w.para("Aucune contribution.", 9, "", 5, 110)
    for c in block.items:
        votes = f" — {c.votes_label}" if block.votable else ""
        w.para(f"• {c.text}{votes}", 10, "", 5)
        if c.meta:
            w.para(f"   {c.meta}", 8, "", 4, 110)


def render(synthesis: SynthesisReport, font_candidates: tuple[Path, ...] | None = None) -> bytes:
    """The PDF of a :class:`~ess_diag.report.content.SynthesisReport`."""
    w = _Writer(synthesis.title, FONT_CANDIDATES if font_candidates is None else font_candidates)
    w.para(f"Synthèse de l'atelier : {synthesis.title}", 20, "B", 10)
    w.para(synthesis.session_line, 11, "", 6, 80)
    w.para(synthesis.stats_line, 11)
    _figures(w, synthesis.figures)
    _map(w, synthesis.map)
    w.heading("Priorités votées")
    if not synthesis.priorities:
        w.para("Aucun vote.", 10, "", 5, 100)
    for p in synthesis.priorities:
        w.para(f"{p.rank}. {p.text} — {p.votes_label} ({p.category_label})", 10)
    if synthesis.follow_up:
        w.heading("Suites données")
        for item in synthesis.follow_up:
            w.para(item.line, 10)
            if item.indicator_line:
                w.para(f"   {item.indicator_line}", 8, "", 4, 110)
    w.heading("Contributions")
    for block in synthesis.categories:
        _category(w, block)
    w.pdf.ln(4)
    w.para(synthesis.footer, 8, "", 4, 120)
    return w.output()
