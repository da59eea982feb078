"""Writes a batch of events into the rollups, each event once.

One transaction per batch: the batch's event ids go into ``report_seen_events`` (``ON CONFLICT DO NOTHING
RETURNING``: ids already there were counted before, by this or another replica, and are skipped); the
conversations' facts are read ``FOR UPDATE``, the pure reducer (switchboard_common.domain.reports.rollups) runs
over the new events in order, and the deltas are added to the rollup and histogram rows with
``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``, in key order (replicas never deadlock).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.events import ConversationCreated, Event
from switchboard_common.domain.inboxes.models import Inbox
from switchboard_common.domain.reports import histogram, rollups
from switchboard_common.domain.reports.models import (
    COUNTERS,
    NONE_ID,
    ReportConversation,
    ReportDimension,
    ReportGroup,
    ReportHistogram,
    ReportRollup,
    ReportSeenEvent,
)
from switchboard_common.infra.db.base import utcnow

METRIC_COLUMNS = {number: name for name, number in rollups.METRICS.items()}  # report_groups' histogram columns
GROUP_KEY = ("account_id", "group_by", "span", "start", "key")  # report_groups' primary key
# Redeliveries come within the topics' retention (7 days); ids are kept twice that.
SEEN_RETENTION = timedelta(days=14)
DimensionKey = tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID, str, str]


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _statements() -> dict[str, Any]:
    """The batch's writes as Core statements built once and executed with a list of rows (executemany): the
    compiled form is cached, where an ORM insert with ``.values(rows)`` was compiled again for every batch
    size and went through the ORM's bulk path."""
    seen, conversations = _table(ReportSeenEvent), _table(ReportConversation)
    rollup, bins, groups = _table(ReportRollup), _table(ReportHistogram), _table(ReportGroup)
    facts = insert(conversations)
    counters = insert(rollup)
    histogram_rows = insert(bins)
    group_rows = insert(groups)
    return {
        "dimensions": insert(_table(ReportDimension)).on_conflict_do_nothing(),
        "seen": insert(seen).on_conflict_do_nothing().returning(seen.c.event_id),
        "facts": facts.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={"facts": facts.excluded.facts, "updated_at": facts.excluded.updated_at},
        ),
        "rollups": counters.on_conflict_do_update(
            index_elements=["dimension_id", "hour"],
            set_={name: rollup.c[name] + counters.excluded[name] for name in COUNTERS},
        ),
        "histograms": histogram_rows.on_conflict_do_update(
            index_elements=["dimension_id", "hour", "metric", "bin"],
            set_={"count": bins.c["count"] + histogram_rows.excluded["count"]},
        ),
        # The histograms are appended (``||``: a copy; concatenated histograms add up) and returned, so the
        # writer can fold a row that now repeats bins back into one entry per bin (``compact_groups``) while
        # the upsert still holds its lock.
        "groups": group_rows.on_conflict_do_update(
            index_elements=GROUP_KEY,
            set_={
                **{name: groups.c[name] + group_rows.excluded[name] for name in COUNTERS},
                **{name: groups.c[name].concat(group_rows.excluded[name]) for name in METRIC_COLUMNS.values()},
            },
        ).returning(*(groups.c[name] for name in GROUP_KEY), *(groups.c[name] for name in METRIC_COLUMNS.values())),
        "compact_groups": update(groups)
        .where(*(groups.c[name] == bindparam(f"k_{name}") for name in GROUP_KEY))
        .values({name: bindparam(f"h_{name}") for name in METRIC_COLUMNS.values()}),
    }


STATEMENTS = _statements()


class DimensionIds:
    """Dimension rows are never changed once made: their ids are cached for the process's life."""

    def __init__(self, limit: int = 200_000) -> None:
        self._ids: dict[DimensionKey, int] = {}
        self._limit = limit

    async def ids(self, session: AsyncSession, keys: set[DimensionKey]) -> dict[DimensionKey, int]:
        missing = [k for k in keys if k not in self._ids]
        if missing:
            if len(self._ids) + len(missing) > self._limit:
                self._ids.clear()
            rows = [
                {"account_id": a, "agent_id": ag, "team_id": t, "inbox_id": i, "channel": c, "label": label}
                for a, ag, t, i, c, label in sorted(missing, key=str)
            ]
            await session.execute(STATEMENTS["dimensions"], rows)
            found = await session.execute(
                select(
                    ReportDimension.id,
                    ReportDimension.account_id,
                    ReportDimension.agent_id,
                    ReportDimension.team_id,
                    ReportDimension.inbox_id,
                    ReportDimension.channel,
                    ReportDimension.label,
                )
                .where(ReportDimension.account_id.in_({k[0] for k in missing}))
                .where(ReportDimension.inbox_id.in_({k[3] for k in missing}))
            )
            for row in found:
                self._ids[(row.account_id, row.agent_id, row.team_id, row.inbox_id, row.channel, row.label)] = row.id
        return {k: self._ids[k] for k in keys}


