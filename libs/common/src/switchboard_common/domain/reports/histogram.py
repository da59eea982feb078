"""Mergeable histograms of durations: a value (seconds) falls in a bin; bins add up across hours, agents and
inboxes, and medians and p90s come out of the merged counts.

Bins are exact whole seconds up to :data:`EXACT_UNTIL` (a week: response, wait and most resolution times are
exact to the second), then logarithmic with 1% relative width, up to a year. A bin's value is its second
(exact bins) or its geometric middle (log bins). Storage stays small either way: a row exists per bin that
occurred in an hour and dimension, and within one agent's hour durations rarely repeat.

A histogram is stored in one ``bigint[]`` as well (``report_groups``): each bin that occurred packed as
``bin << 32 | count``, ascending by bin (:func:`pack`); :func:`merged_quantiles` reads many of them at once
(numpy: a month of an agent's days is a few thousand bins, merged in milliseconds) with the same definition
as :func:`quantile`, so either form gives the same answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

EXACT_UNTIL = 7 * 24 * 3600
GROWTH = 1.01
_LOG_BASE = math.log(GROWTH)
MAX_SECONDS = 366 * 24 * 3600
COUNT_BITS = 32
COUNT_MASK = (1 << COUNT_BITS) - 1


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


def pack(counts: Mapping[int, int]) -> list[int]:
    """``{bin: count}`` as the stored form: ``bin << 32 | count`` per bin with a count, ascending by bin."""
    packed = []
    for bin_index, count in sorted(counts.items()):
        if count < 0 or count > COUNT_MASK:
            raise ValueError(f"a bin's count must fit 32 bits, not {count}")
        if count:
            packed.append((bin_index << COUNT_BITS) | count)
    return packed


# PostgreSQL's binary form of a one-dimensional bigint[] (``array_send``): a header of 5 int32 (dimensions,
# has-nulls flag, element type, length, lower bound; 3 when empty), then per element an int32 length (8) and
# the int64, big-endian.
_SENT_HEADER = 20
_SENT_EMPTY = 12
_SENT_ELEMENT = np.dtype([("length", ">i4"), ("value", ">i8")])


def from_array_send(parts: Iterable[bytes]) -> NDArray[np.int64]:
    """The packed values of stored histograms read as ``array_send(column)``, all in one array."""
    body = b"".join(part[_SENT_HEADER:] for part in parts if len(part) > _SENT_EMPTY)
    return np.frombuffer(body, dtype=_SENT_ELEMENT)["value"].astype(np.int64)


def merged_quantiles(values: NDArray[np.int64] | Sequence[int], qs: Sequence[float]) -> list[float | None]:
    """The ``qs`` quantiles of packed histogram values (:func:`pack`; one histogram, or several concatenated:
    they add up) with the same definition as :func:`quantile`."""
    # Sorting the packed values sorts by bin (the high bits): no index to gather through.
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    if ordered.size == 0:
        return [None for _ in qs]
    bins = ordered >> COUNT_BITS
    running = np.cumsum(ordered & COUNT_MASK)
    total = int(running[-1])
    if total == 0:
        return [None for _ in qs]

    def at(index: int) -> float:
        # The value at ``index`` of the ordered values: the first bin whose running count passes it.
        return value_of(int(bins[min(int(np.searchsorted(running, index, side="right")), bins.size - 1)]))

    results: list[float | None] = []
    for q in qs:
        position = (total - 1) * q
        lower_index = math.floor(position)
        fraction = position - lower_index
        lower = at(lower_index)
        results.append(lower if fraction == 0 else lower + (at(lower_index + 1) - lower) * fraction)
    return results
