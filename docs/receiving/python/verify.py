#!/usr/bin/env python3
"""Verify one agenthooks delivery with Python's standard library only.

    WEBHOOK_SECRET=whsec_... python3 verify.py BODY_FILE HEADERS_FILE

BODY_FILE holds the request body exactly as received (the signature covers its
bytes: never re-serialise the parsed JSON). HEADERS_FILE holds the request
headers as a JSON object; webhook-id, webhook-timestamp and webhook-signature
are needed. During a secret rotation WEBHOOK_SECRET may hold two secrets,
"old,new": either verifies.

Exits 0 if the delivery verifies (printing its event type and id), 1 if it
does not, 2 on a usage error. Import it to use verify() in your own receiver.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time

# The largest accepted difference between webhook-timestamp and this clock, in
# either direction, as Standard Webhooks recommends: older deliveries are
# replays (or a clock is wrong).
TOLERANCE_SECONDS = 5 * 60


class VerificationError(Exception):
    """The delivery is not signed with the secret, or not recently."""


def verify(secrets, headers, body, now=None):
    """Raise VerificationError unless body was signed with one of secrets.

    secrets: a "whsec_..." secret, or a list of them (during a rotation).
    headers: the request headers, a mapping (any case).
    body: the raw request body, bytes.
    """
    if isinstance(secrets, str):
        secrets = [secrets]
    h = {k.lower(): v for k, v in headers.items()}
    msg_id = h.get("webhook-id", "")
    timestamp = h.get("webhook-timestamp", "")
    signatures = h.get("webhook-signature", "")
    if not msg_id or not timestamp or not signatures:
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise VerificationError("invalid webhook-timestamp")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE_SECONDS:
        raise VerificationError("webhook-timestamp too old or too new")

    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    for secret in secrets:
        key = base64.b64decode(secret.strip().removeprefix("whsec_"), validate=True)
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        # Several space-separated "v1,<base64>" entries during a rotation.
        for entry in signatures.split(" "):
            version, _, signature = entry.partition(",")
            if version == "v1" and hmac.compare_digest(signature, expected):
                return
    raise VerificationError("no matching signature")


def main(argv):
    if len(argv) != 3:
        print("usage: WEBHOOK_SECRET=whsec_... python3 verify.py BODY_FILE HEADERS_FILE", file=sys.stderr)
        return 2
    secrets = [s for s in os.environ.get("WEBHOOK_SECRET", "").split(",") if s.strip()]
    if not secrets:
        print("verify.py: set WEBHOOK_SECRET to the webhook's secret (whsec_...)", file=sys.stderr)
        return 2
    try:
        with open(argv[1], "rb") as f:
            body = f.read()
        with open(argv[2], encoding="utf-8") as f:
            headers = json.load(f)
    except (OSError, ValueError) as e:
        print(f"verify.py: {e}", file=sys.stderr)
        return 2
    try:
        verify(secrets, headers, body)
    except VerificationError as e:
        print(f"not verified: {e}", file=sys.stderr)
        return 1
    except ValueError as e:  # a secret that is not base64
        print(f"verify.py: bad WEBHOOK_SECRET: {e}", file=sys.stderr)
        return 2
    try:
        event = json.loads(body)
        print(f"verified: {event.get('event')} {event.get('id')}")
    except ValueError:
        print(f"verified: {headers.get('webhook-id')} (the body is not JSON)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
