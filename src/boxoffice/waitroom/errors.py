"""waitroom's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, Forbidden


class AdmissionRequired(Forbidden):
    code, title = "admission_required", "Admission token required"


class AdmissionInvalid(Forbidden):
    code, title = "admission_invalid", "Admission token is not valid"


class QueueNotUsed(Conflict):
    title = "This show sells without a waiting room"
