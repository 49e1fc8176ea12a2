"""Notebook 04's training loop: it stops on a diverging loss and resumes after an interruption
to the same final state (the notebook's own functions, loaded with shared.nbload, on tiny data)."""
import pytest

from shared.records import DivergenceError

from notebook_loops import EPOCHS, assert_same_checkpoints, straight_and_resumed, tiny_all_cnn


def test_nb04_case_loop_stops():
    ns, images, labels = tiny_all_cnn(checkpoint=False, BASE_LR=1e4)
    batches = ns["EpochBatches"](images, labels, ns["article_augmenter"](), 4, 0, 2)
    case = ns["Case"]("g", "All-CNN", "amsgrad", "by hand")
    with pytest.raises(DivergenceError, match="diverged at epoch 1, step"):
        ns["train_case"](case, ns["init"]["All-CNN"], batches, 2, (ns["x_test"], ns["y_test"]),
                         ns["standardize"])



def test_nb04_loop_resumes(checkpoint_dirs):
    ns, images, labels = tiny_all_cnn(checkpoint=True)

    def run():
        batches = ns["EpochBatches"](images, labels, ns["article_augmenter"](), 4, 0, EPOCHS)
        histories = []
        for case in (ns["Case"]("g", "All-CNN", "amsgrad", "by hand", skips=True),
                     ns["Case"]("f", "All-CNN", "adam", "autodiff")):
            history, _ = ns["train_case"](case, ns["init"]["All-CNN"], batches, EPOCHS,
                                          (ns["x_test"], ns["y_test"]), ns["standardize"])
            histories.append(history["test_loss"])
        return histories
    a, ha, b, hb = straight_and_resumed(checkpoint_dirs, run)
    assert_same_checkpoints(a, b)
    assert ha == hb

