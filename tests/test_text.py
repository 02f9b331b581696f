"""Text cleaned at the door and neutralised in exports (ess_diag.text)."""

import pandas as pd
import pytest

from ess_diag import text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bonjour\x01", "Bonjour"),
        ("a\u200bb", "ab"),  # zero-width space (Cf)
        ("ligne 1\r\nligne 2", "ligne 1\nligne 2"),
        ("\u202eabc", "abc"),  # right-to-left override (Cf)
        ("  espaces  ", "espaces"),
        (None, ""),
        ("tab\tici", "tab\tici"),
    ],
)
def test_clean_removes_control_and_format_characters(raw, expected):
    assert text.clean(raw, 100) == expected


def test_clean_bounds_length_and_single_line():
    assert text.clean("x" * 50, 10) == "x" * 10
    assert text.clean("a\nb\tc", 10, multiline=False) == "a b c"


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("http://x","clic")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"]
)
def test_formula_like_text_is_neutralised(value):
    assert text.neutralize_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-1, 2.5, 0, "Café", "", None])
def test_other_values_unchanged(value):
    assert text.neutralize_cell(value) == value


def test_neutralize_frame_keeps_numbers():
    frame = pd.DataFrame({"nom": ["=1+1", "ok"], "emplois": [-3, 4], "=col": ["a", "b"]})
    out = text.neutralize_frame(frame)
    assert out["nom"].tolist() == ["'=1+1", "ok"]
    assert out["emplois"].tolist() == [-3, 4]
    assert list(out.columns) == ["nom", "emplois", "'=col"]
    assert frame["nom"].tolist() == ["=1+1", "ok"]  # the input is not modified


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("![x](http://e.invalid/p.png)", "\\!\\[x\\](http\\://e.invalid/p.png)"),
        ("voir www.e.invalid", "voir www\\.e.invalid"),
        ("$x$ *a* `c` <b>", "\\$x\\$ \\*a\\* \\`c\\` &lt;b&gt;"),
        ("fichier_1.csv : colonne", "fichier_1.csv : colonne"),
    ],
)
def test_escape_markdown(raw, shown):
    from ess_diag.formatting import escape_markdown

    assert escape_markdown(raw) == shown
