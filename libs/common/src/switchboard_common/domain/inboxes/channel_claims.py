"""Channel identities are connected at most once in the whole installation.

An inbox claims the identities its settings name: a Messenger page (``messenger:page:{page}``) and a Slack
channel (``slack:channel:{team}:{channel}``) belong to one inbox; a Slack workspace (``slack:team:{team}``,
the customers' workspace or the agents' one) belongs to one account, whose inboxes may use several of its
channels. The claim is the primary key of ``channel_claims``, so two accounts racing for the same page cannot
both win; webhooks find their inbox through these rows (never through a setting any inbox could name), and a
claim already held elsewhere is ``409 channel_already_connected`` on create and on update.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnExpressionArgument, and_, delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import cross_tenant
from switchboard_common.domain.inboxes.models import ChannelClaim, Inbox
from switchboard_common.infra.directory import Directory, DirectoryUnavailable, EntryKind, TakenElsewhere
from switchboard_common.infra.errors import AppError


@dataclass(frozen=True)
class Claim:
    name: str
    # True: held by the account (every inbox of it may use it); False: held by one inbox.
    account_wide: bool


def messenger_page(page_id: str) -> str:
    return f"messenger:page:{page_id}"


def slack_team(team_id: str) -> str:
    return f"slack:team:{team_id}"


def slack_channel(team_id: str, channel_id: str) -> str:
    return f"slack:channel:{team_id}:{channel_id}"


def claims_for(channel: str, settings: dict[str, Any]) -> list[Claim]:
    """What an inbox of ``channel`` with these (public) settings connects."""
    if channel == "messenger" and settings.get("page_id"):
        return [Claim(messenger_page(str(settings["page_id"])), account_wide=False)]
    if channel == "slack" and settings.get("team_id"):
        team = str(settings["team_id"])
        found = [Claim(slack_team(team), account_wide=True)]
        if settings.get("channel_id"):
            found.append(Claim(slack_channel(team, str(settings["channel_id"])), account_wide=False))
        return found
    return []


def already_connected(claim: str) -> AppError:
    kind = claim.split(":")[1]
    what = {"page": "This Messenger page", "team": "This Slack workspace", "channel": "This Slack channel"}[kind]
    return AppError(
        409,
        "channel_already_connected",
        f"{what} is already connected to another {'account' if kind == 'team' else 'inbox'}",
        details={"claim": kind},
    )


def _held_elsewhere(row: ChannelClaim, claim: Claim, account_id: uuid.UUID, inbox_id: uuid.UUID | None) -> bool:
    if claim.account_wide:
        return row.account_id != account_id
    return row.inbox_id != inbox_id


async def check_free(
    session: AsyncSession, account_id: uuid.UUID, inbox_id: uuid.UUID | None, claims: list[Claim]
) -> None:
    """Raises 409 when another inbox or account holds one of ``claims`` (a read: :func:`sync` decides)."""
    if not claims:
        return
    rows = {
        r.claim: r
        for r in await session.scalars(select(ChannelClaim).where(ChannelClaim.claim.in_([c.name for c in claims])))
    }
    for claim in claims:
        row = rows.get(claim.name)
        if row is not None and _held_elsewhere(row, claim, account_id, inbox_id):
            raise already_connected(claim.name)


async def sync(session: AsyncSession, inbox: Inbox, directory: Directory | None = None) -> None:
    """Makes the inbox's claims match its settings, inside the caller's transaction (flush the inbox first).
    Raises 409 when another inbox or account holds one; the caller's rollback then undoes everything.

    With several regions the inbox, its page or its workspace is also entered in the global ``directory``
    (before the caller commits), so webhooks reaching another region are relayed here; a page or workspace
    another region holds is connected elsewhere (409 as well)."""
    wanted = claims_for(inbox.channel, dict(inbox.settings or {}))
    names = [c.name for c in wanted]
    # Identities this inbox no longer names are released.
    await session.execute(
        delete(ChannelClaim).where(ChannelClaim.inbox_id == inbox.id, ChannelClaim.claim.not_in(names))
    )
    for claim in wanted:
        await session.execute(
            insert(ChannelClaim)
            .values(claim=claim.name, account_id=inbox.account_id, inbox_id=None if claim.account_wide else inbox.id)
            .on_conflict_do_nothing(index_elements=["claim"])
        )
        row = await session.scalar(select(ChannelClaim).where(ChannelClaim.claim == claim.name).with_for_update())
        assert row is not None
        if _held_elsewhere(row, claim, inbox.account_id, inbox.id):
            raise already_connected(claim.name)
    await release_unused_workspaces(session, inbox.account_id)
    if directory is not None and directory.enabled:
        await enter_in_directory(directory, inbox, wanted)


async def enter_in_directory(directory: Directory, inbox: Inbox, wanted: list[Claim]) -> None:
    entries: list[tuple[EntryKind, str]] = [("inbox", str(inbox.id))]
    for claim in wanted:
        kind, _, rest = claim.name.partition(":")[2].partition(":")
        if kind == "page":
            entries.append(("messenger_page", rest))
        elif kind == "team":
            entries.append(("slack_team", rest))
    for kind, key in entries:
        try:
            await directory.claim(kind, key)
        except TakenElsewhere:
            raise already_connected(f"x:{'page' if kind == 'messenger_page' else 'team'}") from None
        except DirectoryUnavailable:
            raise AppError(503, "directory_unavailable", "the region directory is unavailable, retry shortly") from None


async def release_unused_workspaces(session: AsyncSession, account_id: uuid.UUID) -> None:
    """A Slack workspace claim lasts as long as one of the account's inboxes names that workspace."""
    team_of_inbox = ChannelClaim.claim == "slack:team:" + Inbox.settings["team_id"].astext
    await session.execute(
        delete(ChannelClaim).where(
            ChannelClaim.account_id == account_id,
            ChannelClaim.inbox_id.is_(None),
            ChannelClaim.claim.startswith("slack:team:"),
            ~exists().where(and_(Inbox.account_id == account_id, Inbox.channel == "slack", team_of_inbox)),
        )
    )


