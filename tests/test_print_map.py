"""Printable maps (``ess_diag.print_map``, ``ess-diag carte``) and the outline cleaning they
share with the screen maps (``geography.clean_coverage``, ``maps.territory_outline``)."""

from __future__ import annotations

import io
import itertools
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pypdf
import pytest
import shapely
from geo_fixture import build_fixture_geography

from ess_diag import cli, geography, maps, print_map, projection, store

PT = 72 / 25.4
GOLFE = "200067932"  # CA Golfe du Morbihan - Vannes Agglomération: 34 communes, a gulf of islets


def _pdf(data: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(data))


def _size_mm(page) -> tuple[float, float]:
    box = page.mediabox
    return round(float(box.width) / PT, 2), round(float(box.height) / PT, 2)


def _overlaps(labels) -> list[tuple[str, str]]:
    out = []
    for a, b in itertools.combinations(labels, 2):
        if a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1:
            out.append((a.text, b.text))
    return out


# --------------------------------------------------------------------------- fixture geography


@pytest.fixture(scope="module")
def fixture_con():
    """The fixture geography, built once for the tests that only read it."""
    con = store.connect(":memory:")
    build_fixture_geography(con)
    yield con
    con.close()


@pytest.mark.parametrize("page", ["A4", "A3", "A2", "A1", "A0"])
@pytest.mark.parametrize("orientation", ["portrait", "paysage"])
def test_page_sizes_are_exact_iso_216(fixture_con, page, orientation):
    request = print_map.PrintRequest("departement", "01", page=page, orientation=orientation)
    data, layout = print_map.render(fixture_con, request)
    w, h = print_map.PAGE_SIZES_MM[page]
    expected = (w, h) if orientation == "portrait" else (h, w)
    reader = _pdf(data)
    assert len(reader.pages) == 1
    assert _size_mm(reader.pages[0]) == pytest.approx(expected, abs=0.01)
    assert (layout.width, layout.height) == expected


def test_fixture_map_names_every_commune_and_states_its_scale(fixture_con):
    data, layout = print_map.render(fixture_con, print_map.PrintRequest("departement", "01"))
    text = _pdf(data).pages[0].extract_text()
    for name in ("L'Abergement-Clémenciat", "L'Abergement-de-Varey", "Ambérieu-en-Bugey"):
        assert name in text
    assert f"Échelle 1:{print_map.fmt_int(layout.scale)}" in text
    assert "Part de l'ESS dans l'emploi privé" in text  # the legend's title
    assert "non disponible" in text  # no statistics loaded: grey class, said so
    assert "Réalisé avec ESS Diag" in text and "Lambert 93" in text
    # A round scale that makes the territory fill its frame (at most one step too small).
    assert layout.scale == print_map.nice_scale(layout.scale)
    assert not _overlaps(layout.labels)


def test_pdf_embeds_its_font(fixture_con):
    data, _ = print_map.render(fixture_con, print_map.PrintRequest("epci", "200000001", page="A4"))
    fonts = _pdf(data).pages[0]["/Resources"]["/Font"]
    descriptors = [f.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                   for f in fonts.values()]  # fmt: skip
    assert descriptors and all("/FontFile2" in d for d in descriptors)


def test_svg_is_valid_sized_in_mm_and_escapes_names(geo_con):
    geo_con.execute(
        "UPDATE territories SET name = ? WHERE level = 'commune' AND code = '01002'",
        ["Varey & <script>alert(1)</script>"],
    )
    request = print_map.PrintRequest("departement", "01", page="A3", orientation="paysage")
    data, layout = print_map.render(geo_con, request, "svg")
    root = ET.fromstring(data)  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == (
        "420mm",
        "297mm",
        "0 0 420 297",
    )
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Varey & <script>alert(1)</script>" in texts  # drawn as text…
    assert b"<script>" not in data  # …never as markup
    assert any(t and t.startswith("Échelle 1:") for t in texts)


def test_file_name_is_made_of_checked_codes_only():
    request = print_map.PrintRequest("epci", GOLFE, page="A1", orientation="portrait")
    assert print_map.file_name(request, "svg") == (
        f"ess_diag_carte_epci_{GOLFE}_commune_A1_portrait.svg"
    )
    assert print_map.file_name(request, "pdf", mosaic=True).endswith("_mosaique_A4.pdf")
    weird = print_map.PrintRequest("commune", "../../etc/x")
    assert "/" not in print_map.file_name(weird, "pdf")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page": "A5"}, "Format de page"),
        ({"orientation": "oblique"}, "Orientation"),
        ({"indicator": "nope"}, "Indicateur inconnu"),
        ({"zones_sector": "nope"}, "Secteur inconnu"),
        ({"child_level": "region"}, "Découpage impossible"),
    ],
)
def test_bad_requests_are_refused_in_french(kwargs, message):
    with pytest.raises(ValueError, match=message):
        print_map.PrintRequest("epci", GOLFE, **kwargs)


