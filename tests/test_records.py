"""Records, divergence guard, results files and the summary of the main job."""
import json
import math

import pytest

from shared import records, reproduce
from shared.records import DivergenceError, History


@pytest.mark.parametrize("loss", [math.nan, math.inf, -math.inf, 1e20])
def test_check_loss_stops_with_clear_message(loss):
    with pytest.raises(DivergenceError, match="diverged at epoch 3, step 17"):
        records.check_loss(loss, epoch=3, step=17)


def test_check_loss_passes_finite_and_allowed():
    assert records.check_loss(0.5, 1, 1) == 0.5
    assert records.check_loss(1e20, 1, 1, allow_divergence=True) == 1e20


def test_history_best_and_roundtrip():
    h = History("run")
    for e, acc in enumerate([0.2, 0.5, 0.4], start=1):
        h.add(epoch=e, train_loss=1.0, train_acc=acc, test_loss=1.0, test_acc=acc, seconds=2.0)
    assert h.best("test_acc") == (0.5, 2)
    assert History.from_dict(h.to_dict()).rows == h.rows
    assert h.mean_seconds() == 2.0


def test_save_results_and_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path)
    h = History("a")
    h.add(epoch=1, test_acc=0.5)
    path = records.save_results("99_test", [{"experiment": "x", "article": 0.72, "ours": 0.9}],
                                [h], header={"budget": "quick", "hardware": {"cpu": "c", "cores": 2,
                                                                          "gpu": "none"}})
    assert path == tmp_path / "quick" / "99_test.json"  # tests never overwrite real results
    data = json.loads(path.read_text())
    assert data["budget"] == "quick" and data["histories"][0]["name"] == "a"
    path = records.save_results("99_test", [{"experiment": "x", "article": 0.72, "ours": 0.9}],
                                [h], header={"budget": "default", "hardware": {"cpu": "c",
                                                                            "cores": 2}})
    assert path == tmp_path / "99_test.json"
    summary = reproduce.write_summary(tmp_path).read_text()
    assert "| 99_test | x | 72.00% | — | 90.00% | default |" in summary
