"""report.html in a real browser (headless Chromium through Playwright, Debian's
`chromium`, no browser download): no console error, every chart drawn with its title, on
screen and in print layout, and a full-page screenshot kept for a person to look at.

usage: check_report.py REPORT_HTML SCREENSHOT_PNG EXPECTED_CHART_ID...
Chromium: $PRICER_CHROMIUM, else `chromium` on PATH. Prints what it checked as JSON.
"""

import json
import os
import pathlib
import shutil
import sys

from playwright.sync_api import sync_playwright

CHARTS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const title = svg.querySelector('text');
  const marks = [...svg.querySelectorAll('.mark')]
    .map(m => m.getBoundingClientRect())
    .filter(r => r.width > 0 && r.height > 0);
  const drawn = marks.reduce((a, r) => a + r.width * r.height, 0);
  return {id: svg.id, title: title ? title.textContent.trim() : '',
          label: svg.getAttribute('aria-label') || '',
          width: box.width, height: box.height, marks: marks.length, drawn_area: drawn};
})"""


def check_charts(charts, expected, where):
    problems = []
    ids = [c["id"] for c in charts]
    for want in expected:
        if want not in ids:
            problems.append(f"{where}: chart {want} is missing")
    for c in charts:
        if not c["title"] or c["title"] != c["label"]:
            problems.append(f"{where}: chart {c['id']} has no title ({c['title']!r}, label {c['label']!r})")
        if c["width"] < 200 or c["height"] < 100:
            problems.append(f"{where}: chart {c['id']} is {c['width']:.0f}x{c['height']:.0f} px")
        if c["marks"] == 0 or c["drawn_area"] <= 0:
            problems.append(f"{where}: chart {c['id']} draws nothing")
    return problems


def main():
    report, shot, expected = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2], sys.argv[3:]
    chromium = os.environ.get("PRICER_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        sys.exit("no Chromium: install Debian's chromium package (cargo xtask ci does) or set PRICER_CHROMIUM")
    problems, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.goto(report.as_uri(), wait_until="load")
        screen = page.evaluate(CHARTS)
        problems += check_charts(screen, expected, "screen")
        # Charts sit side by side on a wide screen.
        tops = [page.evaluate(f"document.getElementById('{i}').getBoundingClientRect().top") for i in expected[:2]]
        if len(tops) == 2 and abs(tops[0] - tops[1]) > 1:
            problems.append(f"screen: {expected[0]} and {expected[1]} are not side by side on a 1600 px screen")
        page.screenshot(path=shot, full_page=True)
        page.emulate_media(media="print")
        problems += check_charts(page.evaluate(CHARTS), expected, "print")
        browser.close()
    print(json.dumps({"charts": screen, "errors": errors, "problems": problems}, indent=1))
    if errors or problems:
        sys.exit("\n".join(errors + problems))


if __name__ == "__main__":
    main()
