"""Where the CPU goes: each process of a running stack (services, PostgreSQL, Valkey, tansu, the load
client) found from /proc and sampled together, so a run can say how many CPU milliseconds each one spent per
message; and py-spy flame graphs of the service processes while the load runs."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from switchboard_devstack.processes import CLOCK_TICKS, child_pids, high_water_bytes

PROFILES = Path(__file__).parent / "profiles"
PY_SPY = Path(sys.executable).with_name("py-spy")


def _stat(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return []


def own_cpu_seconds(pid: int) -> float:
    """utime + stime of the process, plus cutime + cstime: the children it already reaped (PostgreSQL's
    backends, which come and go) still count."""
    fields = _stat(pid)
    if len(fields) < 15:
        return 0.0
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


def comm(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return ""


def cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    return []


@dataclass
class Watched:
    """Named process roots; each one's CPU covers its descendants that are not named themselves."""

    roots: dict[str, int] = field(default_factory=dict)

    def _tree(self, pid: int, named: set[int]) -> list[int]:
        found, pending = [], [pid]
        while pending:
            current = pending.pop()
            found.append(current)
            pending.extend(c for c in child_pids(current) if c not in named)
        return found

    def cpu(self) -> dict[str, float]:
        named = set(self.roots.values())
        return {name: sum(own_cpu_seconds(p) for p in self._tree(pid, named)) for name, pid in self.roots.items()}

    def peak_rss_mb(self) -> dict[str, float]:
        return {name: high_water_bytes(pid) / 2**20 for name, pid in self.roots.items()}


SERVER_NAMES = {"postgres": "PostgreSQL", "valkey-server": "Valkey", "tansu": "tansu"}


def classify(root: int, root_name: str) -> dict[str, int]:
    """A process tree as named roots: servers by program, our services by module
    (``python -m switchboard_<service>``), the root under ``root_name``."""
    roots = {root_name: root}
    pending = list(child_pids(root))
    while pending:
        pid = pending.pop()
        name = comm(pid)
        if name in SERVER_NAMES:
            roots[SERVER_NAMES[name]] = pid
            continue  # its own children (PostgreSQL backends) are part of it
        args = cmdline(pid)
        module = next((a for a in args if a.startswith("switchboard_")), None)
        if module is not None:
            label = module.removeprefix("switchboard_")
            role = _role(args)
            roots[f"{label}{role}"] = pid
        pending.extend(child_pids(pid))
    return roots


def _role(args: list[str]) -> str:
    if "--workers" in args:
        return f" ({args[args.index('--workers') + 1]})"
    if "--no-workers" in args:
        return " (http)"
    return ""


def start_recording(pid: int | None, folded: Path, rate: int = 100) -> subprocess.Popen[bytes] | None:
    """py-spy recording ``pid`` as folded stacks into ``folded`` until :func:`stop_recording` (non-blocking
    sampling: the process is not paused, so its own CPU figures stay true); None without py-spy or a pid."""
    if pid is None or not PY_SPY.exists():
        return None
    folded.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [str(PY_SPY), "record", "--nonblocking", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
         "--output", str(folded)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def stop_recording(spy: subprocess.Popen[bytes]) -> None:
    """Ends a :func:`start_recording` (SIGINT makes py-spy write what it sampled), killing it after a minute."""
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(60)
    except subprocess.TimeoutExpired:
        spy.kill()
        spy.wait()


class Profiler:
    """py-spy flame graphs (SVG) of the given processes for ``seconds``, and beside each a table of the
    functions the process spent its samples in (``.txt``, from a second recording as folded stacks); sampling
    is non-blocking, so the profiled process is not paused and its own CPU figures stay true."""

    def __init__(self, prefix: str, pids: dict[str, int], seconds: float, rate: int = 67) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.folded: list[Path] = []
        PROFILES.mkdir(exist_ok=True)
        for name, pid in pids.items():
            base = PROFILES / f"{prefix}-{_slug(name)}"
            self.folded.append(base.with_suffix(".folded"))
            for fmt, out in (("flamegraph", base.with_suffix(".svg")), ("raw", base.with_suffix(".folded"))):
                self.procs.append(
                    subprocess.Popen(
                        [str(PY_SPY), "record", "--nonblocking", "--pid", str(pid), "--duration",
                         str(max(1, int(seconds))), "--rate", str(rate), "--format", fmt, "--output", str(out)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )  # fmt: skip

    def wait(self) -> None:
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        for folded in self.folded:
            if folded.exists():  # the table is kept; the stacks themselves are megabytes
                folded.with_suffix(".txt").write_text(top_functions(folded.read_text()))
                folded.unlink()


def top_functions(folded: str, limit: int = 40) -> str:
    """A table of the functions a folded-stack profile spends its samples in: own samples (the function itself
    on top of the stack) and total (anywhere on it), busiest first; idle samples (the event loop waiting) are
    not recorded (py-spy leaves out idle threads), so shares are of the time the process worked."""
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    busy = 0
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        busy += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in dict.fromkeys(frames):  # once per sample, outermost first (ties keep that order)
            total[frame] = total.get(frame, 0) + count
    lines = [f"{busy} samples", "", "own % | total % | function"]
    for frame, count in sorted(own.items(), key=lambda item: -item[1])[:limit]:
        lines.append(f"{100 * count / max(busy, 1):5.1f} | {100 * total[frame] / max(busy, 1):5.1f} | {frame}")
    lines += ["", "total % | function (inclusive, busiest first)"]
    for frame, count in sorted(total.items(), key=lambda item: -item[1])[:limit]:
        lines.append(f"{100 * count / max(busy, 1):5.1f} | {frame}")
    lines += ["", "total % | consumer work (samples with such a frame anywhere on the stack)"]
    for name, share in consumer_shares(folded).items():
        lines.append(f"{share:5.1f} | {name}")
    return "\n".join(lines) + "\n"


# What a consumer's records cost before any handler runs, told apart by the frames of a sample's stack.
CONSUMER_WORK: dict[str, tuple[str, ...]] = {
    "Kafka fetch: requests, responses, record batches (aiokafka)": (
        "aiokafka/consumer/fetcher.py",
        "aiokafka/protocol/",
        "aiokafka/record/",
    ),
    "header filter (EventFilter, gates)": ("EventFilter.wants", "._kind (", "._wanted (", "_apply_gate"),
    "event decode (decrypt + parse)": ("._open (", "SubjectKeys.open", "SubjectKeys.parse", "parse_event"),
    "offset commits": ("._commit (", "AIOKafkaConsumer.commit", "commit_offsets"),
}


def consumer_shares(folded: str) -> dict[str, float]:
    """Per kind of consumer work (:data:`CONSUMER_WORK`), the share of busy samples spent in it."""
    busy = 0
    counts = dict.fromkeys(CONSUMER_WORK, 0)
    for line in folded.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        busy += int(count_text)
        for name, needles in CONSUMER_WORK.items():
            if any(needle in stack for needle in needles):
                counts[name] += int(count_text)
    return {name: 100 * count / max(busy, 1) for name, count in counts.items()}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def python_services(roots: dict[str, int], skip: Callable[[str], bool]) -> dict[str, int]:
    """The roots that are Python processes of ours (what py-spy can read)."""
    return {
        name: pid
        for name, pid in roots.items()
        if not skip(name) and comm(pid).startswith("python") and pid != os.getpid()
    }
