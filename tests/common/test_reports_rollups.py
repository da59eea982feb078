"""The rollup reducer and the mergeable histograms, without I/O."""

from __future__ import annotations

import copy
import json
import statistics
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from switchboard_common.domain.events import (
    ConversationAssigned,
    ConversationAssignedPayload,
    ConversationCreated,
    ConversationCreatedPayload,
    ConversationCsatAnswered,
    ConversationCsatAnsweredPayload,
    ConversationStatusChanged,
    ConversationStatusPayload,
    MessageCreated,
    MessageCreatedPayload,
)
from switchboard_common.domain.reports import histogram, rollups

T0 = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
ACCOUNT, INBOX, CONTACT, AGENT = (uuid.uuid4() for _ in range(4))


def test_small_durations_are_exact_and_quantiles_interpolate() -> None:
    values = [30, 60, 90, 600 - 1, 12]
    counts = [(histogram.bin_of(v), 1) for v in values]
    assert histogram.quantile(counts, 0.5) == statistics.median(values)
    assert histogram.quantile([(histogram.bin_of(v), 1) for v in (10, 20)], 0.5) == 15
    assert histogram.quantile([], 0.5) is None
    assert histogram.quantile([(histogram.bin_of(100), 9), (histogram.bin_of(200), 1)], 0.9) == pytest.approx(110.0)


@given(st.lists(st.floats(min_value=0, max_value=30 * 24 * 3600), min_size=1, max_size=200))
def test_large_durations_within_one_percent(values: list[float]) -> None:
    counts: dict[int, int] = {}
    for v in values:
        counts[histogram.bin_of(v)] = counts.get(histogram.bin_of(v), 0) + 1
    for q in (0.5, 0.9):
        estimate = histogram.quantile(counts.items(), q)
        ordered = sorted(values)
        position = (len(ordered) - 1) * q
        low, high = ordered[int(position)], ordered[min(int(position) + 1, len(ordered) - 1)]
        assert estimate is not None
        assert min(low, high) * 0.99 - 0.5 <= estimate <= max(low, high) * 1.01 + 0.5


@given(
    st.lists(
        st.lists(st.floats(min_value=0, max_value=60 * 24 * 3600), min_size=0, max_size=40), min_size=0, max_size=8
    )
)
def test_packed_histograms_merge_to_the_same_quantiles(parts: list[list[float]]) -> None:
    """Several packed histograms (a group's days), their bytes concatenated as ``string_agg`` does, give exactly
    what their bins counted together give; compacted into one entry per bin they give it too."""
    packed = []
    together: dict[int, int] = {}
    for part in parts:
        counts: dict[int, int] = {}
        for v in part:
            counts[histogram.bin_of(v)] = counts.get(histogram.bin_of(v), 0) + 1
            together[histogram.bin_of(v)] = together.get(histogram.bin_of(v), 0) + 1
        packed.append(histogram.pack(counts))
        assert [int(p) >> 32 for p in histogram.unpack(packed[-1])] == sorted(counts)
    expected = [histogram.quantile(together.items(), q) for q in (0.5, 0.9, 0.0, 1.0)]
    concatenated = histogram.unpack(b"".join(packed))
    assert histogram.merged_quantiles(concatenated, (0.5, 0.9, 0.0, 1.0)) == expected
    compacted = histogram.compact(concatenated)
    assert compacted == histogram.pack(together)
    assert histogram.is_compact(histogram.unpack(compacted))
    assert histogram.is_compact(concatenated) == (compacted == b"".join(packed))


def test_packing_is_big_endian_int64_and_refuses_counts_that_do_not_fit() -> None:
    # PostgreSQL's int8send of each value: what migration 0018 wrote from the bigint[] form.
    assert histogram.pack({5: 2, 3: 1, 9: 0}) == ((3 << 32) | 1).to_bytes(8, "big") + ((5 << 32) | 2).to_bytes(8, "big")
    assert histogram.pack({}) == b"" and histogram.compact(histogram.unpack(b"")) == b""
    with pytest.raises(ValueError, match="32 bits"):
        histogram.pack({1: 1 << 32})
    with pytest.raises(ValueError, match="32 bits"):
        histogram.compact(histogram.unpack(histogram.pack({1: (1 << 32) - 1}) * 2))
    assert histogram.merged_quantiles([], (0.5,)) == [None]


@given(st.lists(st.integers(0, 599), min_size=1, max_size=50), st.lists(st.integers(0, 599), min_size=1, max_size=50))
def test_merging_bins_is_the_same_as_counting_together(a: list[int], b: list[int]) -> None:
    merged: dict[int, int] = {}
    for v in [*a, *b]:
        merged[histogram.bin_of(v)] = merged.get(histogram.bin_of(v), 0) + 1
    assert histogram.quantile(merged.items(), 0.5) == statistics.median([*a, *b])


def _created(conversation: uuid.UUID, at: datetime) -> ConversationCreated:
    return ConversationCreated(
        tenant_id=ACCOUNT,
        conversation_id=conversation,
        occurred_at=at,
        payload=ConversationCreatedPayload(inbox_id=INBOX, contact_id=CONTACT, channel="web"),
    )


