"""French formats."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from ess_diag import formatting as f

N = f.NBSP


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234567, f"1{N}234{N}567"), (0, "0"), (-1234.5, f"-1{N}235"), (2.5, "3"), (None, "n.d.")],
)
def test_fmt_int(value, expected):
    assert f.fmt_int(value) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(1234.56, 1, f"1{N}234,6"), (0.04, 1, "0,0"), (-0.04, 1, "0,0"), (math.nan, 1, "n.d.")],
)
def test_fmt_num(value, decimals, expected):
    assert f.fmt_num(value, decimals) == expected


def test_fmt_pct_and_points():
    assert f.fmt_pct(0.1234) == f"12,3{N}%"
    assert f.fmt_pct(None) == "n.d."
    assert f.fmt_points(0.02) == "+2,0 points"
    assert f.fmt_points(-0.005) == "-0,5 point"


def test_fmt_date():
    assert f.fmt_date(dt.date(2026, 11, 1)) == "1er novembre 2026"
    assert f.fmt_date("2026-02-23") == "23 février 2026"


def test_escape():
    assert f.escape("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert f.escape(None) == ""
