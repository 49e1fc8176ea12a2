"""CPU settings that matter for TensorFlow: oneDNN on/off and intra-op thread counts.

Each setting must be fixed before TensorFlow is imported, so every measurement runs in a fresh
worker process; settings alternate over repetitions. Speed: All-CNN-C and the tree net, Keras
``fit``, batch 128.
Repeatability: notebook 01's training loop run again and again on a tiny tree net; a setting is
repeatable when every rerun ends with the first run's weights.

    python benchmarks/bench_tf_settings.py            # full measurement (~7 min on 2 cores)
    python benchmarks/bench_tf_settings.py --tiny     # smoke run
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SETTINGS = {
    "oneDNN off (the tests' setting)": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "oneDNN on (project setting)": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    # the tree net is left out here: TensorFlow 2.21 aborts in its first Keras step with oneDNN on
    # and one intra-op thread ("munmap_chunk(): invalid pointer")
    "oneDNN on, 1 intra-op thread": {"TF_ENABLE_ONEDNN_OPTS": "1", "BENCH_THREADS": "1",
                                     "BENCH_MODELS": "All-CNN-C"},
    # not a project setting: what Keras' bfloat16 mixed precision would give on this CPU (the
    # notebooks' hand-written steps and gradient checks are float32 / float64)
    "oneDNN on, Keras mixed_bfloat16": {"TF_ENABLE_ONEDNN_OPTS": "1",
                                        "BENCH_POLICY": "mixed_bfloat16", "BENCH_RERUNS": "0"},
}


MODELS = ("All-CNN-C", "tree net")


def onednn_by_default() -> bool:
    """Whether TensorFlow turns oneDNN on by itself on this CPU (TF_ENABLE_ONEDNN_OPTS unset). It
    decides once, at import, by the CPU's instructions (on where it finds AVX-512 VNNI or BF16,
    for example), so a fresh process is asked."""
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    out = subprocess.run([sys.executable, "-c", "from tensorflow.python.util import "
                          "_pywrap_util_port as port; print(port.IsMklEnabled())"],
                         env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"}, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip().splitlines()[-1] == "True"


def worker(steps: int, batch: int, size: int) -> dict:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    from keras_models import all_cnn_c, forward_flops, tree_net
    if os.environ.get("BENCH_THREADS"):
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["BENCH_THREADS"]))
    if os.environ.get("BENCH_POLICY"):
        tf.keras.mixed_precision.set_global_policy(os.environ["BENCH_POLICY"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    models = os.environ.get("BENCH_MODELS", ",".join(MODELS)).split(",")
    reruns = "tree net" in models and os.environ.get("BENCH_RERUNS") != "0"
    result = {"reruns_identical": reruns_identical(reruns=1 + max(2, steps // 3))
              if reruns else None}
    for name in models:
        model = {"All-CNN-C": all_cnn_c, "tree net": tree_net}[name](tf.keras, size=size)
        sec = common.median(common.keras_fit_runner(tf, model, x, y)(steps + 3)[3:])
        result[name] = {"images_per_s": batch / sec,
                        "gflops": 3 * forward_flops(model) * batch / sec / 1e9}
    return result


def reruns_identical(reruns: int) -> list[int]:
    """Notebook 01's own training loop on the tiny tree net of its tests (tests/notebook_loops.py):
    the autodiff run and the hand-written run, each ``reruns`` times in this process.
    -> [reruns that ended with exactly the weights of the first, reruns compared]."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from notebook_loops import tiny_tree_net, tree_net_rerun_weights
    finals = tree_net_rerun_weights(tiny_tree_net(4, learning_rate=1e-3, checkpoint=False),
                                    reruns)
    return [sum(f == runs[0] for runs in finals.values() for f in runs[1:]),
            sum(len(runs) - 1 for runs in finals.values())]


