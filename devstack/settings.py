"""Local-development settings: the public Supabase CLI defaults, overridable by environment.

Every value here is a documented, public development default (the same ones `supabase start`
prints). None of them is a secret; never use them for a deployed project.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def default_state_root(root: Path = ROOT, uid: int | None = None) -> Path:
    """Where cluster state lives unless DEVSTACK_HOME says otherwise: outside the checkout, one
    directory per checkout and invoking user under /var/tmp (kept across reboots; /tmp if absent).

    Outside, because the database server runs as an unprivileged user (``nobody`` when invoked
    as root) that may not enter the checkout (a mode-700 home), and so that nothing it writes is
    left inside the checkout.
    """
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path("/tmp")
    return base / f"prompt-manager-{os.getuid() if uid is None else uid}-{digest}"


#: True when the state directory is the predictable default (checked for ownership before use).
STATE_ROOT_IS_DEFAULT = not os.environ.get("DEVSTACK_HOME")
STATE_ROOT = Path(os.environ.get("DEVSTACK_HOME") or default_state_root())

#: Supabase CLI default JWT secret (public, development only).
DEFAULT_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long"
#: Supabase CLI default API keys: HS256 JWTs {iss: supabase-demo, role, exp: 1983812996}.
DEFAULT_ANON_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9"
    ".CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0"
)
DEFAULT_SERVICE_ROLE_KEY = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0"
    ".EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU"
)
#: Standard Webhooks secret for the local cohort-sync webhook (public, development only).
DEFAULT_WEBHOOK_SECRET = "whsec_cHJvbXB0LW1hbmFnZXItbG9jYWwtd2ViaG9vay1zZWNyZXQ="

API_PORT = int(os.environ.get("API_PORT", "54321"))
DB_PORT = int(os.environ.get("DB_PORT", "54322"))


def jwt_secret() -> str:
    """The HS256 secret the local stack signs and verifies tokens with."""
    return os.environ.get("JWT_SECRET", DEFAULT_JWT_SECRET)


def anon_key() -> str:
    """The anon API key (a JWT with role anon)."""
    return os.environ.get("ANON_KEY", DEFAULT_ANON_KEY)


def service_role_key() -> str:
    """The service_role API key (a JWT with role service_role)."""
    return os.environ.get("SERVICE_ROLE_KEY", DEFAULT_SERVICE_ROLE_KEY)


def webhook_secret() -> str:
    """The Standard Webhooks secret for cohort-sync."""
    return os.environ.get("COHORT_SYNC_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET)
