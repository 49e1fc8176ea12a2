"""The main job: execute every notebook in place at a budget, then write results/summary.md.

    python -m shared.reproduce --budget default            # all notebooks
    python -m shared.reproduce --budget quick 02 01        # some of them (by prefix)
    python -m shared.reproduce --summary-only              # rebuild summary.md and the README's
                                                           # headline table from results/

Each notebook saves ``results/<notebook>.json`` (``records.save_results``); the summary has one
row per experiment with the article's number, the paper's, ours, and the budget and hardware
that produced it. While a notebook runs, its training progress lines and every cell that takes
longer than half a minute are echoed here; a one-screen summary closes the job.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from shared.records import results_file, standard_error, verdict
from shared.runtime import BUDGETS, REPO_ROOT, home

NOTEBOOKS = REPO_ROOT / "notebooks"
RESULTS = home() / "results"   # where the notebooks' save_results writes


SLOW_CELL_SECONDS = 30
# what shared.train prints: a run's first line ("name: 6 epochs") and one line per shown epoch
PROGRESS = re.compile(r"^(epoch \d+/\d+  |.+: \d+ epochs?(, resumed after epoch \d+)?$)")


def execute(path: Path, budget: str, timeout: int) -> float:
    import nbformat
    from nbclient import NotebookClient

    class LiveClient(NotebookClient):
        # echoes the notebook's training progress to this terminal as it arrives
        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") == "stream" and content.get("name") == "stdout":
                for line in content.get("text", "").splitlines():
                    if PROGRESS.match(line):
                        print(f"  {path.stem[:2]} | {line}", flush=True)
            return super().output(outs, msg, display_id, cell_index)

    started = {}

    def cell_started(cell, cell_index):
        started[cell_index] = time.perf_counter()

    def cell_done(cell, cell_index, execute_reply):
        seconds = time.perf_counter() - started.get(cell_index, time.perf_counter())
        if seconds >= SLOW_CELL_SECONDS:
            first = next(iter(cell.source.splitlines()), "")[:50]
            print(f"  {path.stem[:2]} | cell {cell_index} ({first}) took {seconds:.0f} s, "
                  f"{(time.perf_counter() - start) / 60:.1f} min so far", flush=True)

    os.environ["BACKPROP_BUDGET"] = budget  # the kernel inherits this environment
    # a non-interactive backend (MPLBACKEND=Agg, as CI sets) would leave the saved notebook
    # without its figures: the kernel must pick Jupyter's inline backend
    os.environ.pop("MPLBACKEND", None)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    LiveClient(nb, timeout=timeout, kernel_name="python3", on_cell_start=cell_started,
               on_cell_executed=cell_done,
               resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    seconds = time.perf_counter() - start
    _record_wall_time(path, budget, seconds, started=time.time() - seconds)
    return seconds


def _record_wall_time(notebook: Path, budget: str, seconds: float, started: float) -> None:
    """Add the notebook's wall time to the results file it wrote during this execution."""
    results = results_file(notebook.stem, budget)
    if results.is_file() and results.stat().st_mtime >= started:
        data = json.loads(results.read_text())
        data["wall_seconds"] = round(seconds, 1)
        data["wall_budget"] = budget
        results.write_text(json.dumps(data, indent=1))


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _fmt(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return _pct(value) if 0 <= value <= 1 else f"{value:.4g}"
    return str(value)


def fmt_ours(row: dict) -> str:
    """Our figure: an accuracy with its standard error and test-set size (mirrored and plain when
    the run tested mirrored images too; mean and spread over runs when there are several), a
    difference of accuracies with its standard error and verdict; anything else as it is."""
    ours, n, metric = row.get("ours"), row.get("n"), row.get("metric", "accuracy")
    if metric == "difference" and isinstance(ours, float) and "se" in row:
        return (f"{100 * ours:+.2f} ± {100 * row['se']:.2f} points (n = {n:,}; "
                f"{verdict(ours, row['se'])})")
    if metric != "accuracy" or not isinstance(ours, float) or not n:
        return _fmt(ours)
    if isinstance(row.get("std"), float) and row.get("runs", 1) > 1:
        # the mean over runs scores runs x n held-out images; the spread between runs beside it
        runs = row["runs"]
        return (f"{_pct(ours)} ± {100 * standard_error(ours, runs * n):.2f} (n = {runs} x {n:,}; "
                f"sd {100 * row['std']:.2f} over the {runs} runs)")
    text = f"{_pct(ours)} ± {100 * standard_error(ours, n):.2f}"
    if isinstance(row.get("ours_plain"), float):
        plain = row["ours_plain"]
        text = (f"mirrored {text}; plain {_pct(plain)} ± "
                f"{100 * standard_error(plain, n):.2f}")
    return f"{text} (n = {n:,})"


def _with_note(value, note) -> str:
    text = _fmt(value)
    return f"{text} ({note})" if note and text != "—" else text


def _data_text(data: dict) -> str:
    return "; ".join(f"{d['dataset']}: {d['copy']}" for d in data.get("data", {}).values()) or "?"


def read_results(results_dir: Path = RESULTS) -> list[dict]:
    """Every results file in ``results_dir``, in name order."""
    return [json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))]


def summary_rows(results: list[dict]) -> list[str]:
    """The results table, one Markdown row per experiment of every results file."""
    lines = ["| notebook | experiment | article | paper | ours | data | budget |",
             "|---|---|---|---|---|---|---|"]
    for data in results:
        for row in data.get("rows", []):
            lines.append(
                f"| {data['notebook']} | {row.get('experiment', '?')}"
                + (f" [{row['protocol']}]" if row.get("protocol") else "")
                + f" | {_with_note(row.get('article'), row.get('article_note'))}"
                f" | {_with_note(row.get('paper'), row.get('paper_note'))}"
                f" | {fmt_ours(row)} | {_data_text(data)} | {data.get('budget', '?')} |")
    return lines


DATA_NOTE = (
    "Which data: each results file names the copy of each dataset it used (`data`). CIFAR-10 "
    "rows marked \"offline JPEG re-encoding\" were computed on a lossy re-encoding of CIFAR-10 "
    "(about 6 grey levels of error per value, another split into batches), not on the official "
    "files; accuracies on the official files will differ (likely upward). ± is one standard error "
    "of the accuracy on n test images, sqrt(p(1 - p) / n); two figures within 2 SE of each other "
    "are a tie. Article figures marked \"best epoch\" were picked on the test set; ours are the "
    "last epoch.")


def write_summary(results_dir: Path = RESULTS) -> Path:
    results = read_results(results_dir)
    lines = ["# Results summary", "",
             "Generated by `python -m shared.reproduce` from `results/*.json`. Accuracies are test "
             "accuracies unless the experiment says otherwise.", "", DATA_NOTE, "",
             *summary_rows(results)]
    walls = []
    for data in results:
        hw = data.get("hardware", {})
        where = f"{hw.get('cpu', '?')} ×{hw.get('cores', '?')}" + \
            (f", {hw['gpu']}" if hw.get("gpu") not in (None, "none") else "")
        if "wall_seconds" in data:
            walls.append(f"| {data['notebook']} | {data['wall_budget']} | "
                         f"{data['wall_seconds'] / 60:.1f} min | {where} | "
                         f"{data.get('commit', '?')} | {data.get('code_hash', '?')} |")
    if walls:
        lines += ["", "## Wall time of the committed runs", "",
                  "| notebook | budget | wall time | hardware | commit | code hash |",
                  "|---|---|---|---|---|---|", *walls]
    out = results_dir / "summary.md"
    results_dir.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return out


README_START = "<!-- headlines: written by python -m shared.reproduce from results/*.json -->"
README_END = "<!-- end of headlines -->"


def headline_table(results_dir: Path = RESULTS) -> str:
    """The README's table: per notebook, its wall time and its rows marked ``headline``."""
    lines = ["| notebook | data | default run | headline (ours) | article | paper |",
             "|---|---|---|---|---|---|"]
    for data in read_results(results_dir):
        wall = (f"{data['wall_seconds'] / 60:.0f} min ({data['wall_budget']})"
                if "wall_seconds" in data else "—")
        for row in (r for r in data.get("rows", []) if r.get("headline")):
            lines.append(f"| `{data['notebook']}` | {_data_text(data)} | {wall} | "
                         f"{row.get('experiment', '?')}: {fmt_ours(row)} | "
                         f"{_with_note(row.get('article'), row.get('article_note'))} | "
                         f"{_with_note(row.get('paper'), row.get('paper_note'))} |")
    return "\n".join(lines)


def update_readme(readme: Path = REPO_ROOT / "README.md", results_dir: Path = RESULTS) -> bool:
    """Rewrite the README's headline table between its two markers; True when it changed."""
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{readme} has no headline markers ({README_START} ... {README_END})")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_START}\n{headline_table(results_dir)}\n{README_END}{tail}"
    readme.write_text(new)
    return new != text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", choices=BUDGETS, default="default")
    parser.add_argument("--timeout", type=int, default=7200, help="seconds per cell")
    parser.add_argument("--summary-only", action="store_true")
    parser.add_argument("only", nargs="*", help="notebook name prefixes, e.g. 04 02")
    args = parser.parse_args(argv)
    if not args.summary_only:
        notebooks = sorted(p for p in NOTEBOOKS.glob("*.ipynb")
                           if not args.only or any(p.name.startswith(o) for o in args.only))
        if not notebooks:
            print(f"no notebooks match {args.only or '*'} in {NOTEBOOKS}", file=sys.stderr)
            return 2
        times = {}
        for k, path in enumerate(notebooks, 1):
            print(f"[{k}/{len(notebooks)}] {path.name} at the {args.budget} budget", flush=True)
            times[path.name] = execute(path, args.budget, args.timeout)
            print(f"[{k}/{len(notebooks)}] {path.name}: executed in "
                  f"{times[path.name] / 60:.1f} min", flush=True)
    summary = write_summary()
    print(f"\nwrote {summary}")
    if update_readme():
        print("README.md: headline table rewritten from results/")
    if not args.summary_only:
        print(one_screen(times, args.budget))
    return 0


def one_screen(times: dict, budget: str) -> str:
    """Per notebook: minutes and the results rows it wrote, ours beside the article's."""
    lines = []
    for name, seconds in times.items():
        lines.append(f"{name}: {seconds / 60:.1f} min")
        path = results_file(name, budget)
        rows = json.loads(path.read_text()).get("rows", []) if path.is_file() else []
        for row in rows[:6]:
            lines.append(f"    {str(row.get('experiment', '?'))[:46]:<46} ours {_fmt(row.get('ours')):>8}"
                         f"  article {_fmt(row.get('article'))}")
        if len(rows) > 6:
            lines.append(f"    ... {len(rows) - 6} more rows in {path.name}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
