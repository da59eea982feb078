"""The connectors' app factory (channel webhooks) and background workers (ingest, outbound delivery)."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_common.runtime import Resources
from switchboard_common.service import BackgroundWorkers, create_service_app

from switchboard_connectors.channels.api import ApiCallbackSender
from switchboard_connectors.channels.api import router as api_channel_router
from switchboard_connectors.deliveries import DeliveryWorker
from switchboard_connectors.ingest_worker import IngestWorker
from switchboard_connectors.outbound import ChannelSender, OutboundDispatcher, WebWidgetSender
from switchboard_connectors.settings import ConnectorSettings
from switchboard_connectors.subscriptions import SubscriptionFanout
from switchboard_connectors.webhooks import InboxDirectory


def channel_senders(resources: Resources) -> dict[str, ChannelSender]:
    return {"web": WebWidgetSender(resources), "api": ApiCallbackSender(resources)}


def background_workers(resources: Resources) -> BackgroundWorkers:
    directory = InboxDirectory(resources)
    return BackgroundWorkers(
        [
            IngestWorker(resources, directory).consumer(),
            OutboundDispatcher(resources, channel_senders(resources)).consumer(),
            SubscriptionFanout(resources).consumer(),
            DeliveryWorker(resources),
        ]
    )


async def _on_startup(app: FastAPI, resources: Resources) -> None:
    app.state.inboxes = InboxDirectory(resources)


def create_app(settings: ConnectorSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    app = create_service_app(
        service="connectors",
        title="Switchboard connectors",
        settings=settings or ConnectorSettings(),
        workers=background_workers,
        run_workers=run_workers,
        on_startup=_on_startup,
        description="Channel webhooks (verified, normalized, published) and outbound delivery.",
    )
    app.include_router(api_channel_router)
    return app
