"""`make dev` works from a clone in a mode-700 home directory, as root or not (issue 18, item 1).

The clone gets this checkout's working tree (committed, modified and new files) and borrows its
installed `.venv` and `node_modules` (symlinks), so `make deps` has nothing to install and the
test stays well under a minute. Everything else is the real thing: `make dev`, a second
`make dev`, `make token`, `make advisors`, `make stop`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack import settings
from devstack.cluster import free_port

OLD = 946684800  # 2000-01-01: older than .venv/.installed, so make deps reinstalls nothing


def _git(*args: str, cwd: Path = settings.ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, **kwargs)


def _clone_working_tree(dest: Path) -> None:
    """git clone this checkout, then bring over its uncommitted and untracked (not ignored) files."""
    _git("clone", "-q", "--no-hardlinks", str(settings.ROOT), str(dest))
    diff = _git("diff", "HEAD", "--binary").stdout
    if diff:
        _git("apply", "--whitespace=nowarn", cwd=dest, input=diff)
    for name in _git("ls-files", "--others", "--exclude-standard", "-z").stdout.decode().split("\0"):
        if name:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(settings.ROOT / name, dest / name)
    for shared in (".venv", "node_modules"):
        (dest / shared).symlink_to(settings.ROOT / shared)
    for pinned in ("pyproject.toml", "package-lock.json"):
        os.utime(dest / pinned, (OLD, OLD))


@pytest.fixture
def clone(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A clone in a mode-700 "home", the environment to run make in, and cleanup of its state."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    home.chmod(0o700)
    dest = (home / "pm").resolve()
    _clone_working_tree(dest)
    env = {k: v for k, v in os.environ.items() if k not in ("DEVSTACK_HOME", "DEVSTACK_TEST_DB_URL",
                                                           "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(API_PORT=str(free_port()), DB_PORT=str(free_port()))
    try:
        yield dest, env
    finally:
        subprocess.run(["make", "-s", "stop"], cwd=dest, env=env, capture_output=True, timeout=60)
        shutil.rmtree(settings.default_state_root(dest), ignore_errors=True)


def _make(dest: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", *args], cwd=dest, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"make dev exited with {proc.returncode}:\n{log.read_text()}"
        try:
            if httpx.get(f"{url}/_devstack/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"make dev did not become healthy:\n{log.read_text()}")


def test_make_dev_runs_from_a_clone_in_a_mode_700_home(clone, tmp_path):
    dest, env = clone
    if os.geteuid() == 0:  # the situation of the bug: the server's user cannot enter the checkout
        probe = subprocess.run(["runuser", "-u", "nobody", "--", "test", "-x", str(dest)], capture_output=True)
        assert probe.returncode != 0, "the test home is reachable by nobody; the test would prove nothing"
    api_url = f"http://127.0.0.1:{env['API_PORT']}"
    log = tmp_path / "make-dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(["make", "-s", "dev"], cwd=dest, env=env, stdout=out, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        _wait_healthy(api_url, dev, log)
        assert f"{settings.default_state_root(dest)}/dev" in log.read_text(), "state outside the checkout"

        token = _make(dest, env, "token", "EMAIL=learner@example.com").stdout.strip()
        rows = httpx.get(f"{api_url}/rest/v1/prompts?select=id,title", timeout=10,
                         headers={"apikey": settings.anon_key(), "Authorization": f"Bearer {token}"})
        assert rows.status_code == 200 and len(rows.json()) > 0, rows.text

        second = _make(dest, env, "dev")
        assert second.returncode != 0
        assert "API_PORT" in second.stderr and "already serves this checkout" in second.stderr, second.stderr
        assert "Traceback" not in second.stderr + second.stdout

        advisors = _make(dest, env, "advisors")
        assert advisors.returncode == 0, advisors.stdout + advisors.stderr
        assert "advisors: 0 WARN/ERROR" in advisors.stdout

        stop = _make(dest, env, "stop")
        assert stop.returncode == 0, stop.stderr
        assert dev.wait(timeout=30) == 0, log.read_text()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{api_url}/_devstack/health", timeout=2)
        assert _make(dest, env, "status").returncode != 0  # the database is stopped too
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(timeout=30)

    me = os.geteuid()
    foreign = [str(p.relative_to(dest)) for p in _walk(dest) if p.lstat().st_uid != me]
    assert not foreign, f"files in the checkout not owned by {pwd.getpwuid(me).pw_name}: {foreign[:10]}"


def _walk(root: Path) -> Iterator[Path]:
    """Every path under root, not following symlinks (.venv and node_modules are borrowed)."""
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            yield Path(dirpath) / name
