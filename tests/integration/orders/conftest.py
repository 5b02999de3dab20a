from tests.support.orders import (  # noqa: F401 - fixtures
    _kakaopay_server,
    _toss_server,
    kakaopay,
    payment_settings,
    toss,
)
