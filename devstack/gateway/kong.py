"""Kong's key-auth as Supabase configures it: the ``apikey`` header must be one of the project's
API keys (anon or service_role). One definition for ``/rest/v1`` and ``/auth/v1``."""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence


def key_auth_refusal(apikey: str | None, api_keys: Sequence[str]) -> bytes | None:
    """None when ``apikey`` is one of ``api_keys``; else the body of Kong's 401 answer."""
    if apikey is None:
        return b'{"message":"No API key found in request"}'
    if not any(hmac.compare_digest(apikey.encode(), key.encode()) for key in api_keys):
        return json.dumps({"message": "Invalid API key",
                           "hint": "Double check your Supabase `anon` or `service_role` API key."}).encode()
    return None
