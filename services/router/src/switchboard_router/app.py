"""The router's app factory (health, readiness, metrics) and its background consumer."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_common.outbox import OutboxRelay
from switchboard_common.runtime import Resources
from switchboard_common.service import BackgroundWorkers, create_service_app

from switchboard_router.consumer import RouterConsumer
from switchboard_router.settings import RouterSettings


def background_workers(resources: Resources) -> BackgroundWorkers:
    return BackgroundWorkers([RouterConsumer(resources).consumer(), OutboxRelay(resources.sessionmaker, resources.bus)])


def create_app(settings: RouterSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    return create_service_app(
        service="router",
        title="Switchboard router",
        settings=settings or RouterSettings(),
        workers=background_workers,
        run_workers=run_workers,
        description="Assigns conversations to agents.",
    )
