"""Train-step throughput of the TensorFlow models: Keras ``fit`` vs our GradientTape step vs our
hand-written backward step, batch 128, the same layer shapes.

Our steps are the notebooks' own (loaded with shared/nbload.py); the Keras twins are in
benchmarks/keras_models.py, timed twice: in ``fit`` and in a plain GradientTape step (to tell
``fit``'s loop from its ops). Each candidate is timed for ``--steps`` steps after warm-up, in
``--repeats`` rounds in which the candidates take turns to go first, in each of ``--runs``
processes per model; we report images/s, GFLOP/s (3 x forward FLOPs of the convolutions and
matmuls) and each run's median over rounds of each round's ratio, and the median of those.

One step per candidate in each round is chosen for a machine whose speed drifts within minutes: a
round's ratio compares steps taken seconds apart, and the median over many rounds discards the
rounds a burst of load hit. Single rounds spread widely (from about 0.6 to 1.6 on a quiet 2-core
machine), but 40 rounds put one run's median within about +-1% (a 95% confidence interval from
the rounds' order statistics). That is not how far apart runs are: on one quiet machine
(2026-11-25), runs of 20 to 40 rounds, each in a fresh process, gave the tree net's hand-written
step 0.98x, 0.98x, 0.97x and then 1.03x of its GradientTape step, All-CNN's 0.99x, 0.99x, 0.98x,
1.00x and 1.00x, and the article WRN's GradientTape step 1.01x, 1.01x and 0.99x of `fit`. So the
benchmark runs each model several times in fresh processes, the models taking turns, and reports
every run's ratio beside their median.

    python benchmarks/bench_tf_steps.py [--tiny] [--runs 3] [--repeats 20]
        [--models all-cnn,convpool,all-cnn-paper,tree,article-wrn,wrn-16-8]
"""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
import keras_models  # noqa: E402
from shared import nbload  # noqa: E402


def layers_without_xla(*names):
    """A copy of the shared layers module in which the named XLA-compiled functions are their
    undecorated originals (``python_function``): a notebook given it as ``L`` runs them as plain
    TensorFlow, which is what the `without XLA` rows time."""
    import shared.tf_layers as layers  # not at the top: TensorFlow is set up in main() first
    plain = {name: getattr(layers, name).python_function for name in names}
    return types.SimpleNamespace(**{**vars(layers), **plain})


def all_cnn_notebook(tf, plain_layers=(), plain_pool_elu=False, keras_adam=False,
                     elu_grad_kernel=False):
    """Notebook 03's definitions, a fresh copy in which, optionally, the shared layers named in
    ``plain_layers`` run without XLA, the pooling layers' compiled pool-and-ELU backward runs as
    plain TensorFlow, the hand-written step's Adam is Keras' behind the shared Adam's interface
    (so its step differs from the GradientTape step in its gradients only), and ELU's backward is
    TensorFlow's own gradient kernel, the one autodiff calls, instead of the hand-written one."""
    nb = nbload.load("03_all_cnn.ipynb")
    nb["L"] = layers = layers_without_xla(*plain_layers)
    if elu_grad_kernel:
        layers.elu_backward = lambda dout, out: tf.raw_ops.EluGrad(gradients=dout, outputs=out)
    if plain_pool_elu:
        nb["pool_elu_backward"] = nb["pool_elu_backward"].python_function
    if keras_adam:
        class KerasAdam:
            def __init__(self, variables, learning_rate, epsilon, amsgrad):
                self.variables = variables
                self.keras = tf.keras.optimizers.Adam(learning_rate, epsilon=epsilon,
                                                      amsgrad=amsgrad)
                self.keras.build(variables)

            def apply(self, grads, learning_rate):
                self.keras.learning_rate.assign(learning_rate)
                self.keras.apply_gradients(zip(grads, self.variables))

            def state_variables(self):
                return self.keras.variables
        layers.Adam = KerasAdam
    return nb