def _keys(account_id: uuid.UUID, delta: rollups.Delta) -> list[DimensionKey]:
    d = delta.dims
    base = (account_id, d.agent_id or NONE_ID, d.team_id or NONE_ID, d.inbox_id or NONE_ID, d.channel)
    return [(*base, ""), *((*base, label) for label in delta.labels)]


async def inbox_teams(session: AsyncSession, events: Sequence[Event]) -> dict[uuid.UUID, uuid.UUID | None]:
    """The team each new conversation's inbox routes to (``conversation.created`` events of ``events``)."""
    inbox_ids = {e.payload.inbox_id for e in events if isinstance(e, ConversationCreated)}
    if not inbox_ids:
        return {}
    rows = await session.execute(select(Inbox.id, Inbox.routing).where(Inbox.id.in_(inbox_ids)))
    teams: dict[uuid.UUID, uuid.UUID | None] = {}
    for inbox_id, routing in rows:
        team = (routing or {}).get("team_id")
        try:
            teams[inbox_id] = uuid.UUID(str(team)) if team else None
        except ValueError:
            teams[inbox_id] = None
    return teams


@dataclass
class Deltas:
    """What a run of events adds: counters per (dimension, hour) and duration counts per (dimension, hour,
    metric, bin). Additive: deltas of several runs merge by adding, so they can be written in any grouping."""

    counters: dict[tuple[DimensionKey, datetime], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    bins: dict[tuple[DimensionKey, datetime, int, int], int] = field(default_factory=lambda: defaultdict(int))

    def __bool__(self) -> bool:
        return bool(self.counters or self.bins)


def fold(
    facts: dict[uuid.UUID, rollups.Facts | None],
    events: Iterable[Event],
    teams: dict[uuid.UUID, uuid.UUID | None],
    deltas: Deltas,
) -> dict[uuid.UUID, uuid.UUID]:
    """Runs the reducer over ``events`` in order (no I/O): updates ``facts`` in place, adds to ``deltas``, and
    returns the conversations whose facts changed (with their accounts)."""
    changed: dict[uuid.UUID, uuid.UUID] = {}
    counters, bins = deltas.counters, deltas.bins
    for event in events:
        assert event.conversation_id is not None
        team = teams.get(event.payload.inbox_id) if isinstance(event, ConversationCreated) else None
        before = facts.get(event.conversation_id)
        after, produced = rollups.apply(before, event, inbox_team=team)
        if after is not before:
            facts[event.conversation_id] = after
            changed[event.conversation_id] = event.tenant_id
        for delta in produced:
            for key in _keys(event.tenant_id, delta):
                if delta.counter is not None:
                    counters[(key, delta.hour)][delta.counter] += delta.amount
                elif delta.metric is not None:
                    bins[(key, delta.hour, delta.metric, histogram.bin_of(delta.seconds))] += delta.amount
    return changed


async def write_deltas(session: AsyncSession, deltas: Deltas, dimensions: DimensionIds) -> None:
    """Adds ``deltas`` to the rollup and histogram rows (upserts in key order: replicas never deadlock)."""
    counters, bins = deltas.counters, deltas.bins
    keys = {k for k, _h in counters} | {k for k, _h, _m, _b in bins}
    if not keys:
        return
    ids = await dimensions.ids(session, keys)
    if counters:
        rows = [
            {
                "dimension_id": ids[key],
                "hour": hour,
                "account_id": key[0],
                **{name: values.get(name, 0) for name in COUNTERS},
            }
            for (key, hour), values in sorted(counters.items(), key=lambda item: (ids[item[0][0]], item[0][1]))
        ]
        await session.execute(STATEMENTS["rollups"], rows)
    if bins:
        rows = [
            {"dimension_id": ids[key], "hour": hour, "metric": metric, "bin": bin_, "account_id": key[0], "count": n}
            for (key, hour, metric, bin_), n in sorted(
                bins.items(), key=lambda item: (ids[item[0][0]], item[0][1], item[0][2], item[0][3])
            )
        ]
        await session.execute(STATEMENTS["histograms"], rows)
    await write_groups(session, group_rows(deltas))


async def write_groups(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Adds ``rows`` (:func:`group_rows`) to ``report_groups``: counters summed and histograms appended by one
    upsert in key order (replicas never deadlock), then the rows whose histograms now repeat bins rewritten
    with one entry per bin (numpy), so a stored histogram stays as long as its distinct bins."""
    if not rows:
        return
    sent = {tuple(row[name] for name in GROUP_KEY): row for row in rows}
    width = len(GROUP_KEY)
    compacted = []
    for stored in (await session.execute(STATEMENTS["groups"], rows)).all():
        key = tuple(stored[:width])
        added = sent[key]
        histograms = dict(zip(METRIC_COLUMNS.values(), stored[width:], strict=True))
        # A histogram this batch added nothing to is as it was (compact); one as long as what was added is new.
        grown = [name for name, packed in histograms.items() if added[name] and len(packed) > len(added[name])]
        if not grown:
            continue
        compacted.append(
            {
                **{f"k_{name}": value for name, value in zip(GROUP_KEY, key, strict=True)},
                **{
                    f"h_{name}": histogram.compact(histogram.unpack(packed)) if name in grown else packed
                    for name, packed in histograms.items()
                },
            }
        )
    if compacted:
        await session.execute(STATEMENTS["compact_groups"], compacted)


GroupKey = tuple[uuid.UUID, str, str, datetime, str]  # account, group_by, span, start, key (report_groups' key)


def _groups_of(key: DimensionKey) -> tuple[tuple[str, str], ...]:
    """The groups a dimension's counts add to: a labelled dimension to its label, the unlabelled total to its
    agent, team, inbox and channel (the rollups' own split: ``group_by=label`` lists labelled work only)."""
    _account, agent, team, inbox, channel, label = key
    if label:
        return (("label", label),)
    return (("agent", str(agent)), ("team", str(team)), ("inbox", str(inbox)), ("channel", channel))


def group_rows(deltas: Deltas) -> list[dict[str, Any]]:
    """``deltas`` summed per group and UTC hour and day: the ``report_groups`` rows to add, in key order."""
    counters: dict[GroupKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    bins: dict[GroupKey, dict[int, dict[int, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for (key, hour), values in deltas.counters.items():
        for span, start in (("hour", hour), ("day", hour.replace(hour=0))):
            for group_by, group in _groups_of(key):
                target = counters[(key[0], group_by, span, start, group)]
                for name, n in values.items():
                    target[name] += n
    for (key, hour, metric, bin_), n in deltas.bins.items():
        for span, start in (("hour", hour), ("day", hour.replace(hour=0))):
            for group_by, group in _groups_of(key):
                bins[(key[0], group_by, span, start, group)][metric][bin_] += n
    rows = []
    for group_key in sorted(counters.keys() | bins.keys(), key=lambda k: (str(k[0]), *k[1:])):
        account, group_by, span, start, group = group_key
        values = counters.get(group_key, {})
        histograms = bins.get(group_key, {})
        rows.append(
            {
                "account_id": account,
                "group_by": group_by,
                "span": span,
                "start": start,
                "key": group,
                **{name: values.get(name, 0) for name in COUNTERS},
                **{name: histogram.pack(histograms.get(number, {})) for number, name in METRIC_COLUMNS.items()},
            }
        )
    return rows


async def apply_batch(session: AsyncSession, events: Sequence[Event], dimensions: DimensionIds) -> int:
    """Counts the events of ``events`` not counted before; returns how many were new (call in a transaction)."""
    wanted = [e for e in events if e.type in rollups.REPORTED_TYPES and e.conversation_id is not None]
    unique = list({e.event_id: e for e in wanted}.values())
    if not unique:
        return 0
    seen_at = utcnow()
    fresh = set(
        (await session.execute(STATEMENTS["seen"], [{"event_id": e.event_id, "seen_at": seen_at} for e in unique]))
        .scalars()
        .all()
    )
    new = [e for e in unique if e.event_id in fresh]
    if not new:
        return 0
    conversation_ids = sorted({e.conversation_id for e in new if e.conversation_id is not None}, key=str)
    stored = {
        row.conversation_id: rollups.Facts.from_json(row.facts)
        for row in (
            await session.scalars(
                select(ReportConversation)
                .where(ReportConversation.conversation_id.in_(conversation_ids))
                .order_by(ReportConversation.conversation_id)
                .with_for_update()
            )
        ).all()
    }
    facts: dict[uuid.UUID, rollups.Facts | None] = dict(stored)
    deltas = Deltas()
    changed = fold(facts, new, await inbox_teams(session, new), deltas)
    if changed:
        rows = [
            {"conversation_id": cid, "account_id": account, "facts": fact.to_json(), "updated_at": utcnow()}
            for cid, account in sorted(changed.items(), key=lambda item: str(item[0]))
            if (fact := facts.get(cid)) is not None
        ]
        if rows:
            await session.execute(STATEMENTS["facts"], rows)
    if deltas:
        await write_deltas(session, deltas, dimensions)
    return len(new)


async def forget_seen(session: AsyncSession) -> None:
    """Drops event ids older than any redelivery (and facts of conversations long resolved)."""
    await session.execute(delete(ReportSeenEvent).where(ReportSeenEvent.seen_at < utcnow() - SEEN_RETENTION))
    await session.execute(
        text("DELETE FROM report_conversations WHERE updated_at < :cutoff AND facts->>'status' = 'resolved'"),
        {"cutoff": utcnow() - timedelta(days=30)},
    )
