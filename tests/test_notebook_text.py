"""The notebooks' text matches their run.

Every percentage and timing quoted in a markdown cell must be one the notebook printed (its
outputs or its results file), or an article / paper figure with its source: a link in the same
paragraph, or a results-table column headed "article" or "paper". A one-line "Runtime" overview
states the measured run times per budget. No markdown cell is longer than 250 words, and none
talks about earlier runs, other machines or files outside the repository.
"""
import json
import re

import pytest

from shared.runtime import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")
TIMING = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?(s|min|minutes|seconds)\b")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
LAB_LOG = re.compile(r"previous runs?|earlier runs?|last run|older machine|article-facts|"
                     r"\bEPYC\b|\bXeon\b|\bZen \d|\bRyzen\b|images/s", re.IGNORECASE)
OURS = re.compile(r"\b(we|our|ours|us|here|this run|this budget|case \w+|(default|quick) budget)\b",
                  re.IGNORECASE)
NEAR = 30  # characters between a quoted figure and the link that sources it
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*`])")
SOURCED_COLUMN = re.compile(r"article|paper|published", re.IGNORECASE)


def printed_text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            for key in ("text/plain", "text/markdown", "text/html"):
                parts.append("".join(out.get("data", {}).get(key, "")))
    return "\n".join(parts)


def _numbers_in(value, found: list):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        found.append(float(value))
    elif isinstance(value, dict):
        for v in value.values():
            _numbers_in(v, found)
    elif isinstance(value, list):
        for v in value:
            _numbers_in(v, found)


def known_values(nb: dict, results: dict | None):
    """(percentages, timings in seconds, minute values) the run printed or saved."""
    text = printed_text(nb)
    percents = {float(m) for m in PERCENT.findall(text)}
    numbers = [float(n) for n in NUMBER.findall(text)]
    saved = []
    _numbers_in(results or {}, saved)
    percents |= {100 * n for n in numbers + saved if 0 <= n <= 1}
    times = {float(v) for v, _ in TIMING.findall(text)} | set(saved) | set(numbers)
    return percents, times


def _matches(value: str, candidates) -> bool:
    decimals = len(value.split(".")[1]) if "." in value else 0
    target = float(value)
    return any(abs(round(c, decimals) - target) < 1e-9 for c in candidates)


def _unsourced(sentence: str) -> str:
    """The sentence with its sourced figures blanked out. Where a citing sentence also speaks of
    our runs, only a figure with a link at most NEAR characters before or after it is sourced."""
    links = [m.span() for m in re.finditer(r"\[[^\]]*\]\(http[^)]*\)", sentence)]
    if links and not OURS.search(sentence):
        return ""  # a sentence that cites and speaks of no run of ours: every figure is sourced
    keep, last = [], 0
    for m in sorted(list(PERCENT.finditer(sentence)) + list(TIMING.finditer(sentence)),
                    key=lambda m: m.start()):
        if any(0 <= start - m.end() <= NEAR or 0 <= m.start() - end <= NEAR
               for start, end in links):
            keep.append(sentence[last:m.start()])
            last = m.end()
    return "".join(keep) + sentence[last:]


def unsupported_numbers(nb: dict, results: dict | None) -> list[str]:
    """Quoted percentages and timings that neither the run nor a cited source backs."""
    percents, times = known_values(nb, results)
    bad = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for paragraph in re.split(r"\n\s*\n", "".join(cell["source"])):
            if not paragraph.lstrip().startswith("|"):
                paragraph = " ".join(_unsourced(s) for s in SENTENCE.split(paragraph))
            lines = paragraph.splitlines()
            header = next((l for l in lines if l.lstrip().startswith("|")), "")
            columns = [c.strip() for c in header.strip().strip("|").split("|")]
            for line in lines:
                if "runtime" in line.lower():
                    continue  # the overview's runtime line, checked against wall times by hand
                cells = ([c for c in line.strip().strip("|").split("|")]
                         if line.lstrip().startswith("|") else [line])
                for i, text in enumerate(cells):
                    if len(cells) > 1 and i < len(columns) and SOURCED_COLUMN.search(columns[i]):
                        continue
                    for value in PERCENT.findall(text):
                        if not _matches(value, percents):
                            bad.append(f"{value}% in: {line.strip()[:90]}")
                    for value, unit in TIMING.findall(text):
                        seconds = float(value) * (60 if unit.startswith("min") else 1)
                        if not (_matches(value, times) or _matches(str(seconds), times)):
                            bad.append(f"{value} {unit} in: {line.strip()[:90]}")
    return bad


def _load(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    results_path = REPO_ROOT / "results" / f"{path.stem}.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else None
    return nb, results


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_quoted_numbers_come_from_the_run_or_a_source(path):
    nb, results = _load(path)
    bad = unsupported_numbers(nb, results)
    assert not bad, f"{path.name}: numbers in markdown that this run did not print:\n" + \
        "\n".join(bad)


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


def test_a_planted_wrong_percentage_is_caught():
    nb = {"cells": [
        {"cell_type": "code", "source": [], "outputs": [
            {"output_type": "stream", "text": ["test accuracy 53.7%, 527 s\n", "loss 0.734\n"]}]},
        {"cell_type": "markdown", "source": ["The run reached 53.7% in 527 s (0.73 of 1).\n\n",
                                             "The article reached 72% ([post](http://x.y)). "
                                             "Ours reached 53.7%.\n\n",
                                             "| case | article | ours |\n|---|---|---|\n",
                                             "| a | 61% | 73.4% |\n"]}]}
    assert unsupported_numbers(nb, None) == []
    nb["cells"][1]["source"][0] = "The run reached 56% in 527 s.\n\n"
    assert unsupported_numbers(nb, None) == ["56% in: The run reached 56% in 527 s."]
    nb["cells"][1]["source"][0] = "The run reached 53.7% in 543 s.\n\n"
    assert unsupported_numbers(nb, None) == ["543 s in: The run reached 53.7% in 543 s."]
    nb["cells"][1]["source"][0] = "The run reached 53.7% in 527 s.\n\n"
    nb["cells"][1]["source"][1] = ("The article reached 72% ([post](http://x.y)). "
                                   "We reached 58%.\n\n")
    assert unsupported_numbers(nb, None) == ["58% in: We reached 58%."]
    nb["cells"][1]["source"][3] = "| a | 61% | 71.4% |\n"
    assert unsupported_numbers(nb, None)[-1].startswith("71.4% in: | a | 61% | 71.4% |")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_figure_is_saved_with_the_notebook(path):
    # a run under a non-interactive matplotlib backend executes plt.show() but keeps no image
    nb, _ = _load(path)
    missing = [i for i, cell in enumerate(nb["cells"])
               if cell["cell_type"] == "code" and "plt.show()" in "".join(cell["source"])
               and cell.get("outputs") is not None and cell.get("execution_count")
               and not any("image/png" in out.get("data", {}) for out in cell["outputs"])]
    assert not missing, f"{path.name}: cells {missing} show a figure but saved no image"
