"""waitroom's use cases: the only module other contexts may call."""

from __future__ import annotations

from boxoffice.platform.runtime import Runtime
from boxoffice.waitroom import admission
from boxoffice.waitroom.contracts import Admission


def check_admission(
    runtime: Runtime, token: str | None, *, show_id: str, user_id: str
) -> Admission:
    """Verify an admission token for (show, user); raises AdmissionRequired / AdmissionInvalid."""
    return admission.check(runtime, token, show_id=show_id, user_id=user_id)