@pytest.mark.parametrize(("page", "orientation"), [("A1", "portrait"), ("A0", "paysage")])
def test_a4_mosaic_tiles_the_sheet_with_overlap(fixture_con, page, orientation):
    request = print_map.PrintRequest("departement", "01", page=page, orientation=orientation)
    data, layout = print_map.render(fixture_con, request, mosaic=True)
    cols, rows, tw, th = print_map.mosaic_grid(layout.width, layout.height)
    overlap = print_map.MOSAIC_OVERLAP_MM
    # The parts cover the sheet, each overlapping the next by exactly the overlap…
    assert (cols - 1) * (tw - overlap) + tw >= layout.width
    assert (cols - 2) * (tw - overlap) + tw < layout.width
    assert (rows - 1) * (th - overlap) + th >= layout.height
    assert (rows - 2) * (th - overlap) + th < layout.height
    reader = _pdf(data)
    # …on A4 portrait sheets: the assembly plan, then one sheet per part.
    assert len(reader.pages) == 1 + cols * rows
    assert {_size_mm(p) for p in reader.pages} == {(210.0, 297.0)}
    assert "Plan d'assemblage" in reader.pages[0].extract_text()
    last = f"{chr(ord('A') + cols - 1)}{rows}"
    assert f"Feuille {last}" in reader.pages[-1].extract_text()
    expected = {"A1": (4, 4), "A0": (7, 4)}[page]  # 594×841 mm; 1189×841 mm
    assert (cols, rows) == expected


def test_mosaic_is_a_pdf_only(fixture_con):
    with pytest.raises(ValueError, match="mosaïque"):
        print_map.render(
            fixture_con, print_map.PrintRequest("departement", "01"), "svg", mosaic=True
        )


# --------------------------------------------------------------------------- labels


def test_dense_labels_never_collide_and_the_rest_are_numbered():
    """400 tiny communes in a small frame: names shrink, move, get leader lines, and the rest
    become numbers for the margin index — no two boxes ever intersect."""
    geoms = [shapely.box(10 + 4 * i, 10 + 4 * j, 14 + 4 * i, 14 + 4 * j)
             for i in range(20) for j in range(20)]  # fmt: skip
    names = [f"Commune numéro {k}" for k in range(400)]
    codes = [f"{k:05d}" for k in range(400)]
    fonts = print_map._fonts()
    labels = print_map.place_labels(
        codes, names, [1000 - k for k in range(400)], geoms, (5, 5, 95, 95),
        base_pt=8, measure=fonts.width,
    )  # fmt: skip
    assert sorted(lab.code for lab in labels) == codes  # every commune is on the map
    numbered = [lab for lab in labels if lab.number is not None]
    named = [lab for lab in labels if lab.number is None]
    assert numbered and named
    assert sorted(lab.number for lab in numbered) == list(range(1, len(numbered) + 1))
    assert min(lab.size for lab in named) >= print_map.MIN_LABEL_PT
    assert any(lab.size < 8 for lab in named)  # smaller type where dense
    assert any(lab.leader for lab in labels)
    forced = [lab for lab in numbered if not lab.leader and lab.text == str(lab.number)]
    free = [lab for lab in labels if lab not in forced]
    assert not _overlaps(free)
    for lab in named:
        assert 5 <= lab.x0 and lab.x1 <= 95 and 5 <= lab.y0 and lab.y1 <= 95


def test_lambert93_forward_is_the_inverse_of_the_projection_module():
    lon = np.array([-4.49, 2.35, 7.75, 9.45, 3.0])
    lat = np.array([48.39, 48.86, 48.57, 42.7, 46.5])
    x, y = print_map.wgs84_to_lambert93(lon, lat)
    back_lon, back_lat = projection.lambert93_to_wgs84(x, y)
    assert np.allclose(back_lon, lon, atol=1e-9) and np.allclose(back_lat, lat, atol=1e-9)
    assert (round(float(x[4]), 3), round(float(y[4]), 3)) == (700000.0, 6600000.0)


@pytest.mark.parametrize(
    ("fit", "nice"), [(23_100, 25_000), (100_000, 100_000), (101_000, 125_000), (2.6e6, 3e6)]
)
def test_nice_scale(fit, nice):
    assert print_map.nice_scale(fit) == nice


# --------------------------------------------------------------------------- outline cleaning


