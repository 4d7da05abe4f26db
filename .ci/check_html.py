#!/usr/bin/env python3
"""The HTML report in a real browser: headless Chromium loads it from a URL whose hash drives
the page (sorting, status toggles, the filter, an anchor), and the DOM it dumps after the page's
script ran is checked against report.json. Screenshots go next to the report.

Usage: check_html.py MIXED_DIR BENCH_DIR SHOTS_DIR
  MIXED_DIR: a run of fixtures/mixed (report.json + report.html)
  BENCH_DIR: a bench-only run with a history of noted runs
"""

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser

TIMEOUT = 120


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check_html: no chromium found (.ci/run installs Debian's `chromium`)")


def browser(*args):
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        *args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    if out.returncode != 0:
        sys.exit(f"check_html: {' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def dom(path, fragment=""):
    return browser("--dump-dom", f"file://{os.path.abspath(path)}{fragment}")


class Page(HTMLParser):
    """The parts of the dumped DOM the checks read."""

    def __init__(self, text):
        super().__init__()
        self.rows = []  # (status, case id, link) of the case table, in order
        self.pressed = {}  # toggle status -> aria-pressed
        self.open_details = set()
        self.details = []
        self.headings = []
        self.chart_titles = []
        self.ready_ms = None
        self._in_rows = False
        self._row = None
        self._cell = 0
        self._heading = None
        self._title = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and "data-ready-ms" in a:
            self.ready_ms = int(a["data-ready-ms"])
        if tag == "tbody" and a.get("id") == "case-rows":
            self._in_rows = True
        elif self._in_rows and tag == "tr":
            self._row = [a.get("data-status"), "", None]
            self._cell = 0
        elif self._row is not None and tag == "td":
            self._cell += 1
        elif self._row is not None and tag == "a" and self._cell == 1:
            self._row[2] = a.get("href")
        elif tag == "button" and "data-status" in a:
            self.pressed[a["data-status"]] = a.get("aria-pressed")
        elif tag == "details":
            self.details.append(a.get("id"))
            if "open" in a:
                self.open_details.add(a.get("id"))
        elif tag == "h2":
            self._heading = ""
        elif tag == "title" and self._title is None:
            self._title = ""

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_rows = False
        elif tag == "tr" and self._row is not None:
            self.rows.append(tuple(self._row))
            self._row = None
        elif tag == "h2" and self._heading is not None:
            self.headings.append(self._heading.strip())
            self._heading = None
        elif tag == "title" and self._title is not None:
            self.chart_titles.append(self._title)
            self._title = None

    def handle_data(self, data):
        if self._row is not None and self._cell == 1:
            self._row[1] += data
        if self._heading is not None:
            self._heading += data
        if self._title is not None:
            self._title += data


def fail(msg):
    sys.exit(f"check_html: {msg}")


def cases(report):
    return [c for s in report["suites"] if s["kind"] != "coverage" for c in s["cases"]]


def check_mixed(directory, shots):
    html = os.path.join(directory, "report.html")
    report = json.load(open(os.path.join(directory, "report.json")))
    all_cases = cases(report)
    text = open(html, encoding="utf-8").read()
    for emoji in ("✅", "❌", "⚠️", "⏱️", "⏭️", "🔒"):
        if emoji in text:
            fail(f"emoji {emoji!r} in the HTML report: icons are inline SVG")
    if "<svg" not in text:
        fail("no inline SVG icons in the HTML report")

    # Every case is in the table once, failures first (the default sort is by status).
    page = Page(dom(html))
    if sorted(r[1] for r in page.rows) != sorted(c["id"] for c in all_cases):
        fail(f"the case table does not hold every case once: {page.rows}")
    first = page.rows[0][0]
    if first not in ("failed", "timed_out"):
        fail(f"default order does not put failures first: {page.rows}")

    # Sorting by time, slowest first: a case's time is its longest attempt.
    page = Page(dom(html, "#sort=time:desc"))
    times = {c["id"]: max((a["duration"] for a in c.get("attempts", [])), default=0) for c in all_cases}
    got = [times[r[1]] for r in page.rows]
    if got != sorted(got, reverse=True):
        fail(f"#sort=time:desc is not slowest first: {got}")

    # A status toggle: only failures, and the other toggles shown as off.
    page = Page(dom(html, "#status=failed"))
    want = sorted(c["id"] for c in all_cases if c["status"] == "failed")
    if sorted(r[1] for r in page.rows) != want or any(r[0] != "failed" for r in page.rows):
        fail(f"#status=failed shows {page.rows}, want {want}")
    if page.pressed.get("failed") != "true" or page.pressed.get("passed") != "false":
        fail(f"the toggles do not show the state: {page.pressed}")

    # The name filter.
    page = Page(dom(html, "#q=panics"))
    if [r[1] for r in page.rows] != ["mixed tests::panics"]:
        fail(f"#q=panics shows {page.rows}")

    # An anchor: a failure's row links to its block, and loading that URL opens it.
    failing = [r for r in Page(dom(html)).rows if r[0] == "failed"]
    link = failing[0][2]
    if not link or not link.startswith("#c-"):
        fail(f"a failing case's row does not link to its block: {failing[0]}")
    page = Page(dom(html, link))
    if link[1:] not in page.open_details:
        fail(f"{link} did not open its block (open: {page.open_details})")
    failures = sum(c["status"] in ("failed", "timed_out") for c in all_cases)
    flaky = sum(c["status"] == "flaky" for c in all_cases)
    for section in (f"Failures ({failures})", f"Flaky ({flaky})", "Slowest", "All cases"):
        if section not in page.headings:
            fail(f"no {section!r} section: {page.headings}")
    if page.ready_ms is None:
        fail("the page's script did not finish (no data-ready-ms)")

    browser("--window-size=1100,1500", f"--screenshot={shots}/report-mixed.png", f"file://{os.path.abspath(html)}")


def check_bench(directory, shots):
    html = os.path.join(directory, "report.html")
    report = json.load(open(os.path.join(directory, "report.json")))
    comparisons = report.get("comparisons", [])
    with_history = [c for c in comparisons if len(c.get("history", [])) >= 2]
    if not with_history:
        fail(f"the bench run has no comparison with history: {comparisons}")
    page = Page(dom(html))
    # Nothing empty: a bench-only run has no case table.
    if "All cases" in page.headings:
        fail("a bench-only run shows an empty case table")
    if "Performance" not in " ".join(page.headings):
        fail(f"no performance section: {page.headings}")
    # Each point of a chart says its commit and value; this run is labelled as such.
    c = with_history[0]
    for rev in c.get("history_revs", []):
        if not any(t.startswith(f"{rev}: ") for t in page.chart_titles):
            fail(f"no point labelled {rev} in the chart: {page.chart_titles}")
    if not any(t.startswith("this run: ") for t in page.chart_titles):
        fail(f"no point for this run: {page.chart_titles}")
    browser("--window-size=1100,700", f"--screenshot={shots}/report-bench.png", f"file://{os.path.abspath(html)}")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    mixed, bench, shots = sys.argv[1:]
    os.makedirs(shots, exist_ok=True)
    check_mixed(mixed, shots)
    check_bench(bench, shots)
    print(f"check_html: sorting, toggles, filter, anchors and charts work in {chromium()}; screenshots in {shots}")


if __name__ == "__main__":
    main()
