"""The routing bench's own tools (bench.routing): the profile table it writes beside each py-spy recording,
and the parts a run can be limited to."""

from __future__ import annotations

import pytest

from bench.routing import PHASES, main, top_functions


def test_the_profile_table_counts_own_and_total_samples_per_function() -> None:
    folded = "\n".join(
        [
            "main (m.py:1);loop (m.py:2);decide (r.py:10) 30",
            "main (m.py:1);loop (m.py:2);decide (r.py:10);validate (p.py:5) 50",
            "main (m.py:1);loop (m.py:2);publish (b.py:7) 20",
            "not a sample line",
        ]
    )
    table = top_functions(folded)
    lines = table.splitlines()
    assert lines[0].startswith("100 samples")
    own = lines[lines.index("own % | total % | function") + 1 :]
    assert own[0] == " 50.0 |  50.0 | validate (p.py:5)"
    assert own[1] == " 30.0 |  80.0 | decide (r.py:10)"
    assert own[2] == " 20.0 |  20.0 | publish (b.py:7)"
    inclusive = lines[lines.index("total % | function (inclusive, busiest first)") + 1 :]
    assert inclusive[:2] == ["100.0 | main (m.py:1)", "100.0 | loop (m.py:2)"]


def test_a_run_names_only_known_parts() -> None:
    assert "public" in PHASES and "decisions" in PHASES
    with pytest.raises(SystemExit):
        main(["--only", "decisions,nonsense"])
