"""The same training, run again in the same process, ends with the same weights, bit for bit.

This is what seeding and TensorFlow's op determinism promise (shared.runtime), and what the
interrupt-and-resume tests rely on. It holds with TensorFlow's own CPU kernels, which conftest.py
selects for the tests; with oneDNN's (the notebooks' default, for speed) some reruns of this tiny
tree net end a few last bits apart (typically 1 or 2 in 8 on the 2-core CI machine).
"""
import numpy as np

from notebook_loops import tiny_tree_net  # tests/notebook_loops.py

RUNS = 4


def final_weights(ns):
    return np.concatenate([v.numpy().ravel() for v in ns["params"].values()])


def test_tree_net_trainings_repeat_bit_for_bit():
    ns = tiny_tree_net(4, learning_rate=1e-3, checkpoint=False)
    finals = {"autodiff": [], "by hand": []}
    for _ in range(RUNS):
        ns["train"]("autodiff", ns["make_autodiff_step"]("relu"))
        finals["autodiff"].append(final_weights(ns))
        ns["train"]("by hand", *ns["hand_run"](ns["Deviations"]()))
        finals["by hand"].append(final_weights(ns))
    for name, runs in finals.items():
        differing = [i for i, w in enumerate(runs) if w.tobytes() != runs[0].tobytes()]
        assert not differing, f"{name}: runs {differing} ended with other weights than run 0"
    # the two paths are different code: equal to float32 round-off, not bit for bit
    assert np.allclose(finals["autodiff"][0], finals["by hand"][0], rtol=0, atol=1e-4)
