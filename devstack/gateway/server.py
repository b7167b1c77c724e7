"""Run the local API: ``serve(db_url, port=...)`` or ``python -m devstack.gateway --db-url URL``.

Multi-threaded (waitress), because functions call back into ``/rest/v1/rpc`` on the same server
while their own request is in flight. One access-log line per request (method, path, status, ms);
``--quiet`` keeps only warnings. A background thread LISTENs on channel ``pgrst`` and reloads the
schema cache on ``NOTIFY pgrst, 'reload schema'``, as PostgREST does (the database's DDL event
triggers send it).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import logging
import os
import signal
import sys
import threading
import time
import tomllib
from pathlib import Path

import psycopg

from devstack import apiproc, settings
from devstack.gateway.app import Gateway
from devstack.gateway.auth import JwtVerifier
from devstack.gateway.catalog import Catalog
from devstack.gateway.db import Database
from devstack.gateway.functions import Functions, default_source

log = logging.getLogger("devstack.gateway.server")

#: Worker threads. A function holds one while it calls back into /rest/v1 on another, so keep
#: this well above the number of concurrent function calls.
DEFAULT_THREADS = 64
#: Pooled database connections (PostgREST's db-pool; Supabase's default is in this range).
DEFAULT_POOL_SIZE = 40


def max_rows_from_config(config: Path = settings.ROOT / "supabase" / "config.toml") -> int | None:
    """``[api] max_rows`` of supabase/config.toml (PostgREST's db-max-rows on Supabase)."""
    try:
        data = tomllib.loads(config.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return 1000
    value = data.get("api", {}).get("max_rows", 1000)
    return int(value) if value else None


def verifier_from_env() -> JwtVerifier:
    """HS256 secret from JWT_SECRET (default: the CLI's), plus JWT_JWKS / JWT_JWKS_URL, JWT_AUD."""
    jwks_text = os.environ.get("JWT_JWKS")
    jwks = json.loads(jwks_text) if jwks_text else None
    return JwtVerifier(settings.jwt_secret(), jwks=jwks, jwks_url=os.environ.get("JWT_JWKS_URL") or None,
                       audience=os.environ.get("JWT_AUD") or None)


def function_env(api_url: str) -> dict[str, str]:
    """What Supabase's runtime gives every function, with the local values."""
    return {
        "SUPABASE_URL": api_url,
        "SUPABASE_ANON_KEY": settings.anon_key(),
        "SUPABASE_SERVICE_ROLE_KEY": settings.service_role_key(),
        "SUPABASE_JWT_SECRET": settings.jwt_secret(),
        "COHORT_SYNC_WEBHOOK_SECRET": settings.webhook_secret(),
    }


def build_app(db_url: str, *, api_url: str, pool_size: int = DEFAULT_POOL_SIZE) -> Gateway:
    """The Gateway for ``db_url`` (an authenticator URL), with the project's functions mounted."""
    for key, value in function_env(api_url).items():
        os.environ.setdefault(key, value)
    db = Database(db_url, max_size=pool_size)
    db.open()
    from devstack.auth.app import build_auth_app  # the Auth stand-in: /auth/v1 + the local mailbox

    return Gateway(db, anon_key=settings.anon_key(), service_role_key=settings.service_role_key(),
                   verifier=verifier_from_env(), functions=Functions(default_source()),
                   max_rows=max_rows_from_config(), auth=build_auth_app(db_url, api_url=api_url))


def start_schema_listener(db_url: str, catalog: Catalog) -> threading.Thread:
    """Keep the schema cache fresh as PostgREST does: LISTEN on channel ``pgrst``.

    The database sends ``NOTIFY pgrst, 'reload schema'`` itself: from the ``pgrst_ddl_watch`` /
    ``pgrst_drop_watch`` event triggers (created by devstack/bootstrap.sql as the Supabase image
    has them) after any DDL, and from anyone who asks for a reload. Each (re)connect also reloads,
    since notifications sent while disconnected are lost.
    """

    def run() -> None:
        delay = 0.5
        while True:
            try:
                with psycopg.connect(db_url, autocommit=True, connect_timeout=5,
                                     application_name="devstack-gateway-listener") as conn:
                    conn.execute("LISTEN pgrst")
                    catalog.invalidate()  # (re)connected: the schema may have changed meanwhile
                    delay = 0.5
                    for notify in conn.notifies():
                        if notify.payload in ("", "reload schema"):
                            log.info("schema cache reload requested (NOTIFY pgrst)")
                            catalog.invalidate()
            except psycopg.Error as exc:
                log.debug("schema listener disconnected: %s", exc)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    thread = threading.Thread(target=run, name="pgrst-listener", daemon=True)
    thread.start()
    return thread


def configure_logging(quiet: bool) -> None:
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(message)s" if not quiet else "%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    logging.getLogger("waitress").setLevel(logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the functions' own client calls
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR if quiet else logging.WARNING)


class PortInUse(OSError):
    """The API port is taken; the message names the variable to set."""


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def serve(db_url: str, port: int = settings.API_PORT, *, host: str = "127.0.0.1",
          threads: int = DEFAULT_THREADS, quiet: bool = False, pid_dir: Path | None = None) -> None:
    """Serve the API in the foreground until interrupted (Ctrl-C or SIGTERM, e.g. `make stop`).

    With ``pid_dir`` the server records itself there (`devstack.apiproc`) so `make stop` finds it.
    """
    import waitress

    configure_logging(quiet)
    api_url = f"http://{host}:{port}"
    app = build_app(db_url, api_url=api_url)
    try:
        try:
            server = waitress.create_server(
                app, host=host, port=port, threads=threads, ident="devstack-gateway", channel_timeout=120,
                connection_limit=1000, clear_untrusted_proxy_headers=True)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(errno.EADDRINUSE, f"API port {port} is in use by another program; stop it "
                                f"or set API_PORT to a free port") from None
            raise
        start_schema_listener(db_url, app.catalog)
        main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _stop_on_sigterm) if main_thread else None
        log.warning("local API (PostgREST stand-in + functions) on %s", api_url)
        try:
            with apiproc.recorded(pid_dir, port) if pid_dir else contextlib.nullcontext():
                server.run()
        finally:
            if main_thread:
                signal.signal(signal.SIGTERM, previous)
            server.close()
    finally:
        app.db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway",
                                     description="Local Supabase API stand-in (development and tests only).")
    parser.add_argument("--db-url", required=True, help="libpq URL logging in as the authenticator role")
    parser.add_argument("--port", type=int, default=settings.API_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--quiet", action="store_true", help="log warnings only (no access log)")
    args = parser.parse_args(argv)
    try:
        serve(args.db_url, args.port, host=args.host, threads=args.threads, quiet=args.quiet)
    except KeyboardInterrupt:
        pass
    except PortInUse as exc:
        print(f"devstack: {exc.strerror}", file=sys.stderr)
        return 2
    return 0
