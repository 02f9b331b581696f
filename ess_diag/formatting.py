"""French number, percentage and date formats for everything a user reads.

>>> fmt_int(1234567)
'1\u202f234\u202f567'
>>> fmt_pct(0.1234)
'12,3\u202f%'
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re

__all__ = [
    "NBSP",
    "fmt_int",
    "fmt_num",
    "fmt_pct",
    "fmt_points",
    "fmt_signed_pct",
    "is_missing",
    "fmt_date",
    "escape",
    "escape_markdown",
    "NOT_AVAILABLE",
    "MONTHS",
]

#: Narrow no-break space, the French thousands separator (and before % and units).
NBSP = "\u202f"
#: What a figure that cannot be computed shows.
NOT_AVAILABLE = "n.d."

#: French month names (dates written out; plotly's French locale).
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def is_missing(value) -> bool:
    """``None``, NaN, ``pd.NA`` or ``NaT``: a figure that is not there.

    >>> is_missing(None), is_missing(float("nan")), is_missing(0)
    (True, True, False)
    """
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN is the one value unequal to itself
    except (TypeError, ValueError):
        # pd.NA refuses a truth value; anything else that cannot compare is a value.
        return type(value).__name__ in ("NAType", "NaTType")


_missing = is_missing


def fmt_num(value, decimals: int = 1) -> str:
    """``1234.56`` → ``'1 234,6'`` (narrow no-break spaces, decimal comma)."""
    if _missing(value):
        return NOT_AVAILABLE
    text = f"{float(value):,.{decimals}f}"
    text = text.replace(",", "\x00").replace(".", ",").replace("\x00", NBSP)
    if text.startswith("-") and float(text.replace(NBSP, "").replace(",", ".")) == 0:
        text = text[1:]
    return text


def fmt_int(value) -> str:
    """``1234`` → ``'1 234'``; rounds half away from zero."""
    if _missing(value):
        return NOT_AVAILABLE
    rounded = math.floor(abs(float(value)) + 0.5) * (1 if float(value) >= 0 else -1)
    return fmt_num(rounded, 0)


def fmt_pct(share, decimals: int = 1) -> str:
    """A share between 0 and 1 → ``'12,3 %'``."""
    if _missing(share):
        return NOT_AVAILABLE
    return f"{fmt_num(float(share) * 100, decimals)}{NBSP}%"


def fmt_points(diff, decimals: int = 1) -> str:
    """A difference of two shares → ``'+2,0 points'``."""
    if _missing(diff):
        return NOT_AVAILABLE
    value = float(diff) * 100
    sign = "+" if value > 0 else ""
    unit = "point" if abs(round(value, decimals)) < 2 else "points"
    return f"{sign}{fmt_num(value, decimals)} {unit}"


def fmt_signed_pct(share, decimals: int = 1) -> str:
    """A change as a signed percentage: ``0.052`` → ``'+5,2 %'``, ``-0.03`` → ``'−3,0 %'``.

    A change that rounds to zero is written ``'0,0 %'``, with no sign.

    >>> fmt_signed_pct(0.052), fmt_signed_pct(-0.03), fmt_signed_pct(0.00001)
    ('+5,2\u202f%', '−3,0\u202f%', '0,0\u202f%')
    """
    if _missing(share):
        return NOT_AVAILABLE
    text = fmt_pct(share, decimals)
    if text.startswith("-"):
        return "−" + text[1:]
    if float(share) > 0 and any(c not in "0,\u202f%" for c in text):
        return "+" + text
    return text


def fmt_date(value: dt.date | dt.datetime | str | None) -> str:
    """``2026-11-23`` → ``'23 novembre 2026'``."""
    if value is None or value == "":
        return NOT_AVAILABLE
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


# What can make Markdown load or run something, or change the structure around the text:
# images and links (!, [, ]), LaTeX ($), code (`), emphasis (*), tables (|), strikethrough
# (~), headings (#), escapes (\). Intraword _ and plain punctuation stay as they are.
_AUTOLINK = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*:|www\.)")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]!|~#$])")


def escape_markdown(text) -> str:
    """Text shown through Streamlit's Markdown (``st.markdown``, ``st.error``, ``st.caption``…)
    exactly as written: HTML escaped, then the Markdown, LaTeX (``$``) and directive
    (``:red[…]``) characters backslash-escaped — ``![](http://…)`` in a file name or a quoted
    value shows as those characters and loads nothing.

    >>> print(escape_markdown("![x](a.png) *gras* <b>"))
    \\!\\[x\\](a.png) \\*gras\\* &lt;b&gt;
    """
    # Quotes stay as written: Markdown gives them no meaning, and the entity ``&#x27;`` would
    # have its ``#`` escaped below and show as typed (« l&\#x27;Ain »).
    text = "" if text is None else html.escape(str(text), quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # Bare addresses would become links (GitHub-flavoured autolinks): break their pattern with
    # escapes that do not show (``http\://``, ``www\.``).
    return _AUTOLINK.sub(lambda m: m.group(0)[:-1] + "\\" + m.group(0)[-1], text)


def escape(text) -> str:
    """Escape anything a user or a file wrote before it reaches HTML (tooltips, markdown)."""
    if text is None:
        return ""
    return html.escape(str(text), quote=True)
