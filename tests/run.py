"""`make test`: every test module in its own pytest process, two at a time (the machine has two cores).

Each module gets a fresh interpreter and event loop, so state one module leaves behind in the process
(threads, loop-level patches, browser drivers) cannot leak into another; each still starts its own real
servers. Prints every module's result and one closing line: "N passed, N failed".
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TESTS = Path(__file__).parent
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)")
# Long for their size (minutes of fuzzing from a short file): started first, so they do not run on alone at the end.
STARTED_FIRST = {"api/test_fuzz.py"}


def run_module(path: Path) -> tuple[Path, int, str, float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--tb=short", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return path, result.returncode, result.stdout + result.stderr, time.monotonic() - started


def main() -> int:
    modules = sorted(  # big ones first
        TESTS.rglob("test_*.py"),
        key=lambda p: (p.relative_to(TESTS).as_posix() not in STARTED_FIRST, -p.stat().st_size),
    )
    totals = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    failed_modules = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(os.environ.get("TEST_JOBS", "2"))) as pool:
        for path, code, output, seconds in pool.map(run_module, modules):
            summary = output.strip().splitlines()[-1] if output.strip() else "no output"
            for number, kind in COUNT.findall(summary):
                totals["errors" if kind.startswith("error") else kind] += int(number)
            print(f"{path.relative_to(TESTS)!s:45s} {seconds:6.1f}s  {summary}", flush=True)
            if code != 0:
                failed_modules.append(str(path.relative_to(TESTS)))
                print(output[-6000:], flush=True)
    print(f"modules failed: {', '.join(failed_modules)}" if failed_modules else "all modules passed", flush=True)
    failures = totals["failed"] + totals["errors"]
    print(f"{totals['passed']} passed, {failures} failed, {totals['skipped']} skipped", flush=True)
    return 1 if failed_modules or totals["passed"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
