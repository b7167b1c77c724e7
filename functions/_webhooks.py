"""Standard Webhooks verification for cohort-sync, with the `standardwebhooks` package.

The signed content is ``"{webhook-id}.{webhook-timestamp}.{raw body}"``; the signature header holds
one or more space-separated ``v1,<base64 HMAC-SHA256>`` entries (key rotation). The library refuses
timestamps more than 5 minutes away from now (either side). Every failure is a 401.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from functions._errors import BadRequest, Unauthorized

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
HEADERS = (ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)
#: Longest accepted webhook-id; it is stored as the delivery id of the sync run.
MAX_ID_LENGTH = 200
TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class Delivery:
    """A verified webhook delivery: its id (the idempotency key). Its timestamp is only checked
    (by the library, within TOLERANCE_SECONDS), never used."""

    id: str


@functools.cache
def _verifier(secret: str) -> Webhook:
    """One verifier per secret and process (immutable after construction, so thread-safe)."""
    return Webhook(secret)


def verify(body: bytes, headers: Mapping[str, str], secret: str) -> Delivery:
    """Check the Standard Webhooks signature of ``body``; return the delivery or raise 401
    (400 for a body that is not UTF-8: the library verifies text)."""
    values = {name: (headers.get(name) or "").strip() for name in HEADERS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise Unauthorized(
            f"missing webhook signature header(s): {', '.join(missing)}", code="invalid_signature"
        )
    if len(values[ID_HEADER]) > MAX_ID_LENGTH:
        raise Unauthorized(
            f"{ID_HEADER} is longer than {MAX_ID_LENGTH} characters", code="invalid_signature"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8") from None
    try:
        _verifier(secret).verify(text, values, json_parse=False)
    except WebhookVerificationError as exc:
        reason = str(exc) or "invalid signature"
        raise Unauthorized(f"webhook signature refused: {reason}", code="invalid_signature") from None
    except (ValueError, TypeError):
        # A malformed signature entry: no "v1," prefix, more than one comma, bad base64.
        raise Unauthorized(
            "webhook signature refused: malformed webhook-signature header", code="invalid_signature"
        ) from None
    return Delivery(id=values[ID_HEADER])
