"""Screenshots of a report's sections in headless Chromium, for the README and docs/.

Usage (after ``ragkit run experiments/quickstart.yaml``)::

    python docs/screenshots.py runs/quickstart-<timestamp>/report.html docs/

Writes ``report-<section>.png`` per section (the drill-down with a failing question opened),
each cut to at most ``--max-height`` pixels, and shrinks them with ``pngquant`` when it is
installed. Needs ``playwright`` (pip) and Debian's ``chromium`` (apt), as the browser test does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _open_a_failure(page) -> None:
    """Filter the drill-down to misses at rank 1 and open the first one (its relevant chunk sits lower)."""
    option = page.locator("#dd-filter option", has_text="failures: doc:hit_rate@1 = 0")
    if option.count():
        page.locator("#dd-filter").select_option(option.first.get_attribute("value"))
    rows = page.locator("#dd-list > details")
    for i in range(min(rows.count(), 20)):
        rows.nth(i).locator(":scope > summary").click()
        if rows.nth(i).locator("tr.rel mark").count():
            return
        rows.nth(i).locator(":scope > summary").click()
    rows.first.locator(":scope > summary").click()


def shoot(html: Path, out: Path, width: int, max_height: int) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(profile, executable_path="/usr/bin/chromium", args=ARGS,
                                                       headless=True, viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto(html.resolve().as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        if page.locator("#dd-list > details").count():
            _open_a_failure(page)
        page.wait_for_timeout(500)
        page.evaluate("window.scrollTo(0, 0)")  # bounding boxes are then page coordinates
        for section in page.locator("main > section").all():
            box = section.bounding_box()
            path = out / f"report-{section.get_attribute('id')}.png"
            page.screenshot(path=str(path), full_page=True, clip={
                "x": box["x"], "y": box["y"], "width": box["width"], "height": min(box["height"], max_height)})
            written.append(path)
        context.close()
    if shutil.which("pngquant"):
        for path in written:
            subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality=60-90", "--output", str(path),
                            str(path)], check=False)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="report.html of a run")
    parser.add_argument("out", type=Path, help="folder for the PNGs, e.g. docs/")
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--max-height", type=int, default=1100)
    args = parser.parse_args()
    for path in shoot(args.report, args.out, args.width, args.max_height):
        print(f"{path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
