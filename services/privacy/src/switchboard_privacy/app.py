"""The privacy service's app factory and background workers."""

from __future__ import annotations

from fastapi import FastAPI
from switchboard_common.runtime import Resources
from switchboard_common.service import BackgroundWorkers, create_service_app

from switchboard_privacy.settings import PrivacySettings


def background_workers(_resources: Resources) -> BackgroundWorkers:
    return BackgroundWorkers([])


def create_app(settings: PrivacySettings | None = None, *, run_workers: bool = True) -> FastAPI:
    return create_service_app(
        service="privacy",
        title="Switchboard privacy",
        settings=settings or PrivacySettings(),
        workers=background_workers,
        run_workers=run_workers,
        description="Data-subject requests, consent, retention and account lifecycle.",
    )
