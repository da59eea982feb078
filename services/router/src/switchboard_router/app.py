"""The router's app factory (health, readiness, metrics) and its background workers."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.outbox import OutboxRelay
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers, create_service_app

from switchboard_router.feed import RoutingFeed
from switchboard_router.settings import RouterSettings
from switchboard_router.sla import SlaConsumer, SlaTimerWorker
from switchboard_router.timers import PresenceWorker
from switchboard_router.writer import RoutingWriter


def background_workers(resources: Resources) -> BackgroundWorkers:
    settings = resources.settings
    return BackgroundWorkers(
        [
            RoutingWriter(
                resources,
                tick_seconds=getattr(settings, "router_queue_interval_seconds", 1.0),
                batch_limit=getattr(settings, "router_batch_limit", 500),
            ),
            RoutingFeed(resources),
            OutboxRelay(resources.sessionmaker, resources.bus),
            PresenceWorker(resources, interval=getattr(settings, "router_timer_interval_seconds", 0.5)),
            SlaConsumer(resources).consumer(),
            SlaTimerWorker(resources, interval=getattr(settings, "router_timer_interval_seconds", 0.5)),
        ]
    )


def create_app(settings: RouterSettings | None = None, *, run_workers: bool | Sequence[str] = True) -> FastAPI:
    return create_service_app(
        event_codec=event_codec,
        service="router",
        title="Switchboard router",
        settings=settings or RouterSettings(),
        workers=background_workers,
        run_workers=run_workers,
        description="Assigns conversations to agents.",
    )
