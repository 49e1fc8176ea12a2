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
METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


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

    def best(self, key: str = "test_acc") -> tuple[float, int]:
        """(best value, its epoch) of a metric, highest first."""
        best = max(self.rows, key=lambda r: r.get(key, float("-inf")))
        return best[key], best.get("epoch", self.rows.index(best) + 1)

    def mean_seconds(self) -> float:
        secs = self["seconds"]
        return sum(secs) / len(secs) if secs else float("nan")

    def to_dict(self) -> dict:
        return {"name": self.name, "epochs": self.rows}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        h = cls(d["name"])
        h.rows = list(d["epochs"])
        return h


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


def save_results(notebook: str, rows: list[dict], histories, header: dict,
                 extra: dict | None = None) -> Path:
    """Write ``results/<notebook>.json`` (in ``runtime.home()``): the rows, histories, provenance.

    ``rows`` are the results table: dicts with at least ``experiment``, ``ours`` and optionally
    ``article`` and ``paper`` (strings or numbers), read by ``python -m shared.reproduce``.
    ``header`` is what ``runtime.run_header`` returned. Quick-budget runs (CI, ``pytest``) write
    to ``results/quick/``, so that running the tests never overwrites the results of a real run.
    """
    budget = header["budget"]
    path = results_file(notebook, budget)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "notebook": notebook,
        "budget": budget,
        **{key: header.get(key) for key in ("hardware", "versions", "commit", "settings")},
        "rows": rows,
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
