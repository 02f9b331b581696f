"""The actor fiche is shown as text: a name written in Markdown or HTML never renders."""

from __future__ import annotations

from ess_diag import actor_list
from ess_diag_ui import cards


def test_fiche_html_escapes_markdown_and_html(geo_con):
    geo_con.execute(
        """INSERT INTO actors (actor_id, name, commune_code, is_ess, family, sector, jobs,
               comment, source)
           VALUES ('X1', '![](http://exemple.invalid/p.png) <img src=x onerror=alert(1)>',
                   '01001', true, 'association', 'sante', 3, '**gras** [lien](http://x)',
                   'modele')"""
    )
    html = cards.fiche_html(actor_list.actor_fiche(geo_con, "X1"))
    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # Markdown stays literal text: st.html does not interpret it, and nothing is turned into a tag.
    assert "![](http://exemple.invalid/p.png)" in html
    assert "**gras** [lien](http://x)" in html
    assert html.count("<tr>") == len(actor_list.actor_fiche(geo_con, "X1"))
