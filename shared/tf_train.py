"""TensorFlow steps for ``shared.train.TrainingLoop`` when the gradients come from autodiff.

``make_train_step(forward, variables, apply_gradients)`` builds the usual step (mean softmax
cross-entropy, ``tf.GradientTape`` gradients, any optimiser's update); ``make_predict`` and
``evaluate`` measure a model on a test set in batches.

Used in: 05.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from shared.data import minibatches
from shared.layers_np import softmax_cross_entropy


def make_train_step(forward: Callable, variables, apply_gradients: Callable) -> Callable:
    """A ``tf.function`` step: softmax cross-entropy of ``forward(x, training=True)``, its
    gradients by ``tf.GradientTape`` w.r.t. ``variables``, then ``apply_gradients(grads)``.

    Returns ``train_step(x, y) -> (mean loss, accuracy)``; x: (N, ...) float32, y: (N,) int.
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
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, axis=1), y), tf.float32))
        return loss, accuracy

    return train_step


def make_predict(forward: Callable) -> Callable:
    """A ``tf.function`` returning ``forward(x, training=False)``: logits (N, classes)."""
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    return tf.function(lambda x: forward(x, training=False), reduce_retracing=True)


def evaluate(predict: Callable, x: np.ndarray, y: np.ndarray,
             batch_size: int = 500) -> tuple[float, float]:
    """(mean softmax cross-entropy, accuracy) of ``predict(x) -> logits`` on (x, y)."""
    total_loss, correct = 0.0, 0
    for idx in minibatches(len(x), batch_size):
        logits = np.asarray(predict(x[idx]), dtype=np.float64)
        total_loss += softmax_cross_entropy(logits, y[idx])[0] * len(idx)
        correct += int((logits.argmax(axis=1) == y[idx]).sum())
    return total_loss / len(x), correct / len(x)
