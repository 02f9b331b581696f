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


def test_fiche_shows_sourcing_and_cooperation_fields_as_text(geo_con):
    geo_con.execute(
        """INSERT INTO actors (actor_id, name, commune_code, is_ess, family, sector, jobs, source,
               inclusive_kind, esus, services, projects, expertise, needs, networks)
           VALUES ('X2', 'Atelier', '01001', true, 'association', 'sante', 3, 'modele',
                   'ESAT', true, ['nettoyage', 'inconnu'], '<script>alert(1)</script>',
                   '**gras**', '=1+1', ['PTCE  <b>Bocage</b>', 'GME Cantine'])"""
    )
    fiche = actor_list.actor_fiche(geo_con, "X2")
    assert fiche["Structure inclusive"].startswith("ESAT")
    assert fiche["Agrément ESUS"] == "oui"
    # Segment keys shown through their French label when known, else as the key.
    assert fiche["Prestations"] == ", ".join(
        actor_list.segment_label(k) for k in ("nettoyage", "inconnu")
    )
    assert fiche["Prestations"].endswith("inconnu")
    assert fiche["Projets"] == "<script>alert(1)</script>"
    assert fiche["Expertises"] == "**gras**"
    assert fiche["Besoins (cherche des partenaires)"] == "=1+1"
    assert fiche["Réseaux"] == "PTCE <b>Bocage</b>, GME Cantine"
    html = cards.fiche_html(fiche)
    assert "<script>" not in html and "<b>Bocage" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "PTCE &lt;b&gt;Bocage&lt;/b&gt;" in html
    assert "**gras**" in html


def test_fiche_of_a_partial_diffusion_entry_hides_its_free_texts(geo_con):
    geo_con.execute(
        """INSERT INTO actors (actor_id, name, partial_diffusion, commune_code, is_ess, family,
               sector, jobs, source, esus, projects, expertise, needs, networks)
           VALUES ('X3', 'Marie Martin', true, '01001', true, 'association', 'sante', 1,
                   'sirene', false, 'Projet de Marie', 'Couture', 'Un local', ['PTCE Bocage'])"""
    )
    fiche = actor_list.actor_fiche(geo_con, "X3")
    assert fiche["Nom"] == actor_list.PARTIAL
    assert not {"Projets", "Expertises", "Besoins (cherche des partenaires)"} & set(fiche)
    assert "Marie" not in " ".join(fiche.values())
    assert fiche["Agrément ESUS"] == "non" and fiche["Réseaux"] == "PTCE Bocage"


def test_fiche_without_the_new_fields_is_unchanged(geo_con):
    geo_con.execute(
        """INSERT INTO actors (actor_id, name, commune_code, is_ess, family, sector, jobs, source)
           VALUES ('X4', 'Simple', '01001', true, 'association', 'sante', 3, 'modele')"""
    )
    fiche = actor_list.actor_fiche(geo_con, "X4")
    assert list(fiche)[-1] == "Source"
