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


def test_history_records_epochs():
    h = History("run")
    for e, acc in enumerate([0.2, 0.5, 0.4], start=1):
        h.add(epoch=e, train_loss=1.0, train_acc=acc, test_loss=1.0, test_acc=acc, seconds=2.0)
    assert h["test_acc"] == [0.2, 0.5, 0.4] and h.last["epoch"] == 3
    assert h.to_dict() == {"name": "run", "epochs": h.rows}
    assert h.mean_seconds() == 2.0


def test_save_results_and_summary(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path)
    h = History("a")
    h.add(epoch=1, test_acc=0.5)
    path = records.save_results("99_test", [{"experiment": "x", "article": 0.72, "ours": 0.9,
                                             "n": 100}],
                                [h], header={"budget": "quick", "hardware": {"cpu": "c", "cores": 2,
                                                                          "gpu": "none"}})
    assert path == tmp_path / "quick" / "99_test.json"  # tests never overwrite real results
    data = json.loads(path.read_text())
    assert data["budget"] == "quick" and data["histories"][0]["name"] == "a"
    row = {"experiment": "x", "article": 0.72, "article_note": "best epoch", "ours": 0.9,
           "ours_plain": 0.8, "n": 100}
    path = records.save_results("99_test", [row, {"experiment": "cost", "ours": 0.5,
                                                  "metric": "ratio"}],
                                [h], sourced={"article: x": (0.72, "http://x.y")},
                                header={"budget": "default", "hardware": {"cpu": "c",
                                                                            "cores": 2}})
    assert path == tmp_path / "99_test.json"
    summary = reproduce.write_summary(tmp_path).read_text()
    assert ("| 99_test | x | 72.00% (best epoch) | — | mirrored 90.00% ± 3.00; plain 80.00% ± "
            "4.00 (n = 100) |") in summary
    assert "| 99_test | cost | — | — | 50.00% |" in summary
    data = json.loads(path.read_text())
    assert data["sourced"] == {"article: x": {"value": 0.72, "url": "http://x.y"}}
    assert "data" in data and len(data["code_hash"]) > 0


def test_an_accuracy_row_without_its_test_set_size_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RESULTS_DIR", tmp_path)
    with pytest.raises(ValueError, match="'x' is an accuracy without its test-set size"):
        records.save_results("99_test", [{"experiment": "x", "ours": 0.9}], [],
                             header={"budget": "default"})
    assert not list(tmp_path.rglob("*.json"))   # nothing half-written


def test_standard_errors_and_verdicts():
    assert records.standard_error(0.9, 100) == pytest.approx(0.03)
    assert records.fmt_acc(0.819, 10000) == "81.9% ± 0.4 (n = 10,000)"
    a = [1] * 60 + [0] * 40
    b = [1] * 50 + [0] * 50
    diff, se = records.paired_difference(a, b)
    assert diff == pytest.approx(0.1)
    assert se == pytest.approx((0.1 * 0.9 / 99) ** 0.5)   # 10 images differ, all one way
    assert records.difference_se(0.6, 100, 0.5, 100) == pytest.approx(
        (0.1, ((0.24 + 0.25) / 100) ** 0.5))
    assert records.verdict(0.1, 0.049) == "a difference (> 2 SE)"
    assert records.verdict(0.1, 0.05) == "a tie (within 2 SE)"
    with pytest.raises(ValueError, match="one length"):
        records.paired_difference([1, 0], [1, 0, 1])


def test_summary_formats_differences_and_runs():
    assert reproduce.fmt_ours({"ours": -0.012, "se": 0.004, "n": 2000, "metric": "difference"}) \
        == "-1.20 ± 0.40 points (n = 2,000; a difference (> 2 SE))"
    assert reproduce.fmt_ours({"ours": 0.995, "std": 0.0065, "runs": 3, "n": 72}) == \
        "99.50% ± 0.48 (n = 3 x 72; sd 0.65 over the 3 runs)"
    assert reproduce.fmt_ours({"ours": 0.5, "metric": "ratio"}) == "50.00%"
