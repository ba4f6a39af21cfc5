"""Webhook signatures: HMAC-SHA256 over the timestamp and the exact body, standard library only.

This module is what a receiver copies (docs/webhooks.md): it imports nothing from yidi or Django.

- Header `Yidi-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
- A receiver accepts a request only if one `v1` matches (several may be sent while a secret is rotated) and `t`
  is within `tolerance` seconds of its own clock (a replayed old request is refused).
- Compare with `hmac.compare_digest` only.
"""

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_signature(secret: str, header: str, body: bytes | str, now: float, tolerance: int = 300) -> bool:
    """True when `header` (the `Yidi-Signature` value) signs `body` (the raw request body) under `secret` and
    its timestamp is at most `tolerance` seconds away from `now` (unix seconds); False otherwise, never raises."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
