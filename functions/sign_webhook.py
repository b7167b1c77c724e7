"""Sign a cohort-sync body the way a Standard Webhooks sender does (a development helper).

    python -m functions.sign_webhook body.json              # header lines, for curl -H @file
    python -m functions.sign_webhook body.json --curl URL   # a complete curl command
    python -m functions.sign_webhook - < body.json          # body from stdin

The secret is ``COHORT_SYNC_WEBHOOK_SECRET`` from the environment (or ``--secret``). The body is
signed byte for byte: send exactly the same bytes (``curl --data-binary @body.json``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import uuid
from datetime import UTC, datetime

from standardwebhooks import Webhook

from functions._settings import COHORT_SYNC_WEBHOOK_SECRET


def signature_headers(body: bytes, secret: str, webhook_id: str, timestamp: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed by ``standardwebhooks.Webhook.sign``.

    The library signs text (as it verifies text). A body that is not UTF-8 can be verified by no
    one using it, and cohort-sync refuses it with 400 before checking the signature; such a body
    (only negative tests send one) is signed as its U+FFFD-replaced text.
    """
    when = timestamp.astimezone(UTC)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, when, body.decode("utf-8", "replace")),
    }


def curl_command(url: str, body_path: str, headers: dict[str, str]) -> str:
    """A shell-quoted curl command that posts ``body_path`` with ``headers``."""
    parts = ["curl", "-sS", "-X", "POST", url, "-H", "Content-Type: application/json"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    parts += ["--data-binary", f"@{body_path}"]
    return shlex.join(parts)


def main(argv: list[str] | None = None) -> int:
    """Print the signature headers (or a curl command) for a body file."""
    parser = argparse.ArgumentParser(prog="python -m functions.sign_webhook", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("body", help="the JSON body file, or - for stdin")
    parser.add_argument("--id", default=None, help="webhook-id (default: msg_<random>)")
    parser.add_argument("--secret", default=None, help=f"default: ${COHORT_SYNC_WEBHOOK_SECRET}")
    parser.add_argument("--curl", metavar="URL", help="print a curl command posting to URL")
    args = parser.parse_args(argv)

    secret = args.secret or os.environ.get(COHORT_SYNC_WEBHOOK_SECRET, "")
    if not secret:
        parser.error(f"set {COHORT_SYNC_WEBHOOK_SECRET} or pass --secret")
    if args.curl and args.body == "-":
        parser.error("--curl needs a body file (curl re-reads it)")
    body = sys.stdin.buffer.read() if args.body == "-" else open(args.body, "rb").read()
    webhook_id = args.id or f"msg_{uuid.uuid4().hex}"
    headers = signature_headers(body, secret, webhook_id, datetime.now(UTC))
    if args.curl:
        print(curl_command(args.curl, args.body, headers))
    else:
        print("\n".join(f"{name}: {value}" for name, value in headers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
