"""The report in a real headless Chromium (Debian's ``chromium``, driven by Playwright): charts draw, the
leaderboard sorts, the drill-down opens and highlights, the console stays clean and nothing from the
data runs. CI installs ``chromium`` (see ``.ci/run``); elsewhere the test skips with the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hostile_data import ANSWER, CLOSE, SCRIPT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: pip install playwright "
                               "(the browser itself comes from the system: apt-get install chromium)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} not found: apt-get install chromium "
                                "(CI does, see .ci/run); never `playwright install`, which downloads a browser")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM), args=ARGS,
            headless=True, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


@pytest.fixture
def page(browser, full_run):
    """The full report opened from file://, with every console error, dialog and network request recorded."""
    page = browser.new_page()
    seen: dict[str, list[str]] = {"errors": [], "dialogs": [], "requests": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else seen["requests"].append(r.url))
    page.goto((full_run / "report.html").as_uri(), wait_until="load")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    yield page
    page.wait_for_timeout(100)
    assert seen == {"errors": [], "dialogs": [], "requests": []}
    assert page.evaluate("typeof window.__xss") == "undefined"  # no payload ran
    page.close()


def test_leaderboard_and_charts_render(page):
    assert page.locator("#leaderboard-table tbody tr").count() == 2
    charts = page.locator("[data-figure]")
    assert charts.count() == 7  # forest, curves, sweep, monitoring, topic map, agreement, fine-tune
    assert page.locator("[data-figure].js-plotly-plot .main-svg").count() >= 7
    assert page.locator("#sweep .main-svg .point, #sweep .main-svg .scatterlayer path").count() > 0
    assert SCRIPT in page.locator("h1").inner_text()  # shown literally
    page.locator("#curves select").select_option("curves:doc:recall")
    page.wait_for_function("document.querySelector('#curves-chart').getAttribute('data-figure') === 'curves:doc:recall'")
    assert "Recall" in page.locator("#curves-chart .ytitle").text_content()


def test_leaderboard_sorts_on_click(page):
    first = lambda: page.locator("#leaderboard-table tbody tr td.config").first.inner_text()  # noqa: E731
    header = page.locator("#leaderboard-table th", has_text="configuration")
    header.click()
    assert first().startswith("small") and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert first().startswith("whole") and header.get_attribute("aria-sort") == "descending"


def _doc_text(full_run: Path, doc_id: str) -> str:
    """The document's text as the run loaded it (the corpus path is in the run's config)."""
    import yaml

    from ragkit.data.jsonl import load_documents_jsonl

    corpus = yaml.safe_load((full_run / "config.yaml").read_text())["corpus"]["path"]
    return next(d.text for d in load_documents_jsonl(corpus, title_in_text=True) if d.id == doc_id)


def _open(page, config_index: int, query_id: str):
    page.locator("#dd-config").select_option(str(config_index))
    page.locator(f'#dd-list > details[data-query="{query_id}"] > summary').click()
    body = page.locator(f'#dd-list > details[data-query="{query_id}"] .dd-body')
    body.wait_for()
    return body


def test_drilldown_highlights_the_labelled_span(page, full_run):
    body = _open(page, 0, "q1")  # whole documents: the relevant chunk holds the whole labelled span
    assert body.locator("tr.rel").count() == 1
    assert body.locator("tr.rel mark").all_inner_texts() == [ANSWER]
    assert SCRIPT in body.locator("tr.rel .text").inner_text()  # the chunk's payloads show as text
    assert body.locator("img").count() == 0


def test_drilldown_highlight_is_the_overlap_of_chunk_and_span(page, full_run):
    import pandas as pd

    qrel = pd.read_parquet(full_run / "qrels.parquet").set_index("query_id").loc["q1"]
    text = _doc_text(full_run, "d1")
    body = _open(page, 1, "q1")  # 160-character chunks: each relevant one holds part of the span
    rows = body.locator("tr.rel")
    assert rows.count() >= 2
    covered = []
    for i in range(rows.count()):
        start, end = map(int, re.search(r"\[(\d+), (\d+)\)", rows.nth(i).locator("td.mono").inner_text()).groups())
        expected = text[max(start, qrel["start"]):min(end, qrel["end"])]
        assert "".join(rows.nth(i).locator("mark").all_inner_texts()) == expected
        covered.append((max(start, qrel["start"]), min(end, qrel["end"])))
    assert min(s for s, _ in covered) == qrel["start"]  # the top-k chunks cover the span from its start


def test_failure_filter_and_search(page):
    option = page.locator("#dd-filter option", has_text="failures: doc:hit_rate@10 = 0")
    page.locator("#dd-filter").select_option(option.get_attribute("value"))
    assert page.locator("#dd-count").inner_text() == "1 of 4 questions"
    row = page.locator("#dd-list > details").first
    assert row.get_attribute("data-query") == "q4" and row.locator(".badge").inner_text() == "miss"
    page.locator("#dd-filter").select_option("")
    page.locator("#dd-search").fill(CLOSE)  # in q1 and q3
    assert page.locator("#dd-count").inner_text() == "2 of 4 questions"
    page.locator("#dd-search").fill("SAVANNA")  # case-insensitive
    assert page.locator("#dd-list > details").evaluate_all("rows => rows.map(r => r.dataset.query)") == ["q4"]
