"""Run every benchmark and collect their sections into benchmarks/RESULTS.md.

    python benchmarks/run_all.py            # real measurement (tens of minutes on 2 cores)
    python benchmarks/run_all.py --tiny     # smoke run of every script (what the test does)

Run it on a quiet machine: other processes on the same cores distort every number.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = sorted(HERE.glob("bench_*.py"))
ORDER = ["tf_settings", "tf_steps", "numpy_layers", "input_pipeline", "notebooks", "ci"]


def collect(tiny: bool) -> Path:
    suffix = ".tiny.md" if tiny else ".md"
    parts = ["# Benchmark results", "",
             "Written by `python benchmarks/run_all.py` from `benchmarks/sections/`. Medians and "
             "ratios over alternating repetitions; see each script's docstring for the method. "
             "Each section names the CPU, versions and time of its run: compare numbers within a "
             "section, or across sections that name the same CPU.",
             ""]
    for name in ORDER:
        path = HERE / "sections" / f"{name}{suffix}"
        if path.is_file():
            parts.append(path.read_text())
    out = HERE / ("RESULTS.tiny.md" if tiny else "RESULTS.md")
    out.write_text("\n".join(parts))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--collect-only", action="store_true")
    a = p.parse_args(argv)
    if not a.collect_only:
        for script in SCRIPTS:
            print(f"== {script.name}", flush=True)
            subprocess.run([sys.executable, str(script)] + (["--tiny"] if a.tiny else []),
                           check=True)
    print(f"wrote {collect(a.tiny)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