def build(name, tf, batch, size):
    """-> (candidates dict, forward FLOPs per image)."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, size, size, 3)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, batch))
    keras = tf.keras
    keras_optimizer = lambda: None  # the Keras twins' optimiser: Adam (common.keras_fit_runner)
    if name in ("all-cnn", "convpool"):
        net_name = "All-CNN" if name == "all-cnn" else "ConvPool-CNN"
        nb = all_cnn_notebook(tf)
        init = nb["init_weights"](nb["NETS"][net_name], 0)
        r = tf.constant(0.0)
        variants = [
            ("GradientTape", nb, "autodiff"), ("by hand", nb, "by hand"),
            # the same GradientTape step again, with weights of its own: how far apart two
            # identical steps time, the yardstick for the other rows' ratios
            ("GradientTape, second copy", all_cnn_notebook(tf), "autodiff"),
            # the hand-written gradients with the Keras AMSGrad that the GradientTape step uses:
            # beside `GradientTape`, two steps that differ in how they get their gradients only
            ("by hand, Keras' Adam", all_cnn_notebook(tf, keras_adam=True), "by hand"),
            # ELU's backward as plain TensorFlow (three passes over the arrays instead of XLA's
            # one), and so the pooling layers' compiled pool-and-ELU backward too
            ("by hand, ELU without XLA",
             all_cnn_notebook(tf, plain_layers=("elu_backward",), plain_pool_elu=True), "by hand")]
        if name == "all-cnn":
            # TensorFlow's EluGrad kernel overwrites the incoming gradient's array with its result
            # where that array has no other reader, as it has none here; an XLA-compiled function
            # always writes a new array, which costs a pass of memory traffic per layer
            variants.append(("by hand, ELU backward by TF's kernel",
                             all_cnn_notebook(tf, elu_grad_kernel=True), "by hand"))
        if name == "convpool":
            # and with the pooling layers' pool and ELU backward compiled apart rather than
            # together: the pool's backward in plain TensorFlow writes out an array as big as the
            # layer's output, which ELU's compiled backward then reads
            variants.append(("by hand, pool and ELU backward apart",
                             all_cnn_notebook(tf, plain_pool_elu=True), "by hand"))
        cands = {}
        for label, ns, backprop in variants:
            case = ns["Case"]("bench", net_name, "amsgrad", backprop)
            step, _ = ns["make_train_step"](case, ns["make_variables"](init))
            cands[label] = common.step_runner(step, x, y, r)
        make_kmodel = lambda: keras_models.all_cnn_c(keras, pool=name == "convpool", size=size)
    elif name == "tree":
        def tree_notebook():
            nb = nbload.load("01_tree_net.ipynb")
            nb.update(SEED=0, LEARNING_RATE=1e-3, BATCH=batch,
                      layout=nb["tree_layout"](height=size, image_width=size))
            nbload.run_cell(nb, "01_tree_net.ipynb", "STAT_MOMENTUM =")  # params, optimiser
            return nb
        nb, twin, plain, plain_layers = (tree_notebook() for _ in range(4))
        # the same steps with the optimisers' updates as plain TensorFlow: what XLA's compilation
        # is worth (the hand-written Adam's update, and the XLA wrapper of Keras' Adam in the
        # autodiff step, each replaced by its python_function, as ELU's backward is above)
        from shared.tf_layers import Adam
        plain["hand_adam"].update = Adam.update.python_function
        compiled_update = plain["compiled_update"]
        plain["compiled_update"] = lambda optimizer, variables: \
            compiled_update(optimizer, variables).python_function
        # and the hand-written step with batch norm's and ReLU's backward as plain TensorFlow
        # (the notebook's activation table holds the functions themselves, so it is rebuilt)
        plain_layers["L"] = L = layers_without_xla("batchnorm_backward", "relu_backward")
        plain_layers["ACTIVATIONS"] = {"relu": (L.relu_forward, L.relu_backward)}
        zero = tf.constant(0.0)
        cands = {"GradientTape": common.step_runner(nb["make_autodiff_step"]("relu"), x, y),
                 "GradientTape, second copy": common.step_runner(
                     twin["make_autodiff_step"]("relu"), x, y),
                 "GradientTape, Adam without XLA": common.step_runner(
                     plain["make_autodiff_step"]("relu"), x, y),
                 "by hand": common.step_runner(nb["hand_run"](nb["Deviations"]())[0], x, y, zero),
                 "by hand, Adam without XLA": common.step_runner(
                     plain["hand_run"](plain["Deviations"]())[0], x, y, zero),
                 "by hand, BN and ReLU without XLA": common.step_runner(
                     plain_layers["hand_run"](plain_layers["Deviations"]())[0], x, y, zero)}
        make_kmodel = lambda: keras_models.tree_net(keras, size=size)
    elif name == "all-cnn-paper":
        # notebook 03's paper recipe: Springenberg et al.'s All-CNN-C (biases, ReLU, dropout,
        # weight decay) trained by a GradientTape step with SGD and momentum, as is its Keras twin
        nb = nbload.load("03_all_cnn.ipynb")
        params = nb["init_paper_params"](0)
        keras_optimizer = lambda: keras.optimizers.SGD(nb["PAPER_LR"], momentum=0.9)
        opt = keras_optimizer()
        opt.build(list(params.values()))
        cands = {"GradientTape": common.step_runner(nb["make_paper_step"](params, opt), x, y)}
        make_kmodel = lambda: keras_models.paper_all_cnn_c(keras, size=size,
                                                           weight_decay=nb["PAPER_WEIGHT_DECAY"])
    elif name in ("article-wrn", "wrn-16-8"):
        nb = nbload.load("04_wide_resnet.ipynb")
        from shared.tf_layers import Adam
        from shared.tf_train import make_train_step
        model = nb["ArticleWRN"](norm="batch", init="he") if name == "article-wrn" \
            else nb["WRN"](16, 8)
        adam = Adam(model.trainable_variables, learning_rate=1e-3)
        step = make_train_step(model, model.trainable_variables, adam.apply)
        cands = {"GradientTape": common.step_runner(step, x, y)}
        make_kmodel = (lambda: keras_models.article_wrn(keras, size=size)) \
            if name == "article-wrn" else (lambda: keras_models.wrn(keras, 16, 8, size=size))
    else:
        raise ValueError(f"unknown model {name!r}")
    kmodel = make_kmodel()
    cands = {"Keras fit": common.keras_fit_runner(tf, kmodel, x, y, keras_optimizer()), **cands}
    if name != "wrn-16-8":  # left out of the slowest model (9 s a step) to keep the run short
        cands["Keras model, GradientTape"] = common.keras_tape_runner(tf, make_kmodel(), x, y,
                                                                      keras_optimizer())
    return cands, keras_models.forward_flops(kmodel)


def measure(name, a) -> dict:
    """Time one model's candidates in alternating rounds (in a worker process of its own: see
    main). -> {"flops": forward FLOPs per image, "rates": candidate -> median images/s,
    "rounds": [candidate -> median seconds per step in that round], "tensorflow": its version}."""
    from shared.runtime import import_tensorflow
    tf = import_tensorflow()
    cands, flops = build(name, tf, a.batch, a.size)
    for run in cands.values():  # warm-up: tracing and first-call costs
        run(2)
    names, times, rounds = list(cands), {k: [] for k in cands}, []
    for r in range(a.repeats):
        # each candidate goes first in turn, so that a machine slowing down or speeding up
        # during the run favours none of them
        order = names[r % len(names):] + names[:r % len(names)]
        this_round = {}
        for k in order:
            seconds = cands[k](a.steps)
            times[k] += seconds
            this_round[k] = common.median(seconds)
        rounds.append(this_round)
    return {"flops": flops, "rates": {k: a.batch / common.median(v) for k, v in times.items()},
            "rounds": rounds, "tensorflow": tf.__version__}


def run_ratio(rounds, k, ref) -> float:
    """One run's ratio of candidate ``k``'s speed to ``ref``'s: the median over its rounds of
    the two candidates' per-round ratios."""
    return common.median([rd[ref] / rd[k] for rd in rounds])


