"""shared.recipe: the schedule, the augmented batches, evaluation, and the twin check's power to
tell a wrong backward from a right one."""
import numpy as np
import pytest

from shared import recipe
from shared.recipe import RECIPE, AugmentedBatches, evaluate, warmup_decay


def test_schedule_warms_up_then_decays_to_one_step_above_zero():
    # peak at the last warm-up step and the first decay step, then down to peak / decay steps
    lr = warmup_decay(0.4, total_steps=100, warmup=0.2)
    rates = [lr(s) for s in range(100)]
    assert lr.warmup_steps == 20 and max(rates) == pytest.approx(0.4) and rates.index(0.4) == 19
    assert all(a < b for a, b in zip(rates[:19], rates[1:20]))
    assert rates[20] == pytest.approx(0.4)
    assert all(a > b for a, b in zip(rates[20:], rates[21:]))
    assert rates[-1] == pytest.approx(0.4 / 80)


def test_schedule_of_a_single_step_is_defined():
    # a tiny $BACKPROP_SETTINGS run: one step, all of it warm-up; no division by zero
    assert warmup_decay(0.4, total_steps=1, warmup=0.2)(0) == pytest.approx(0.4)
    with pytest.raises(ValueError):
        warmup_decay(0.4, total_steps=0, warmup=0.2)


def test_batches_are_whole_permuted_and_carry_their_step_size():
    x = np.arange(10 * 8 * 8 * 3, dtype=np.float32).reshape(10, 8, 8, 3)
    y = np.arange(10)
    batches = AugmentedBatches(x, y, epochs=2, rng=np.random.default_rng(0),
                               recipe={**RECIPE, "batch": 4})
    epoch1 = list(batches(1))
    assert batches.steps_per_epoch == 2 and len(epoch1) == 2
    labels = np.concatenate([b[1].numpy() for b in epoch1])
    assert len(set(labels)) == 8                      # 8 distinct images, no repeats
    assert [float(b[2]) for b in epoch1] == pytest.approx(
        [batches.learning_rate(0), batches.learning_rate(1)])
    with pytest.raises(ValueError, match="no whole batch"):
        AugmentedBatches(x[:3], y[:3], 1, np.random.default_rng(0), {**RECIPE, "batch": 4})


def test_evaluate_counts_mirrors_and_smooths():
    x = np.random.default_rng(0).normal(size=(7, 4, 4, 1))
    y = np.array([0, 1, 0, 1, 1, 0, 1])

    def predict(images):   # class 1 when the left column is brighter than the right one
        d = images[:, :, 0, 0].sum(1) - images[:, :, -1, 0].sum(1)
        return np.stack([-d, d], axis=1)
    cost, acc, correct = evaluate(predict, x, y, batch=3)
    assert acc == correct.mean() and correct.shape == (7,)
    # mirrored: each image's logits averaged with its mirror's, which are their negatives
    assert evaluate(predict, x, y, mirror=True)[0] == pytest.approx(np.log(2))
    smoothed = evaluate(predict, x, y, smoothing=0.2)[0]
    assert smoothed != pytest.approx(cost)
    assert evaluate(predict, x, y, cost=lambda z, t: np.ones(len(t)))[0] == 1.0


def test_twin_check_tells_a_wrong_backward():
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    from shared import tf_layers as L
    rng = np.random.default_rng(1)
    weights = {"head/w": rng.normal(size=(5, 3)), "head/b": np.zeros(3)}
    x, y = rng.normal(size=(6, 5)), np.array([0, 1, 2, 0, 1, 2])

    def forward(params, x):
        logits, cache = L.dense_forward(x, params["head/w"])
        return logits + params["head/b"], cache

    def backward(dlogits, cache, scale=1.0):
        _, dw = L.dense_backward(dlogits, cache)
        return {"head/w": dw * scale, "head/b": tf.reduce_sum(dlogits, 0)}
    grads, weights_error = recipe.twin_check(forward, backward, weights, x, y)
    assert max(grads.values()) < 1e-12 and weights_error < 1e-12
    grads, weights_error = recipe.twin_check(forward, lambda d, c: backward(d, c, 1.001),
                                             weights, x, y)
    assert grads["head/w"] > 1e-4 and grads["head/b"] < 1e-12 and weights_error > 1e-5
