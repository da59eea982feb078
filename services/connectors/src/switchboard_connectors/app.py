"""The connectors' app factory (webhooks) and background consumers (outbound delivery)."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_common.runtime import Resources
from switchboard_common.service import BackgroundWorkers, create_service_app

from switchboard_connectors.outbound import ChannelSender, OutboundDispatcher, WebWidgetSender
from switchboard_connectors.settings import ConnectorSettings


def channel_senders(resources: Resources) -> dict[str, ChannelSender]:
    return {"web": WebWidgetSender(resources)}


def background_workers(resources: Resources) -> BackgroundWorkers:
    return BackgroundWorkers([OutboundDispatcher(resources, channel_senders(resources)).consumer()])


def create_app(settings: ConnectorSettings | None = None, *, run_workers: bool = True) -> FastAPI:
    return create_service_app(
        service="connectors",
        title="Switchboard connectors",
        settings=settings or ConnectorSettings(),
        workers=background_workers,
        run_workers=run_workers,
        description="Channel webhooks (verified, normalized, published) and outbound delivery.",
    )
