"""How identity plugs into the app: sign-up, login, tokens, social login, JWKS."""

from __future__ import annotations

from boxoffice.identity import oauth_routes, routes
from boxoffice.platform.contexts import ContextModule

MODULE = ContextModule(
    "identity",
    routers=[routes.router, oauth_routes.router],
    root_routers=[routes.wellknown],
)
