"""A small TensorFlow training loop with the divergence guard built in.

The model and its update live in the notebook, inside one ``tf.function`` step::

    @tf.function
    def train_step(x, y):              # x: (N, H, W, C) float32, y: (N,) int
        ...                            # forward, tape.gradient, optimiser update
        return loss, n_correct         # scalar tensors

    @tf.function
    def predict(x):                    # -> logits (N, classes)
        ...

    history = fit(train_step, predict, (x_train, y_train), (x_test, y_test), epochs=5,
                  batch_size=100, rng=rng, name="run a")

``make_train_step(forward, variables, apply_gradients)`` builds that step for the usual case
(mean softmax cross-entropy, autodiff gradients, any optimiser's update function).

Every training step's loss goes through ``records.check_loss``: a loss that becomes NaN/inf or
larger than ``bound`` raises ``DivergenceError`` with the epoch and step, instead of training on
and printing 1e20. A run that reproduces a published, known-divergent experiment passes
``allow_divergence=True`` and must say so.

Used in: 04.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from shared.data import minibatches
from shared.layers_np import softmax_cross_entropy
from shared.records import History, Timer, check_loss, epoch_progress, show_epoch


def make_train_step(forward: Callable, variables, apply_gradients: Callable) -> Callable:
    """A ``tf.function`` step: softmax cross-entropy of ``forward(x, training=True)``, its
    gradients by ``tf.GradientTape`` w.r.t. ``variables``, then ``apply_gradients(grads)``.

    Returns ``train_step(x, y) -> (mean loss, number correct)``; x: (N, ...) float32, y: (N,) int.
    """
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    variables = list(variables)

    @tf.function(reduce_retracing=True)
    def train_step(x, y):
        y = tf.cast(y, tf.int64)
        with tf.GradientTape() as tape:
            logits = forward(x, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        apply_gradients(tape.gradient(loss, variables))
        n_correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=1), y), tf.int32))
        return loss, n_correct

    return train_step


def make_predict(forward: Callable) -> Callable:
    """A ``tf.function`` returning ``forward(x, training=False)``: logits (N, classes)."""
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    return tf.function(lambda x: forward(x, training=False), reduce_retracing=True)


def run_epoch(train_step: Callable, x: np.ndarray, y: np.ndarray, batch_size: int,
              rng: np.random.Generator, epoch: int, *, augment: Callable | None = None,
              allow_divergence: bool = False, bound: float = 1e4) -> tuple[float, float]:
    """One shuffled pass over (x, y). Returns (mean training loss, training accuracy).

    x: (N, ...) float32 array, y: (N,) int array. ``augment(x_batch, rng) -> x_batch`` runs on the
    NumPy batch before the step. The loss and accuracy are averages over the epoch's batches,
    as the articles printed them (the weights change during the epoch).
    """
    total_loss, correct, seen = 0.0, 0, 0
    for step, idx in enumerate(minibatches(len(x), batch_size, rng)):
        xb = x[idx] if augment is None else augment(x[idx], rng)
        loss, n_correct = train_step(xb, y[idx])
        loss = check_loss(loss, epoch, step, bound=bound, allow_divergence=allow_divergence)
        total_loss += loss * len(idx)
        correct += int(n_correct)
        seen += len(idx)
    return total_loss / seen, correct / seen


def evaluate(predict: Callable, x: np.ndarray, y: np.ndarray,
             batch_size: int = 500) -> tuple[float, float]:
    """(mean softmax cross-entropy, accuracy) of ``predict(x) -> logits`` on (x, y)."""
    total_loss, correct = 0.0, 0
    for idx in minibatches(len(x), batch_size):
        logits = np.asarray(predict(x[idx]), dtype=np.float64)
        total_loss += softmax_cross_entropy(logits, y[idx])[0] * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return total_loss / len(x), correct / len(x)


def fit(train_step: Callable, predict: Callable, train: tuple, test: tuple, epochs: int,
        batch_size: int, rng: np.random.Generator, name: str, *,
        augment: Callable | None = None, on_epoch_start: Callable | None = None,
        also_test: dict | None = None, allow_divergence: bool = False, bound: float = 1e4,
        progress: bool = True, checkpoint=None, state=None) -> History:
    """Train for ``epochs`` and evaluate on ``test`` after each; returns the ``History``.

    ``on_epoch_start(epoch)`` is the hook for learning-rate schedules (epochs count from 1).
    ``also_test={"name": (x, y)}`` evaluates more test sets each epoch, stored as
    ``test_loss_<name>`` / ``test_acc_<name>`` (one training run, several test pipelines).
    Raises ``DivergenceError`` (unless ``allow_divergence``) as soon as a training loss is
    non-finite or above ``bound``.
    ``checkpoint`` (a ``shared.checkpoint.Checkpoint``) saves ``state`` (the model's and the
    optimiser's variables), ``rng`` and the records after every epoch, and a rerun resumes after
    the last saved epoch.
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs}, {batch_size}")
    history = History(name)
    everything = {"state": state if state is not None else {}, "rng": rng, "history": history}
    first = checkpoint.resume(everything) if checkpoint is not None else 1
    epoch_iter = epoch_progress(epochs, name, start=first) if progress else range(first, epochs + 1)
    for epoch in epoch_iter:
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        with Timer() as timer:
            train_loss, train_acc = run_epoch(train_step, *train, batch_size, rng, epoch,
                                              augment=augment, allow_divergence=allow_divergence,
                                              bound=bound)
        test_loss, test_acc = evaluate(predict, *test)
        row = dict(epoch=epoch, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                   test_acc=test_acc, seconds=timer.seconds)
        for key, data in (also_test or {}).items():
            row[f"test_loss_{key}"], row[f"test_acc_{key}"] = evaluate(predict, *data)
        history.add(**row)
        if checkpoint is not None:
            checkpoint.save_state(epoch, everything)
        if progress:
            show_epoch(epoch_iter, row)
    return history
