"""The OpenAPI document's operation ids stay put: a client generated from the document names
its methods after them, so renaming an endpoint (its name is its id, ``openapi.operation_id``)
would break that client without a word. The ids are listed in ``operation_ids.txt``; a change
to them is a change to the API, made on purpose by editing that file."""

from __future__ import annotations

from pathlib import Path

from boxoffice.app import create_app

LISTED = Path(__file__).with_name("operation_ids.txt")


def _operation_ids() -> list[str]:
    document = create_app().openapi()
    return [
        operation["operationId"]
        for path in document["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]


def test_every_operation_keeps_its_listed_id() -> None:
    ids = _operation_ids()
    listed = LISTED.read_text().split()
    assert len(ids) == len(set(ids)), "two operations share an id"
    assert sorted(ids) == listed, (
        f"gone: {sorted(set(listed) - set(ids))}, new: {sorted(set(ids) - set(listed))}"
    )
