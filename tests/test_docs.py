"""The manuals' links stay inside the repository and point at files and headings that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devstack import settings
from devstack.gateway.errors import unsupported

LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def _markdown_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.md"], cwd=settings.ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return [settings.ROOT / n for n in names if (settings.ROOT / n).exists()]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(h) for h in HEADING.findall(text)}


@pytest.mark.parametrize("doc", _markdown_files(), ids=lambda p: str(p.relative_to(settings.ROOT)))
def test_links_resolve_inside_the_repository(doc):
    broken = []
    for target in LINK.findall(doc.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path_part, _, anchor = target.partition("#")
        dest = (doc.parent / path_part).resolve() if path_part else doc
        if not dest.is_relative_to(settings.ROOT.resolve()):
            broken.append(f"{target}: leaves the repository")
        elif not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target}: no such heading")
    assert not broken, broken


def test_unsupported_feature_hint_names_a_manual_that_exists():
    hint = unsupported("something").hint
    [path] = re.findall(r"\S+\.md", hint)
    assert (settings.ROOT / path).exists(), hint
