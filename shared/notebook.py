"""One start call per notebook: its name once, seeding in one order, the run header, the loop.

    run = start("03_tree_net", SETTINGS, seed=42, data="cifar10")
    cfg, loop = run.cfg, run.loop
    ...
    run.save_results(rows, histories, sourced=..., extra=...)

``start`` picks the budget's settings (``runtime.choose_settings``), seeds Python, NumPy,
TensorFlow and imgaug (whichever are imported; import them first), prints the run header and
creates the ``TrainingLoop``, which checkpoints every run at the ``full`` budget only.

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from shared import nbguard, records, runtime
from shared.train import TrainingLoop


@dataclass
class Run:
    name: str
    cfg: dict
    seed: int
    rng: np.random.Generator
    header: dict
    loop: TrainingLoop = field(repr=False)

    def code_hash(self) -> str:
        """The hash of this notebook's code cells and the helpers they import (see nbguard)."""
        return nbguard.code_hash(f"{self.name}.ipynb")

    def save_results(self, rows: list[dict], histories, **kwargs) -> Path:
        """``records.save_results`` for this notebook's run (results/<name>.json)."""
        return records.save_results(self.name, rows, histories, self.header, **kwargs)


def start(name: str, settings: dict, seed: int, data: str | None = None) -> Run:
    """Settings for $BACKPROP_BUDGET, every generator seeded with ``seed``, the header printed."""
    cfg = runtime.choose_settings(settings)
    rng = runtime.seed_everything(seed)
    header = runtime.run_header(name, seed, cfg, data=data)
    return Run(name, cfg, seed, rng, header, TrainingLoop(name, cfg["budget"]))
