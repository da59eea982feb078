"""Mergeable histograms of durations: a value (seconds) falls in a bin; bins add up across hours, agents and
inboxes, and medians and p90s come out of the merged counts.

Bins are exact whole seconds up to :data:`EXACT_UNTIL` (a week: response, wait and most resolution times are
exact to the second), then logarithmic with 1% relative width, up to a year. A bin's value is its second
(exact bins) or its geometric middle (log bins). Storage stays small either way: a row exists per bin that
occurred in an hour and dimension, and within one agent's hour durations rarely repeat.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

EXACT_UNTIL = 7 * 24 * 3600
GROWTH = 1.01
_LOG_BASE = math.log(GROWTH)
MAX_SECONDS = 366 * 24 * 3600


def bin_of(seconds: float) -> int:
    value = min(max(seconds, 0.0), MAX_SECONDS)
    if value < EXACT_UNTIL - 0.5:
        return math.floor(value + 0.5)
    return EXACT_UNTIL + int(math.log(value / EXACT_UNTIL) / _LOG_BASE)


def value_of(bin_index: int) -> float:
    if bin_index < EXACT_UNTIL:
        return float(bin_index)
    step = bin_index - EXACT_UNTIL
    low = EXACT_UNTIL * GROWTH**step
    return low * math.sqrt(GROWTH)


def quantile(counts: Iterable[tuple[int, int]], q: float) -> float | None:
    """The ``q`` quantile (0..1) of the values in ``(bin, count)`` pairs, interpolating linearly between the
    two nearest values (the usual definition: the median of an even count is the middle pair's mean)."""
    ordered = sorted((b, c) for b, c in counts if c > 0)
    total = sum(c for _b, c in ordered)
    if total == 0:
        return None
    position = (total - 1) * q
    lower_index = math.floor(position)
    fraction = position - lower_index
    lower = _at(ordered, lower_index)
    if fraction == 0:
        return lower
    upper = _at(ordered, lower_index + 1)
    return lower + (upper - lower) * fraction


def _at(ordered: list[tuple[int, int]], index: int) -> float:
    seen = 0
    for bin_index, count in ordered:
        seen += count
        if index < seen:
            return value_of(bin_index)
    return value_of(ordered[-1][0])
