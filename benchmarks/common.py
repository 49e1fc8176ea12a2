"""What the two benchmarks share: candidates timed in turns, medians of per-round ratios, and
each script's own section of RESULTS.md (between its markers), written by a real run only."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
sys.path.insert(0, str(HERE.parent))


def arguments(argv, rounds: int, **options) -> argparse.Namespace:
    """--tiny and --rounds, plus ``options`` (name -> default, whose type the value takes)."""
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true", help="smoke run: small sizes, writes nothing")
    p.add_argument("--rounds", type=int, default=rounds)
    for name, default in options.items():
        p.add_argument(f"--{name}", type=type(default), default=default)
    return p.parse_args(argv)


def wall_clock(fn):
    """A candidate timing ``fn()`` by the clock; ``fn`` must block until its work is done."""
    def timed():
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    return timed


def take_turns(candidates: dict, rounds: int) -> list[dict]:
    """Run every candidate (a callable returning the seconds its work took) once per round, a
    different one going first each round, so that a machine speeding up or slowing down during
    the run favours none of them. -> one dict per round, candidate -> seconds."""
    names = list(candidates)
    out = []
    for r in range(rounds):
        shift = r % len(names)
        out.append({name: candidates[name]() for name in names[shift:] + names[:shift]})
    return out


def median_seconds(rounds: list[dict], name: str) -> float:
    return statistics.median(rd[name] for rd in rounds)


def speed_ratio(rounds: list[dict], name: str, ref: str) -> float:
    """How many times as fast as ``ref`` candidate ``name`` runs: the median over rounds of each
    round's ratio. Two steps timed seconds apart meet the same load, and the median drops the
    rounds that a burst of load hit."""
    return statistics.median(rd[ref] / rd[name] for rd in rounds)


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def machine_line() -> str:
    import numpy as np
    from shared.runtime import cpu_name
    tf = sys.modules.get("tensorflow")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    return (f"_{cpu_name()}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"numpy {np.__version__}" + (f", tensorflow {tf.__version__}" if tf else "")
            + f"; {stamp}._")


def report(name: str, title: str, body: str, tiny: bool) -> None:
    """Print a section; a real run also puts it between ``name``'s markers in RESULTS.md (at
    the end if they are missing), so that each script rewrites its own section only."""
    section = f"## {title}\n\n{machine_line()}\n\n{body.strip()}\n"
    if tiny:
        print("TINY smoke run, not a measurement: RESULTS.md left as it is.\n")
        print(section)
        return
    print(section)
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{section}{end}\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    before, found, rest = text.partition(start)
    tail = rest.partition(end)[2].lstrip() if found else ""
    RESULTS.write_text(f"{before.rstrip()}\n\n{block}" + (f"\n{tail}" if tail else ""))
