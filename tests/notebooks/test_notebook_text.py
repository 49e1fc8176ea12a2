"""The text states no figure of our runs by hand.

A figure of a run is printed by code from the run's values (a code cell may build a sentence and
show it as Markdown); typed into markdown, it would go stale without anyone noticing. So every
percentage typed in a notebook's markdown, or in the README outside the table the main job writes,
must be an article's or paper's figure that a results file registers (its ``sourced`` figures,
or a row's ``article`` / ``paper`` value or note), matched to the precision written. Timings of
ours may only appear as bounds ("under 35 minutes"). README's headline table and
``results/summary.md`` must be what the main job writes from the results files. No markdown cell
is longer than 250 words, and none talks about earlier runs, other machines or files outside the
repository.
"""
import json
import re

import pytest

from shared import reproduce
from shared.runtime import REPO_ROOT

NOTEBOOKS = sorted(p for p in (REPO_ROOT / "notebooks").glob("*.ipynb")
                   if not p.name.startswith("."))
RESULTS = REPO_ROOT / "results"
PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")
TIMING = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(min|minutes|seconds|hours)\b")
BOUND = re.compile(r"(under|at most|below|within|≤|<)\s*$", re.IGNORECASE)
LAB_LOG = re.compile(r"previous runs?|earlier runs?|last run|older machine|article-facts|"
                     r"\bEPYC\b|\bXeon\b|\bZen \d|\bRyzen\b|images/s", re.IGNORECASE)


