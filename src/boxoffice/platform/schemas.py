"""What every context's HTTP shapes share."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """A request body that refuses fields it does not know (422 ``validation_error``): a
    misspelt field is an error, not a setting silently left as it was."""

    model_config = ConfigDict(extra="forbid")
