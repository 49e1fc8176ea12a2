"""shared.train: the one training loop of the series, on a tiny NumPy model."""
import math

import numpy as np
import pytest

import shared.checkpoint
from shared.records import DivergenceError
from shared.train import TrainingLoop, progress_line, shuffled_batches


def linear_run(lr=0.1, epochs=3, batch_size=4, loop=None, **options):
    """Least squares y = x w by SGD; the step reports a made-up accuracy of 0.5."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    w = np.zeros(3)

    def step(xb, yb):
        err = xb @ w - yb
        w[...] -= lr * xb.T @ err / len(xb)
        return 0.5 * np.mean(err ** 2), 0.5

    loop = loop or TrainingLoop("02_multichannel_cnn_digits", "quick")
    history = loop.run("linear", step, shuffled_batches(x, y, batch_size, rng), epochs,
                       state={"w": w, "rng": rng}, **options)
    return history, w


def test_shuffled_batches_draw_one_permutation_per_epoch():
    x, y = np.arange(10) * 10, np.arange(10)
    batches = shuffled_batches(x, y, 4, np.random.default_rng(3))
    epoch_1 = list(batches(1))
    order = np.random.default_rng(3).permutation(10)
    assert [len(b[0]) for b in epoch_1] == [4, 4, 2]
    assert np.array_equal(np.concatenate([b[1] for b in epoch_1]), order)
    assert not np.array_equal(np.concatenate([b[1] for b in batches(2)]), order)


def test_records_weight_batches_by_size_and_keep_evaluate_and_extra():
    seen = []

    def step(xb, yb):
        seen.append(len(xb))
        return float(len(xb)), 1.0 if len(xb) == 4 else 0.0   # loss = batch size

    loop = TrainingLoop("02_multichannel_cnn_digits", "quick")
    history = loop.run("sizes", step, shuffled_batches(np.zeros(10), np.zeros(10), 4,
                                                      np.random.default_rng(0)), 2,
                       evaluate=lambda epoch: {"test_acc": epoch / 10},
                       before_epoch=lambda epoch: {"lr": 1.0 / epoch}, progress=False)
    assert seen == [4, 4, 2] * 2
    row = history.rows[0]
    assert row["train_loss"] == pytest.approx((4 * 4 + 4 * 4 + 2 * 2) / 10)
    assert row["train_acc"] == pytest.approx(0.8)
    assert history["test_acc"] == [0.1, 0.2] and history["lr"] == [1.0, 0.5]
    assert history["epoch"] == [1, 2] and row["seconds"] >= 0 and "cpu_seconds" in row


def test_training_learns_and_prints_full_progress_lines(capsys):
    history, _ = linear_run(epochs=20, evaluate=lambda e: {"test_loss": 0.25, "test_acc": 0.75})
    assert history["train_loss"][-1] < 0.1 * history["train_loss"][0]
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "linear: 20 epochs"
    assert lines[1].startswith("epoch 1/20  train loss ") and lines[-1].startswith("epoch 20/20  ")
    assert "test loss 0.25 acc 75.0%" in lines[-1] and "train" in lines[-1]


def test_progress_line_fits_80_columns_with_every_metric():
    row = dict(train_loss=1.23456789, train_acc=0.43921, test_loss=1.5432109, test_acc=0.41234,
               seconds=123.4)
    line = progress_line(21, 350, row, test_label="validation")
    assert len(line) <= 80, line
    for part in ("train loss 1.235 acc 43.9%", "validation loss 1.543 acc 41.2%", "123 s"):
        assert part in line
    assert "test" not in progress_line(1, 1, {"train_loss": 1.0, "seconds": 1.0,
                                             "test_loss": math.nan})


def test_diverging_loss_stops_unless_allowed(capsys):
    with pytest.raises(DivergenceError, match=r"diverged at epoch 1, step \d+: loss = "):
        linear_run(lr=1e6)
    history, _ = linear_run(lr=1e6, allow_divergence=True, progress=False)
    assert len(history) == 3 and not history["train_loss"][-1] < 1e4


def test_non_finite_loss_is_reported_as_such():
    def nan_step(x, y):
        return math.nan, 0.0
    x, y = np.zeros((16, 3)), np.zeros(16)
    with pytest.raises(DivergenceError, match="step 0: loss = nan .non-finite"):
        TrainingLoop("02_multichannel_cnn_digits", "quick").run(
            "nan", nan_step, shuffled_batches(x, y, 8, np.random.default_rng(0)), 1,
            progress=False)


def test_epochs_must_be_positive():
    with pytest.raises(ValueError, match="epochs must be positive"):
        linear_run(epochs=0)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        shuffled_batches(np.zeros(3), np.zeros(3), 0, np.random.default_rng(0))


def test_a_resumed_run_ends_bit_for_bit_as_a_straight_one(tmp_path, monkeypatch):
    monkeypatch.setattr(shared.checkpoint, "CHECKPOINT_DIR", tmp_path)
    loop = TrainingLoop("02_multichannel_cnn_digits", "full")
    straight, w_straight = linear_run(epochs=5, loop=loop, progress=False, run_key="straight")
    interrupted, _ = linear_run(epochs=2, loop=loop, progress=False, run_key="resumed")
    assert len(interrupted) == 2
    resumed, w_resumed = linear_run(epochs=5, loop=loop, run_key="resumed")
    assert w_resumed.tobytes() == w_straight.tobytes()
    assert resumed["train_loss"] == straight["train_loss"] and len(resumed) == 5


def test_checkpoints_follow_cfg_and_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(shared.checkpoint, "CHECKPOINT_DIR", tmp_path)
    linear_run(epochs=1, progress=False)
    assert not any(tmp_path.iterdir())   # cfg["checkpoint"] false: nothing written
    loop = TrainingLoop("02_multichannel_cnn_digits", "full")
    linear_run(epochs=1, loop=loop, progress=False)
    assert [p.parent.name.split("-")[0] for p in tmp_path.rglob("*.npz")] == ["full"]
