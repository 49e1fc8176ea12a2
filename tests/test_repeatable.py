"""The same training, run again in the same process, ends with the same weights, bit for bit.

This is what seeding and TensorFlow's op determinism promise (shared.runtime), and what the
interrupt-and-resume tests rely on. It holds with TensorFlow's own CPU kernels, which conftest.py
selects for the tests; with oneDNN's (the notebooks' default, for speed) some reruns of this tiny
tree net end a few last bits apart (typically 1 or 2 in 8 on the 2-core CI machine).
"""
import numpy as np

from notebook_loops import tiny_tree_net, tree_net_rerun_weights  # tests/notebook_loops.py

RUNS = 2   # a rerun that differs from the first shows nondeterminism; a third adds little


def test_tree_net_trainings_repeat_bit_for_bit():
    finals = tree_net_rerun_weights(tiny_tree_net(4, learning_rate=1e-3, checkpoint=False), RUNS)
    for name, runs in finals.items():
        differing = [i for i, w in enumerate(runs) if w != runs[0]]
        assert not differing, f"{name}: runs {differing} ended with other weights than run 0"
    # the two paths are different code: equal to float32 round-off, not bit for bit
    autodiff, by_hand = (np.frombuffer(finals[k][0], np.float32) for k in ("autodiff", "by hand"))
    assert np.allclose(autodiff, by_hand, rtol=0, atol=1e-4)
