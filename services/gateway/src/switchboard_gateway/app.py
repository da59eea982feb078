"""The gateway's app factory and its background consumers."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from switchboard_common.domain.accounts.revocation import RevocationListener
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.openapi import install_openapi
from switchboard_common.infra.outbox import OutboxRelay
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers, create_service_app

from switchboard_gateway.accounts.argon2_worker import HashParameters
from switchboard_gateway.accounts.passwords import PasswordHashing
from switchboard_gateway.accounts.schemas import state_regions
from switchboard_gateway.accounts.views import router as accounts_router
from switchboard_gateway.accounts.visibility_views import router as visibility_router
from switchboard_gateway.canned_responses.views import router as canned_responses_router
from switchboard_gateway.contacts.views import router as contacts_router
from switchboard_gateway.conversations.actions import router as conversation_actions_router
from switchboard_gateway.conversations.timeline import Timeline
from switchboard_gateway.conversations.views import router as conversations_router
from switchboard_gateway.csat.views import router as csat_router
from switchboard_gateway.inboxes.bot_views import router as inbox_bot_router
from switchboard_gateway.inboxes.routing_views import router as routing_settings_router
from switchboard_gateway.inboxes.slack_mirror_views import router as slack_mirror_router
from switchboard_gateway.inboxes.views import router as inboxes_router
from switchboard_gateway.labels.views import router as labels_router
from switchboard_gateway.processing.views import router as processing_router
from switchboard_gateway.queue.views import router as queue_router
from switchboard_gateway.realtime.sockets import SocketRegistry
from switchboard_gateway.realtime.views import router as realtime_router
from switchboard_gateway.reports.consumer import ReportHousekeeping, RollupConsumer
from switchboard_gateway.reports.live import LiveFloorPublisher
from switchboard_gateway.reports.views import router as reports_router
from switchboard_gateway.search.views import router as search_router
from switchboard_gateway.security.views import router as security_router
from switchboard_gateway.settings import GatewaySettings
from switchboard_gateway.sla.views import router as sla_router
from switchboard_gateway.spam.views import router as spam_router
from switchboard_gateway.subscriptions.views import router as subscriptions_router
from switchboard_gateway.teams.views import router as teams_router
from switchboard_gateway.web.views import config_router as widget_config_router
from switchboard_gateway.web.views import router as web_router
from switchboard_gateway.widget.cors import WidgetCors, parse_fallback
from switchboard_gateway.widget.views import router as widget_router


def background_workers(resources: Resources) -> BackgroundWorkers:
    return BackgroundWorkers(
        [
            Timeline(resources).consumer(),
            OutboxRelay(resources.sessionmaker, resources.bus),
            RollupConsumer(resources).consumer(),
            ReportHousekeeping(resources),
            LiveFloorPublisher(resources),
        ]
    )


def password_hashing(settings: GatewaySettings) -> PasswordHashing:
    return PasswordHashing(
        HashParameters(
            time_cost=settings.password_hash_time_cost,
            memory_kib=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        ),
        workers=settings.password_hash_workers,
        max_pending=settings.password_hash_max_pending,
        niceness=settings.password_hash_niceness,
    )


async def _on_startup(app: FastAPI, resources: Resources) -> None:
    # Its worker processes start at the first password check and stop with the app (_before_shutdown).
    app.state.passwords = password_hashing(app.state.settings)
    app.state.sockets = SocketRegistry()
    # Every replica that serves sockets listens (also with --no-workers): revocations close sockets at once.
    app.state.revocations = RevocationListener(resources.redis, resources.keys, app.state.sockets.on_revocation)
    await app.state.revocations.start()


async def _before_shutdown(app: FastAPI) -> None:
    await app.state.revocations.stop()
    # Sockets get 1012 (restart) so clients reconnect to another replica and replay what they missed.
    await app.state.sockets.close_all()
    await app.state.passwords.close()


def create_app(settings: GatewaySettings | None = None, *, run_workers: bool | Sequence[str] = True) -> FastAPI:
    settings = settings or GatewaySettings()
    app = create_service_app(
        event_codec=event_codec,
        service="gateway",
        title="Switchboard gateway",
        settings=settings,
        workers=background_workers,
        run_workers=run_workers,
        on_startup=_on_startup,
        before_shutdown=_before_shutdown,
        description="REST and WebSocket API for agent consoles and the website widget.",
    )
    # CORS only for the widget API, per inbox (switchboard_gateway.widget.cors): the agent API answers none.
    app.state.widget_cors_fallback = parse_fallback(settings.widget_allowed_origins)
    app.add_middleware(WidgetCors, fallback=app.state.widget_cors_fallback)
    # The widget API first: routes are matched in order, and a visitor's message is the hottest request.
    for router in (
        widget_router,
        accounts_router,
        security_router,
        inboxes_router,
        conversations_router,
        conversation_actions_router,
        spam_router,
        teams_router,
        routing_settings_router,
        inbox_bot_router,
        slack_mirror_router,
        queue_router,
        realtime_router,
        subscriptions_router,
        sla_router,
        csat_router,
        reports_router,
        contacts_router,
        processing_router,
        labels_router,
        canned_responses_router,
        search_router,
        visibility_router,
        widget_config_router,
        web_router,
    ):
        app.include_router(router)
    # The document states what this installation accepts as a sign-up's region.
    install_openapi(app, state_regions(settings.region_names))
    return app
