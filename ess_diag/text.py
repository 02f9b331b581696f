"""Text that users or files wrote: cleaned at the door, neutralised on the way out.

- :func:`clean` removes control and format characters (Unicode categories Cc and Cf, except tab
  and newline), normalises line ends and bounds the length. Every piece of text a user types or a
  file carries (contributions, names, titles, places, actor fields, file names, quoted values)
  goes through it before it is stored or shown.
- :func:`neutralize_cell` makes a value safe to write into a CSV or XLSX cell that a spreadsheet
  will open (OWASP "CSV injection"): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is prefixed with an apostrophe, so it is shown as text and never evaluated.
  Numbers stay numbers.

>>> clean("Atelier\\x01 du 12\\u200b mai\\r\\n", 100)
'Atelier du 12 mai'
>>> neutralize_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralize_cell(-3), neutralize_cell("Café")
(-3, 'Café')
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["clean", "neutralize_cell", "neutralize_frame", "FORMULA_PREFIXES"]

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection guidance).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_KEPT_CONTROLS = {"\t", "\n"}


def clean(value: Any, max_length: int, *, multiline: bool = True) -> str:
    """Text without control/format characters, trimmed, at most ``max_length`` characters.

    ``None`` gives ``""``. With ``multiline=False`` line breaks and tabs become spaces.
    """
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for char in text:
        if char in _KEPT_CONTROLS:
            kept.append(char if multiline else " ")
        elif unicodedata.category(char) in ("Cc", "Cf"):
            continue
        else:
            kept.append(char)
    return "".join(kept).strip()[:max_length].rstrip()


def neutralize_cell(value: Any) -> Any:
    """The value, or for text a spreadsheet would evaluate, the same text prefixed by ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_frame(frame):
    """A copy of a pandas DataFrame with every text cell (and column name) neutralised."""
    from pandas.api.types import is_object_dtype, is_string_dtype

    out = frame.copy()
    for column in out.columns:
        if is_object_dtype(out[column].dtype) or is_string_dtype(out[column].dtype):
            out[column] = out[column].map(neutralize_cell)
    out.columns = [neutralize_cell(c) for c in out.columns]
    return out
