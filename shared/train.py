"""The series' one training loop: epochs of a step over batches, with the divergence guard, the
per-epoch records, a progress line and checkpoint/resume in one place.

The notebook keeps what it teaches, the step (forward, backward, update)::

    def step(x, y):                    # any arguments: one item of ``batches(epoch)``
        ...                            # forward, backward by hand, update
        return loss, accuracy          # the batch's mean loss and accuracy (or None)

    loop = TrainingLoop("02_multichannel_cnn_digits", "quick")   # notebooks: shared.notebook.start
    history = loop.run("10 classes", step, shuffled_batches(x, y, 16, rng), epochs=20,
                       evaluate=lambda epoch: {"test_loss": ..., "test_acc": ...},
                       state={"params": params, "rng": rng})

``state`` holds what a checkpoint must restore (weights, optimiser slots, random generators);
checkpoints are written at the full budget only, unless ``checkpoints`` says otherwise (tests).

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, Iterable

import numpy as np

from shared.checkpoint import Checkpoint
from shared.records import History, check_loss

PROGRESS_SECONDS = 10    # at most one progress line per this many seconds (small outputs)


def shuffled_batches(x, y, batch_size: int, rng: np.random.Generator,
                     augment: Callable | None = None) -> Callable[[int], Iterable]:
    """``batches(epoch)`` for ``TrainingLoop.run``: (x_batch, y_batch) in a fresh order drawn from
    ``rng`` each epoch; the last batch may be smaller. ``augment(x_batch, rng)`` runs per batch."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")

    def batches(epoch):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            yield (x[idx] if augment is None else augment(x[idx], rng)), y[idx]
    return batches


class TrainingLoop:
    """Runs the epochs of every training run of one notebook at one budget."""

    def __init__(self, notebook: str, budget: str, checkpoints: bool | None = None):
        self.notebook = notebook
        self.budget = budget
        # the full budget's long runs are checkpointed after every epoch; the others never
        self.checkpoints = budget == "full" if checkpoints is None else checkpoints

    def run(self, name: str, step: Callable, batches: Callable[[int], Iterable], epochs: int, *,
            evaluate: Callable[[int], dict] | None = None,
            before_epoch: Callable[[int], dict | None] | None = None, state=None,
            allow_divergence: bool = False, bound: float = 1e4, progress: bool = True,
            test_label: str = "test", run_key: str | None = None) -> History:
        """Train for ``epochs`` (counted from 1); returns the run's ``History``.

        ``batches(epoch)`` yields the step's arguments, one tuple per step; a batch's weight in
        the epoch's mean loss and accuracy is the length of its first argument.
        ``before_epoch(epoch)`` sets the epoch up (a learning rate, say); a dict it returns joins
        that epoch's record. ``evaluate(epoch)`` returns the metrics measured after the epoch
        (``test_loss``, ``test_acc``, or ``train_*`` that replace the running means).
        A loss that is NaN/inf or above ``bound`` raises ``records.DivergenceError`` unless
        ``allow_divergence`` (for reproducing a published run that is known to explode).
        ``run_key`` names the checkpoint when ``name`` alone does not fix the run's settings.
        """
        if epochs < 1:
            raise ValueError(f"epochs must be positive, got {epochs}")
        history = History(name)
        everything = {"state": state if state is not None else {}, "history": history}
        checkpoint = Checkpoint.for_run(self.notebook, run_key or name, self.budget,
                                        self.checkpoints)
        first = checkpoint.resume(everything)
        shown = time.perf_counter()
        if progress:
            resumed = f", resumed after epoch {first - 1}" if first > 1 else ""
            print(f"{name}: {epochs} epoch{'s' if epochs > 1 else ''}{resumed}", flush=True)
        for epoch in range(first, epochs + 1):
            extra = (before_epoch(epoch) if before_epoch is not None else None) or {}
            epoch_batches = batches(epoch)
            wall, cpu = time.perf_counter(), time.process_time()
            loss_sum, acc_sum, seen, acc_seen = 0.0, 0.0, 0, 0
            for i, args in enumerate(epoch_batches):
                loss, acc = step(*args)
                n = len(args[0])
                loss_sum += check_loss(loss, epoch, i, bound=bound,
                                       allow_divergence=allow_divergence) * n
                seen += n
                if acc is not None:
                    acc_sum, acc_seen = acc_sum + float(acc) * n, acc_seen + n
            row = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1)}
            if acc_seen:
                row["train_acc"] = acc_sum / acc_seen
            row.update(seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu)
            if evaluate is not None:
                row.update(evaluate(epoch))
            history.add(**row, **extra)
            checkpoint.save_state(epoch, everything)
            now = time.perf_counter()
            if progress and (epoch in (first, epochs) or now - shown >= PROGRESS_SECONDS):
                print(progress_line(epoch, epochs, row, test_label), flush=True)
                shown = now
        if progress:
            sys.stdout.flush()
        return history


def progress_line(epoch: int, epochs: int, row: dict, test_label: str = "test") -> str:
    """One epoch's line with every metric, short enough for an 80-column terminal."""
    parts = [f"epoch {epoch}/{epochs}"]
    for prefix, label in (("train", "train"), ("test", test_label)):
        loss, acc = row.get(f"{prefix}_loss"), row.get(f"{prefix}_acc")
        shown = [f"loss {loss:.4g}" if _finite(loss) else "",
                 f"acc {100 * acc:.1f}%" if _finite(acc) else ""]
        if any(shown):
            parts.append(f"{label} " + " ".join(s for s in shown if s))
    parts.append(f"{row['seconds']:.0f} s")
    return "  ".join(parts)


def _finite(value) -> bool:
    try:
        return value is not None and math.isfinite(float(value))
    except (TypeError, ValueError):
        return False
