"""A per-account spam filter that learns: multinomial naive Bayes over word tokens.

Counts live in ``spam_token_stats`` (per account, per token: spam and ham occurrences; the row with token
``""`` counts learned documents). Agents teach it by marking conversations spam or not spam. It only
decides once it has learned enough of both kinds, so a new account is never filtered by guesswork.

The statistics hold no personal words: e-mail addresses, phone numbers and links become shape features
(``__email__``, ``__phone__``, ``__url__``) and any word containing a digit is dropped before counting, and the
stored tokens are keyed pseudonyms (``switchboard_common.infra.pseudonyms``, per account), so a surname a customer
typed is not readable in the table, nor recoverable by hashing a list of names without the installation's key.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard_common.domain.accounts.tenancy import require_tenant
from switchboard_common.domain.spam.models import SpamTokenStat
from switchboard_common.infra.pseudonyms import Pseudonyms

DOCUMENTS = ""  # the row counting learned documents
TOTAL = "__total__"  # the row counting learned tokens
VOCABULARY = "__vocabulary__"  # distinct tokens seen (in the spam column)
MAX_TOKENS = 300
MIN_DOCUMENTS_EACH = 3
SPAM_THRESHOLD = 0.9
_WORD = re.compile(r"[^\W_]{2,32}", re.UNICODE)
_URL = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def tokenize(text: str | None) -> Counter[str]:
    """Lower-cased words, plus coarse shape features (links, e-mail addresses, phone numbers, shouting, money)
    that spam tends to have. Addresses, numbers and links never become words: they are the personal part."""
    if not text:
        return Counter()
    text = text[:5000]
    tokens: Counter[str] = Counter()
    for pattern, feature in ((_URL, "__url__"), (_EMAIL, "__email__"), (_PHONE, "__phone__")):
        found = pattern.findall(text)
        if found:
            tokens[feature] += 1
            text = pattern.sub(" ", text)
    tokens.update(w.lower() for w in _WORD.findall(text) if not any(c.isdigit() for c in w))
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.6:
        tokens["__shouting__"] += 1
    if re.search(r"[$€£]\s?\d|\d\s?[$€£]", text):
        tokens["__money__"] += 1
    return Counter(dict(tokens.most_common(MAX_TOKENS)))


@dataclass
class Model:
    spam_docs: int
    ham_docs: int
    spam_counts: dict[str, int]
    ham_counts: dict[str, int]
    spam_total: int
    ham_total: int
    vocabulary: int

    @classmethod
    def empty(cls) -> Model:
        """A model that has learned nothing, to learn in memory (:meth:`learn`), e.g. for evaluation."""
        return cls(spam_docs=0, ham_docs=0, spam_counts={}, ham_counts={}, spam_total=0, ham_total=0, vocabulary=0)

    def learn(self, tokens: Counter[str], *, spam: bool, weight: int = 1) -> None:
        """In memory, exactly what :func:`learn` adds to the database (for a model holding every count)."""
        known = self.spam_counts.keys() | self.ham_counts.keys()
        counts = self.spam_counts if spam else self.ham_counts
        for token, delta in document_deltas(tokens, known, weight).items():
            if token == DOCUMENTS:
                self.spam_docs, self.ham_docs = (
                    (self.spam_docs + delta, self.ham_docs) if spam else (self.spam_docs, self.ham_docs + delta)
                )
            elif token == TOTAL:
                self.spam_total, self.ham_total = (
                    (self.spam_total + delta, self.ham_total) if spam else (self.spam_total, self.ham_total + delta)
                )
            elif token == VOCABULARY:
                self.vocabulary += delta
            else:
                counts[token] = counts.get(token, 0) + delta
                (self.ham_counts if spam else self.spam_counts).setdefault(token, 0)

    def decide(self, tokens: Counter[str]) -> bool:
        """The filter's verdict: spam only once trained on both kinds, and then only when quite sure."""
        return bool(tokens) and self.trained and self.spam_probability(tokens) >= SPAM_THRESHOLD

    @property
    def trained(self) -> bool:
        return self.spam_docs >= MIN_DOCUMENTS_EACH and self.ham_docs >= MIN_DOCUMENTS_EACH

    def spam_probability(self, tokens: Counter[str]) -> float:
        """P(spam | tokens) with Laplace smoothing, computed in log space."""
        v = max(self.vocabulary, 1)
        log_spam = math.log(self.spam_docs + 1) - math.log(self.spam_docs + self.ham_docs + 2)
        log_ham = math.log(self.ham_docs + 1) - math.log(self.spam_docs + self.ham_docs + 2)
        for token, count in tokens.items():
            log_spam += count * (math.log(self.spam_counts.get(token, 0) + 1) - math.log(self.spam_total + v))
            log_ham += count * (math.log(self.ham_counts.get(token, 0) + 1) - math.log(self.ham_total + v))
        top = max(log_spam, log_ham)
        return math.exp(log_spam - top) / (math.exp(log_spam - top) + math.exp(log_ham - top))


