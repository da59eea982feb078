"""The connectors' app factory (channel webhooks) and background workers (ingest, outbound delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fastapi import FastAPI
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers, RoleWorker, create_service_app

from switchboard_connectors.channels.api.outbound import ApiCallbackSender
from switchboard_connectors.channels.api.webhook import router as api_channel_router
from switchboard_connectors.channels.dialogflow.bot import BotWorker
from switchboard_connectors.channels.dialogflow.client import DialogflowClient
from switchboard_connectors.channels.dialogflow.webhook import router as dialogflow_router
from switchboard_connectors.channels.messenger.client import GraphApi
from switchboard_connectors.channels.messenger.handover import ThreadControl
from switchboard_connectors.channels.messenger.outbound import MessengerOutbound
from switchboard_connectors.channels.messenger.webhook import router as messenger_router
from switchboard_connectors.channels.messenger.worker import MessengerWorker
from switchboard_connectors.channels.slack.client import SlackApi
from switchboard_connectors.channels.slack.files import SlackFiles
from switchboard_connectors.channels.slack.install import install_router as slack_install_router
from switchboard_connectors.channels.slack.mirror import SlackMirror
from switchboard_connectors.channels.slack.outbound import SlackOutbound
from switchboard_connectors.channels.slack.webhook import router as slack_router
from switchboard_connectors.csat import CsatScheduler, CsatWorker
from switchboard_connectors.deliveries import DeliveryWorker
from switchboard_connectors.ingest_worker import IngestWorker
from switchboard_connectors.ingress import InboxDirectory
from switchboard_connectors.outbound import ChannelSender, OutboundDispatcher, QueuedHandover, WebWidgetSender
from switchboard_connectors.settings import ConnectorSettings
from switchboard_connectors.subscriptions import SubscriptionFanout


def channel_senders(resources: Resources) -> dict[str, ChannelSender]:
    return {
        "web": WebWidgetSender(resources),
        "api": ApiCallbackSender(resources),
        # Slack replies have their own consumer group (channels/slack_outbound.py): handed over here.
        "slack": QueuedHandover(),
        # Messenger replies too (channels/messenger.py MessengerOutbound): Graph throttling blocks only them.
        "messenger": QueuedHandover(),
    }


def slack_api(resources: Resources) -> SlackApi:
    settings = _settings(resources)
    return SlackApi(settings.slack_api_url, max_wait_seconds=settings.slack_max_wait_seconds)


def _settings(resources: Resources) -> ConnectorSettings:
    settings = resources.settings
    return settings if isinstance(settings, ConnectorSettings) else ConnectorSettings()


def background_workers(resources: Resources) -> BackgroundWorkers:
    directory = InboxDirectory(resources)
    slack = slack_api(resources)
    settings = _settings(resources)
    graph = GraphApi(settings.graph_api_url, max_wait_seconds=settings.messenger_max_wait_seconds)
    threads = ThreadControl(resources, graph, app_id=settings.messenger_app_id)
    dialogflow = DialogflowClient(
        resources,
        api_url=settings.dialogflow_api_url,
        token_url=settings.google_token_url,
        timeout=settings.dialogflow_timeout_seconds,
    )
    # Roles (``python -m switchboard_connectors --workers ingest`` or ``outbound``; deploy/k8s runs each
    # as a Deployment): "ingest" turns accepted webhooks into conversations and fetches what they refer
    # to; "outbound" carries replies, copies, bot answers and account webhooks out. API clients are shared.
    return BackgroundWorkers(
        [
            slack,  # first started, last stopped
            _role("outbound", SlackOutbound(resources, slack).consumer()),
            _role("outbound", SlackMirror(resources, slack, directory).consumer()),
            _role("ingest", SlackFiles(resources, slack, _settings(resources)).consumer()),
            graph,
            _role("outbound", MessengerOutbound(resources, graph, directory, threads).consumer()),
            _role("ingest", MessengerWorker(resources, graph, directory, threads).consumer()),
            dialogflow,
            _role("outbound", BotWorker(resources, dialogflow).consumer()),
            _role("ingest", IngestWorker(resources, directory).consumer()),
            _role("outbound", OutboundDispatcher(resources, channel_senders(resources)).consumer()),
            _role("outbound", SubscriptionFanout(resources).consumer()),
            _role("outbound", DeliveryWorker(resources)),
            _role("outbound", CsatScheduler(resources).consumer()),
            _role("outbound", CsatWorker(resources, slack, graph)),
        ]
    )


W = TypeVar("W", bound=RoleWorker)
# The worker roles (``--workers``); deploy/k8s runs one Deployment per role.
WORKER_ROLES = ("ingest", "outbound")


def _role(role: str, worker: W) -> W:
    assert role in WORKER_ROLES
    worker.role = role
    return worker


async def _on_startup(app: FastAPI, resources: Resources) -> None:
    app.state.inboxes = InboxDirectory(resources)
    app.state.slack_api = slack_api(resources)


async def _before_shutdown(app: FastAPI) -> None:
    api = getattr(app.state, "slack_api", None)
    if api is not None:
        await api.stop()


def create_app(settings: ConnectorSettings | None = None, *, run_workers: bool | Sequence[str] = True) -> FastAPI:
    app = create_service_app(
        event_codec=event_codec,
        service="connectors",
        title="Switchboard connectors",
        settings=settings or ConnectorSettings(),
        workers=background_workers,
        run_workers=run_workers,
        on_startup=_on_startup,
        before_shutdown=_before_shutdown,
        description="Channel webhooks (verified, normalized, published) and outbound delivery.",
    )
    for router in (api_channel_router, slack_router, slack_install_router, messenger_router, dialogflow_router):
        app.include_router(router)
    return app
