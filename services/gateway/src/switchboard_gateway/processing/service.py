"""Who processes an account's data outside this installation, and the account's record of processing
(GDPR Art. 30), both derived from what the account has configured and the installation's settings -- never
from a hand-kept list, so adding a Slack inbox or a webhook shows up at once.

Locations are where the provider processes the data as the provider documents it (Slack and Meta: their
published data-processing terms; Google and S3: the region of the endpoint in use), and the safeguard is the
transfer mechanism those terms offer. Outgoing webhook and callback hosts are chosen by the account: their
location is whatever that host's operator decides.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from switchboard_common.domain.accounts.models import Account, User
from switchboard_common.domain.inboxes.models import Inbox, InboxBot
from switchboard_common.domain.privacy.models import RetentionPolicy
from switchboard_common.domain.subscriptions.models import WebhookSubscription
from switchboard_common.infra.bus import TOPIC_SPECS
from switchboard_common.infra.db.base import utcnow
from switchboard_common.infra.settings import CommonSettings

CONTACT_DATA = ["contact name", "contact e-mail and phone", "channel identifiers", "message text", "attachments"]
EU_US_SAFEGUARD = "EU-U.S. Data Privacy Framework and Standard Contractual Clauses"
_AWS_REGION = re.compile(r"(?:^|[.-])([a-z]{2}(?:-gov)?-[a-z]+-\d)(?:[.-]|$)")
_GOOGLE_REGION = re.compile(r"^([a-z]+-[a-z]+\d+)-dialogflow\.googleapis\.com$")


@dataclass
class Use:
    """What in the account's configuration sends data to the processor."""

    kind: str
    id: str
    name: str = ""


@dataclass
class Processor:
    id: str
    name: str
    service: str
    purpose: str
    data_categories: list[str]
    location: str
    safeguard: str | None
    endpoint: str
    used_by: list[Use] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "service": self.service,
            "purpose": self.purpose,
            "data_categories": self.data_categories,
            "location": self.location,
            "safeguard": self.safeguard,
            "endpoint": self.endpoint,
            "used_by": [{"kind": u.kind, "id": u.id, "name": u.name} for u in self.used_by],
        }


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).lower()


def _s3_location(endpoint_url: str | None, region: str) -> tuple[str, str, str]:
    """(provider, location, endpoint host) of the S3-compatible service the settings name."""
    if not endpoint_url:
        return "Amazon Web Services, Inc.", f"AWS region {region}", f"s3.{region}.amazonaws.com"
    host = _host(endpoint_url)
    if host.endswith(".amazonaws.com"):
        found = _AWS_REGION.search(host)
        return "Amazon Web Services, Inc.", f"AWS region {found.group(1) if found else region}", host
    return host, f"as operated by {host} (S3_REGION {region})", host


def _dialogflow_location(api_url: str) -> str:
    found = _GOOGLE_REGION.match(_host(api_url))
    if found:
        return f"Google Cloud region {found.group(1)}"
    return "global endpoint (United States and other Google Cloud locations)"


async def subprocessors(session: AsyncSession, settings: CommonSettings) -> list[Processor]:
    """The processors of the account ``session`` is scoped to."""
    inboxes = list(await session.scalars(select(Inbox).order_by(Inbox.name)))
    found: dict[str, Processor] = {}

    def processor(key: str, make: Any) -> Processor:
        if key not in found:
            found[key] = make()
        return found[key]

    for inbox in inboxes:
        use = Use("inbox", str(inbox.id), inbox.name)
        if inbox.channel == "slack":
            processor(
                "slack",
                lambda: Processor(
                    "slack",
                    "Slack Technologies, LLC",
                    "Slack",
                    "delivers messages between customers and agents in the account's Slack workspace, and mirrors "
                    "web conversations into Slack threads where configured",
                    CONTACT_DATA,
                    "United States (Slack's data residency applies where the workspace's plan has it)",
                    EU_US_SAFEGUARD,
                    _host(settings.slack_api_url),
                ),
            ).used_by.append(use)
        elif inbox.channel == "messenger":
            processor(
                "meta",
                lambda: Processor(
                    "meta",
                    "Meta Platforms Ireland Limited",
                    "Facebook Messenger (Graph API)",
                    "receives customers' Messenger messages and delivers agents' replies",
                    CONTACT_DATA,
                    "Ireland and United States (Meta's data centres)",
                    EU_US_SAFEGUARD,
                    _host(settings.graph_api_url),
                ),
            ).used_by.append(use)
        callback = (inbox.settings or {}).get("callback_url") if inbox.channel == "api" else None
        if callback:
            host = _host(str(callback))
            processor(
                f"webhook:{host}",
                lambda host=host: Processor(
                    f"webhook:{host}",
                    host,
                    "Outgoing webhook (API channel callback)",
                    "receives agents' replies for the account's own back end",
                    ["message text", "channel identifiers", "attachments"],
                    f"chosen by the account (the operator of {host})",
                    None,
                    host,
                ),
            ).used_by.append(use)
    bots = list(await session.scalars(select(InboxBot)))
    names = {str(i.id): i.name for i in inboxes}
    for bot in bots:
        processor(
            "google",
            lambda: Processor(
                "google",
                "Google LLC (Google Cloud)",
                "Dialogflow",
                "answers customers first (bot) and decides when to hand over to a human",
                ["message text", "conversation ids"],
                _dialogflow_location(settings.dialogflow_api_url),
                EU_US_SAFEGUARD,
                _host(settings.dialogflow_api_url),
            ),
        ).used_by.append(Use("bot", str(bot.inbox_id), names.get(str(bot.inbox_id), "")))
    for hook in await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.url)):
        host = _host(hook.url)
        processor(
            f"webhook:{host}",
            lambda host=host: Processor(
                f"webhook:{host}",
                host,
                "Outgoing webhook (account subscription)",
                "receives the events the account subscribed to (conversations, messages, contacts)",
                ["message text", "contact name and e-mail", "conversation ids"],
                f"chosen by the account (the operator of {host})",
                None,
                host,
            ),
        ).used_by.append(Use("webhook", str(hook.id), host))
    if settings.attachments_backend == "s3":
        provider, location, host = _s3_location(settings.s3_endpoint_url, settings.s3_region)
        processor(
            "s3",
            lambda: Processor(
                "s3",
                provider,
                "Object storage (S3-compatible)",
                "stores attachments and access-request exports",
                ["attachments", "access exports"],
                location,
                None,
                host,
            ),
        ).used_by.append(Use("storage", "attachments", settings.s3_bucket))
    if settings.backup_target.startswith("s3://"):
        provider, location, host = _s3_location(settings.s3_endpoint_url, settings.s3_region)
        entry = processor(
            "s3-backups",
            lambda: Processor(
                "s3-backups",
                provider,
                "Object storage (S3-compatible), backups",
                "keeps encrypted backups (AES-256-GCM; the key is held apart from them)",
                ["every category above, encrypted"],
                location,
                None,
                host,
            ),
        )
        entry.used_by.append(Use("storage", "backups", urlsplit(settings.backup_target).netloc))
    return list(found.values())


