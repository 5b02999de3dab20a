"""Console API e2e: the same world as orders' (payment stand-ins, a frozen clock, a show on
sale), since a show's orders and attendees exist only once fans buy."""

from tests.e2e.orders.conftest import (  # noqa: F401 - fixtures
    _kakaopay_server,
    _toss_server,
    clock,
    fan,
    kakaopay,
    other,
    payment_settings,
    settings,
    show,
    toss,
)
