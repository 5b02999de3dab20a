"""waitroom's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import Conflict, Forbidden, Unprocessable


class AdmissionRequired(Forbidden):
    code, title = "admission_required", "Admission token required"


class AdmissionInvalid(Forbidden):
    code, title = "admission_invalid", "Admission token is not valid"


class SaleNotOpen(Unprocessable):
    code, title = "sale_not_open", "The sale is not open"


class QueueNotUsed(Conflict):
    title = "This show sells without a waiting room"
