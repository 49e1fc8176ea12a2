"""Notebook 05: the divergence guard and interrupt-and-resume of its hand-written step.

The notebook's own ``make_step`` (loaded with shared.nbload) trains a tiny wide residual network
on a few random images. A run with an absurd learning rate must stop with the clear
DivergenceError message, not go on printing non-finite costs; the explicit allow_divergence flag
(used only for the article's known-divergent reproduction) must let it run on and record the
huge costs.
"""
import json
import math

import numpy as np
import pytest

from shared import nbload
from shared.recipe import evaluate
from shared.records import DivergenceError
from shared.runtime import REPO_ROOT, import_tensorflow

tf = import_tensorflow()
from shared.train import TrainingLoop, shuffled_batches  # noqa: E402

from notebook_loops import EPOCHS, assert_same_checkpoints, straight_and_resumed  # noqa: E402

NOTEBOOK = REPO_ROOT / "notebooks" / "05_wide_resnet.ipynb"
LOOP = TrainingLoop("05_wide_resnet", "quick")
NB = nbload.load(NOTEBOOK.name)


def tiny_wrn():
    """A two-block WRN (stem 4, a stride-2 projection block to 8 channels, an identity block)
    built from the notebook's Block and Net."""
    block, net = NB["Block"], NB["Net"]
    return net("batch", 4, False, (block("g1b1", 4, 8, 2, shortcut=1), block("g1b2", 8, 8)),
               "dense")


def tiny_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = (3.0 * rng.normal(size=(n, 8, 8, 3))).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    return x, y


def run(lr, epochs=3, allow_divergence=False):
    """Trains the tiny WRN by the notebook's make_step with its SGD at a constant step size."""
    net = tiny_wrn()
    params = NB["make_variables"](NB["init_params"](net, "he", 0))
    stats, sgd = NB["new_stats"](NB["norm_channels"](params)), NB["make_sgd"](params)
    x, y = tiny_data()
    batches = NB["with_rate"](shuffled_batches(x, y, 16, np.random.default_rng(0)),
                              lambda epoch, i: lr)

    def predict(xb):
        return NB["wrn_forward"](params, tf.constant(xb), net, stats)[0]
    return LOOP.run(f"lr={lr}", NB["make_step"](params, net, sgd, stats), batches, epochs,
                    evaluate=lambda epoch: dict(zip(("test_loss", "test_acc"),
                                                    evaluate(predict, x[:16], y[:16]))),
                    allow_divergence=allow_divergence)


def test_huge_learning_rate_stops_with_clear_message(capsys):
    with pytest.raises(DivergenceError, match=r"training diverged at epoch 1, step \d+: loss = "
                                              r".*(non-finite|above the bound)") as info:
        run(lr=1e7)
    assert "Lower the learning rate" in str(info.value)
    printed = capsys.readouterr().out.lower()
    assert "nan" not in printed and "inf " not in printed  # it stopped before printing costs


def test_allow_divergence_runs_on_and_records_the_costs():
    history = run(lr=1e7, epochs=2, allow_divergence=True)
    assert len(history) == 2
    assert max(history["train_loss"]) > 1e4 or not all(map(math.isfinite, history["train_loss"]))


def test_sane_learning_rate_trains_without_tripping_the_guard():
    history = run(lr=0.05, epochs=3)
    assert len(history) == 3
    assert all(math.isfinite(v) and v < 10 for v in history["train_loss"])
    assert all(math.isfinite(v) and 0 <= a <= 1
               for v, a in zip(history["test_loss"], history["test_acc"]))


def test_notebook_trains_through_this_loop():
    """The notebook must train through shared.train with the guard, and turn it off only on
    purpose."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "from shared.notebook import start" in source and "run.loop" in source
    assert source.count("loop.run(") >= 3 and "fit(" not in source
    assert "allow_divergence=True" not in source  # only via the named reproduction flag
    assert "ALLOW_DIVERGENCE_FOR_REPRODUCTION = True" in source


def test_nb05_steps_resume(checkpoint_dirs):
    # notebook 05's make_step on a tiny WRN, trained with the done-right recipe (its SGD, its
    # augmented batches and schedule) at batch 16
    from shared.recipe import RECIPE
    recipe, net = {**RECIPE, "batch": 16}, tiny_wrn()
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 3)).astype(np.float32)
    y = np.arange(32) % 10

    def run():
        params = NB["make_variables"](NB["init_params"](net, "he", 0))
        stats, sgd = NB["new_stats"](NB["norm_channels"](params)), NB["make_sgd"](params, recipe)
        batches = NB["AugmentedBatches"](x, y, EPOCHS, np.random.default_rng(1), recipe)
        loop = TrainingLoop("05_wide_resnet", "full")
        step = NB["make_step"](params, net, sgd, stats, recipe["smoothing"])
        history = loop.run("tiny WRN", step, batches, EPOCHS, progress=False,
                           state={"params": params, "stats": stats, "sgd": sgd.state_variables(),
                                  "rng": batches.rng})
        return history["train_loss"]
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb

