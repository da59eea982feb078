"""Mergeable histograms of durations: a value (seconds) falls in a bin; bins add up across hours, agents and
inboxes, and medians and p90s come out of the merged counts.

Bins are exact whole seconds up to :data:`EXACT_UNTIL` (a week: response, wait and most resolution times are
exact to the second), then logarithmic with 1% relative width, up to a year. A bin's value is its second
(exact bins) or its geometric middle (log bins). Storage stays small either way: a row exists per bin that
occurred in an hour and dimension, and within one agent's hour durations rarely repeat.

A histogram is stored in one ``bytea`` as well (``report_groups``): each bin that occurred as a big-endian
int64 ``bin << 32 | count``, ascending by bin (:func:`pack`). Concatenated histograms are a histogram too
(their counts add up), so PostgreSQL merges rows with ``string_agg``/``||`` (a copy) and numpy reads the bytes
as they come (:func:`unpack`, no per-element decoding); :func:`compact` folds a concatenation back into one
entry per bin, and :func:`merged_quantiles` reads many at once (a month of an agent's days is a few thousand
bins, merged in a millisecond) with the same definition as :func:`quantile`, so either form gives the same
answer.
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


PACKED = np.dtype(">i8")  # the stored element: PostgreSQL's own int8 byte order (``int8send``)


def pack(counts: Mapping[int, int]) -> bytes:
    """``{bin: count}`` as the stored form: ``bin << 32 | count`` per bin with a count, ascending by bin."""
    packed = []
    for bin_index, count in sorted(counts.items()):
        if count < 0 or count > COUNT_MASK:
            raise ValueError(f"a bin's count must fit 32 bits, not {count}")
        if count:
            packed.append((bin_index << COUNT_BITS) | count)
    return np.array(packed, dtype=PACKED).tobytes()


def unpack(data: bytes) -> NDArray[np.int64]:
    """The packed values of stored histograms (one, or several concatenated), as native int64."""
    return np.frombuffer(data, dtype=PACKED).astype(np.int64)


def is_compact(values: NDArray[np.int64]) -> bool:
    """Whether ``values`` hold each bin once, ascending (what :func:`pack` and :func:`compact` write)."""
    bins = values >> COUNT_BITS
    return bool(np.all(bins[1:] > bins[:-1]))


def compact(values: NDArray[np.int64]) -> bytes:
    """Packed values with bins repeated or out of order (concatenated histograms) in the stored form: one entry
    per bin, counts added, ascending by bin."""
    if values.size == 0:
        return b""
    ordered = np.sort(values)
    bins = ordered >> COUNT_BITS
    starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
    counts = np.add.reduceat(ordered & COUNT_MASK, starts)
    if int(counts.max()) > COUNT_MASK:
        raise ValueError(f"a bin's count must fit 32 bits, not {int(counts.max())}")
    return ((bins[starts] << COUNT_BITS) | counts).astype(PACKED).tobytes()


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
