"""The rollup consumer (group ``gateway-reports``): every reported event into the hourly rollups, once.

Every reported type is batchable (``EventConsumer(batch_handler=...)``): a poll's events of all partitions
are counted in one transaction (switchboard_gateway.reports.store), in their partitions' order, so each
conversation's events stay in order. The offsets are committed only after the transaction (at least once);
``report_seen_events`` makes a replay count nothing twice.
"""

from __future__ import annotations

import time

from aiokafka import ConsumerRecord
from switchboard_common.domain.accounts.tenancy import cross_tenant_session
from switchboard_common.domain.events import Event
from switchboard_common.domain.reports.rollups import REPORTED_TYPES
from switchboard_common.infra.bus import CONVERSATIONS_TOPIC, EventConsumer, EventFilter
from switchboard_common.infra.periodic import PeriodicWorker
from switchboard_common.infra.runtime import Resources

from switchboard_gateway.reports import live, store


class RollupWriter:
    """Counts batches of events into the rollups; keeps its own cost (events counted, CPU seconds) for the bench."""

    def __init__(self, res: Resources) -> None:
        self.res = res
        self.dimensions = store.DimensionIds()
        self.events_counted = 0
        self.cpu_seconds = 0.0

    async def write(self, events: list[Event]) -> int:
        started = time.process_time()
        try:
            # A batch holds events of many accounts; each row it writes carries its event's account.
            async with cross_tenant_session(self.res.sessionmaker) as session, session.begin():
                counted = await store.apply_batch(session, events, self.dimensions)
        except Exception:
            self.dimensions = store.DimensionIds()  # ids made in the failed transaction do not exist
            raise
        self.events_counted += counted
        self.cpu_seconds += time.process_time() - started
        if counted:
            await live.mark_changed(self.res, {e.tenant_id for e in events})
        return counted


class RollupConsumer:
    def __init__(self, resources: Resources) -> None:
        self.res = resources
        self.writer = RollupWriter(resources)

    def consumer(self) -> EventConsumer:
        return EventConsumer(
            self.res.settings,
            group="gateway-reports",
            background=True,
            topics=[CONVERSATIONS_TOPIC],
            handler=self.handle,
            bus=self.res.bus,
            accepts=EventFilter(types=REPORTED_TYPES),
            batch_handler=self.handle_batch,
            batch_types=REPORTED_TYPES,
        )

    async def handle(self, event: Event, _record: ConsumerRecord | None = None) -> None:
        await self.writer.write([event])

    async def handle_batch(self, batch: list[tuple[Event, ConsumerRecord]]) -> None:
        await self.writer.write([event for event, _record in batch])


class ReportHousekeeping(PeriodicWorker):
    """Forgets counted event ids past any redelivery, hourly."""

    name = "reports-housekeeping"

    def __init__(self, res: Resources, *, interval: float = 3600.0) -> None:
        super().__init__(interval)
        self.res = res

    async def tick(self) -> None:
        async with cross_tenant_session(self.res.sessionmaker) as session, session.begin():
            await store.forget_seen(session)
