"""The done-right recipe: how notebooks 03, 04 and 05 train a network by hand on all of CIFAR-10.

Notebook 03 (the tree net) shows and explains this module; 04 and 05 import it unchanged:

- ``RECIPE``: batch 256, Nesterov SGD (momentum 0.9) with weight decay 5e-4, label smoothing 0.2,
  random mirror and shift by up to 2 pixels, BN moving averages with momentum 0.9;
- ``warmup_decay``: the step size climbs linearly to its peak over the first fifth of the steps,
  then falls linearly to zero at the last step;
- ``AugmentedBatches``: each epoch a fresh order of the training images, every batch mirrored and
  shifted on the fly, with the step size of its step;
- ``make_sgd``: ``tf_layers.SGD`` with weight decay on convolution and dense weights only;
- ``new_stats`` / ``update_moving_stats``: batch norm's moving averages, for testing;
- ``evaluate``: one pass over a test set in batches: the label-smoothed cost, the accuracy, and
  which images were right, optionally averaging each image's logits with its mirror image's;
- ``twin_check``: a few float64 training steps by hand and by ``GradientTape`` from the same
  weights, to show the hand-written step follows its autodiff twin.

``evaluate`` needs only NumPy (the NumPy notebooks 01 and 02 use it); the rest import TensorFlow
when called.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from shared.data import flip_and_translate
from shared.gradcheck import rel_error

RECIPE = dict(batch=256, peak_lr=0.4, warmup=0.2, momentum=0.9, weight_decay=5e-4,
              smoothing=0.2, shift=2, stat_momentum=0.9)
NO_DECAY = ("/gamma", "/beta", "/b")   # BN scales and offsets, biases: never pulled to zero


def warmup_decay(peak: float, total_steps: int, warmup: float) -> Callable[[int], float]:
    """step (from 0) -> step size: linear from peak/warmup_steps up to ``peak`` at the last
    warm-up step, then linear down to ``peak / (total_steps - warmup_steps)`` at the last step."""
    if total_steps < 1:
        raise ValueError(f"the schedule needs at least one step, got {total_steps}")
    warmup_steps = max(1, int(warmup * total_steps))
    decay_steps = max(1, total_steps - warmup_steps)

    def learning_rate(step: int) -> float:
        return peak * min((step + 1) / warmup_steps, (total_steps - step) / decay_steps)
    learning_rate.warmup_steps = warmup_steps
    return learning_rate


class AugmentedBatches:
    """``batches(epoch)`` for ``TrainingLoop.run``: (images, labels, step size) per step.

    Whole batches only (the schedule counts steps); every epoch a fresh permutation from ``rng``,
    then each batch mirrored and shifted by ``flip_and_translate``, with the same ``rng``.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, epochs: int, rng: np.random.Generator,
                 recipe: dict = RECIPE):
        self.x, self.y, self.rng, self.recipe = x, y, rng, recipe
        self.batch = recipe["batch"]
        self.steps_per_epoch = len(x) // self.batch
        if self.steps_per_epoch < 1:
            raise ValueError(f"{len(x)} training images make no whole batch of {self.batch}")
        self.total_steps = self.steps_per_epoch * epochs
        self.learning_rate = warmup_decay(recipe["peak_lr"], self.total_steps, recipe["warmup"])

    def __call__(self, epoch: int):
        import tensorflow as tf
        order = self.rng.permutation(len(self.x))
        for i in range(self.steps_per_epoch):
            idx = order[i * self.batch:(i + 1) * self.batch]
            lr = self.learning_rate((epoch - 1) * self.steps_per_epoch + i)
            yield (tf.constant(flip_and_translate(self.x[idx], self.rng, self.recipe["shift"])),
                   tf.constant(self.y[idx]), tf.constant(lr, tf.float32))


def make_variables(weights: dict, dtype=None) -> dict:
    """{name: tf.Variable} from {name: array}, in float32 unless ``dtype`` says otherwise."""
    import tensorflow as tf
    return {k: tf.Variable(tf.constant(v, dtype or tf.float32), name=k.replace("/", "_"))
            for k, v in weights.items()}


def make_sgd(params: dict, recipe: dict = RECIPE):
    """Nesterov SGD over every variable of ``params``; weight decay on all but ``NO_DECAY``."""
    from shared import tf_layers as L
    return L.SGD(list(params.values()), recipe["momentum"], recipe["weight_decay"],
                 decay=[not k.endswith(NO_DECAY) for k in params])


