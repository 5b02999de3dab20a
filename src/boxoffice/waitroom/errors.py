"""waitroom's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Forbidden


class AdmissionRequired(Forbidden):
    code, title = "admission_required", "Admission token required"


class AdmissionInvalid(Forbidden):
    code, title = "admission_invalid", "Admission token is not valid"