BOOKKEEPING = (DOCUMENTS, TOTAL, VOCABULARY)


def stored_names(pseudonyms: Pseudonyms, account_id: uuid.UUID, tokens: Iterable[str]) -> dict[str, str]:
    """Token -> the keyed pseudonym it is stored under (per account; bookkeeping rows keep their names)."""
    return {
        t: t if t in BOOKKEEPING else pseudonyms.digest("spam-token", str(account_id), t, hex_chars=32) for t in tokens
    }


async def load_model(
    session: AsyncSession, account_id: uuid.UUID, tokens: Iterable[str], pseudonyms: Pseudonyms
) -> Model:
    """Only the rows this message needs, plus the bookkeeping rows (documents, totals, vocabulary size), from a
    session scoped to the account (it adds the account condition)."""
    require_tenant(session, account_id)
    names = stored_names(pseudonyms, account_id, [*set(tokens), *BOOKKEEPING])
    token_of = {stored: token for token, stored in names.items()}
    rows = (
        await session.execute(
            select(SpamTokenStat.token, SpamTokenStat.spam, SpamTokenStat.ham).where(
                SpamTokenStat.token.in_(list(token_of))
            )
        )
    ).all()
    counts = {token_of[row.token]: (row.spam, row.ham) for row in rows}
    docs, totals = counts.pop(DOCUMENTS, (0, 0)), counts.pop(TOTAL, (0, 0))
    vocabulary = counts.pop(VOCABULARY, (0, 0))[0]
    return Model(
        spam_docs=docs[0],
        ham_docs=docs[1],
        spam_counts={t: c[0] for t, c in counts.items()},
        ham_counts={t: c[1] for t, c in counts.items()},
        spam_total=totals[0],
        ham_total=totals[1],
        vocabulary=vocabulary,
    )


async def is_spam(session: AsyncSession, account_id: uuid.UUID, text: str | None, pseudonyms: Pseudonyms) -> bool:
    tokens = tokenize(text)
    if not tokens:
        return False
    return (await load_model(session, account_id, tokens, pseudonyms)).decide(tokens)


def document_deltas(tokens: Counter[str], known: Iterable[str], weight: int) -> dict[str, int]:
    """What learning (weight 1) or withdrawing (weight -1) one document adds to its kind's counts, including
    the bookkeeping rows; ``known`` are the tokens already counted (for the vocabulary size)."""
    return {
        **{t: c * weight for t, c in tokens.items()},
        DOCUMENTS: weight,
        TOTAL: sum(tokens.values()) * weight,
        VOCABULARY: len(set(tokens) - set(known)) if weight > 0 else 0,
    }


async def learn(
    session: AsyncSession,
    account_id: uuid.UUID,
    texts: Iterable[str | None],
    pseudonyms: Pseudonyms,
    *,
    spam: bool,
    weight: int = 1,
) -> None:
    """Adds (weight 1) or withdraws (weight -1) one document made of these texts (in a session scoped to the
    account)."""
    require_tenant(session, account_id)
    plain: Counter[str] = Counter()
    for text in texts:
        plain.update(tokenize(text))
    if not plain:
        return
    # Only the keyed pseudonyms of the tokens are stored (and looked up).
    names = stored_names(pseudonyms, account_id, plain)
    tokens = Counter({names[t]: c for t, c in plain.items()})
    known = set((await session.scalars(select(SpamTokenStat.token).where(SpamTokenStat.token.in_(list(tokens))))).all())
    updates = document_deltas(tokens, known, weight)
    column = "spam" if spam else "ham"
    for token, delta in sorted(updates.items()):
        if token == VOCABULARY:
            values, column_for = {"spam": delta, "ham": 0}, "spam"  # vocabulary size lives in the spam column
        else:
            values, column_for = {"spam": delta if spam else 0, "ham": 0 if spam else delta}, column
        await session.execute(
            insert(SpamTokenStat)
            .values(account_id=account_id, token=token, **values)
            .on_conflict_do_update(
                index_elements=["account_id", "token"],
                set_={column_for: getattr(SpamTokenStat, column_for) + values[column_for]},
            )
        )