def _numbers(value, found: list):
    """Every number in a registered value: floats, ints, and the figures inside notes."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, (int, float)):
        found += [float(value), 100 * float(value)]
    elif isinstance(value, str):
        found += [float(v) for v in re.findall(r"\d+(?:\.\d+)?", value)]
    elif isinstance(value, dict):
        for v in value.values():
            _numbers(v, found)
    elif isinstance(value, list):
        for v in value:
            _numbers(v, found)


def sourced_figures(results: list[dict]) -> list[float]:
    """The article and paper figures the results files register (as written: 76.31 for 76.31%)."""
    found: list = []
    for data in results:
        for entry in (data.get("sourced") or {}).values():
            _numbers(entry.get("value") if isinstance(entry, dict) else entry, found)
        for row in data.get("rows", []):
            for key in ("article", "paper", "article_note", "paper_note"):
                _numbers(row.get(key), found)
    return found


def _matches(value: str, candidates) -> bool:
    decimals = len(value.split(".")[1]) if "." in value else 0
    target = float(value)
    return any(abs(round(c, decimals) - target) < 1e-9 for c in candidates)


def typed_figures(text: str, sourced: list[float]) -> list[str]:
    """Percentages in ``text`` that are no registered source figure, and timings that are not
    bounds. Link targets, code spans and formulas are not prose."""
    text = re.sub(r"\]\((?:https?:|\.\./|results/|benchmarks/)[^)]*\)", "]", text)
    text = re.sub(r"`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$", " ", text, flags=re.S)
    bad = []
    for line in text.splitlines():
        for m in PERCENT.finditer(line):
            if not _matches(m.group(1), sourced):
                bad.append(f"{m.group(0)} in: {line.strip()[:100]}")
        for m in TIMING.finditer(line):
            if not BOUND.search(line[:m.start()]):
                bad.append(f"{m.group(0)} in: {line.strip()[:100]}")
    return bad


def _markdown(nb: dict) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def _load(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    results_path = RESULTS / f"{path.stem}.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else None
    return nb, results


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_markdown_types_no_figure_of_ours(path):
    nb, results = _load(path)
    bad = typed_figures(_markdown(nb), sourced_figures([results] if results else []))
    assert not bad, (f"{path.name}: figures typed in markdown that no results file registers as "
                     "an article's or paper's; print ours from the run's values:\n"
                     + "\n".join(bad))


def _readme_parts():
    text = (REPO_ROOT / "README.md").read_text()
    head, rest = text.split(reproduce.README_START, 1)
    block, tail = rest.split(reproduce.README_END, 1)
    return head + tail, block.strip()


def test_readme_headlines_are_the_results_files():
    _, block = _readme_parts()
    assert block == reproduce.headline_table(RESULTS).strip(), \
        "README's headline table differs from results/: run python -m shared.reproduce " \
        "--summary-only"


def test_readme_types_no_figure_of_ours():
    prose, _ = _readme_parts()
    bad = typed_figures(prose, sourced_figures(reproduce.read_results(RESULTS)))
    assert not bad, "README.md: typed figures:\n" + "\n".join(bad)


def test_summary_is_the_results_files(tmp_path):
    for path in RESULTS.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    expected = reproduce.write_summary(tmp_path).read_text()
    assert (RESULTS / "summary.md").read_text() == expected, \
        "results/summary.md differs from results/*.json: run python -m shared.reproduce " \
        "--summary-only"


def test_a_planted_wrong_figure_is_caught(tmp_path):
    sourced = sourced_figures([{"rows": [{"article": 0.7631, "paper_note": "WRN-16-8, 95.19%"}],
                                "sourced": {"log": {"value": 0.55, "url": "http://x.y"}}}])
    good = ("The article reached 76.31% ([post](http://x.y/50%)); the paper 95.19% and 55%.\n"
            "Training stays under 35 minutes; the warm-up takes a fifth of the steps.")
    assert typed_figures(good, sourced) == []
    assert typed_figures("Ours reached 84% ([post](http://x.y)).", sourced) == \
        ["84% in: Ours reached 84% ([post])."]
    assert typed_figures("The run took 16 min.", sourced) == ["16 min in: The run took 16 min."]
    assert typed_figures("It reached 76.3%.", sourced) == []     # 76.31 written to one decimal
    assert typed_figures("It reached 76.4%.", sourced) != []
    # the committed README and summary: one changed figure fails
    prose, block = _readme_parts()
    assert block and "%" in block
    planted = block.replace("%", "1%", 1)
    assert planted.strip() != reproduce.headline_table(RESULTS).strip()
    assert typed_figures(prose + "\nOur tree reached 84% on CIFAR-10.", sourced_figures(
        reproduce.read_results(RESULTS))) == ["84% in: Our tree reached 84% on CIFAR-10."]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_markdown_is_short_and_no_lab_log(path):
    nb, _ = _load(path)
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        words = len(re.sub(r"\(http[^)]*\)", "", text).split())
        assert words <= 250, f"{path.name} markdown cell {i}: {words} words"
        log = LAB_LOG.search(text)
        assert not log, f"{path.name} markdown cell {i} mentions {log.group(0)!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_overview_states_runtime_per_budget(path):
    nb, _ = _load(path)
    first = "".join("".join(c["source"]) for c in nb["cells"][:3] if c["cell_type"] == "markdown")
    line = next((l for l in first.splitlines() if "runtime" in l.lower()), "")
    assert all(b in line for b in ("quick", "default", "full")), f"{path.name}: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_figure_is_saved_with_the_notebook(path):
    # a run under a non-interactive matplotlib backend executes plt.show() but keeps no image
    nb, _ = _load(path)
    # a cell that plots only at some budgets (``if cfg[...]:`` around it) and printed nothing
    # did not plot at this one
    missing = [i for i, cell in enumerate(nb["cells"])
               if cell["cell_type"] == "code" and "plt.show()" in "".join(cell["source"])
               and cell.get("outputs") is not None and cell.get("execution_count")
               and not ("".join(cell["source"]).lstrip().startswith("if cfg[")
                        and not cell["outputs"])
               and not any("image/png" in out.get("data", {}) for out in cell["outputs"])]
    assert not missing, f"{path.name}: cells {missing} show a figure but saved no image"
