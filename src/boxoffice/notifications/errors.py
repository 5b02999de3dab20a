"""notifications' refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, Unprocessable


class WebhookTargetRefused(Unprocessable):
    code, title = "webhook_target_refused", "This address cannot receive webhooks"


class WebhookEndpointDisabled(Conflict):
    code, title = "webhook_endpoint_disabled", "The endpoint is disabled; enable it first"
