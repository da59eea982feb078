"""The privacy service's app factory and background workers."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from switchboard_common.domain.encryption.shredding import event_codec
from switchboard_common.infra.runtime import Resources
from switchboard_common.infra.service import BackgroundWorkers, create_service_app

from switchboard_privacy.consent.views import router as consent_router
from switchboard_privacy.ledger import ErasureLedger
from switchboard_privacy.lifecycle.agents import router as agents_router
from switchboard_privacy.lifecycle.sweep import LifecycleWorker
from switchboard_privacy.requests.confirmation import ConfirmationListener
from switchboard_privacy.requests.views import router as requests_router
from switchboard_privacy.requests.worker import RequestWorker
from switchboard_privacy.retention.sweep import RetentionWorker
from switchboard_privacy.retention.views import router as retention_router
from switchboard_privacy.settings import PrivacySettings


def background_workers(resources: Resources) -> BackgroundWorkers:
    settings = resources.settings
    assert isinstance(settings, PrivacySettings)
    return BackgroundWorkers(
        [
            RequestWorker(resources, settings),
            LifecycleWorker(resources, settings),
            RetentionWorker(resources, settings),
            ConfirmationListener(resources),
        ]
    )


async def _open_ledger(app: FastAPI, resources: Resources) -> None:
    app.state.ledger = ErasureLedger.from_settings(resources.settings)


async def _close_ledger(app: FastAPI) -> None:
    ledger = getattr(app.state, "ledger", None)
    if ledger is not None:
        await ledger.close()


def create_app(settings: PrivacySettings | None = None, *, run_workers: bool | Sequence[str] = True) -> FastAPI:
    app = create_service_app(
        event_codec=event_codec,
        service="privacy",
        title="Switchboard privacy",
        settings=settings or PrivacySettings(),
        workers=background_workers,
        run_workers=run_workers,
        description="Data-subject requests, consent, retention and account lifecycle.",
        on_startup=_open_ledger,
        before_shutdown=_close_ledger,
    )
    app.include_router(requests_router)
    app.include_router(consent_router)
    app.include_router(agents_router)
    app.include_router(retention_router)
    return app
