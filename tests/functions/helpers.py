"""Constants and helpers shared by the functions' tests (unit and end-to-end)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt

from functions.sign_webhook import signature_headers

ROOT = Path(__file__).resolve().parents[2]
SOURCE = str(ROOT / "functions" / "main.py")
JWT_SECRET = "unit-test-jwt-secret-with-at-least-32-characters"
WEBHOOK_SECRET = "whsec_dW5pdC10ZXN0LXdlYmhvb2stc2VjcmV0LWJ5dGVz"
API_URL = "http://api.test"
#: functions-framework target -> URL name under /functions/v1/.
TARGETS = {
    "publish_prompt": "publish-prompt",
    "usage_events": "usage-events",
    "access_check": "access-check",
    "cohort_sync": "cohort-sync",
}
#: The only settings each target reads (the user functions never get the service-role key).
TARGET_SETTINGS = {
    **dict.fromkeys(("publish_prompt", "usage_events", "access_check"),
                    ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET")),
    "cohort_sync": ("SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY", "COHORT_SYNC_WEBHOOK_SECRET"),
}


def make_token(secret: str = JWT_SECRET, *, algorithm: str = "HS256", headers: dict | None = None,
               **claims: Any) -> str:
    """A Supabase-shaped user access token; keyword claims override (None removes a claim)."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": f"{API_URL}/auth/v1", "aud": "authenticated", "sub": str(uuid.uuid4()),
        "role": "authenticated", "email": "learner@example.com", "iat": now, "exp": now + 600,
        "app_metadata": {}, "user_metadata": {}, "is_anonymous": False,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def bearer(token: str) -> dict[str, str]:
    """Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def signed_headers(body: bytes, *, secret: str = WEBHOOK_SECRET, webhook_id: str | None = None,
                   timestamp: datetime | None = None) -> dict[str, str]:
    """Standard Webhooks headers (plus Content-Type) for ``body``, signed with ``secret``."""
    headers = signature_headers(
        body, secret, webhook_id or f"msg_{uuid.uuid4().hex}", timestamp or datetime.now(UTC)
    )
    return {"Content-Type": "application/json", **headers}
