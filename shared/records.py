"""Training records: per-epoch history, the divergence guard, results files.

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

from shared import runtime

RESULTS_DIR = None   # None: results/ in runtime.home(), looked up when saving; tests set one


class DivergenceError(FloatingPointError):
    """The loss became non-finite or exploded; training was stopped."""


def check_loss(loss: float, epoch: int, step: int, bound: float = 1e4,
               allow_divergence: bool = False) -> float:
    """Stop training with a clear message when ``loss`` is NaN/inf or larger than ``bound``.

    ``allow_divergence=True`` is for reproducing a published run that is known to explode (the
    WRN article): the loss is returned unchanged and the caller must say so.
    """
    loss = float(loss)
    if not allow_divergence and not (math.isfinite(loss) and abs(loss) <= bound):
        raise DivergenceError(
            f"training diverged at epoch {epoch}, step {step}: loss = {loss:.4g} "
            f"({'non-finite' if not math.isfinite(loss) else f'above the bound {bound:g}'}). "
            "Lower the learning rate or check the gradients.")
    return loss


class History:
    """Per-epoch metrics of one run, as lists keyed by metric name.

    >>> h = History("case a"); h.add(epoch=1, train_loss=1.2, train_acc=0.4, test_loss=1.3,
    ...                               test_acc=0.38, seconds=12.0)
    """

    def __init__(self, name: str):
        self.name = name
        self.rows: list[dict] = []

    def add(self, **row) -> dict:
        self.rows.append(row)
        return row

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key: str) -> list:
        return [r.get(key, float("nan")) for r in self.rows]

    @property
    def last(self) -> dict:
        return self.rows[-1] if self.rows else {}

    def mean_seconds(self) -> float:
        secs = self["seconds"]
        return sum(secs) / len(secs) if secs else float("nan")

    def to_dict(self) -> dict:
        return {"name": self.name, "epochs": self.rows}


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def results_file(notebook: str, budget: str) -> Path:
    """``results/<notebook>.json`` in ``runtime.home()``; quick-budget runs use ``results/quick/``."""
    results = Path(RESULTS_DIR) if RESULTS_DIR else runtime.home() / "results"
    return (results / "quick" if budget == "quick" else results) / f"{Path(notebook).stem}.json"


def standard_error(acc: float, n: int) -> float:
    """The standard error of an accuracy measured on ``n`` independent test images."""
    return math.sqrt(max(acc * (1 - acc), 0.0) / n)


def fmt_acc(acc: float, n: int, digits: int = 1) -> str:
    """``81.9% ± 0.4 (n = 10,000)``: an accuracy with its standard error, in points."""
    return f"{100 * acc:.{digits}f}% ± {100 * standard_error(acc, n):.{digits}f} (n = {n:,})"


def paired_difference(correct_a, correct_b) -> tuple[float, float]:
    """Accuracy of a minus accuracy of b on the same test images, and its standard error.

    ``correct_a``, ``correct_b``: per-image 0/1 (or bool) arrays, one entry per test image. Pairing
    removes the images both get right or both get wrong from the noise."""
    import numpy as np
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size < 2:
        raise ValueError(f"paired_difference needs two 1-D arrays of one length, got "
                         f"{a.shape} and {b.shape}")
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


def difference_se(acc_a: float, n_a: int, acc_b: float, n_b: int) -> tuple[float, float]:
    """acc_a - acc_b and its standard error for two independent test sets (no pairing)."""
    return acc_a - acc_b, math.hypot(standard_error(acc_a, n_a), standard_error(acc_b, n_b))


def verdict(diff: float, se: float) -> str:
    """What a difference may be called: more than two standard errors, or a tie."""
    return "a difference (> 2 SE)" if abs(diff) > 2 * se else "a tie (within 2 SE)"


def show_markdown(text: str) -> None:
    """Show prose built from a run's values as Markdown in Jupyter; plain text elsewhere."""
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Markdown(text))
    else:
        print(text)


def _check_rows(rows: list[dict]) -> None:
    """Every accuracy row says on how many test images it was measured."""
    for row in rows:
        ours = row.get("ours")
        is_accuracy = row.get("metric", "accuracy") == "accuracy"
        if is_accuracy and isinstance(ours, float) and 0 <= ours <= 1:
            n = row.get("n")
            if not isinstance(n, int) or n <= 0:
                raise ValueError(f"results row {row.get('experiment')!r} is an accuracy without "
                                 "its test-set size: add n=<number of test images> (or set "
                                 "metric= for a row that is not an accuracy)")


def save_results(notebook: str, rows: list[dict], histories, header: dict,
                 extra: dict | None = None, sourced: dict | None = None) -> Path:
    """Write ``results/<notebook>.json`` (in ``runtime.home()``): the rows, histories, provenance.

    ``rows`` are the results table: dicts with at least ``experiment``, ``ours`` and optionally
    ``article`` and ``paper`` (strings or numbers), read by ``python -m shared.reproduce``.
    An accuracy row also has ``n`` (test images) and may have ``ours_plain`` (the same run without
    test-time mirroring), ``protocol``, ``article_note`` and ``paper_note``; a row that is not an
    accuracy names its ``metric``. ``sourced``: every article or paper figure the notebook's text
    quotes, ``{name: (value, url)}`` (percentages as fractions); the text test checks quotes
    against it. The file also records which data the run used (``shared.data.provenance``) and
    the code hash of the notebook and the helpers it imports (``shared.nbguard``).
    ``header`` is what ``runtime.run_header`` returned. Quick-budget runs (CI, ``pytest``) write
    to ``results/quick/``, so that running the tests never overwrites the results of a real run.
    """
    from shared import data, nbguard
    _check_rows(rows)
    budget = header["budget"]
    path = results_file(notebook, budget)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "notebook": notebook,
        "budget": budget,
        **{key: header.get(key) for key in ("hardware", "versions", "commit", "settings")},
        "data": data.provenance(),
        "code_hash": nbguard.code_hash(f"{Path(notebook).stem}.ipynb"),
        "rows": rows,
        "sourced": {name: {"value": value, "url": url}
                    for name, (value, url) in (sourced or {}).items()},
        "histories": [h.to_dict() for h in histories],
        **(extra or {}),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=_jsonable))
    tmp.replace(path)
    return path


def _jsonable(obj):
    try:
        import numpy as np
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
    except ImportError:
        pass
    return str(obj)
