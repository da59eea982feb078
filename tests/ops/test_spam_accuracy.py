"""The bench's spam accuracy figure: the labeled data set, the cross-validation, and that the in-memory
learning it uses is exactly what the filter stores in PostgreSQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from switchboard_common.domain.accounts.models import Account
from switchboard_common.domain.accounts.tenancy import tenant_session
from switchboard_common.domain.spam import classifier
from switchboard_common.infra.db import create_sessionmaker
from switchboard_common.infra.pseudonyms import Pseudonyms
from switchboard_devstack.servers import StackUrls

from bench import spam_accuracy

PSEUDONYMS = Pseudonyms(b"spam accuracy test key, 32 bytes")


def test_data_set_is_large_labeled_and_varied() -> None:
    items = spam_accuracy.load()
    texts = [text for text, _ in items]
    assert len(items) >= 400 and len(set(texts)) == len(texts)
    spam_count = sum(is_spam for _, is_spam in items)
    assert 0.25 <= spam_count / len(items) <= 0.5
    # Hard cases on purpose: support messages with links, money amounts or shouting, and short spam.
    ham_tokens = [classifier.tokenize(text) for text, is_spam in items if not is_spam]
    assert sum("__url__" in t for t in ham_tokens) >= 2
    assert sum("__money__" in t for t in ham_tokens) >= 5
    assert sum("__shouting__" in t for t in ham_tokens) >= 2


def test_cross_validation_reports_the_filter_accuracy() -> None:
    metrics = spam_accuracy.cross_validate(spam_accuracy.load(), folds=10)
    assert metrics.messages == metrics.true_positives + metrics.false_positives + metrics.true_negatives + (
        metrics.false_negatives
    )
    # The bar the filter meets on this data: few support messages lost to the spam view, most spam caught.
    assert metrics.accuracy >= 0.9 and metrics.precision >= 0.95 and metrics.recall >= 0.8, metrics
    scenario, result = spam_accuracy.row_values(metrics)
    assert f"{metrics.messages} labeled messages" in scenario and result.startswith("accuracy ")
    # Deterministic: the same folds give the same figure.
    assert spam_accuracy.cross_validate(spam_accuracy.load(), folds=10) == metrics


def test_untrained_folds_flag_nothing_and_bad_labels_are_refused(tmp_path: Path) -> None:
    # Two folds of one spam message each: every training set has fewer than MIN_DOCUMENTS_EACH of a kind.
    tiny = [("win free money http://x.example", True), ("my order is late", False)]
    metrics = spam_accuracy.cross_validate(tiny, folds=2)
    assert metrics.true_positives == metrics.false_positives == 0
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\ttext\nmaybe\thello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown label"):
        spam_accuracy.load(bad)


async def test_in_memory_learning_matches_the_database(stack_urls: StackUrls) -> None:
    items = spam_accuracy.load()[:60]
    memory = classifier.Model.empty()
    for text, is_spam in items:
        memory.learn(classifier.tokenize(text), spam=is_spam)
    memory.learn(classifier.tokenize(items[0][0]), spam=items[0][1], weight=-1)  # an agent's verdict withdrawn
    engine = create_async_engine(stack_urls.database_url)
    sessionmaker = create_sessionmaker(engine)
    account_id = uuid.uuid4()
    try:
        async with tenant_session(sessionmaker, account_id, begin=True) as session:
            session.add(Account(id=account_id, name="Spam bench"))
            await session.flush()
            for text, is_spam in items:
                await classifier.learn(session, account_id, [text], PSEUDONYMS, spam=is_spam)
            await classifier.learn(session, account_id, [items[0][0]], PSEUDONYMS, spam=items[0][1], weight=-1)
        every_token = set(memory.spam_counts) | set(memory.ham_counts)
        async with tenant_session(sessionmaker, account_id) as session:
            stored = await classifier.load_model(session, account_id, every_token, PSEUDONYMS)
            assert stored == memory
            for text, _ in spam_accuracy.load()[60:120]:
                tokens = classifier.tokenize(text)
                assert await classifier.is_spam(session, account_id, text, PSEUDONYMS) == memory.decide(tokens)
    finally:
        await engine.dispose()
