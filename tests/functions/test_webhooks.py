"""Standard Webhooks signature checks for cohort-sync (and the signing helper)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from functions._errors import Unauthorized
from functions._webhooks import MAX_ID_LENGTH, Delivery, verify
from tests.functions.helpers import ROOT, WEBHOOK_SECRET, signed_headers

BODY = b'{"cohort_id":"c1","mode":"delta","members":[]}'


def _verify(body: bytes, headers: dict[str, str], secret: str = WEBHOOK_SECRET):
    return verify(body, headers, secret)


def _refused(body: bytes, headers: dict[str, str], match: str, secret: str = WEBHOOK_SECRET) -> None:
    with pytest.raises(Unauthorized, match=match) as err:
        _verify(body, headers, secret)
    assert err.value.code == "invalid_signature"
    assert err.value.status == 401


def test_correctly_signed_delivery_is_accepted_with_its_id():
    headers = signed_headers(BODY, webhook_id="msg_1")
    delivery = _verify(BODY, headers)
    assert delivery == Delivery(id="msg_1")


def test_signature_matches_the_spec_hmac_of_id_timestamp_and_body():
    """Independent of the library: v1,base64(HMAC-SHA256(key, "{id}.{ts}.{body}"))."""
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    ts = str(int(datetime.now(UTC).timestamp()))
    mac = hmac.new(key, f"msg_2.{ts}.".encode() + BODY, hashlib.sha256).digest()
    headers = {"webhook-id": "msg_2", "webhook-timestamp": ts,
               "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    assert _verify(BODY, headers).id == "msg_2"


def test_signing_helper_gives_the_spec_signature_whatever_the_time_zone():
    """signature_headers (standardwebhooks.Webhook.sign) equals the HMAC computed by hand."""
    from datetime import timedelta, timezone

    from functions.sign_webhook import signature_headers

    when = datetime(2026, 3, 1, 12, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    key = base64.b64decode(WEBHOOK_SECRET.removeprefix("whsec_"))
    ts = str(int(when.timestamp()))
    mac = hmac.new(key, f"msg_3.{ts}.".encode() + BODY, hashlib.sha256).digest()
    assert signature_headers(BODY, WEBHOOK_SECRET, "msg_3", when) == {
        "webhook-id": "msg_3", "webhook-timestamp": ts, "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def test_header_names_are_case_insensitive_like_http():
    from werkzeug.datastructures import Headers

    headers = Headers({k.title(): v for k, v in signed_headers(BODY).items()})
    assert _verify(BODY, headers).id


def test_tampered_body_is_refused():
    _refused(BODY.replace(b"delta", b"snapshot"), signed_headers(BODY), "No matching signature")


def test_other_secret_is_refused():
    _refused(BODY, signed_headers(BODY, secret="whsec_b3RoZXItc2VjcmV0"), "No matching signature")


def test_replayed_signature_under_another_id_is_refused():
    headers = signed_headers(BODY, webhook_id="msg_a")
    _refused(BODY, {**headers, "webhook-id": "msg_b"}, "No matching signature")


@pytest.mark.parametrize("age", [timedelta(minutes=6), timedelta(hours=2)])
def test_stale_timestamp_is_refused(age):
    _refused(BODY, signed_headers(BODY, timestamp=datetime.now(UTC) - age), "too old")


def test_timestamp_too_far_in_the_future_is_refused():
    _refused(BODY, signed_headers(BODY, timestamp=datetime.now(UTC) + timedelta(minutes=6)), "too new")


def test_timestamp_four_minutes_old_is_accepted():
    _verify(BODY, signed_headers(BODY, timestamp=datetime.now(UTC) - timedelta(minutes=4)))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_refused_by_name(missing):
    headers = {k: v for k, v in signed_headers(BODY).items() if k != missing}
    _refused(BODY, headers, missing)


@pytest.mark.parametrize("signature", ["garbage", "v1,", "v1,!!!", "v2,abc", "v1,a,b", "v1"])
def test_malformed_signature_header_is_refused(signature):
    headers = {**signed_headers(BODY), "webhook-signature": signature}
    _refused(BODY, headers, "signature refused")


@pytest.mark.parametrize("timestamp", ["yesterday", "nan", "inf", "1e400", ""])
def test_malformed_timestamp_is_refused(timestamp):
    headers = {**signed_headers(BODY), "webhook-timestamp": timestamp}
    _refused(BODY, headers, "webhook")


def test_one_valid_signature_among_several_is_enough_for_key_rotation():
    headers = signed_headers(BODY)
    retired = signed_headers(BODY, secret="whsec_b2xkLXNlY3JldA==", webhook_id=headers["webhook-id"],
                             timestamp=datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC))
    headers["webhook-signature"] = f"{retired['webhook-signature']} {headers['webhook-signature']}"
    assert _verify(BODY, headers)
    headers["webhook-signature"] = retired["webhook-signature"]
    _refused(BODY, headers, "No matching signature")


def test_overlong_webhook_id_is_refused():
    headers = signed_headers(BODY, webhook_id="m" * (MAX_ID_LENGTH + 1))
    _refused(BODY, headers, "longer than")


def test_sign_webhook_cli_prints_headers_the_function_accepts(tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_bytes(BODY)
    out = subprocess.run(
        [sys.executable, "-m", "functions.sign_webhook", str(body_file), "--id", "msg_cli"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={"COHORT_SYNC_WEBHOOK_SECRET": WEBHOOK_SECRET, "PATH": "/usr/bin:/bin"},
    )
    headers = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert _verify(BODY, headers).id == "msg_cli"


def test_sign_webhook_cli_prints_a_curl_command(tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_bytes(BODY)
    out = subprocess.run(
        [sys.executable, "-m", "functions.sign_webhook", str(body_file), "--curl",
         "http://127.0.0.1:54321/functions/v1/cohort-sync", "--secret", WEBHOOK_SECRET],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    command = out.stdout.strip()
    assert command.startswith("curl -sS -X POST http://127.0.0.1:54321/functions/v1/cohort-sync")
    assert "'webhook-signature: v1," in command
    assert f"--data-binary @{body_file}" in command


def test_sign_webhook_cli_without_a_secret_explains_what_to_set(tmp_path):
    body_file = tmp_path / "body.json"
    body_file.write_bytes(BODY)
    out = subprocess.run([sys.executable, "-m", "functions.sign_webhook", str(body_file)],
                         cwd=ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 2
    assert "COHORT_SYNC_WEBHOOK_SECRET" in out.stderr


def test_body_that_is_not_utf8_is_400_even_when_signed():
    from functions._errors import BadRequest

    body = b'{"cohort_id": "\xff"}'
    with pytest.raises(BadRequest, match="UTF-8"):
        _verify(body, signed_headers(body))
