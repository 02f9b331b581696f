"""« Acheter à l'ESS » in headless Chromium, offline: a site picked by commune, the map drawn,
the table, and the XLSX / PDF downloads (demo data of the small database)."""

from __future__ import annotations

import io

import pytest
from harness import open_page, shot, wait_idle

pytestmark = pytest.mark.browser


def _pick(page, label: str, typed: str, option: str) -> None:
    """Choose in a searchable select box as a user does: type, then take the option."""
    page.get_by_label(label, exact=True).first.click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option).first.wait_for(timeout=10_000)
    page.keyboard.press("Enter")
    wait_idle(page)


def test_sourcing_page_map_table_downloads(page, app_url):
    from PIL import Image
    from pypdf import PdfReader

    open_page(page, app_url, "acheter", niveau="departement", territoire="01")
    assert page.locator('[data-testid="stException"]').count() == 0
    _pick(page, "Commune", "Ambérieu-en", "Ambérieu-en-Bugey (01004)")
    _pick(page, "Segment d'achat", "Nettoyage", "Nettoyage et propreté")
    assert page.get_by_text("Ambérieu-en-Bugey (01004)").count() >= 1
    assert page.get_by_text("Nettoyage et propreté", exact=False).count() >= 1

    page.wait_for_selector('[data-testid="stDeckGlJsonChart"] canvas', timeout=60_000)
    page.wait_for_timeout(1500)  # deck.gl draws on the next animation frames
    deck = page.locator('[data-testid="stDeckGlJsonChart"]').first
    low, high = Image.open(io.BytesIO(deck.screenshot())).convert("L").getextrema()
    assert high - low > 40  # something was painted
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=60_000)
    assert page.get_by_text("L2113-13").count() >= 1  # the summary's metric

    with page.expect_download() as xlsx_info:
        page.get_by_role("button", name="Liste (XLSX)").click()
    xlsx = xlsx_info.value
    assert xlsx.suggested_filename.endswith(".xlsx")
    assert open(xlsx.path(), "rb").read(2) == b"PK"
    with page.expect_download() as pdf_info:
        page.get_by_role("button", name="Document (PDF)").click()
    pdf = pdf_info.value
    data = open(pdf.path(), "rb").read()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Nettoyage et propreté" in text and "Ambérieu-en-Bugey (01004)" in text
    shot(page, "acheter_departement_01")
