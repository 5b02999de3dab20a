"""Social login routes (Google, Kakao, any OIDC provider): filled in by the social-login work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["identity"])
