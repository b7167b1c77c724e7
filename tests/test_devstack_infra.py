"""Where the local stack keeps its state, how it reports port conflicts, how `make stop` finds the
API, and how schema changes reach the stand-in (PostgREST's DDL event triggers + NOTIFY pgrst)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from devstack import apiproc, cluster as cluster_module, settings
from devstack.cluster import Cluster, ClusterError, prepare_state_root


def test_default_state_root_is_outside_the_checkout_and_per_checkout_and_user(tmp_path):
    root = settings.default_state_root(tmp_path / "a", uid=1000)
    assert not root.is_relative_to(tmp_path)
    assert root != settings.default_state_root(tmp_path / "b", uid=1000)
    assert root != settings.default_state_root(tmp_path / "a", uid=1001)
    assert settings.default_state_root(tmp_path / "a", uid=1000) == root


def test_a_busy_database_port_names_db_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ClusterError, match=rf"database port {port} is in use .* set DB_PORT"):
            Cluster(Path("/nonexistent/devstack-test"), port).start()


def test_default_state_root_writable_by_others_is_refused(tmp_path, monkeypatch):
    shared = tmp_path / "prompt-manager-0-abc"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setattr(settings, "STATE_ROOT", shared)
    monkeypatch.setattr(settings, "STATE_ROOT_IS_DEFAULT", True)
    with pytest.raises(ClusterError, match="refusing to use .*DEVSTACK_HOME"):
        prepare_state_root()


def test_default_state_root_that_is_a_symlink_is_refused(tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = tmp_path / "prompt-manager-0-abc"
    link.symlink_to(target)
    monkeypatch.setattr(settings, "STATE_ROOT", link)
    monkeypatch.setattr(settings, "STATE_ROOT_IS_DEFAULT", True)
    with pytest.raises(ClusterError, match="refusing to use"):
        prepare_state_root()


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another user only when invoked as root")
def test_state_root_the_server_user_cannot_reach_is_refused_with_the_variable(tmp_path, monkeypatch):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    monkeypatch.setattr(settings, "STATE_ROOT", private / "state")
    monkeypatch.setattr(settings, "STATE_ROOT_IS_DEFAULT", False)
    monkeypatch.setattr(cluster_module, "_run_user", lambda: "nobody")
    with pytest.raises(ClusterError, match="nobody, who cannot reach .* set DEVSTACK_HOME"):
        prepare_state_root()


def _sleeper(*marker: str) -> subprocess.Popen:
    """A process that sleeps; with a "devstack" marker in its command line it looks like the API.

    Returned once the child has exec'd: until then /proc shows the parent's (pytest's) command line,
    and the pid would look stale."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *marker])
    cmdline = Path(f"/proc/{proc.pid}/cmdline")
    deadline = time.monotonic() + 10
    while b"time.sleep(60)" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def test_api_pid_files_of_dead_or_foreign_processes_are_stale(tmp_path):
    api, other = _sleeper("devstack"), _sleeper()
    try:
        (tmp_path / "api-1.pid").write_text("999999999\n")  # no such process
        (tmp_path / "api-2.pid").write_text(f"{other.pid}\n")  # the pid was reused by something else
        (tmp_path / "api-3.pid").write_text(f"{api.pid}\n")
        assert [(p.pid, p.port) for p in apiproc.running(tmp_path)] == [(api.pid, 3)]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["api-3.pid"]
    finally:
        api.kill(), other.kill()


def test_recorded_pid_file_exists_only_while_serving(tmp_path):
    with apiproc.recorded(tmp_path, 54321) as pid_file:
        assert pid_file == tmp_path / "api-54321.pid"
        assert pid_file.read_text().strip() == str(os.getpid())
    assert not pid_file.exists()


def test_stop_sends_sigterm_and_waits(tmp_path):
    child = _sleeper("devstack")
    try:
        pid_file = tmp_path / "api-9.pid"
        pid_file.write_text(f"{child.pid}\n")
        [proc] = apiproc.running(tmp_path)
        apiproc.stop(proc, timeout=10)
        assert child.wait(timeout=10) == -15
        assert not pid_file.exists()
    finally:
        child.kill()


def _notifications(db_url: str, ddl: str) -> list[str]:
    with psycopg.connect(db_url, autocommit=True) as listener, psycopg.connect(db_url, autocommit=True) as conn:
        listener.execute("listen pgrst")
        conn.execute(ddl)
        return [n.payload for n in listener.notifies(timeout=1.0, stop_after=1)]


def test_ddl_in_public_notifies_pgrst_like_supabase(db_url):
    try:
        assert _notifications(db_url, "create table public.infra_watch (id int)") == ["reload schema"]
        assert _notifications(db_url, "alter table public.infra_watch add column x int") == ["reload schema"]
        assert _notifications(db_url, "comment on table public.infra_watch is 'x'") == ["reload schema"]
        assert _notifications(db_url, "drop table public.infra_watch") == ["reload schema"]
    finally:
        with psycopg.connect(db_url, autocommit=True) as conn:
            conn.execute("drop table if exists public.infra_watch")


def test_temporary_objects_do_not_notify(db_url):
    assert _notifications(db_url, "create temp table infra_tmp (id int); drop table infra_tmp") == []


def test_event_triggers_are_the_supabase_images(db):
    db.execute("set local search_path to ''")
    rows = db.execute("select evtname, evtevent, evtfoid::regprocedure::text, evtenabled from pg_event_trigger "
                      "where evtname like 'pgrst%' order by 1").fetchall()
    assert rows == [("pgrst_ddl_watch", "ddl_command_end", "extensions.pgrst_ddl_watch()", "O"),
                    ("pgrst_drop_watch", "sql_drop", "extensions.pgrst_drop_watch()", "O")]
