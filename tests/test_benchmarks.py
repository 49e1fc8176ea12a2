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


def test_median_interval_is_the_binomial_order_statistics():
    sys.path.insert(0, str(BENCH))
    from common import median_interval
    # Binomial(40, 1/2): P(B <= 13) = 0.019 <= 0.025 < P(B <= 14) = 0.040, so ranks 14 and 27
    assert median_interval(list(range(40, 0, -1))) == (14, 27)
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0, 6.0]) == (1.0, 6.0)  # 2 * 2**-6 <= 0.05
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0]) is None             # 2 * 2**-5 > 0.05
