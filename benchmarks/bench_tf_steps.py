"""Train-step speed of the notebooks' TensorFlow models, four candidates side by side in one run:
Keras ``fit`` on a Keras twin of the network (same layer shapes), the notebook's GradientTape
step, its hand-written step, and the GradientTape step built a second time with weights of its
own. The second copy runs the same code, so its ratio to the first is what two identical steps
differ by: the yardstick for the hand-written step's ratio.

Models: All-CNN (notebook 04), the tree net (notebook 03) and the article's WRN (notebook 05).
The steps are the notebooks' own, loaded with shared/nbload.py, each with its notebook's
optimiser (AMSGrad in All-CNN, Adam in the others); ``fit`` uses Adam.
After two warm-up steps each, every round times one step of every candidate, a different one
going first each round; images/s is the batch over the median seconds per step, and a ratio is
the median over rounds of that round's ratio.

    python benchmarks/bench_tf_steps.py [--tiny] [--rounds 40] [--models all-cnn,tree,article-wrn]

``--tiny``: a smoke run (small sizes, steps run eagerly) that writes nothing.
"""
from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from shared import nbload  # noqa: E402

FIT, TAPE, HAND, COPY = "Keras fit", "GradientTape", "by hand", "GradientTape again"
TARGET = 0.97  # the hand-written step's speed relative to the GradientTape step


