"""Flow control: the dispatcher admits no faster than the checkout can serve.

A show's admit rate is the seller's promise of pace, set before the sale for a checkout
of some size. When the checkout cannot keep it (a smaller machine, a slow database, a
crowd of retries), admitting at the set rate only moves people from the queue, where
waiting costs a stream, to the checkout, where they wait on holds and payments until
timeouts fail them. So the dispatcher admits at a *share* of every show's rate, judged
once a second from the checkout's pressure (``platform/pressure.py``): cut by
``flow_cut`` after a second in which more than ``flow_strained_share`` of the checkout's
requests were strained, grown back by ``flow_step`` after a calm one, never under
``flow_floor`` — additive increase, multiplicative decrease, as TCP paces a sender.

A second of checkout requests *none* of which was strained says more: the checkout has
room, so the share grows back half of the way to the full rate (at least ``flow_step``); a
second with too few requests to judge still grows it by the step only (a checkout so
jammed that hardly anything is answered must not look idle). Strain lasts as long as the
crowd let in before it takes to drain, so it cuts the share for many seconds in a row,
often to the floor; when the crowd has thinned (in a sale, often when seats come back after
every seat was held) growing back by ``flow_step`` alone kept the line trickling in at a
tenth of its rate for a quarter of a minute while the checkout stood idle. The measured
admit rate that fans' ``eta_seconds`` are made from follows by itself.

The same share bounds how many admitted people may be active at once (``max_active``):
people admitted keep asking the checkout until they have bought or given up, so a rate
cut alone leaves the crowd already let in as large as it was, each of its requests
waiting behind the others' (in the full flash sale on a slower VM: a pool's 30-s wait,
then 503). With the bound cut too, nobody more is let in until the crowd inside thins.
"""

from __future__ import annotations

from dataclasses import dataclass

from boxoffice.platform.config import WaitroomSettings
from boxoffice.platform.pressure import Pressure

# A second with fewer checkout requests than this says nothing either way.
MIN_REQUESTS = 5
# What a second without any strain gives back: this part of the way to the full rate.
CALM_RECOVERY = 0.5
# The seconds judged end this long before the dispatcher's own: the API processes add a
# second's counts at their first request of the next one, which a busy loop delays.
JUDGE_LAG_SECONDS = 2


@dataclass
class Flow:
    """The share of the admit rate the dispatcher admits at, and the second last judged."""

    settings: WaitroomSettings
    share: float = 1.0
    judged: int = 0

    def due(self, now_second: int) -> int | None:
        """The second to judge now, or None when it was judged already."""
        second = now_second - JUDGE_LAG_SECONDS
        return second if second > self.judged else None

    def judge(self, second: int, pressure: Pressure) -> float:
        """The share after ``second`` pressed the checkout with ``pressure``."""
        self.judged = second
        settings = self.settings
        enough = pressure.served >= MIN_REQUESTS  # requests to judge by
        if enough and pressure.strained_share > settings.flow_strained_share:
            self.share = max(settings.flow_floor, self.share * settings.flow_cut)
        elif enough and pressure.strained == 0:  # not one request strained: it has room
            step = max(settings.flow_step, (1.0 - self.share) * CALM_RECOVERY)
            self.share = min(1.0, self.share + step)
        else:
            self.share = min(1.0, self.share + settings.flow_step)
        return self.share
