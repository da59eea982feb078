"""The load run (bench.load, `make bench`): its counting, where a lost, duplicated or stray message must show
up as a number that fails the run whichever frame carried it; and a small run of it end to end, every
service in its own process, in the suite."""

from __future__ import annotations

import collections
import tempfile
from pathlib import Path

import pytest
from switchboard_devstack.servers import StackUrls

from bench.harness import replace_section
from bench.load import SECTION, LoadConfig, run_load, section
from bench.loadgen import (
    CHANNELS,
    channel_of,
    conversation_of,
    inbound_texts,
    marker,
    parse_marker,
    tally,
    window_rates,
)


def frames_for(run: str, shown: list[int]) -> list[dict[str, object]]:
    """An assignment carrying the first message, then the others live, plus an agent's own reply."""
    first, *rest = shown
    return [
        {
            "type": "conversation.assigned",
            "messages": [{"direction": "inbound", "text": marker(run, first)}, {"direction": "outbound", "text": "hi"}],
        },
        *({"type": "message.created", "message": {"direction": "inbound", "text": marker(run, s)}} for s in rest),
        {"type": "message.created", "message": {"direction": "outbound", "text": marker(run, 99)}},
        {"type": "message.delivery_updated", "message_id": "x", "status": "sent"},
    ]


def count(run: str, frames: list[dict[str, object]]) -> collections.Counter[int]:
    arrivals: collections.Counter[int] = collections.Counter()
    for frame in frames:
        for text in inbound_texts(frame):
            seq = parse_marker(run, text)
            if seq is not None:
                arrivals[seq] += 1
    return arrivals


def test_exactly_once_passes() -> None:
    result = tally([0, 1, 2, 3], count("r1", frames_for("r1", [0, 1, 2, 3])))
    assert result.ok and result.delivered_once == 4 and result.lost == [] and result.duplicated == {}


def test_a_lost_message_fails_the_count() -> None:
    result = tally([0, 1, 2, 3], count("r1", frames_for("r1", [0, 1, 3])))
    assert not result.ok and result.lost == [2] and result.delivered_once == 3


def test_a_message_in_the_assignment_and_again_live_is_a_duplicate() -> None:
    result = tally([0, 1, 2], count("r1", frames_for("r1", [0, 1, 2, 0])))
    assert not result.ok and result.duplicated == {0: 2} and result.delivered_once == 2


def test_unacknowledged_deliveries_and_other_runs_are_told_apart() -> None:
    arrivals = count("r1", [*frames_for("r1", [0, 1, 5]), *frames_for("r0", [2])])
    result = tally([0, 1], arrivals)
    assert result.ok and result.unacknowledged_delivered == [5]
    assert parse_marker("r1", marker("r0", 2)) is None
    assert parse_marker("r1", "load r1 12x") == -1


def test_messages_cover_every_channel_and_conversation() -> None:
    per_channel = 5
    seen = {(channel_of(s), conversation_of(s, per_channel)) for s in range(len(CHANNELS) * per_channel)}
    assert seen == {(c, n) for c in CHANNELS for n in range(per_channel)}


def test_first_and_last_window_rates_show_a_run_slowing_down() -> None:
    steady = [float(n) for n in range(1, 101)]  # one message a second from t=1
    first, last, window = window_rates(steady, 0.0, window=10)
    assert window == 10 and first == pytest.approx(1.0) and last == pytest.approx(1.0)
    slowing = [*range(1, 91), *(90 + 5 * n for n in range(1, 11))]  # the last ten come every 5 s
    first, last, _ = window_rates([float(t) for t in slowing], 0.0, window=10)
    assert last / first == pytest.approx(0.2)


def test_the_load_section_is_replaced_in_place() -> None:
    document = f"# Benchmark results\n\n| a | b |\n\n{SECTION}: old\n\nold table\n\n## Later\n\nkept\n"
    updated = replace_section(document, SECTION, f"{SECTION}: new\n\nnew table\n")
    assert updated == f"# Benchmark results\n\n| a | b |\n\n{SECTION}: new\n\nnew table\n\n## Later\n\nkept\n"
    appended = replace_section("# Benchmark results\n", SECTION, f"{SECTION}: new\n")
    assert appended == f"# Benchmark results\n\n{SECTION}: new\n"


@pytest.mark.timeout(300)
async def test_a_small_load_run_delivers_every_message_exactly_once(stack_urls: StackUrls) -> None:
    config = LoadConfig(
        messages=240, window=60, agents=4, conversations=24, max_seconds=120, slot_timeout=30, settle_idle=20
    )
    result = await run_load(stack_urls, config)
    assert result.problems == [], section(result)
    client = result.client
    assert client["accepted"] == client["delivered_once"] == result.stored_once == 240
    assert set(client["e2e_ms"]) == {"all", *CHANNELS}
    assert {u.name for u in result.services if u.service} == {"gateway", "connectors", "router", "privacy"}
    assert all(u.peak_rss_mb > 0 for u in result.services if u.service)


async def test_a_load_run_removes_its_work_directory(
    stack_urls: StackUrls, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The services' data and logs live in a switchboard-load-* directory: gone after the run, even a failed one
    (they filled /tmp once)."""
    from bench import load

    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(prefix: str) -> str:
        made.append(Path(real_mkdtemp(prefix=prefix, dir=tmp_path)))
        (made[-1] / "data").mkdir()
        return str(made[-1])

    def refuse_to_start(self: object) -> None:
        raise RuntimeError("gateway exited")

    monkeypatch.setattr(load.tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(load.ServiceProcess, "start", refuse_to_start)
    with pytest.raises(RuntimeError, match="gateway exited"):
        await run_load(stack_urls, LoadConfig(messages=10))
    (work,) = made
    assert work.name.startswith("switchboard-load-") and not work.exists()
