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
