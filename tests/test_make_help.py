"""`make help` lists every target and describes it as the code behaves."""

from __future__ import annotations

import re
import subprocess

from devstack import settings

MAKEFILE = settings.ROOT / "Makefile"


def _help() -> dict[str, str]:
    out = subprocess.run(["make", "-s", "help"], cwd=settings.ROOT, capture_output=True, text=True, check=True)
    return dict(line.split(None, 1) for line in out.stdout.splitlines() if line.strip())


def test_every_phony_target_is_listed_with_a_description():
    phony = set()
    for line in MAKEFILE.read_text().splitlines():
        if line.startswith(".PHONY:"):
            phony |= set(line.removeprefix(".PHONY:").split())
    listed = _help()
    assert set(listed) == phony
    assert all(description.strip() for description in listed.values())


def test_advisors_is_described_as_devstack_advisors_behaves():
    """devstack/advisors.py uses the running dev database, else a throwaway one."""
    description = _help()["advisors"]
    assert re.search(r"dev DB if it runs, else a throwaway one", description), description
    assert "security + performance" in description and "WARN/ERROR" in description
