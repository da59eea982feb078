"""``PUT /api/v1/inboxes/{id}/slack-mirror``: link a web or Messenger inbox to a Slack inbox (agents answer its
conversations from Slack threads; the connectors' ``connectors-slack-mirror`` group does the mirroring)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors

from switchboard_gateway.deps import AdminAgent, SessionDep
from switchboard_gateway.inboxes import schemas, service
from switchboard_gateway.inboxes.schemas import SlackMirrorIn
from switchboard_gateway.inboxes.views import inbox_out

router = APIRouter(prefix="/api/v1/inboxes", tags=["inboxes"])
MIRRORABLE_CHANNELS = {"web", "messenger"}


@router.put(
    "/{inbox_id}/slack-mirror",
    response_model=schemas.InboxOut,
    response_model_exclude_none=True,
    responses=errors(
        conflict="not_mirrorable (only web and Messenger inboxes), or invalid_mirror_inbox (not a Slack inbox)"
    ),
)
async def set_slack_mirror(
    inbox_id: uuid.UUID, body: SlackMirrorIn, admin: AdminAgent, session: SessionDep
) -> schemas.InboxOut:
    async with atomic(session):
        inbox = await service.get_inbox(session, inbox_id)
        if inbox.channel not in MIRRORABLE_CHANNELS:
            raise AppError(409, "not_mirrorable", "only web and Messenger inboxes can be mirrored into Slack")
        settings = {k: v for k, v in (inbox.settings or {}).items() if k != "slack_mirror_inbox_id"}
        if body.slack_inbox_id is not None:
            settings["slack_mirror_inbox_id"] = str(body.slack_inbox_id)
            await service.check_mirror_target(session, settings)
        inbox.settings = settings
    return inbox_out(inbox)
