"""Accuracy of the spam filter (switchboard_common.domain.spam.classifier) on a labeled data set of
contact-center messages.

``bench/data/spam_messages.tsv`` holds support questions in many styles (short chat, formal e-mail, angry,
non-native, several languages, ones about links, money, accounts and "free" offers) and typical chat spam
(SEO and web-design pitches, crypto and investment scams, phishing, dating, pharma, prizes). Stratified
k-fold cross-validation: each fold learns the other folds through the filter's own counting
(``Model.learn``, what ``classifier.learn`` writes to the database) and classifies the held-out fold with its own
decision (``Model.decide``: trained on both kinds and at least ``SPAM_THRESHOLD`` sure). Spam is the
positive class: precision is how many flagged messages were spam, recall how much spam was caught.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from switchboard_common.domain.spam import classifier

DATA = Path(__file__).parent / "data" / "spam_messages.tsv"


@dataclass(frozen=True)
class Metrics:
    messages: int
    folds: int
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int

    @property
    def accuracy(self) -> float:
        return (self.true_positives + self.true_negatives) / self.messages if self.messages else 0.0

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0


def load(path: Path = DATA) -> list[tuple[str, bool]]:
    """(text, is spam) pairs; refuses labels other than spam and ham."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    items = []
    for row in rows:
        if row["label"] not in ("spam", "ham"):
            raise ValueError(f"unknown label {row['label']!r}")
        items.append((row["text"], row["label"] == "spam"))
    return items


def cross_validate(items: list[tuple[str, bool]], folds: int = 10, seed: int = 7) -> Metrics:
    """Stratified k-fold cross-validation through the filter's own learning and decision code."""
    if folds < 2:
        raise ValueError("at least 2 folds")
    assignment: list[int] = [0] * len(items)
    for label in (True, False):
        indexes = [i for i, (_, is_spam) in enumerate(items) if is_spam is label]
        random.Random(seed).shuffle(indexes)
        for position, index in enumerate(indexes):
            assignment[index] = position % folds
    tokens = [classifier.tokenize(text) for text, _ in items]
    tp = fp = tn = fn = 0
    for fold in range(folds):
        model = classifier.Model.empty()
        for index, (_, is_spam) in enumerate(items):
            if assignment[index] != fold:
                model.learn(tokens[index], spam=is_spam)
        for index, (_, is_spam) in enumerate(items):
            if assignment[index] == fold:
                flagged = model.decide(tokens[index])
                tp += flagged and is_spam
                fp += flagged and not is_spam
                tn += not flagged and not is_spam
                fn += not flagged and is_spam
    return Metrics(len(items), folds, tp, fp, tn, fn)


def row_values(metrics: Metrics) -> tuple[str, str]:
    """(scenario, result) for the bench table."""
    return (
        f"spam filter, {metrics.folds}-fold cross-validation on {metrics.messages} labeled messages "
        "(bench/data/spam_messages.tsv)",
        f"accuracy {metrics.accuracy:.1%}, precision {metrics.precision:.1%}, recall {metrics.recall:.1%} "
        f"({metrics.false_positives} support messages flagged)",
    )


if __name__ == "__main__":
    result = cross_validate(load())
    print(*row_values(result), sep=": ")
