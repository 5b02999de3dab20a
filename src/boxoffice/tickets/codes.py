"""Ticket codes: the ticket id and an HMAC-SHA256 tag over it, base32, in a QR code.

``T1`` + base32(16-byte ticket UUID + first 12 bytes of HMAC-SHA256(key, "T1" + UUID)):
47 characters of ``A-Z2-7``, which QR's alphanumeric mode packs into a version-3 symbol
that any phone camera or gate scanner reads at arm's length.

Why HMAC and not Ed25519: an Ed25519 signature is 64 bytes (a 128-character code, a QR
code three times denser) and the gates that verify offline are our own devices, which
can hold the derived scanner key. The key is derived from the app's secret (never the
secret itself), so gates can be given it; a 96-bit tag cannot be guessed online.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import uuid
from dataclasses import dataclass

import segno

from boxoffice.platform.runtime import Runtime

VERSION = "T1"
TAG_BYTES = 12
CODE_LENGTH = len(VERSION) + 45


def derive_key(secret: str) -> bytes:
    """The ticket-code key: a one-way derivative of the app's secret, one per code version."""
    return hmac.new(
        secret.encode(), b"boxoffice/ticket-code/" + VERSION.encode(), "sha256"
    ).digest()


@dataclass(frozen=True)
class CodeKey:
    """The key ticket codes are signed with, derived once per process from the secret."""

    key: bytes


def code_key(runtime: Runtime) -> bytes:
    secret = runtime.settings.secret_key.get_secret_value()
    return runtime.adapters.ensure(CodeKey, lambda: CodeKey(derive_key(secret))).key


def _tag(key: bytes, raw_id: bytes) -> bytes:
    return hmac.new(key, VERSION.encode() + raw_id, hashlib.sha256).digest()[:TAG_BYTES]


def issue_code(key: bytes, ticket_id: str) -> str:
    """The code printed on (and encoded in the QR of) ticket ``ticket_id`` (a UUID)."""
    raw_id = uuid.UUID(ticket_id).bytes
    body = base64.b32encode(raw_id + _tag(key, raw_id)).decode().rstrip("=")
    return VERSION + body


def verify_code(key: bytes, code: str) -> str | None:
    """The ticket id a genuine code names, or ``None`` for a forged, altered or foreign code."""
    text = code.strip().upper()
    if len(text) != CODE_LENGTH or not text.startswith(VERSION):
        return None
    body = text[len(VERSION) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode().rstrip("=") != body:
        return None  # a non-canonical spelling (stray padding bits) is not a code we issued
    raw_id, tag = raw[:16], raw[16:]
    if len(tag) != TAG_BYTES or not hmac.compare_digest(tag, _tag(key, raw_id)):
        return None
    return str(uuid.UUID(bytes=raw_id))


def qr_svg(code: str, *, scale: int = 4, xmldecl: bool = True) -> bytes:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="svg", scale=scale, border=4, xmldecl=xmldecl)
    return out.getvalue()


def qr_png(code: str, *, scale: int = 6) -> bytes:
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
