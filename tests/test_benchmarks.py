"""Both benchmark scripts run at --tiny size (so neither rots), and the arithmetic behind their
tables is right. Nothing here asserts a timing."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
# each script and the start of every table row its smoke run must print
SCRIPTS = {"bench_tf_steps.py": ["| all-cnn |", "| tree |", "| article-wrn |"],
           "bench_numpy_layers.py": ["| conv 3x3", "| max pool 2x2", "| dense"]}
sys.path.insert(0, str(BENCH))

import bench_tf_steps  # noqa: E402
import common  # noqa: E402


@pytest.fixture(scope="module")
def tiny_runs():
    """Both smoke runs started at once (two cores: each waits mostly on its own imports);
    -> script -> (exit code, stdout, stderr), and RESULTS.md's text before them."""
    before = common.RESULTS.read_text()
    procs = {s: subprocess.Popen([sys.executable, str(BENCH / s), "--tiny"], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for s in SCRIPTS}
    out = {}
    for script, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        out[script] = (proc.returncode, stdout, stderr)
    return out, before


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_runs_tiny_and_writes_nothing(script, tiny_runs):
    (code, stdout, stderr), before = tiny_runs[0][script], tiny_runs[1]
    assert code == 0, stderr[-3000:]
    assert "TINY smoke run" in stdout
    assert all(row in stdout for row in SCRIPTS[script]), stdout
    assert common.RESULTS.read_text() == before


def test_ratios_are_medians_of_per_round_ratios():
    # seconds per step. fit / tape per round: 1, 3, 0.75 -> median 1, where the ratio of the
    # medians (3 / 1) would be 3; tape / by hand: 0.5, 1, 1 -> median 1, not 1 / 2
    rounds = [{"Keras fit": 1.0, "GradientTape": 1.0, "by hand": 2.0, "GradientTape again": 1.0},
              {"Keras fit": 3.0, "GradientTape": 1.0, "by hand": 1.0, "GradientTape again": 0.5},
              {"Keras fit": 3.0, "GradientTape": 4.0, "by hand": 4.0, "GradientTape again": 5.0}]
    row = bench_tf_steps.model_row("m", rounds, batch=10)
    assert row == ["m", "3.3", "10.0", "5.0", "10.0", "1.00x", "1.00x", "1.00x"]
    rounds[1]["by hand"] = 0.25  # one fast round moves the median of three only as far as the next
    assert bench_tf_steps.model_row("m", rounds, batch=10)[6] == "1.00x"
    rounds[2]["by hand"] = 2.0
    assert bench_tf_steps.model_row("m", rounds, batch=10)[6] == "2.00x"


def test_a_missing_candidate_shows_as_a_dash_and_the_verdict_compares_with_the_target():
    rounds = [{"Keras fit": 1.0, "GradientTape": 1.0, "GradientTape again": 1.0}]
    wrn = bench_tf_steps.model_row("wrn", rounds, batch=1)
    assert wrn[3] == "—" and wrn[6] == "—" and wrn[7] == "1.00x"
    rows = [["a", *[""] * 5, "0.97x", "1.01x"], ["b", *[""] * 5, "0.96x", "1.00x"], wrn]
    text = bench_tf_steps.verdict(rows)
    assert "met for a (0.97x" in text and "missed for b (0.96x" in text and "wrn" not in text


def test_candidates_take_turns_going_first():
    calls = []
    candidates = {k: (lambda k=k: calls.append(k) or 1.0) for k in "abc"}
    rounds = common.take_turns(candidates, 4)
    assert calls == list("abc" "bca" "cab" "abc")
    assert rounds == [{"a": 1.0, "b": 1.0, "c": 1.0}] * 4


def test_a_real_run_rewrites_only_its_own_section(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "RESULTS", tmp_path / "RESULTS.md")
    common.RESULTS.write_text("# Results\n\nintro\n\n<!-- a -->\nold a\n<!-- /a -->\n\n"
                              "<!-- b -->\nold b\n<!-- /b -->\n")
    common.report("a", "A", "new a", tiny=False)
    common.report("c", "C", "new c", tiny=False)  # no markers yet: appended
    common.report("a", "A", "newer a", tiny=False)
    common.report("b", "B", "tiny b", tiny=True)
    text = common.RESULTS.read_text()
    assert text.startswith("# Results\n\nintro\n\n<!-- a -->\n## A\n\n_")
    assert "newer a\n<!-- /a -->\n\n<!-- b -->\nold b\n<!-- /b -->\n\n<!-- c -->\n## C" in text
    assert text.endswith("new c\n<!-- /c -->\n")
    assert "new a" not in text.replace("newer a", "") and "tiny b" not in text