async def processing_record(session: AsyncSession, settings: CommonSettings, account_id: uuid.UUID) -> dict[str, Any]:
    """The account's record of processing activities (GDPR Art. 30(1) for the account as controller, with
    this installation as its processor; Art. 30(2) fields included)."""
    account = await session.get(Account, account_id)
    assert account is not None
    owners = list(await session.scalars(select(User).where(User.role == "owner", User.deleted_at.is_(None))))
    processors = await subprocessors(session, settings)
    retention = {row.category: row.days for row in await session.scalars(select(RetentionPolicy))}
    kafka_days = {spec.name: spec.retention_ms // (24 * 3600 * 1000) for spec in TOPIC_SPECS}
    recipients = [p.id for p in processors]
    region = getattr(settings, "region", "") or None
    channels = sorted({p.service for p in processors if p.id in ("slack", "meta")})
    return {
        "format": "switchboard.processing-record",
        "version": 1,
        "generated_at": utcnow().isoformat(),
        "controller": {
            "account_id": str(account.id),
            "name": account.name,
            "contacts": [{"name": o.name, "email": o.email, "role": "owner"} for o in owners],
        },
        "processor": {
            "name": "Switchboard installation operated for the account",
            "region": region,
            "data_stores": "PostgreSQL, Redis, Kafka and the attachment store of the account's region only",
        },
        "activities": [
            {
                "name": "Customer conversations",
                "purposes": [
                    "answering customers' questions and requests across the account's channels",
                    "routing conversations to agents and bots",
                    "keeping the conversation history for follow-up",
                ],
                "data_subjects": ["customers and website visitors (contacts)"],
                "data_categories": [*CONTACT_DATA, "consent records", "network prefix of the visitor (rate limits)"],
                "channels": ["web widget", "API channel", *channels],
                "recipients": recipients,
                "retention": {
                    "account_policies_days": retention,
                    "without_policy": "kept until erased, or until the account is purged",
                    "event_log_days": kafka_days,
                },
            },
            {
                "name": "Agent accounts and security",
                "purposes": ["signing in agents, assigning work, securing the account"],
                "data_subjects": ["the account's owners, admins and agents"],
                "data_categories": ["name", "e-mail", "password hash", "2FA secret", "presence", "security events"],
                "recipients": [],
                "retention": {"while_active": True, "deleted_agents": "profile replaced by a placeholder at once"},
            },
        ],
        "recipients": [p.as_dict() for p in processors],
        "international_transfers": [
            {"recipient": p.id, "location": p.location, "safeguard": p.safeguard} for p in processors
        ],
        "erasure": {
            "data_subject_requests": "erasure, access and rectification through /api/v1/privacy/requests",
            "request_deadline_days_max": 30,
            "account_lifecycle": "a suspended account is terminated, then purged from every store (docs/privacy.md)",
            "backups": {
                "retention_days": settings.backup_retention_days,
                "erasure_ledger": "erasures are replayed on every restore before the region serves traffic",
            },
        },
        "security_measures": [
            "TLS between clients and the installation",
            "channel secrets, bot credentials, webhook secrets and 2FA secrets encrypted at rest (AES-256-GCM, "
            "rotating keyring)",
            "personal fields of events encrypted per data subject; erasure destroys the subject's key "
            "(crypto-shredding)",
            "backups encrypted and authenticated (AES-256-GCM) with a key kept apart from them",
            "argon2id password hashes, optional TOTP two-factor sign-in, session revocation",
            "logs without message text, e-mail addresses, phone numbers, tokens or full IP addresses",
            "append-only privacy audit trail without personal data",
            "every store of the account in one region" if region else "every store on this installation",
        ],
    }
