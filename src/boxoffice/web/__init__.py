"""The fans' storefront: server-rendered pages over the contexts' service modules.

Pages (``routes``) render Jinja2 templates from service functions; the little JavaScript
in ``static/js`` talks to the public API for live behaviour (the waiting line, the seat
map, checkout). ``docs/web.md`` says why it is built this way.
"""

# The contexts the shop's pages call; the app mounts the shop only when all of them run.
NEEDS = frozenset({"identity", "catalog", "waitroom", "seating", "merch", "orders", "tickets"})
