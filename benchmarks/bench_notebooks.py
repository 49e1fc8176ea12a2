"""Wall time of the whole series: every notebook under nbval at the quick budget (what CI runs),
beside the wall time of its committed default-budget run (recorded by ``shared.reproduce`` in
``results/<notebook>.json``).

    python benchmarks/bench_notebooks.py            # runs each notebook's quick pytest once
    python benchmarks/bench_notebooks.py --tiny     # only collects the recorded default times

Target: the quick-budget notebook suite under 10 minutes here.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    rows, total_quick = [], 0.0
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        quick = "not run (--tiny)"
        if not a.tiny:
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-m", "pytest", "-q", str(nb)], cwd=ROOT,
                                 env={**os.environ, "BACKPROP_BUDGET": "quick"},
                                 capture_output=True, text=True)
            seconds = time.perf_counter() - start
            total_quick += seconds
            quick = f"{seconds / 60:.1f} min" + ("" if out.returncode == 0 else " (FAILED)")
        results = ROOT / "results" / f"{nb.stem}.json"
        default = cpu = "—"
        if results.is_file():
            data = json.loads(results.read_text())
            if "wall_seconds" in data:
                default = f"{data['wall_seconds'] / 60:.1f} min ({data['wall_budget']})"
                cpu = data.get("hardware", {}).get("cpu", "?")
        rows.append([nb.stem, quick, default, cpu])
    if not a.tiny:
        rows.append(["**all notebooks**", f"**{total_quick / 60:.1f} min**", "", ""])
    body = ("Quick: `BACKPROP_BUDGET=quick pytest notebooks/<nb>.ipynb` (nbval, lax), one run "
            "each, machine otherwise idle, oneDNN off as under any `pytest` (conftest.py). "
            "Default: the committed run, executed by "
            "`python -m shared.reproduce --budget default`, on the CPU its header names (each "
            "notebook's stored run may come from a different machine: the AVX-512 one trains "
            "several times faster).\n\n"
            + common.table(["notebook", "quick (pytest)", "committed run", "its CPU"], rows))
    common.write_section("notebooks", "Whole series", body, a.tiny)


if __name__ == "__main__":
    main()
