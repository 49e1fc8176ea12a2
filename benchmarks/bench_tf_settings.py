"""CPU settings that matter for TensorFlow: oneDNN on/off and intra-op thread counts.

Each setting must be fixed before TensorFlow is imported, so every measurement runs in a fresh
worker process; settings alternate over repetitions. Model: All-CNN-C, Keras ``fit``, batch 128.

    python benchmarks/bench_tf_settings.py            # full measurement (~5 min on 2 cores)
    python benchmarks/bench_tf_settings.py --tiny     # smoke run
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402

SETTINGS = {
    "oneDNN off (TF default on this CPU)": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "oneDNN on (project setting)": {"TF_ENABLE_ONEDNN_OPTS": "1"},
    "oneDNN on, 1 intra-op thread": {"TF_ENABLE_ONEDNN_OPTS": "1", "BENCH_THREADS": "1"},
}


def worker(steps: int, batch: int, size: int) -> dict:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    import tensorflow as tf
    from keras_models import all_cnn_c, forward_flops
    if os.environ.get("BENCH_THREADS"):
        tf.config.threading.set_intra_op_parallelism_threads(int(os.environ["BENCH_THREADS"]))
    keras = tf.keras
    model = all_cnn_c(keras, size=size)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    times = common.keras_fit_runner(tf, model, x, y)(steps + 3)
    sec = common.median(times[3:])
    return {"images_per_s": batch / sec,
            "gflops": 3 * forward_flops(model) * batch / sec / 1e9}


XLA_NOTE = (
    "XLA was tried on 2026-11-24 by compiling the hand-written element-wise backward formulas "
    "(ReLU, ELU, pooling, batch norm) and the Adam update into single passes: the tree net's "
    "hand-written step ran at 160 images/s against 142 for its GradientTape step (1.13x) and "
    "All-CNN's hand-written step caught up with its GradientTape step (77.4 images/s, 76.2 "
    "without XLA), but rerunning the same 4-epoch training of a tiny tree net in one process "
    "gave different last bits in some runs (1 of 4 with only ReLU's mask compiled), while the "
    "plain TensorFlow steps repeat bit for bit. The series keeps bitwise-repeatable runs and "
    "plain TensorFlow.")


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
    base = common.median([r["images_per_s"] for r in results[next(iter(SETTINGS))]])
    rows = []
    for name, rs in results.items():
        ips = common.median([r["images_per_s"] for r in rs])
        gf = common.median([r["gflops"] for r in rs])
        rows.append([name, f"{ips:.1f}", f"{gf:.0f}", f"{ips / base:.2f}x"])
    body = (f"All-CNN-C, Keras `fit`, batch {a.batch}, {a.size}x{a.size} images; median of "
            f"{a.steps} steps per process after 3 warm-up steps, {a.repeats} alternating "
            "repetitions (fresh process each).\n\n"
            + common.table(["setting", "images/s", "GFLOP/s", "vs TF default"], rows)
            + "\n\nThe project sets `TF_ENABLE_ONEDNN_OPTS=1` and leaves thread counts to TF in "
              "`shared.runtime.import_tensorflow()`, before TensorFlow is imported; mixed "
              "precision is not used on the CPU, and neither is XLA `jit_compile` (Keras too "
              "turns it off on CPU-only machines). " + XLA_NOTE)
    common.write_section("tf_settings", "TensorFlow CPU settings", body, a.tiny)


if __name__ == "__main__":
    main()
