"""Free text that files carry is cleaned at the door (issue #12): control and format
characters removed, lengths bounded — the exports and pages then never meet them."""

from __future__ import annotations

from ingest_helpers import FIXTURES, write

from ess_diag import ingest
from ess_diag.ingest.history import FREE_TEXT


def test_actor_list_names_and_comments_cleaned_and_bounded(geo_con, tmp_path):
    header, first, *_ = (
        (FIXTURES / "modele_acteurs_exemple.csv").read_text(encoding="utf-8-sig").splitlines()
    )
    columns = header.split(";")
    values = first.split(";")
    row = dict(zip(columns, values, strict=True))
    row["Nom"] = "Ré\x01seau\u200b des\u202e AMAP"
    row["Commentaire"] = "x" * 5000
    line = ";".join(row[c] for c in columns)
    long_name = dict(row, Nom="N" * 400)
    path = write(
        tmp_path / "liste.csv",
        header + "\n" + line + "\n" + ";".join(long_name[c] for c in columns) + "\n",
    )
    report = ingest.run_import(geo_con, [path])
    assert report.status == "committed", report.errors
    names = sorted(r[0] for r in geo_con.execute("SELECT name FROM actors").fetchall())
    assert names == ["N" * FREE_TEXT["actors"]["name"], "Réseau des AMAP"]
    lengths = {r[0] for r in geo_con.execute("SELECT length(comment) FROM actors").fetchall()}
    assert lengths == {FREE_TEXT["actors"]["comment"]}
