"""The divergence guard of the shared training loop driving notebook 05's autodiff steps.

A run with a deliberately huge learning rate must stop with the clear DivergenceError message,
not go on printing non-finite costs; the explicit allow_divergence flag (used only for the
article's known-divergent reproduction) must let it run on and record the huge costs.
"""
import json
import math

import numpy as np
import pytest

from shared.records import DivergenceError
from shared.runtime import REPO_ROOT, import_tensorflow

tf = import_tensorflow()
from shared.tf_train import evaluate, make_predict, make_train_step  # noqa: E402
from shared.train import TrainingLoop, shuffled_batches  # noqa: E402

NOTEBOOK = REPO_ROOT / "notebooks" / "05_wide_resnet.ipynb"
LOOP = TrainingLoop("05_wide_resnet", {"budget": "quick", "checkpoint": False})


class TinyConvNet(tf.Module):
    """conv 3x3 (4 channels) -> ReLU -> global average -> dense: the same call signature as the
    notebook's models, forward(x, training)."""

    def __init__(self, seed=0):
        super().__init__()
        init = tf.random.stateless_normal
        self.w = tf.Variable(init((3, 3, 3, 4), seed=[seed, 1], stddev=0.3))
        self.v = tf.Variable(init((4, 10), seed=[seed, 2], stddev=0.3))

    def __call__(self, x, training=False):
        h = tf.nn.relu(tf.nn.conv2d(x, self.w, 1, "SAME"))
        return tf.reduce_mean(h, axis=[1, 2]) @ self.v


def sgd(variables, lr):
    def apply(grads):
        for var, g in zip(variables, grads):
            var.assign_sub(lr * g)
    return apply


def tiny_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = (3.0 * rng.normal(size=(n, 8, 8, 3))).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    return x, y


def run(lr, epochs=3, allow_divergence=False):
    model = TinyConvNet()
    step = make_train_step(model, model.trainable_variables, sgd(model.trainable_variables, lr))
    x, y = tiny_data()
    predict = make_predict(model)
    return LOOP.run(f"lr={lr}", step, shuffled_batches(x, y, 16, np.random.default_rng(0)), epochs,
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


def test_non_finite_loss_is_reported_as_such():
    def nan_step(x, y):
        return tf.constant(float("nan")), tf.constant(0)
    x, y = tiny_data(16)
    with pytest.raises(DivergenceError, match="step 0: loss = nan .non-finite"):
        LOOP.run("nan", nan_step, shuffled_batches(x, y, 8, np.random.default_rng(0)), 1,
                 progress=False)


def test_allow_divergence_runs_on_and_records_the_costs():
    history = run(lr=1e7, epochs=2, allow_divergence=True)
    assert len(history) == 2
    assert max(history["train_loss"]) > 1e4 or not all(map(math.isfinite, history["train_loss"]))


def test_sane_learning_rate_trains_without_tripping_the_guard():
    history = run(lr=0.05, epochs=3)
    assert len(history) == 3
    assert all(math.isfinite(v) and v < 10 for v in history["train_loss"])
    loss, acc = evaluate(make_predict(TinyConvNet()), *tiny_data(16))
    assert math.isfinite(loss) and 0 <= acc <= 1


def test_notebook_trains_through_this_loop():
    """The notebook must train through shared.train with the guard, and turn it off only on
    purpose."""
    if not NOTEBOOK.is_file():
        pytest.skip("notebook 05 not present")
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "from shared.train import TrainingLoop" in source
    assert source.count("loop.run(") >= 3 and "fit(" not in source
    assert "allow_divergence=True" not in source  # only via the named reproduction flag
    assert "ALLOW_DIVERGENCE_FOR_REPRODUCTION = True" in source