def inbox_by_claim(claim: str) -> Any:
    """The query for the inbox holding an inbox-level claim: the lookup that finds the account, so cross-tenant
    (a session scoped to some account must not hide the holder)."""
    return cross_tenant(
        select(Inbox).join(ChannelClaim, ChannelClaim.inbox_id == Inbox.id).where(ChannelClaim.claim == claim)
    )


def slack_inbox_query(team_id: str, channel_id: str | None) -> Any:
    """The inbox a Slack event belongs to: the one holding the event's channel, else (direct messages,
    threads elsewhere) the oldest inbox of the account holding the workspace. Cross-tenant: it finds the account."""
    channel_claim = ChannelClaim.claim == slack_channel(team_id, channel_id) if channel_id else None
    workspace = select(ChannelClaim.account_id).where(ChannelClaim.claim == slack_team(team_id)).scalar_subquery()
    by_channel = exists().where(ChannelClaim.inbox_id == Inbox.id, channel_claim) if channel_claim is not None else None
    conditions = [Inbox.channel == "slack", Inbox.account_id == workspace, Inbox.settings["team_id"].astext == team_id]
    order: list[ColumnExpressionArgument[Any]] = [Inbox.created_at]
    if by_channel is not None:
        order.insert(0, by_channel.desc())
    return cross_tenant(select(Inbox).where(*conditions).order_by(*order).limit(1))


__all__ = [
    "Claim",
    "already_connected",
    "check_free",
    "claims_for",
    "inbox_by_claim",
    "messenger_page",
    "release_unused_workspaces",
    "slack_channel",
    "slack_inbox_query",
    "slack_team",
    "sync",
]