def keras_fit(tf, model, x, y):
    """A candidate running one ``model.fit`` step (Adam, softmax cross-entropy) on (x, y), timed
    by a callback so that what ``fit`` does around its steps is left out."""
    model.compile(tf.keras.optimizers.Adam(1e-3),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    data = tf.data.Dataset.from_tensors((x, y)).repeat()
    seconds = []

    class StepTimer(tf.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(logs["loss"])  # waits for the step
            seconds.append(time.perf_counter() - self.start)

    def one_step():
        model.fit(data, epochs=1, steps_per_epoch=1, verbose=0, shuffle=False,
                  callbacks=[StepTimer()])
        return seconds[-1]
    return one_step


def blocking(step, *args):
    """A candidate running ``step(*args)``; reading the loss (its first output) waits for it."""
    return common.wall_clock(lambda: float(step(*args)[0]))


def all_cnn(tf, x, y, tiny):
    nb = nbload.load("04_all_cnn.ipynb")
    init, r = nb["init_weights"](nb["ALL_CNN"], 0), tf.constant(0.0)

    def step(backprop):
        case = nb["Case"]("bench", "All-CNN", "amsgrad", backprop)
        return blocking(nb["make_train_step"](case, nb["make_variables"](init))[0], x, y, r)
    L, size = tf.keras.layers, x.shape[1]
    conv = lambda c, k=3, s=1: L.Conv2D(c, k, strides=s, padding="same", use_bias=False,
                                         activation="elu")
    twin = tf.keras.Sequential([tf.keras.Input((size, size, 3)), conv(96), conv(96),
                                conv(192, s=2), conv(192), conv(192), conv(192, s=2), conv(192),
                                conv(192, 1), conv(10, 1), L.GlobalAveragePooling2D()])
    return {FIT: keras_fit(tf, twin, x, y), TAPE: step("autodiff"), HAND: step("by hand"),
            COPY: step("autodiff")}


def tree(tf, x, y, tiny):
    width, dense, size = (8, 16, x.shape[1]) if tiny else (84, 1645, x.shape[1])

    nb = nbload.load("03_tree_net.ipynb")
    layout = nb["tree_layout"](width=width, dense=dense, height=size, image_width=size)
    state, again = (nb["new_tree_state"](layout, 0, 1e-3) for _ in range(2))   # own weights each
    L = tf.keras.layers

    def unit(h, c, k=3, s=1):  # conv or dense -> batch norm without scale -> ReLU
        h = L.Conv2D(c, k, strides=s, padding="same", use_bias=False)(h) if len(h.shape) == 4 \
            else L.Dense(c, use_bias=False)(h)
        return L.ReLU()(L.BatchNormalization(scale=False, epsilon=1e-3)(h))

    def block(h, c, s=1):
        if len(h.shape) == 4:
            return L.Add()([unit(unit(h, c, 3, s), c), unit(h, c, 1, s)])
        return L.Add()([unit(unit(h, c), c), unit(h, c)])
    h = inputs = tf.keras.Input((size, size, 3))
    h = block(block(h, width, 2), width, 2)
    h = L.Add()([block(h, width) for _ in range(3)])
    b1, b2, b3 = (block(h, width) for _ in range(3))
    h = L.Concatenate()([L.Add()([b1, b2]), L.Add()([b2, b3]), L.Add()([b1, b3])])
    twin = tf.keras.Model(inputs, block(block(L.Flatten()(h), dense), 10))
    autodiff = nb["make_autodiff_step"]
    return {FIT: keras_fit(tf, twin, x, y), TAPE: blocking(autodiff(state, "relu"), x, y),
            HAND: blocking(nb["hand_run"](state, nb["Deviations"]())[0], x, y, tf.constant(0.0)),
            COPY: blocking(autodiff(again, "relu"), x, y)}


def tape_step(tf, forward, variables, optimizer):
    """The autodiff twin of a hand-written step: mean softmax cross-entropy of ``forward(x)``,
    its gradients by ``tf.GradientTape``, then ``optimizer.apply(grads)``."""
    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            logits = forward(x)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        optimizer.apply(tape.gradient(loss, variables))
        return loss, logits
    return step


def article_wrn(tf, x, y, tiny):
    from shared.tf_layers import Adam
    nb = nbload.load("05_wide_resnet.ipynb")
    widths = (8, 16, 32) if tiny else (128, 256, 512)
    net = nb["article_net"]("batch", widths)

    def step(backprop):
        w = nb["make_variables"](nb["init_params"](net, "he", 0))
        adam = Adam(list(w.values()), learning_rate=1e-3)
        if backprop == "by hand":
            stats = nb["new_stats"](nb["norm_channels"](w))
            return blocking(nb["make_step"](w, net, adam, stats), x, y, tf.constant(1e-3))
        forward = lambda xb: nb["wrn_forward"](w, xb, net)[0]  # noqa: E731
        return blocking(tape_step(tf, forward, list(w.values()), adam), x, y)
    L = tf.keras.layers
    conv = lambda c: L.Conv2D(c, 3, padding="same", use_bias=False)
    bn_relu = lambda h: L.ReLU()(L.BatchNormalization()(h))
    h = inputs = tf.keras.Input(x.shape[1:])
    h = L.AveragePooling2D(2)(bn_relu(conv(16)(h)))
    for c in widths:  # a projection block (3x3 shortcut), a pre-activation identity block
        h = L.Add()([conv(c)(bn_relu(conv(c)(h))), conv(c)(h)])
        h = L.AveragePooling2D(2)(L.Add()([h, conv(c)(bn_relu(conv(c)(bn_relu(h))))]))
    twin = tf.keras.Model(inputs, L.GlobalAveragePooling2D()(bn_relu(conv(10)(h))))
    return {FIT: keras_fit(tf, twin, x, y), TAPE: step("autodiff"), HAND: step("by hand"),
            COPY: step("autodiff")}


MODELS = {"all-cnn": all_cnn, "tree": tree, "article-wrn": article_wrn}


def model_row(name: str, rounds: list[dict], batch: int) -> list[str]:
    """model, images/s of each candidate, then GradientTape vs fit, by hand vs GradientTape and
    the second copy vs GradientTape ("—" where a candidate is absent)."""
    have = rounds[0]
    rate = lambda k: f"{batch / common.median_seconds(rounds, k):.1f}" if k in have else "—"
    ratio = lambda k, ref: f"{common.speed_ratio(rounds, k, ref):.2f}x" if k in have else "—"
    return [name, *map(rate, (FIT, TAPE, HAND, COPY)),
            ratio(TAPE, FIT), ratio(HAND, TAPE), ratio(COPY, TAPE)]


def verdict(rows: list[list[str]]) -> str:
    """One sentence: for each model with a hand-written step, whether it meets the target."""
    parts = [f"{'met' if float(r[6][:-1]) >= TARGET else 'missed'} for {r[0]} ({r[6]}; two "
             f"identical steps: {r[7]})" for r in rows if r[6] != "—"]
    return f"Target `by hand` >= {TARGET:.2f}x `GradientTape`: {'; '.join(parts) or 'no model'}."


def main(argv=None):
    a = common.arguments(argv, rounds=40, models=",".join(MODELS), batch=128, size=32)
    batch, size = (2, 16) if a.tiny else (a.batch, a.size)
    rounds, warmup = (1, 0) if a.tiny else (a.rounds, 2)
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    # a smoke run checks the wiring, not the graphs: eager steps skip a minute of tracing
    tf.config.run_functions_eagerly(a.tiny)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, size, size, 3)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, batch))
    rows = []
    for name in a.models.split(","):
        candidates = MODELS[name](tf, x, y, a.tiny)
        for _ in range(warmup):  # tracing, XLA compilation, first allocations
            for run in candidates.values():
                run()
        rows.append(model_row(name, common.take_turns(candidates, rounds), batch))
        print(rows[-1], flush=True)
        # free one model's weights, optimiser slots and graphs before the next is timed (nbload
        # registers each notebook as a module, which would keep its weights alive)
        del candidates
        for module in [m for m in sys.modules if m.startswith("nb_")]:
            del sys.modules[module]
        tf.keras.backend.clear_session()
        gc.collect()
    body = (f"Batch {batch}, {size}x{size} images, float32, {rounds} rounds; images/s, then "
            "speed ratios. `GradientTape again` is the same step built twice: its ratio is the "
            "noise between identical steps.\n\n"
            + common.table(["model", f"{FIT} img/s", f"{TAPE} img/s", f"{HAND} img/s",
                            f"{COPY} img/s", "tape / fit", "hand / tape", "again / tape"], rows)
            + "\n\n" + verdict(rows))
    common.report("bench_tf_steps", "TensorFlow train steps", body, a.tiny)


if __name__ == "__main__":
    main()