def new_stats(channels: dict) -> dict:
    """{layer: (moving mean, moving variance)} as variables, from {layer: number of channels}."""
    import tensorflow as tf
    return {name: (tf.Variable(tf.zeros(c)), tf.Variable(tf.ones(c)))
            for name, c in channels.items()}


def update_moving_stats(stats: dict, batch_stats: dict, momentum: float = RECIPE["stat_momentum"]):
    """Pull each layer's moving (mean, variance) towards this batch's: ``batch_stats`` maps a
    layer to the (mean, variance) its batch norm computed in the forward pass."""
    for name, (mean, var) in stats.items():
        batch_mean, batch_var = batch_stats[name]
        mean.assign(momentum * mean + (1 - momentum) * batch_mean)
        var.assign(momentum * var + (1 - momentum) * batch_var)


def accuracy(logits, labels):
    """The batch's accuracy as a float32 tensor (inside a training step)."""
    import tensorflow as tf
    hits = tf.equal(tf.argmax(logits, -1), tf.cast(labels, tf.int64))
    return tf.reduce_mean(tf.cast(hits, tf.float32))


def smoothed_cross_entropy(logits: np.ndarray, labels: np.ndarray, smoothing: float = 0.0):
    """Per-image softmax cross-entropy against targets that give the true class 1 - smoothing
    and spread ``smoothing`` evenly over all classes (float64, NumPy)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.full(logits.shape, smoothing / logits.shape[1])
    target[np.arange(len(labels)), labels] += 1 - smoothing
    return -(target * log_p).sum(axis=1)


def evaluate(predict: Callable, x: np.ndarray, y: np.ndarray, smoothing: float = 0.0,
             mirror: bool = False, batch: int = 500, cost: Callable | None = None):
    """-> (mean cost, accuracy, per-image 0/1 correctness) of ``predict(images) -> logits``.

    The cost is the softmax cross-entropy with the training's label ``smoothing`` unless ``cost``
    (logits, labels) -> per-image costs is given. ``mirror``: NHWC images; each image's logits
    are averaged with those of its left-right mirror image (test-time mirroring).
    """
    if len(x) == 0:
        raise ValueError("evaluate needs at least one image")
    costs, correct = [], []
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        logits = np.asarray(predict(xb), dtype=np.float64)
        if mirror:
            logits = (logits + np.asarray(predict(xb[:, :, ::-1]), dtype=np.float64)) / 2
        costs.append((cost or (lambda z, t: smoothed_cross_entropy(z, t, smoothing)))(logits, yb))
        correct.append(logits.argmax(axis=1) == yb)
    correct = np.concatenate(correct).astype(np.float64)
    return float(np.mean(np.concatenate(costs))), float(correct.mean()), correct


def twin_check(forward: Callable, backward: Callable, weights: dict, x, y, steps: int = 3,
               learning_rate: float = 0.1, recipe: dict = RECIPE):
    """Train two float64 copies of ``weights`` for ``steps`` SGD steps of the recipe on one batch:
    one with ``backward(dlogits, cache)``, one with ``GradientTape``.

    ``forward(params, x) -> (logits, cache)``. Returns ({name: max relative error of the first
    step's gradients}, max relative error of the weights after the last step).
    """
    import tensorflow as tf
    from shared import tf_layers as L
    x, y = tf.constant(x, tf.float64), tf.constant(y)
    runs = []
    for by_hand in (True, False):
        params = make_variables(weights, tf.float64)
        sgd, first = make_sgd(params, recipe), None
        for _ in range(steps):
            with tf.GradientTape() as tape:
                logits, cache = forward(params, x)
                loss, dlogits = L.softmax_cross_entropy(logits, y, recipe["smoothing"])
            if by_hand:
                grads = backward(dlogits, cache)
            else:
                grads = dict(zip(params, tape.gradient(loss, list(params.values()))))
            first = first or {k: grads[k] for k in params}
            sgd.apply([grads[k] for k in params], tf.constant(learning_rate, tf.float64))
        runs.append((first, {k: v.numpy() for k, v in params.items()}))
    (hand_first, hand_after), (tape_first, tape_after) = runs
    grad_errors = {k: rel_error(hand_first[k], tape_first[k]) for k in tape_first}
    weight_error = max(rel_error(hand_after[k], tape_after[k]) for k in tape_after)
    return grad_errors, weight_error
