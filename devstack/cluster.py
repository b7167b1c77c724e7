"""A throwaway PostgreSQL 15 cluster, made Supabase-compatible and migrated with the real CLI.

The cluster lives in ``<state root>/<name>/`` (``settings.STATE_ROOT``: outside the checkout, under
/var/tmp, unless ``DEVSTACK_HOME`` is set), listens only on 127.0.0.1, and runs as an unprivileged
user: the invoking user, or ``nobody`` when invoked as root (PostgreSQL refuses to run as root).
Every command it runs as that user starts in ``/``, so the checkout may be a mode-700 directory. Every step is idempotent: ``start`` on a running cluster is a
no-op, on a stopped one restarts it, and on a missing one creates, bootstraps, migrates and seeds it.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from devstack import settings

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
BOOTSTRAP_SQL = Path(__file__).with_name("bootstrap.sql")
SUPABASE_DIR = settings.ROOT / "supabase"
SUPABASE_CLI = settings.ROOT / "node_modules" / ".bin" / "supabase"
SUPERUSER = "supabase_admin"


class ClusterError(RuntimeError):
    """A step of the local stack failed; the message says which and how to fix it."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _run_user() -> str | None:
    """The user to run PostgreSQL as: None for the current (non-root) user, else ``nobody``."""
    if os.geteuid() != 0:
        return None
    return os.environ.get("DEVSTACK_PG_USER", "nobody")


def _run_uid() -> int:
    """The uid the database server runs as."""
    user = _run_user()
    return pwd.getpwnam(user).pw_uid if user else os.geteuid()


def prepare_state_root(root: Path | None = None) -> Path:
    """Create the state root (mode 700, owned by the server's user) and check it is safe to use.

    The default root has a predictable name in a world-writable directory, so it must be a real
    directory owned by us or by the server's user, and writable by nobody else.
    """
    root = settings.STATE_ROOT if root is None else root
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = root.lstat()
    except OSError as exc:
        raise ClusterError(f"cannot create the state directory {root}: {exc.strerror}; set DEVSTACK_HOME") from None
    owners = {os.geteuid(), _run_uid()}
    if root == settings.STATE_ROOT and settings.STATE_ROOT_IS_DEFAULT and (
            not stat.S_ISDIR(info.st_mode) or info.st_uid not in owners or info.st_mode & 0o022):
        raise ClusterError(f"refusing to use {root}: not a directory of ours (owner uid {info.st_uid}, "
                           f"mode {stat.filemode(info.st_mode)}); remove it or set DEVSTACK_HOME")
    if info.st_uid != _run_uid() and os.geteuid() == 0:
        os.chown(root, _run_uid(), -1)
    user = _run_user()
    if user:
        probe = subprocess.run(["runuser", "-u", user, "--", "test", "-w", str(root), "-a", "-x", str(root)],
                               cwd="/", capture_output=True)
        if probe.returncode != 0:
            raise ClusterError(f"the database runs as {user}, who cannot reach {root}; "
                               "set DEVSTACK_HOME to a directory it can enter (e.g. under /var/tmp)")
    return root


def check_requirements() -> None:
    """Fail with the exact install command when PostgreSQL 15, pgTAP or the CLI is missing."""
    missing = []
    if not (PG_BIN / "pg_ctl").exists():
        missing.append("postgresql-15")
    if not Path("/usr/share/postgresql/15/extension/pgtap.control").exists():
        missing.append("postgresql-15-pgtap")
    if not Path("/usr/share/postgresql/15/extension/pg_cron.control").exists():
        missing.append("postgresql-15-cron")
    if missing:
        raise ClusterError(
            "missing packages: " + " ".join(missing)
            + "\nrun: sudo apt-get update && sudo apt-get install -y " + " ".join(missing)
            + " (or `make deps` as root)"
        )
    if not SUPABASE_CLI.exists():
        raise ClusterError("the Supabase CLI is not installed; run: make deps (or npm install)")


