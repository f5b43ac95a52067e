"""An outage while asking a group's committed offsets is waited out; an error that is not an
outage is raised at once. The admin client is a stand-in here: a coordinator that is loading
its offsets cannot be produced on demand on a real broker (the real answers are tested in
``tests/integration/test_offsets.py`` and by every ``replay`` test)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import CoordinatorLoadInProgressError, GroupAuthorizationFailedError
from kafka.structs import OffsetAndMetadata

from streams import offsets

TP = TopicPartition("t", 0)
NONE = TopicPartition("t", 1)


class Admin:
    """Answers ``list_group_offsets`` after raising each of ``errors`` once."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.asked = 0

    def list_group_offsets(self, specs: dict[str, list[TopicPartition]]) -> dict[str, Any]:
        self.asked += 1
        if self.errors:
            raise self.errors.pop(0)
        (group,) = specs
        return {group: {TP: OffsetAndMetadata(7, "", -1), NONE: OffsetAndMetadata(-1, "", -1)}}


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offsets, "RETRY_S", 0.0)


def test_a_loading_coordinator_is_asked_again() -> None:
    admin = Admin(CoordinatorLoadInProgressError(), CoordinatorLoadInProgressError())
    assert offsets.committed_offsets(admin, "g", [TP, NONE]) == {TP: 7}
    assert admin.asked == 3


def test_an_error_that_is_not_an_outage_is_raised_at_once() -> None:
    admin = Admin(GroupAuthorizationFailedError())
    with pytest.raises(GroupAuthorizationFailedError):
        offsets.committed_offsets(admin, "g", [TP])
    assert admin.asked == 1


class Down(Admin):
    """A coordinator that never finishes loading."""

    def list_group_offsets(self, specs: dict[str, list[TopicPartition]]) -> dict[str, Any]:
        self.asked += 1
        raise CoordinatorLoadInProgressError()


def test_an_outage_longer_than_the_patience_is_raised() -> None:
    admin = Down()
    with pytest.raises(CoordinatorLoadInProgressError):
        offsets.committed_offsets(admin, "g", [TP], patience=0.05)
    assert admin.asked > 1
