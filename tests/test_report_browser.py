"""The HTML report opens in a real browser (Debian's chromium driven by Playwright): no console error, the
scorecard and the cost chart are drawn with a size, the table sorts, and no request leaves the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmlint.cli import main

CHROMIUM = "/usr/bin/chromium"  # browser downloads are not available: `playwright install` is never run
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo-app"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[test]')")
pytest.importorskip("genai_prices")
if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"no chromium at {CHROMIUM}: apt-get install -y --no-install-recommends chromium", allow_module_level=True)


@pytest.fixture(scope="module")
def page_report(tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "readiness.html"
    result = CliRunner().invoke(main, ["report", str(DEMO), "--format", "html", "-o", str(target), "--price-date", "2026-12-01"])
    assert result.exit_code == 0, result.output
    return target


def test_html_report_in_chromium(page_report):
    errors, outside = [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))

            def record(route):
                if route.request.url.split(":", 1)[0] not in ("file", "data", "about"):
                    outside.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            page.route("**/*", record)
            page.goto(page_report.as_uri())
            page.wait_for_load_state("load")
            cards = page.locator(".scorecard .card")
            assert cards.count() == 10
            for i in range(cards.count()):
                box = cards.nth(i).bounding_box()
                assert box is not None and box["width"] > 100 and box["height"] > 40
            chart = page.locator("svg.chart").bounding_box()
            assert chart is not None and chart["width"] > 300 and chart["height"] > 100
            bars = page.locator("svg.chart rect.bar")
            assert bars.count() == 6
            widths = [bars.nth(i).bounding_box()["width"] for i in range(bars.count())]
            assert widths == sorted(widths, reverse=True) and widths[0] > 400  # the costliest call has the longest bar

            header = page.locator("table.costs th", has_text="$ per month")
            header.click()  # sort by monthly cost, highest first
            first = page.locator("table.costs tbody tr").first.locator("td").first.inner_text()
            assert "app/rag.py:44" in first
            header.click()  # and lowest first
            first = page.locator("table.costs tbody tr").first.locator("td").first.inner_text()
            assert "app/llm.py:16" in first
        finally:
            browser.close()
    assert errors == []
    assert outside == []
