"""The per-account spam filter: learns from agents' verdicts, keeps spam out of routing, and forgets nothing
about other accounts."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import httpx
import pytest
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import cross_tenant_session, tenant_session
from switchboard_common.domain.spam import classifier
from switchboard_common.infra.db import create_sessionmaker
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_common.infra.settings import CommonSettings
from switchboard_devstack.servers import StackUrls

from tests.helpers.api import Socket, create_agent, create_web_inbox, signup, visitor_session
from tests.helpers.live import LiveServer

# The live server's pseudonym key (derived from the test environment's SECRET_KEY).
SERVER_PSEUDONYMS = Pseudonyms.from_settings(CommonSettings())

SPAM = [
    "WIN FREE MONEY NOW click http://prize.example $1000 bonus",
    "Cheap pills discount click www.pills.example",
    "You won a lottery prize, send your bank details to claim $5000",
    "FREE CRYPTO giveaway click http://x.example",
]
HAM = [
    "My order 1234 has not arrived yet",
    "Can I change the delivery address for my parcel?",
    "The invoice shows the wrong amount, please check",
    "How do I reset my password for the shop?",
]


def test_model_separates_what_it_learned() -> None:
    counts = {"spam": {}, "ham": {}}
    for label, texts in (("spam", SPAM), ("ham", HAM)):
        for text in texts:
            for token, n in classifier.tokenize(text).items():
                counts[label][token] = counts[label].get(token, 0) + n
    model = classifier.Model(
        spam_docs=len(SPAM),
        ham_docs=len(HAM),
        spam_counts=counts["spam"],
        ham_counts=counts["ham"],
        spam_total=sum(counts["spam"].values()),
        ham_total=sum(counts["ham"].values()),
        vocabulary=len(set(counts["spam"]) | set(counts["ham"])),
    )
    assert model.trained
    assert model.spam_probability(classifier.tokenize("click for FREE MONEY http://win.example")) > 0.9
    assert model.spam_probability(classifier.tokenize("my parcel has not arrived")) < 0.5
    assert classifier.tokenize("") == {}


async def test_learned_spam_is_not_routed_and_can_be_released(
    client: httpx.AsyncClient, server: LiveServer, stack_urls: StackUrls
) -> None:
    tenant = await signup(client)
    other = await signup(client)
    engine = create_async_engine(server.env["DATABASE_URL"])
    sessionmaker = create_sessionmaker(engine)
    async with tenant_session(sessionmaker, uuid.UUID(tenant.account_id), begin=True) as session:
        for text in SPAM:
            await classifier.learn(session, uuid.UUID(tenant.account_id), [text], SERVER_PSEUDONYMS, spam=True)
        for text in HAM:
            await classifier.learn(session, uuid.UUID(tenant.account_id), [text], SERVER_PSEUDONYMS, spam=False)
    probe = "FREE MONEY click http://a.example $99"
    async with tenant_session(sessionmaker, uuid.UUID(tenant.account_id)) as session:
        assert await classifier.is_spam(session, uuid.UUID(tenant.account_id), probe, SERVER_PSEUDONYMS)
    # Another account's filter learned nothing.
    async with tenant_session(sessionmaker, uuid.UUID(other.account_id)) as session:
        assert not await classifier.is_spam(session, uuid.UUID(other.account_id), probe, SERVER_PSEUDONYMS)
    # The classifier writes no account filter of its own: a session not scoped to the account is refused.
    async with cross_tenant_session(sessionmaker) as session:
        with pytest.raises(RuntimeError, match="scoped to its account"):
            await classifier.is_spam(session, uuid.UUID(other.account_id), probe, SERVER_PSEUDONYMS)
    await engine.dispose()

    inbox = await create_web_inbox(client, tenant)
    agent_id, agent_token = await create_agent(client, tenant)
    agent = await Socket.open(f"{server.ws_url}/api/v1/ws?token={agent_token}")
    await agent.wait_for(lambda f: f["type"] == "session.ready")
    visitor = await visitor_session(client, inbox["widget_token"])
    sent = await client.post(
        "/api/v1/widget/messages",
        json={"text": "FREE MONEY prize click http://win.example $500"},
        headers={"Authorization": f"Bearer {visitor['visitor_token']}"},
    )
    conversation_id = sent.json()["conversation_id"]
    conversation = (await client.get(f"/api/v1/conversations/{conversation_id}", headers=tenant.headers)).json()
    assert conversation["status"] == "spam" and conversation.get("assignee_id") is None
    spam_view = (await client.get("/api/v1/conversations", params={"status": "spam"}, headers=tenant.headers)).json()
    assert [c["id"] for c in spam_view] == [conversation_id]

    for _ in range(100):  # the message is stored by the timeline consumer
        stored = await client.get(f"/api/v1/conversations/{conversation_id}/messages", headers=tenant.headers)
        if stored.json():
            break
        await asyncio.sleep(0.1)
    released = await client.post(
        f"/api/v1/conversations/{conversation_id}/not-spam", headers={"Authorization": f"Bearer {agent_token}"}
    )
    assert released.status_code == 200 and released.json()["status"] == "open"
    assigned = await agent.wait_for(
        lambda f: f["type"] == "conversation.assigned" and f["conversation_id"] == conversation_id
    )
    assert assigned["agent_id"] == agent_id
    again = await client.post(
        f"/api/v1/conversations/{conversation_id}/spam",
        json={"spam": True},
        headers={"Authorization": f"Bearer {agent_token}"},
    )
    assert again.json()["status"] == "spam"
    foreign = await client.post(
        f"/api/v1/conversations/{conversation_id}/spam", json={"spam": True}, headers=other.headers
    )
    assert foreign.status_code == 404
    await agent.close()


def test_tokens_hold_no_numbers_addresses_or_links() -> None:
    tokens = classifier.tokenize(
        "Hi, I'm Dana Kowalczyk, call me on +44 20 7946 0958 or 07700900123, write to dana.k@example.org, "
        "order A1234 at https://shop.example/orders/5551234"
    )
    assert {"__phone__", "__email__", "__url__"} <= set(tokens)
    assert "kowalczyk" in tokens  # a word is a word (the stored form is its keyed pseudonym, below)
    words = set(tokens) - {"__phone__", "__email__", "__url__"}
    assert not any(any(c.isdigit() for c in w) for w in words), words
    assert not {"example", "org", "shop", "orders", "dana.k"} & words


async def test_stored_statistics_hold_no_personal_words(stack_urls: StackUrls) -> None:

    account_id = uuid.uuid4()
    engine = create_async_engine(stack_urls.database_url)
    sessionmaker = create_sessionmaker(engine)
    message = "Dear team, Mrs Wojciechowska here, my number is +48 601 234 567, mail ewa.w@example.pl"
    try:
        async with tenant_session(sessionmaker, account_id, begin=True) as session:
            session.add(Account(id=account_id, name="Spam privacy"))
            await session.flush()
            await classifier.learn(session, account_id, [message], SERVER_PSEUDONYMS, spam=False)
        async with tenant_session(sessionmaker, account_id) as session:
            stored = list(
                await session.scalars(
                    sql("SELECT token FROM spam_token_stats WHERE account_id = :a"), {"a": account_id}
                )
            )
            # Learned, and readable back through the model...
            model = await classifier.load_model(session, account_id, ["wojciechowska"], SERVER_PSEUDONYMS)
            assert model.ham_counts["wojciechowska"] == 1
        # Nothing but bookkeeping rows and 32-hex-digit keyed digests.
        digests = [t for t in stored if t not in classifier.BOOKKEEPING]
        assert digests and all(len(t) == 32 and set(t) <= set("0123456789abcdef") for t in digests), stored
        for personal in ("wojciechowska", "601", "234", "567", "ewa", "example", "48"):
            assert personal not in stored, personal
            # ...and not as a plain hash of the word either: only the installation's key makes the digest.
            assert hashlib.sha256(personal.encode()).hexdigest()[:32] not in stored
        # Another installation (another key) stores another digest for the same word.
        other = Pseudonyms(b"another installation's key 32 b!")
        assert classifier.stored_names(other, account_id, ["team"]) != classifier.stored_names(
            SERVER_PSEUDONYMS, account_id, ["team"]
        )
    finally:
        await engine.dispose()
