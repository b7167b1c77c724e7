"""Fixtures of the reliability suites on the session's stack: the API over HTTP, a fingerprint of
every table, and a world of users, a cohort and prompts of their own (removed afterwards).

The fault suite builds its own cluster and gateway instead (it stops and kills the database).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.support import REPORT, Api, Fingerprint, World, build_world, destroy_world


@pytest.fixture(scope="package")
def api(api_url: str) -> Iterator[Api]:
    client = Api(api_url)
    yield client
    client.close()


@pytest.fixture(scope="package")
def fingerprint(admin_url: str) -> Iterator[Fingerprint]:
    fp = Fingerprint(admin_url)
    yield fp
    fp.close()


@pytest.fixture(scope="package")
def world(db_url: str) -> Iterator[World]:
    built = build_world(db_url)
    try:
        yield built
    finally:
        destroy_world(db_url, built)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Case counts, throughput and error counts of the reliability suites, after every run."""
    if REPORT:
        terminalreporter.section("reliability: cases, throughput, errors")
        for line in REPORT:
            terminalreporter.write_line(line)
