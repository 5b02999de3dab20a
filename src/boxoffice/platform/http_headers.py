"""The security headers every answer carries, added where every answer passes once.

``RequestContextMiddleware`` wraps both FastAPI's stack and the fast lane, so it adds these
to each response start: a precomputed list, each header only where the route did not set
its own (the shop's pages send a CSP naming their payment provider, assets their caching).
API answers get ``Cache-Control: no-store`` unless the route chose: tokens, profiles and
orders must not be kept by a browser or a shared cache.
"""

from __future__ import annotations

from collections.abc import Sequence

_ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
# JSON, problem+json, images, files: nothing in them may run, load or be framed.
RESOURCE_CSP = b"default-src 'none'; frame-ancestors 'none'; sandbox"
# HTML without a policy of its own (the API browser at /docs, whose page script is inline).
DOCUMENT_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    b"frame-ancestors 'none'"
)
NO_STORE = (b"cache-control", b"no-store")


def with_security_headers(
    headers: Sequence[tuple[bytes, bytes]], path: str
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers they lack (names compared in lower case)."""
    present = {name.lower() for name, _ in headers}
    added = [header for header in _ALWAYS if header[0] not in present]
    if b"content-security-policy" not in present:
        html = any(
            name.lower() == b"content-type" and value.lower().startswith(b"text/html")
            for name, value in headers
        )
        added.append((b"content-security-policy", DOCUMENT_CSP if html else RESOURCE_CSP))
    if b"cache-control" not in present and path.startswith("/api/"):
        added.append(NO_STORE)
    return [*headers, *added]
