"""An inbox's bot: ``PUT/GET/DELETE /api/v1/inboxes/{id}/bot`` (owners and admins change it).

New conversations of an inbox with a working bot start with status "bot": the connectors' bot worker
answers them through Dialogflow until it hands off to humans (see docs/connectors-dialogflow.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import delete, select
from switchboard_common.domain.events import utcnow
from switchboard_common.domain.inboxes.bot_config import BotConfigIn, encrypt_credentials
from switchboard_common.domain.inboxes.models import Inbox, InboxBot
from switchboard_common.infra.db import atomic
from switchboard_common.infra.errors import AppError
from switchboard_common.infra.openapi import errors

from switchboard_gateway.deps import AdminAgent, CurrentAgent, ResourcesDep, SessionDep
from switchboard_gateway.inboxes.schemas import BotOut

router = APIRouter(prefix="/api/v1", tags=["bots"])


async def _inbox(session: SessionDep, inbox_id: uuid.UUID) -> Inbox:
    inbox = await session.scalar(select(Inbox).where(Inbox.id == inbox_id))
    if inbox is None:
        raise AppError(404, "not_found", "inbox not found")
    return inbox


def _out(bot: InboxBot) -> dict[str, Any]:
    # Never the credentials: only that they are stored.
    return {
        "inbox_id": str(bot.inbox_id),
        **bot.settings,
        "enabled": bot.enabled,
        "broken_reason": bot.broken_reason,
        "credentials_stored": True,
        # Where Dialogflow's fulfillment webhook calls for this inbox (basic auth: the inbox id and its own
        # fulfillment password when set, else the installation's DIALOGFLOW_WEBHOOK_USER/PASSWORD).
        "fulfillment_url": f"/webhooks/dialogflow/{bot.inbox_id}",
        "updated_at": bot.updated_at.isoformat(),
    }


@router.put("/inboxes/{inbox_id}/bot", summary="Set the inbox's bot (Dialogflow)", response_model=BotOut)
async def put_inbox_bot(
    inbox_id: uuid.UUID, body: BotConfigIn, admin: AdminAgent, session: SessionDep, resources: ResourcesDep
) -> dict[str, Any]:
    async with atomic(session):
        await _inbox(session, inbox_id)
        settings = body.stored_settings()
        blob = encrypt_credentials(resources.keyring, inbox_id, body)
        bot = await session.get(InboxBot, inbox_id, with_for_update=True)
        now = utcnow()
        if bot is None:
            bot = InboxBot(inbox_id=inbox_id, account_id=admin.account_id, created_at=now)
            session.add(bot)
        bot.provider = settings.provider
        bot.settings = settings.model_dump(mode="json")
        bot.secrets_encrypted = blob
        bot.enabled = True
        bot.broken_reason = None  # new credentials: try again
        bot.updated_at = now
        await session.flush()
        return _out(bot)


@router.get(
    "/inboxes/{inbox_id}/bot",
    summary="The inbox's bot, without its credentials",
    response_model=BotOut,
    responses=errors(not_found="no such inbox, or it has no bot"),
)
async def get_inbox_bot(inbox_id: uuid.UUID, agent: CurrentAgent, session: SessionDep) -> dict[str, Any]:
    await _inbox(session, inbox_id)
    bot = await session.get(InboxBot, inbox_id)
    if bot is None:
        raise AppError(404, "not_found", "this inbox has no bot")
    return _out(bot)


@router.delete("/inboxes/{inbox_id}/bot", status_code=204, summary="Remove the inbox's bot")
async def delete_inbox_bot(inbox_id: uuid.UUID, admin: AdminAgent, session: SessionDep) -> Response:
    async with atomic(session):
        await _inbox(session, inbox_id)
        await session.execute(delete(InboxBot).where(InboxBot.inbox_id == inbox_id))
    return Response(status_code=204)
