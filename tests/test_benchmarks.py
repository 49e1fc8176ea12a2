"""Every benchmark script runs at tiny size (so none rots). Nothing here asserts a timing."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("bench_*.py")))
def test_benchmark_runs_tiny(script):
    out = subprocess.run([sys.executable, str(BENCH / script), "--tiny"], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TINY smoke run" in out.stdout


def test_ci_benchmark_reads_what_ci_prints():
    # the full run of bench_ci.py takes a whole CI run, so its parser is checked on CI's output
    sys.path.insert(0, str(BENCH))
    from bench_ci import parse_ci_output
    text = ("setup took 97 s\n........ [ 99%]\n.. [100%]\n"
            "955 passed, 2 skipped in 652.31s (0:10:52)\nCI took 751 s\n")
    assert parse_ci_output(text) == {"setup_s": 97, "total_s": 751, "pytest_s": 652.31,
                                     "summary": "955 passed, 2 skipped"}
    failed = parse_ci_output("setup took 90 s\n1 failed, 956 passed in 700.00s (0:11:40)\n")
    assert failed["summary"] == "1 failed, 956 passed" and "total_s" not in failed


def test_step_table_gives_the_median_of_each_runs_median():
    sys.path.insert(0, str(BENCH))
    from bench_tf_steps import model_rows

    def run(fit_s, tape_s, rate):  # seconds per step of fit and tape in each round
        return {"flops": 1e9, "rates": {"Keras fit": rate, "GradientTape": rate},
                "rounds": [{"Keras fit": f, "GradientTape": t} for f, t in zip(fit_s, tape_s)]}
    runs = [run([1.0, 1.0, 1.0], [0.5, 1.0, 2.0], 100.0),   # round ratios 2, 1, 0.5: median 1
            run([1.0, 1.1, 1.2], [1.0, 1.0, 1.0], 110.0),   # 1, 1.1, 1.2: median 1.1
            run([0.9, 0.9, 0.9], [1.0, 1.0, 1.0], 90.0)]    # 0.9 each
    fit_row, tape_row = model_rows("m", runs)
    assert tape_row == ["m", "GradientTape", "100.0", "300", "1.00x (runs 1.00, 1.10, 0.90)",
                        "1.00x"]
    assert fit_row[4] == "1.00x" and fit_row[5] == "1.00x (runs 1.00, 0.91, 1.11)"
    assert model_rows("m", runs[1:2])[1][4] == "1.10x"  # one run: no list of runs
