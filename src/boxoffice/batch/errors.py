"""batch's refusals."""

from __future__ import annotations

from boxoffice.platform.errors import BadRequest, Conflict, NotFound


class JobNotFound(NotFound):
    title = "No such job"


class RunNotFound(NotFound):
    title = "No such run"


class JobAlreadyRunning(Conflict):
    code, title = "conflict", "The job is running already"


class InvalidCursor(BadRequest):
    title = "Invalid cursor"