def _message(conversation: uuid.UUID, at: datetime, direction: str, sender: str) -> MessageCreated:
    return MessageCreated(
        tenant_id=ACCOUNT,
        conversation_id=conversation,
        occurred_at=at,
        payload=MessageCreatedPayload(
            message_id=uuid.uuid4(),
            inbox_id=INBOX,
            contact_id=CONTACT,
            channel="web",
            direction=direction,  # type: ignore[arg-type]
            sender_type=sender,  # type: ignore[arg-type]
            sender_id=AGENT if sender == "agent" else None,
            text="never in a rollup",
            created_at=at,
        ),
    )


def test_a_conversation_becomes_counts_and_durations_only() -> None:
    c = uuid.uuid4()
    facts, deltas = rollups.apply(None, _created(c, T0))
    assert [d.counter for d in deltas] == ["conversations_opened"] and deltas[0].dims.agent_id is None
    assigned = ConversationAssigned(
        tenant_id=ACCOUNT,
        conversation_id=c,
        occurred_at=T0 + timedelta(seconds=45),
        payload=ConversationAssignedPayload(agent_id=AGENT, inbox_id=INBOX, strategy="least_busy"),
    )
    facts, deltas = rollups.apply(facts, assigned)
    assert [(d.metric, d.seconds, d.dims.agent_id) for d in deltas] == [(rollups.METRICS["queue_wait"], 45.0, AGENT)]
    facts, deltas = rollups.apply(facts, _message(c, T0 + timedelta(seconds=50), "inbound", "contact"))
    assert [d.counter for d in deltas] == ["messages_in"]
    facts, deltas = rollups.apply(facts, _message(c, T0 + timedelta(seconds=120), "outbound", "agent"))
    assert [(d.counter, d.metric, d.seconds) for d in deltas] == [
        ("messages_out", None, 0.0),
        (None, rollups.METRICS["first_response"], 120.0),
    ]
    facts, deltas = rollups.apply(facts, _message(c, T0 + timedelta(seconds=200), "outbound", "agent"))
    assert [d.counter for d in deltas] == ["messages_out"]  # only the first reply is a first response
    resolved = ConversationStatusChanged(
        tenant_id=ACCOUNT,
        conversation_id=c,
        occurred_at=T0 + timedelta(hours=1),
        payload=ConversationStatusPayload(inbox_id=INBOX, status="resolved", actor_id=AGENT),
    )
    facts, deltas = rollups.apply(facts, resolved)
    assert [(d.counter, d.seconds) for d in deltas] == [("conversations_resolved", 0.0), (None, 3600.0)]
    assert deltas[0].hour == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert facts is not None
    stored = facts.to_json()
    assert "never in a rollup" not in str(stored) and str(CONTACT) not in str(stored)
    assert rollups.Facts.from_json(stored) == facts


def test_a_changed_rating_moves_instead_of_adding() -> None:
    c = uuid.uuid4()
    facts, _ = rollups.apply(None, _created(c, T0))

    def answer(rating: int, at: datetime, revision: int) -> ConversationCsatAnswered:
        return ConversationCsatAnswered(
            tenant_id=ACCOUNT,
            conversation_id=c,
            occurred_at=at,
            payload=ConversationCsatAnsweredPayload(
                inbox_id=INBOX, contact_id=CONTACT, channel="web", rating=rating, answered_at=at, revision=revision
            ),
        )

    facts, first = rollups.apply(facts, answer(2, T0, 1))
    facts, second = rollups.apply(facts, answer(5, T0 + timedelta(hours=3), 2))
    totals: dict[str, int] = {}
    for d in [*first, *second]:
        assert d.counter is not None
        totals[d.counter] = totals.get(d.counter, 0) + d.amount
    assert totals == {"csat_responses": 1, "csat_sum": 5}


def test_events_of_unknown_conversations_count_what_they_can() -> None:
    facts, deltas = rollups.apply(None, _message(uuid.uuid4(), T0, "inbound", "contact"))
    assert facts is None and [d.counter for d in deltas] == ["messages_in"]


@given(
    st.builds(
        rollups.Facts,
        inbox_id=st.none() | st.uuids(),
        team_id=st.none() | st.uuids(),
        agent_id=st.none() | st.uuids(),
        labels=st.lists(st.text(max_size=5), max_size=3).map(tuple),
        opened_at=st.none() | st.datetimes(timezones=st.just(UTC)),
        csat_rating=st.none() | st.integers(1, 5),
        csat_dims=st.none()
        | st.builds(
            rollups.Dims, st.none() | st.uuids(), st.none() | st.uuids(), st.none() | st.uuids(), st.just("web")
        ),
        csat_labels=st.lists(st.text(max_size=5), max_size=2).map(tuple),
    )
)
def test_facts_are_stored_without_deep_copies_and_read_back_equal(facts: rollups.Facts) -> None:
    """A conversation's facts go to JSON field by field (dataclasses.asdict deep-copied every value: a tenth of
    the gateway's CPU while a queue drained) and read back equal."""
    original = copy.deepcopy
    copy.deepcopy = _no_deep_copies  # type: ignore[assignment]
    try:
        stored = facts.to_json()
    finally:
        copy.deepcopy = original
    assert rollups.Facts.from_json(json.loads(json.dumps(stored))) == facts


def _no_deep_copies(*_args: object, **_kwargs: object) -> object:
    raise AssertionError("deep copy")
