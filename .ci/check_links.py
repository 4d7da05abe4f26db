#!/usr/bin/env python3
"""Relative links in the README, the book and the other top-level documents point at files
that exist and at headings those files have; every chapter of the book is in its SUMMARY."""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
docs = [root / n for n in ("README.md", "ARCHITECTURE.md", "CHANGELOG.md")]
docs += sorted((root / "docs" / "src").rglob("*.md"))


def slug(heading):
    """GitHub's and mdBook's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    out = set()
    in_code = False
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out


errors = []
for doc in docs:
    text = re.sub(r"```.*?```", "", doc.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (doc.parent / file_part).resolve() if file_part else doc
        where = f"{doc.relative_to(root)}: ({target})"
        if not dest.exists():
            errors.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            errors.append(f"{where}: no heading with the anchor #{anchor}")

summary = (root / "docs/src/SUMMARY.md").read_text()
listed = set(re.findall(r"\]\(([^)]+\.md)\)", summary))
for chapter in sorted((root / "docs/src").rglob("*.md")):
    rel = chapter.relative_to(root / "docs/src").as_posix()
    if rel != "SUMMARY.md" and rel not in listed:
        errors.append(f"docs/src/{rel}: not in docs/src/SUMMARY.md")

for e in errors:
    print(e, file=sys.stderr)
if errors:
    sys.exit(1)
print(f"links ok in {len(docs)} documents")