def model_rows(name, runs) -> list[list[str]]:
    """Table rows of one model from its runs (each a ``measure`` result): images/s and ratios
    are medians over the runs of each run's own median, followed by every run's value."""
    def ratio(k, ref):
        if ref not in runs[0]["rates"]:
            return "—"
        if k == ref:
            return "1.00x"
        per_run = [run_ratio(run["rounds"], k, ref) for run in runs]
        spread = f" (runs {', '.join(f'{x:.2f}' for x in per_run)})" if len(runs) > 1 else ""
        return f"{common.median(per_run):.2f}x{spread}"
    rows = []
    for k in runs[0]["rates"]:
        rate = common.median([run["rates"][k] for run in runs])
        rows.append([name, k, f"{rate:.1f}", f"{3 * runs[0]['flops'] * rate / 1e9:.0f}",
                     ratio(k, "Keras fit"), ratio(k, "GradientTape")])
    return rows


def main(argv=None):
    def options(p):
        p.add_argument("--models",
                       default="all-cnn,convpool,all-cnn-paper,tree,article-wrn,wrn-16-8")
        p.add_argument("--runs", type=int, default=3)
        p.add_argument("--worker", action="store_true")
    a = common.step_arguments(argv, options, steps=1, repeats=20)
    if a.tiny:
        a.runs = 1
    if a.worker:
        print(json.dumps(measure(a.models, a)))
        return
    names = a.models.split(",")
    runs = {name: [] for name in names}
    for run in range(a.runs):
        for name in names:
            # a fresh process per model and run: no model is timed beside what another left in
            # memory (gigabytes of weights, optimiser slots and compiled graphs), and each run
            # draws anew whatever a process's start decides (memory layout, thread placement),
            # which moves a ratio by a few percent from one process to the next
            result = common.run_worker(Path(__file__), [
                "--worker", f"--models={name}", f"--steps={a.steps}", f"--repeats={a.repeats}",
                f"--batch={a.batch}", f"--size={a.size}"], {})
            runs[name].append(result)
            print(f"run {run + 1}/{a.runs}: {model_rows(name, [result])}", flush=True)
    rows = [row for name in names for row in model_rows(name, runs[name])]
    tf_version = runs[names[0]][0]["tensorflow"]
    timed = "once" if a.steps == 1 else f"{a.steps} times"
    body = (f"Batch {a.batch}, {a.size}x{a.size} images, float32. Each model is timed in "
            f"{a.runs} runs, each a fresh process of its own, the models taking turns (all "
            "models' first runs, then their second, ...). In a run, each training step is timed "
            f"{timed} in each of {a.repeats} rounds after warm-up, the candidates taking turns "
            "to go first; the run's ratio of two candidates is the median over its rounds of "
            "their per-round ratio, and its images/s the median over its steps. The table gives "
            "the median over the runs, then each run's own value: single runs of the same "
            "steps on the same quiet machine differ by two or three percent, more than one "
            "run's round-to-round noise (40 rounds put one run's 95% confidence interval of "
            "its median at about +-1%), so a ratio within those few percent of 1.00 says the "
            "two steps are equally fast, not that one is faster. `GradientTape, second copy` "
            "measures that noise directly: the GradientTape step again, built a second time "
            "with weights of its own, so its ratio to `GradientTape` is what two identical "
            "steps differ by. "
            "Our steps are the notebooks' `tf.function` steps, each with the optimiser its "
            "notebook gives it: `by hand` is the hand-written backward with the shared "
            "hand-written Adam (its update compiled with XLA, as are the backward passes of "
            "batch norm, ReLU and ELU, and ConvPool's pool and ELU backward together); the "
            "GradientTape steps use Keras' Adam in the tree net (its update compiled with XLA, "
            "as notebook 01 does, so that its two steps differ only in their gradients) and in "
            "All-CNN / ConvPool (plain, as in notebook 03), and the shared Adam in the WRNs "
            "(notebook 04). `all-cnn-paper` is notebook 03's paper recipe, Springenberg et al.'s "
            "All-CNN-C with biases, ReLU, dropout and weight decay, trained by GradientTape and "
            "SGD with momentum, and so is its Keras twin. The `without XLA` rows show what each "
            "compilation is worth: the same step with the compiled part run as plain "
            "TensorFlow (ConvPool's `ELU without XLA` runs its pool-and-ELU backward plain "
            "too); `pool and ELU backward apart` runs the pool's "
            "backward plain and ELU's compiled, the step before they were compiled together. "
            "`by hand, Keras' Adam` is the hand-written backward updated by the Keras AMSGrad "
            "of the GradientTape step: beside `GradientTape`, a step that differs in how it "
            "computes its gradients only. `by hand, ELU backward by TF's kernel` replaces the "
            "hand-written ELU derivative (XLA-compiled) by TensorFlow's `EluGrad`, the kernel "
            "autodiff calls, which can write its result over the incoming gradient's array in "
            "place; a compiled function writes a new one. "
            "`Keras model, GradientTape` "
            "trains the Keras twin of the model with a plain `tf.function` GradientTape step and "
            "Keras' (uncompiled) Adam: `fit`'s ops without `fit`'s loop (not run for WRN-16-8, to "
            "keep the run short). Where a GradientTape step trails `fit` by a few percent, this "
            "row tells how much of the gap the same ops show outside `fit`.\n\n" + common.table(
                ["model", "training step", "images/s", "GFLOP/s", "vs Keras fit (runs)",
                 "vs GradientTape (runs)"], rows))
    common.write_section("tf_steps", "TensorFlow train-step throughput", body, a.tiny,
                         tf_version=tf_version)


if __name__ == "__main__":
    main()
