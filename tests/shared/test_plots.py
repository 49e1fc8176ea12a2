"""shared.plots: figures a reader can read at a glance."""
import math

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from shared.plots import annotated_heatmap, plot_curves  # noqa: E402
from shared.records import History  # noqa: E402


def history(name, scale=1.0, cost=lambda e: 2.0 - 0.1 * e, test_every_epoch=True):
    h = History(name)
    for e in range(1, 7):
        tested = test_every_epoch or e == 6
        h.add(epoch=e, train_loss=cost(e), train_acc=0.1 * e * scale,
              test_loss=cost(e) if tested else math.nan, test_acc=0.09 * e if tested else math.nan)
    return h


def test_coinciding_runs_stay_visible_and_axes_are_labelled():
    fig = plot_curves([history("a"), history("b"), history("c", 0.5)], "t", test_label="validation")
    axes = fig.axes
    styles = {(line.get_linestyle(), line.get_marker()) for line in axes[0].get_lines()}
    assert len(styles) == 3
    assert [ax.get_ylabel() for ax in axes] == ["accuracy", "cost", "accuracy", "cost"]
    assert axes[2].get_title() == "validation accuracy" and axes[3].get_xlabel() == "epoch"
    assert all(ax.get_yscale() == "linear" for ax in axes)
    assert isinstance(axes[0].xaxis.get_major_locator(), matplotlib.ticker.MaxNLocator)
    assert all(t == int(t) for t in axes[3].get_xticks())
    legend = fig.legends[0]
    fig.canvas.draw()
    box = legend.get_window_extent()
    assert all(not box.overlaps(ax.get_window_extent()) for ax in axes)   # off the data
    assert fig.dpi >= 100 and legend.get_texts()[0].get_fontsize() >= 10
    texts = [axes[0].yaxis.label, axes[0].title, *axes[3].get_xticklabels(),
             *axes[0].get_yticklabels()]
    assert min(t.get_fontsize() for t in texts) >= 10
    plt.close(fig)


def test_log_scale_only_for_a_diverging_cost():
    fig = plot_curves([history("ok"), history("exploding", cost=lambda e: 10.0 ** e)])
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "log", "linear", "log"]
    assert "log scale" in fig.axes[1].get_ylabel()
    plt.close(fig)


def test_a_nan_cost_is_divergence_only_where_the_epoch_was_evaluated():
    nan_cost = History("nan cost")
    nan_cost.add(epoch=1, train_loss=2.0, train_acc=0.1, test_loss=math.nan, test_acc=0.1)
    fig = plot_curves([history("ok"), nan_cost])
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "linear", "linear", "log"]
    plt.close(fig)


def test_a_run_tested_only_at_the_end_shows_its_point():
    fig = plot_curves([history("every epoch"), history("end only", test_every_epoch=False)])
    line = fig.axes[2].get_lines()[1]
    assert list(line.get_xdata()) == [6.0] and line.get_marker() not in (None, "None", "")
    assert fig.axes[3].get_yscale() == "linear"   # untested epochs are not a diverging cost
    plt.close(fig)


def test_heatmap_text_is_readable_on_dark_and_light_cells():
    fig, ax = plt.subplots()
    annotated_heatmap(ax, np.array([[0.0, 1.0]]), ["row"], ["dark", "light"], cmap="viridis")
    colours = [t.get_color() for t in ax.texts]
    assert colours == ["white", "black"] and [t.get_text() for t in ax.texts] == ["0.00", "1.00"]
    plt.close(fig)