XLA_NOTE = (
    "XLA compiles five element-wise parts of our training steps: the shared hand-written Adam's "
    "per-variable update (`shared.tf_layers.Adam.update`), which plain TensorFlow runs as a dozen "
    "passes over every weight array and XLA as one; Keras' Adam in notebook 01's autodiff step "
    "(the same arithmetic, on the tree net's 59.5 million weights); and three backward passes of "
    "the hand-written steps: ELU's (three passes, one with XLA), ReLU's (two, one) and batch "
    "norm's. The `without XLA` rows of the train-step section show what each is worth. The rest "
    "of each step is not compiled, and Keras `fit` compiles nothing on a CPU (its "
    "`jit_compile=\"auto\"` turns XLA off on machines without an accelerator). An earlier version "
    "of this page blamed XLA for reruns that differed in the last bits; the cause was oneDNN: "
    "with oneDNN off, 30 reruns of a tiny tree net with XLA-compiled ReLU and batch-norm backward "
    "passes all ended bit for bit alike.")


def main(argv=None):
    a = common.step_arguments(argv, lambda p: p.add_argument("--worker", action="store_true"))
    if a.worker:
        print(json.dumps(worker(a.steps, a.batch, a.size)))
        return
    results = {name: [] for name in SETTINGS}
    for _ in range(a.repeats):
        for name, env in SETTINGS.items():
            results[name].append(common.run_worker(
                Path(__file__), ["--worker", f"--steps={a.steps}", f"--batch={a.batch}",
                                 f"--size={a.size}"], env))
    first = next(iter(SETTINGS))
    by_default = onednn_by_default()
    rows = []
    for name, rs in results.items():
        row = [name]
        for model in MODELS:
            if model not in rs[0]:
                row += ["not run (aborts)", "—"]
                continue
            ips = common.median([r[model]["images_per_s"] for r in rs])
            gf = common.median([r[model]["gflops"] for r in rs])
            base = common.median([r[model]["images_per_s"] for r in results[first]])
            row += [f"{ips:.1f} ({gf:.0f} GFLOP/s)", f"{ips / base:.2f}x"]
        if SETTINGS[name] == {"TF_ENABLE_ONEDNN_OPTS": "1" if by_default else "0"}:
            row[0] += "; TF's default on this CPU"
        if rs[0]["reruns_identical"] is None:
            rows.append(row + ["not run (the notebooks train in float32)"
                               if SETTINGS[name].get("BENCH_RERUNS") == "0"
                               else "not run (aborts)"])
            continue
        same, reruns = (sum(column) for column in zip(*[r["reruns_identical"] for r in rs]))
        rows.append(row + [f"{same} of {reruns}"])
    body = (f"All-CNN-C and the tree net, Keras `fit`, batch {a.batch}, {a.size}x{a.size} "
            f"images; median of {a.steps} steps per process after 3 warm-up steps, {a.repeats} "
            "alternating repetitions (fresh process each). Reruns identical: in each of those "
            "processes notebook 01's training loop trains the tiny tree net of its tests (8 "
            "random 8x8 images, 4 epochs, seeded, TensorFlow op determinism on) again and again, "
            "with autodiff and by hand; how many reruns ended with exactly the weights of that "
            "process's first run of the same kind.\n\n"
            + common.table(["setting", *[f"{m}: {c}" for m in MODELS
                                         for c in ("images/s", "vs oneDNN off")],
                            "reruns identical"], rows)
            + "\n\nThe project sets `TF_ENABLE_ONEDNN_OPTS=1` and leaves thread counts to TF in "
              "`shared.runtime.import_tensorflow()`, before TensorFlow is imported: oneDNN's "
              "speed is worth more to a reader waiting for a CPU run than bit-for-bit reruns, "
              "which `TF_ENABLE_ONEDNN_OPTS=0` gives back (the tests set it, in conftest.py, "
              "because they compare runs exactly). Mixed precision is not used on the CPU: the "
              "notebooks' hand-written steps are compared with autodiff in float32 and checked "
              "in float64, and bfloat16's 8-bit mantissa would blur both; the mixed_bfloat16 row "
              "shows what Keras alone would gain from it on this CPU. "
              + XLA_NOTE)
    common.write_section("tf_settings", "TensorFlow CPU settings", body, a.tiny)


if __name__ == "__main__":
    main()
