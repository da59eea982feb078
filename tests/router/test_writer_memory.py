"""What the routing writer remembers per account costs the same however much it remembers: the ids of the
commands it applied (a redelivered command is applied once) are looked up without scanning them."""

from __future__ import annotations

import uuid

from switchboard_router.writer import SEEN_COMMANDS, RecentIds


class CountedId(uuid.UUID):
    """A command id that counts how often it is compared with another (a scan compares it with every entry)."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountedId.comparisons += 1
        return super().__eq__(other)

    def __hash__(self) -> int:
        return super().__hash__()


def test_a_redelivered_command_is_recognised_and_old_ones_are_forgotten_in_order() -> None:
    seen = RecentIds(3)
    ids = [uuid.uuid4() for _ in range(5)]
    assert [seen.add(i) for i in ids[:3]] == [False, False, False]
    assert seen.add(ids[1]) is True  # redelivered: applied once
    assert seen.add(ids[3]) is False  # the oldest (ids[0]) leaves
    assert ids[0] not in seen and ids[1] in seen and ids[3] in seen
    assert len(seen) == 3
    assert seen.add(ids[0]) is False  # forgotten: new again
    assert ids[1] not in seen


def test_looking_up_a_command_does_not_scan_what_is_remembered() -> None:
    """Thousands of agents coming online at once are thousands of presence commands: each lookup must not
    compare the new id with every remembered one (a bounded deque did, 10,000 comparisons a command)."""
    seen = RecentIds(SEEN_COMMANDS)
    for _ in range(SEEN_COMMANDS):
        seen.add(uuid.uuid4())
    fresh = CountedId(int=uuid.uuid4().int)
    CountedId.comparisons = 0
    assert seen.add(fresh) is False
    assert fresh in seen
    assert CountedId.comparisons <= 2