def _wiggly_neighbours():
    """Two squares sharing a finely zig-zagging border, plus a speck of an islet."""
    ys = np.linspace(0, 1, 201)
    border = [(0.5 + 0.004 * (-1) ** i, y) for i, y in enumerate(ys)]
    left = shapely.Polygon([(0, 0), *border, (0, 1)])
    right = shapely.Polygon([(1, 0), (1, 1), *border[::-1]])
    speck = shapely.box(1.2, 0.5, 1.203, 0.503)
    return np.array([left, shapely.MultiPolygon([right.normalize(), speck])], dtype=object)


def test_clean_coverage_leaves_no_gap_or_overlap_between_neighbours():
    geoms = _wiggly_neighbours()
    cleaned = geography.clean_coverage(geoms, 0.02)
    assert all(shapely.is_valid(cleaned))
    assert shapely.get_num_coordinates(cleaned).sum() < shapely.get_num_coordinates(geoms).sum() / 5
    union = shapely.union_all(cleaned)
    # No overlap (areas add up) and no gap (the union is one square without hole).
    assert shapely.area(cleaned).sum() == pytest.approx(shapely.area(union), abs=1e-9)
    assert shapely.get_type_id(union) == 3 and shapely.get_num_interior_rings(union) == 0
    assert shapely.area(union) == pytest.approx(1.0, abs=1e-3)
    assert shapely.coverage_is_valid(cleaned)
    # What simplifying each outline on its own does (the old way): the shared border splits.
    apart = shapely.simplify(geoms, 0.02, preserve_topology=True)
    assert not shapely.coverage_is_valid(apart)


def test_islets_below_the_threshold_are_dropped_never_the_main_part():
    geoms = _wiggly_neighbours()
    cleaned = geography.clean_coverage(geoms, 0.02)  # islets < (3 × 0.02)² dropped
    assert shapely.get_num_geometries(cleaned).tolist() == [1, 1]
    island_commune = np.array([shapely.box(0, 0, 0.001, 0.001)], dtype=object)
    assert not shapely.is_empty(geography.clean_coverage(island_commune, 0.02)[0])
    kept = geography.clean_coverage(geoms, 0.02, min_area=0.0)
    assert shapely.get_num_geometries(kept).tolist() == [1, 2]


def test_territory_outline_follows_its_communes_without_their_islands():
    main = shapely.box(0, 0, 1, 1)
    island = shapely.box(1.5, 0.5, 1.52, 0.52)  # kept by the communes, below 0.5 % of main
    children = np.array([shapely.box(0, 0, 0.5, 1), shapely.MultiPolygon([shapely.box(0.5, 0, 1, 1), island])], dtype=object)  # fmt: skip
    parent = shapely.MultiPolygon([main, island])
    outline = maps.territory_outline(children, parent, 0.001)
    assert shapely.get_num_geometries(outline) == 1
    assert shapely.area(shapely.symmetric_difference(outline, main)) < 1e-9
    assert maps.territory_outline(children, None, 0.001) is None


def test_screen_map_outlines_share_their_borders(geo_con):
    """The deck's features are simplified as one coverage: two neighbours (01001, 01002 share
    the meridian 4.95) keep the very same border points."""
    outlines = maps.load_outlines(geo_con, "epci", "200000001", "commune")
    view = maps.build_deck(outlines, {}, indicator=maps.MAP_INDICATORS["ess_jobs"],
                           parent_outline=maps.load_parent_outline(geo_con, "epci", "200000001"))  # fmt: skip
    spec = view.deck.to_json()
    assert '"id":"contour"' in spec
    import json

    layers = {layer["id"]: layer for layer in json.loads(spec)["layers"]}
    feats = layers["territoires"]["data"]["features"]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in feats]
    assert shapely.coverage_is_valid(np.array(shapes, dtype=object))
    outline = shapely.geometry.shape(layers["contour"]["data"]["geometry"])
    assert shapely.equals(outline, shapely.union_all(shapes))


# --------------------------------------------------------------------------- real geography


def _carte(national_db, tmp_path, *argv) -> tuple[bytes, float]:
    out = tmp_path / "carte.out"
    started = time.perf_counter()
    assert cli.main(["carte", *argv, "--out", str(out), "--db", str(national_db)]) == 0
    return out.read_bytes(), time.perf_counter() - started


