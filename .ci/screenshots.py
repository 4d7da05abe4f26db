#!/usr/bin/env python3
"""The PR comment as GitHub renders it, and the terminal scorecard, in headless Chromium: each
is rendered from a real run, checked (the compiler's error is there for a broken build; no code
shows as raw backticks or as `&#96;`), and photographed for the README.

The comment's markdown is turned into HTML by pulldown-cmark (CommonMark with GitHub's tables,
raw HTML blocks such as <details> ending at a blank line, as GitHub's renderer does); the
scorecard's colours (SGR sequences) become spans.

Usage: screenshots.py CARGO_GATE MIXED_DIR BROKEN_DIR SHOTS_DIR
  MIXED_DIR, BROKEN_DIR: runs of fixtures/mixed and fixtures/broken (report.json in each)
"""

import html
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_html import browser, dom  # noqa: E402

GITHUB_CSS = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
       color: #1f2328; background: #fff; margin: 0; padding: 16px 24px; max-width: 860px; }
h3 { font-size: 1.25em; margin: 8px 0 16px; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, monospace; background: #818b981f;
       padding: .2em .4em; border-radius: 6px; }
pre { background: #f6f8fa; padding: 12px 16px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; font-size: 85%; }
table { border-collapse: collapse; margin: 0 0 16px; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
tr:nth-child(2n) { background: #f6f8fa; }
blockquote { margin: 0 0 16px; padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
details { margin: 4px 0; } summary { cursor: pointer; }
sub { color: #59636e; }
"""

TERMINAL_CSS = """
body { margin: 0; background: #1e1e1e; }
pre { font: 14px/1.35 "DejaVu Sans Mono", ui-monospace, monospace; color: #d4d4d4;
      margin: 0; padding: 14px 18px; width: 80ch; }
.b { font-weight: bold; } .d { opacity: .6; }
.red { color: #f14c4c; } .green { color: #23d18b; } .yellow { color: #e5e510; }
"""


def run(*cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"screenshots: {' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return out.stdout


def comment_page(gate, report, path):
    markdown = run(gate, "gate", "report", "--format", "comment", report)
    body = run("pulldown-cmark", "-T", input_file(markdown, path + ".md"))
    with open(path, "w") as f:
        f.write(f"<!doctype html><meta charset=utf-8><style>{GITHUB_CSS}</style>{body}")
    return path


def input_file(text, path):
    with open(path, "w") as f:
        f.write(text)
    return path


def terminal_page(gate, report, path):
    ansi = subprocess.run(
        [gate, "gate", "report", "--format", "terminal", "--color", "always", report],
        capture_output=True, text=True, timeout=120,
    ).stdout
    classes = {"1": "b", "2": "d", "31": "red", "32": "green", "33": "yellow"}
    out, open_spans = [], 0
    for part in re.split(r"(\x1b\[[0-9;]*m)", ansi):
        m = re.fullmatch(r"\x1b\[([0-9;]*)m", part)
        if not m:
            out.append(html.escape(part))
            continue
        codes = [c for c in m.group(1).split(";") if c]
        if not codes or "0" in codes:
            out.append("</span>" * open_spans)
            open_spans = 0
        for c in codes:
            if c in classes:
                out.append(f'<span class="{classes[c]}">')
                open_spans += 1
    out.append("</span>" * open_spans)
    with open(path, "w") as f:
        f.write(f"<!doctype html><meta charset=utf-8><style>{TERMINAL_CSS}</style><pre>{''.join(out)}</pre>")
    return path


class Text(HTMLParser):
    """The text a reader sees outside code and preformatted blocks."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.prose = []
        self.all = []

        self.style = False

    def handle_starttag(self, tag, attrs):
        if tag in ("code", "pre"):
            self.depth += 1
        self.style = tag == "style"

    def handle_endtag(self, tag):
        if tag in ("code", "pre"):
            self.depth -= 1
        self.style = False

    def handle_data(self, data):
        if self.style:
            return
        self.all.append(data)
        if self.depth == 0:
            self.prose.append(data)


def seen(page):
    t = Text()
    t.feed(dom(page))
    return "".join(t.prose), "".join(t.all)


def check_prose(what, prose):
    for raw in ("`", "&#96;"):
        if raw in prose:
            at = prose.index(raw)
            sys.exit(f"screenshots: {what} shows {raw!r} as text: …{prose[max(0, at - 60):at + 60]}…")


def main():
    gate, mixed, broken, shots = sys.argv[1:5]
    os.makedirs(shots, exist_ok=True)

    page = comment_page(gate, os.path.join(mixed, "report.json"), os.path.join(shots, "comment.html"))
    prose, text = seen(page)
    check_prose("the comment of fixtures/mixed", prose)
    for expected in ("cargo-gate failed", "tests::fails_with_message", "left == right"):
        if expected not in text:
            sys.exit(f"screenshots: the comment does not show {expected!r}:\n{text[:2000]}")
    # The picture opens the failure with a message, as a reader would.
    with open(page) as f:
        text = f.read()
    at = text.rfind("<details>", 0, text.index("tests::fails_with_message"))
    with open(page, "w") as f:
        f.write(text[:at] + "<details open>" + text[at + len("<details>"):])
    browser("--window-size=900,800", f"--screenshot={shots}/comment.png", f"file://{os.path.abspath(page)}")

    page = comment_page(gate, os.path.join(broken, "report.json"), os.path.join(shots, "comment-build.html"))
    prose, text = seen(page)
    check_prose("the comment of fixtures/broken", prose)
    for expected in ("tests could not run: 1 compiler error", "mismatched types",
                     "--> tests/does_not_compile.rs:3:18", "expected `u32`, found `&str`"):
        if expected not in text:
            sys.exit(f"screenshots: the broken build's comment does not show {expected!r}:\n{text[:2000]}")
    browser("--window-size=900,700", f"--screenshot={shots}/comment-build.png", f"file://{os.path.abspath(page)}")

    page = terminal_page(gate, os.path.join(mixed, "report.json"), os.path.join(shots, "scorecard.html"))
    _, text = seen(page)
    if "`" in text:
        sys.exit(f"screenshots: the scorecard shows raw backticks:\n{text}")
    browser("--window-size=820,560", f"--screenshot={shots}/scorecard.png", f"file://{os.path.abspath(page)}")
    print(f"screenshots: comment, build-failure comment and scorecard checked; pictures in {shots}")


if __name__ == "__main__":
    main()