@dataclass
class Cluster:
    """One local cluster, identified by the directory that holds its data and state."""

    directory: Path
    port: int

    @classmethod
    def named(cls, name: str, port: int | None = None) -> "Cluster":
        """The cluster under ``<state root>/<name>``, reusing its recorded port when it has one."""
        directory = settings.STATE_ROOT / name
        state = directory / "state.json"
        if port is None and state.exists():
            port = json.loads(state.read_text())["port"]
        return cls(directory, port if port is not None else free_port())

    # -- paths and URLs ------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.directory / "data"

    @property
    def socket_dir(self) -> Path:
        return self.directory / "run"

    @property
    def log_file(self) -> Path:
        return self.directory / "postgres.log"

    def url(self, user: str = "postgres", password: str = "postgres") -> str:
        """A libpq URL for one of the cluster's roles."""
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/postgres?sslmode=disable"

    @property
    def db_url(self) -> str:
        return self.url()

    @property
    def admin_url(self) -> str:
        return self.url(SUPERUSER, "postgres")

    # -- process helpers -----------------------------------------------------------------------
    def _as_pg_user(self, argv: list[str]) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program as the server's user, from ``/`` (it may not enter the cwd)."""
        user = _run_user()
        if user:
            argv = ["runuser", "-u", user, "--", *argv]
        return subprocess.run(argv, check=False, capture_output=True, text=True, cwd="/")

    def _must(self, what: str, proc: subprocess.CompletedProcess) -> None:
        if proc.returncode != 0:
            raise ClusterError(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")

    def running_port(self) -> int | None:
        """The port of the running server, from postmaster.pid (line 4), or None."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[3])
        except (OSError, IndexError, ValueError):
            return None

    def is_running(self) -> bool:
        """True when pg_ctl reports a server for this data directory."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._as_pg_user([str(PG_BIN / "pg_ctl"), "status", "-D", str(self.data_dir)]).returncode == 0

    # -- lifecycle -----------------------------------------------------------------------------
    def init(self) -> None:
        """initdb a fresh cluster owned by the unprivileged user."""
        if self.directory.parent == settings.STATE_ROOT:
            prepare_state_root()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        user = _run_user()
        if user:
            uid = pwd.getpwnam(user).pw_uid
            for path in (self.directory, self.socket_dir):
                os.chown(path, uid, -1)
        pwfile = self.directory / "pwfile"
        pwfile.write_text("postgres\n")
        if user:
            os.chown(pwfile, pwd.getpwnam(user).pw_uid, -1)
        self._must("initdb", self._as_pg_user([
            str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
            f"--pwfile={pwfile}", "--auth=scram-sha-256", "--auth-local=trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        ]))
        pwfile.unlink()
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "max_connections = 200",
            "shared_buffers = 256MB",
            "shared_preload_libraries = 'pg_cron, pg_stat_statements'",
            "cron.database_name = 'postgres'",
            "log_min_messages = warning",
            "log_min_error_statement = panic",
            # Throwaway cluster: durability is not needed, speed is.
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
        ]
        with (self.data_dir / "postgresql.conf").open("a") as fh:
            fh.write("\n# devstack\n" + "\n".join(conf) + "\n")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self.is_running():
            running = self.running_port()
            if running is not None and running != self.port:
                raise ClusterError(f"database {self.directory.name!r} already runs on port {running}, not "
                                   f"{self.port}; run `make stop` first, or set DB_PORT={running}")
            return
        if not port_is_free(self.port):
            raise ClusterError(f"database port {self.port} is in use by another program; stop it or set "
                               f"DB_PORT to a free port (e.g. DB_PORT={free_port()})")
        self._must("pg_ctl start", self._as_pg_user([
            str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data_dir),
            "-l", str(self.log_file), "-o", f"-p {self.port}",
        ]))
        self.wait_ready()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until pg_isready succeeds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if proc.returncode == 0:
                return
            time.sleep(0.2)
        raise ClusterError(f"PostgreSQL on port {self.port} did not become ready; see {self.log_file}")

    def stop(self) -> None:
        """Stop the server (fast shutdown) if it runs."""
        if self.is_running():
            self._must("pg_ctl stop", self._as_pg_user(
                [str(PG_BIN / "pg_ctl"), "stop", "-m", "fast", "-D", str(self.data_dir)]))

    def destroy(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- content -------------------------------------------------------------------------------
    def psql(self, *args: str, url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run psql against the cluster (as postgres unless another URL is given)."""
        proc = subprocess.run(
            ["psql", url or self.db_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args],
            capture_output=True, text=True,
        )
        if check:
            self._must("psql " + " ".join(args), proc)
        return proc

    def bootstrap(self) -> None:
        """Apply devstack/bootstrap.sql as the superuser (refused where `auth` already exists)."""
        self.psql("-f", str(BOOTSTRAP_SQL), url=self.admin_url)

    def migrate(self) -> str:
        """Apply supabase/migrations with the real Supabase CLI; returns its output."""
        proc = subprocess.run(
            [str(SUPABASE_CLI), "migration", "up", f"--remote={self.db_url}", "--yes",
             "--workdir", str(settings.ROOT)],
            capture_output=True, text=True, cwd=settings.ROOT,
            env={**os.environ, "SUPABASE_YES": "1", "DO_NOT_TRACK": "1", "SUPABASE_TELEMETRY_DISABLED": "1"},
        )
        self._must("supabase migration up", proc)
        return proc.stdout + proc.stderr

    def seed(self) -> None:
        """Run supabase/seed.sql as postgres, as `supabase db reset` does."""
        seed = SUPABASE_DIR / "seed.sql"
        if seed.exists():
            self.psql("-f", str(seed))

    def write_state(self) -> None:
        (self.directory / "state.json").write_text(json.dumps({"port": self.port}))

    def ensure(self, *, seed: bool = True) -> "Cluster":
        """Create (initdb + bootstrap + migrate + seed) or restart the cluster; idempotent."""
        check_requirements()
        fresh = not (self.data_dir / "PG_VERSION").exists()
        if fresh:
            self.init()
        self.write_state()
        self.start()
        if fresh:
            self.bootstrap()
        self.migrate()  # applies only pending migrations
        if fresh and seed:
            self.seed()
        return self