def test_cli_epci_a3_landscape_names_every_commune(national_db, tmp_path):
    data, seconds = _carte(national_db, tmp_path, "--level", "epci", GOLFE, "--page", "A3",
                           "--orientation", "paysage")  # fmt: skip
    page = _pdf(data).pages[0]
    assert _size_mm(page) == (420.0, 297.0)
    text = page.extract_text()
    con = store.connect(national_db, read_only=True)
    try:
        names = list(maps.load_outlines(con, "epci", GOLFE, "commune")["name"])
        _, layout = print_map.render(con, print_map.PrintRequest("epci", GOLFE))
    finally:
        con.close()
    assert len(names) == 34
    assert [n for n in names if n not in text] == []
    assert "Part de l'ESS dans l'emploi privé" in text and "Source :" in text
    assert "Données de démonstration" in text
    assert not _overlaps(layout.labels)  # no two names' boxes intersect
    print(f"EPCI {GOLFE}, A3 paysage : {seconds:.1f} s")


def test_cli_departement_a1_by_commune(national_db, tmp_path):
    data, seconds = _carte(national_db, tmp_path, "--level", "departement", "01", "--page", "A1",
                           "--orientation", "portrait", "--decoupage", "commune", "--acteurs",
                           "--zones-blanches", "commerce")  # fmt: skip
    page = _pdf(data).pages[0]
    assert _size_mm(page) == (594.0, 841.0)
    text = page.extract_text()
    assert "Bourg-en-Bresse" in text and "Ambérieu-en-Bugey" in text
    assert "Zones blanches « Commerce »" in text and "Associations" in text
    print(f"Département 01 par commune, A1 : {seconds:.1f} s")


def test_cli_france_a0_by_departement_and_svg(national_db, tmp_path):
    data, seconds = _carte(national_db, tmp_path, "--level", "france", "--page", "A0",
                           "--decoupage", "departement", "--orientation", "paysage")  # fmt: skip
    page = _pdf(data).pages[0]
    assert _size_mm(page) == (1189.0, 841.0)
    text = page.extract_text()
    for name in ("Morbihan", "Guyane", "La Réunion", "Corse-du-Sud", "Paris"):
        assert name in text
    assert "encarts d'outre-mer" in text
    assert seconds < 60
    print(f"France par département, A0 : {seconds:.1f} s")
    svg, _ = _carte(national_db, tmp_path, "--level", "france", "--page", "A0", "--format", "svg",
                    "--decoupage", "departement")  # fmt: skip
    assert ET.fromstring(svg).get("viewBox") == "0 0 1189 841"


def test_cli_refuses_a_mosaic_in_svg(national_db, tmp_path, capsys):
    code = cli.main(["carte", "--level", "epci", GOLFE, "--mosaique", "--format", "svg",
                     "--out", str(tmp_path / "x.svg"), "--db", str(national_db)])  # fmt: skip
    assert code == 2
    assert "mosaïque" in capsys.readouterr().err


# --------------------------------------------------------------------------- Carte page


def test_carte_page_offers_the_paperboard_print(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from ess_diag_ui import data

    path = tmp_path / "carte.duckdb"
    con = store.connect(path)
    build_fixture_geography(con)
    con.close()
    monkeypatch.setenv("ESS_DIAG_DB", str(path))
    data.st.cache_data.clear()
    at = AppTest.from_file(str(Path(__file__).parents[1] / "pages" / "carte.py"),
                           default_timeout=60)  # fmt: skip
    at.session_state["territory"] = ("departement", "01")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Imprimer pour le paperboard" in [e.label for e in at.expander]
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Télécharger la carte A1 (PDF)" in labels
    at.toggle(key="print_mosaic").set_value(True).run()
    at.selectbox(key="print_page").set_value("A0").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Télécharger la carte A0 (mosaïque A4, PDF)" in labels
    at.selectbox(key="print_format").set_value("svg").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Télécharger la carte A0 (SVG)" in labels  # no mosaic of an SVG


def test_territory_outline_leaves_out_slivers_between_communes():
    """A sliver the source leaves between two communes is no hole in the territory's outline."""
    left, right = shapely.box(0, 0, 0.5, 1), shapely.box(0.5, 0, 1, 1)
    sliver = shapely.box(0.49, 0.4, 0.51, 0.41)  # 0.0002: under (3 × 0.01)²
    children = np.array([left.difference(sliver), right.difference(sliver)], dtype=object)
    outline = maps.territory_outline(children, shapely.box(0, 0, 1, 1), 0.01)
    assert shapely.get_num_interior_rings(outline) == 0
    assert shapely.area(shapely.symmetric_difference(outline, shapely.box(0, 0, 1, 1))) < 1e-9
    big_hole = shapely.box(0.3, 0.3, 0.7, 0.7)
    children = np.array([left.difference(big_hole), right.difference(big_hole)], dtype=object)
    outline = maps.territory_outline(children, shapely.box(0, 0, 1, 1).difference(big_hole), 0.01)
    assert shapely.get_num_interior_rings(outline) == 1  # a real enclave stays
