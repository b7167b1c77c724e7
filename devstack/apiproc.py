"""The API server's pid files, so `make stop` stops the foreground `make dev` API too.

`make dev` writes ``<cluster dir>/api-<port>.pid`` (its pid) while it serves and removes it when
it stops; `make stop` sends SIGTERM to every live one (the server exits cleanly on SIGTERM) before
stopping the database. A pid file whose process is gone, or is no longer a devstack process, is
stale and only removed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ApiProcess:
    """A running API server recorded by its pid file."""

    pid: int
    port: int
    pid_file: Path


def _is_devstack(pid: int) -> bool:
    """True when ``pid`` is alive and is a devstack process (not a reused pid)."""
    try:
        return b"devstack" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def running(directory: Path) -> list[ApiProcess]:
    """The live API servers of a cluster directory; stale pid files are removed."""
    found = []
    for pid_file in sorted(directory.glob("api-*.pid")):
        try:
            pid = int(pid_file.read_text().strip())
            port = int(pid_file.stem.removeprefix("api-"))
        except (OSError, ValueError):
            pid = port = 0
        if pid and _is_devstack(pid):
            found.append(ApiProcess(pid, port, pid_file))
        else:
            pid_file.unlink(missing_ok=True)
    return found


@contextlib.contextmanager
def recorded(directory: Path, port: int) -> Iterator[Path]:
    """Record this process as the API on ``port`` for as long as the block runs."""
    pid_file = directory / f"api-{port}.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    try:
        yield pid_file
    finally:
        pid_file.unlink(missing_ok=True)


def stop(process: ApiProcess, timeout: float = 15.0) -> None:
    """SIGTERM the server and wait for it to exit (SIGKILL after ``timeout``)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_devstack(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _is_devstack(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.pid_file.unlink(missing_ok=True)
