"""Shared timing helpers for the benchmarks: medians over steps, alternating repetitions.

Benchmarks are not tests: nothing in CI asserts a timing. tests/test_benchmarks.py only runs each
script at ``--tiny`` size so that none of them rots.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = HERE / "sections"
sys.path.insert(0, str(HERE.parent))


def time_calls(fn, n_calls: int, warmup: int = 2) -> list[float]:
    """Seconds per call of ``fn()`` after ``warmup`` untimed calls. ``fn`` must block until done."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n_calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def alternate(candidates: dict, n_calls: int, repeats: int, warmup: int = 2) -> dict:
    """Time every candidate ``repeats`` times in turn (A B C A B C ...), so that machine noise
    hits all of them alike. Returns name -> list of per-call seconds over all repeats."""
    times = {name: [] for name in candidates}
    for r in range(repeats):
        for name, fn in candidates.items():
            times[name] += time_calls(fn, n_calls, warmup if r == 0 else 1)
    return times


def keras_fit_runner(tf, model, x, y, optimizer=None):
    """Compile ``model`` (``optimizer``, default Adam; softmax cross-entropy) and return
    ``run(steps) -> seconds per step`` that trains it with ``model.fit`` on the batch (x, y),
    timed by a callback."""
    model.compile(optimizer or tf.keras.optimizers.Adam(1e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    times = []

    class StepTimer(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, b, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, b, logs=None):
            times.append(time.perf_counter() - self.t)

    def run(steps):
        times.clear()
        model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False,
                  callbacks=[StepTimer()])
        return list(times)
    return run


def keras_tape_runner(tf, model, x, y, optimizer=None):
    """The same Keras ``model`` trained by a plain GradientTape step (``tf.function``, Keras'
    ``optimizer``, default Adam, and the loss ``fit`` uses, weight penalties included): ``fit``'s
    graph without ``fit``'s loop. Returns ``run(steps) -> seconds per step``. Beside ``fit`` it
    shows how much of a gap between ``fit`` and our GradientTape step comes from the loop around
    the step rather than from the model's ops."""
    optimizer = optimizer or tf.keras.optimizers.Adam(1e-3)
    optimizer.build(model.trainable_variables)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
            if model.losses:  # the layers' weight penalties, which fit adds too
                loss += tf.add_n(model.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables))
        return loss
    return step_runner(step)


def step_runner(step, *args):
    """``run(steps) -> seconds per step`` of ``step(*args)``, a training step returning its loss
    (or a tuple starting with it); reading the loss back makes each timing wait for the step."""
    def one_step():
        loss = step(*args)
        float(loss[0] if isinstance(loss, (tuple, list)) else loss)
    return lambda steps: time_calls(one_step, steps, warmup=0)


def step_arguments(argv=None, add_options=None, steps: int = 10,
                   repeats: int = 2) -> argparse.Namespace:
    """Command line of the train-step benchmarks: --steps, --repeats (defaults ``steps``,
    ``repeats``), --batch, --size and --tiny, which shrinks them all to a smoke run;
    ``add_options(parser)`` adds a script's own."""
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    p.add_argument("--steps", type=int, default=steps)
    p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=32)
    if add_options is not None:
        add_options(p)
    a = p.parse_args(argv)
    if a.tiny:
        a.steps, a.repeats, a.batch, a.size = 2, 1, 4, 16
    return a


def median(xs) -> float:
    return statistics.median(xs)


def machine() -> str:
    from shared.runtime import cpu_name
    import os
    return f"{cpu_name()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def versions(tf_version: str | None = None) -> str:
    """NumPy's version and TensorFlow's: ``tf_version`` (from a worker process) or that of the
    TensorFlow this process imported, if any."""
    import numpy as np
    parts = [f"numpy {np.__version__}"]
    if tf_version is None and "tensorflow" in sys.modules:
        tf_version = sys.modules["tensorflow"].__version__
    if tf_version is not None:
        parts.append(f"tensorflow {tf_version}")
    return ", ".join(parts)


def write_section(name: str, title: str, body: str, tiny: bool,
                  tf_version: str | None = None) -> Path:
    """Write one benchmark's markdown section (collected into RESULTS.md by run_all.py);
    ``tf_version``: TensorFlow's version where only worker processes imported it."""
    SECTIONS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"## {title}\n\n_{machine()}; {versions(tf_version)}; {stamp}"
            f"{'; TINY smoke run, not a measurement' if tiny else ''}._\n\n{body.strip()}\n")
    path = SECTIONS / f"{name}{'.tiny' if tiny else ''}.md"
    path.write_text(text)
    print(text)
    return path


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def run_worker(script: Path, args: list[str], env: dict):
    """Run a benchmark worker in a fresh process (for settings that must precede TF's import, or
    a clean slate) and return what it printed as JSON on its last line of output."""
    import os
    out = subprocess.run([sys.executable, str(script), *args], env={**os.environ, **env},
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"worker {script.name} {' '.join(args)} failed "
                           f"(exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
