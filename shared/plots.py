"""Figures: the articles' 2x2 training curves, annotated heat maps, image grids.

Library code returns figures and never calls ``plt.show()``. Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

DPI = 100
# applied per figure (rc_context), so importing this module leaves the global rcParams alone
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 10,
         "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.titlesize": 12}
# identical runs drawn on top of each other stay visible: each run has its own line style and
# hollow marker shape (outlines of different shapes show through one another), later runs thinner
LINESTYLES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "v", "D", "x", "P", "*")
DIVERGED = 1e3   # a cost above this, or a non-finite one, switches its panel to a log scale


def plot_curves(histories, title: str = "", test_label: str = "test"):
    """2x2 panels (train accuracy, train cost, test accuracy, test cost per epoch), one line per
    run. ``histories``: one ``records.History`` or a list of them. ``test_label`` names what the
    lower panels measure (``"validation"`` where that is the data)."""
    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    panels = (("train_acc", "train accuracy", "accuracy"), ("train_loss", "train cost", "cost"),
              ("test_acc", f"{test_label} accuracy", "accuracy"),
              ("test_loss", f"{test_label} cost", "cost"))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, 2, figsize=(10, 6.6 + 0.3 * len(histories)), dpi=DPI,
                                 sharex=True)
        for ax, (key, panel_title, ylabel) in zip(axes.ravel(), panels):
            for i, h in enumerate(histories):
                epochs = np.array(h["epoch"] if h.rows and "epoch" in h.rows[0]
                                  else range(1, len(h) + 1), dtype=float)
                y = np.array(h[key], dtype=float)
                shown = np.isfinite(y)   # untested epochs are NaN; a lone final test still shows
                ax.plot(epochs[shown], y[shown], linestyle=LINESTYLES[i % len(LINESTYLES)],
                        marker=MARKERS[i % len(MARKERS)], markersize=7, markerfacecolor="none",
                        markeredgewidth=1.5, markevery=_markevery(int(shown.sum()), i),
                        linewidth=max(2.6 - 0.5 * i, 1.0), alpha=0.9, label=h.name)
            if key.endswith("loss") and _diverged(histories, key):
                ax.set_yscale("log")
                ylabel += " (log scale)"
            ax.set_title(panel_title)
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.tick_params(labelsize=10)   # ticks are made at draw time, after the rc_context
        for ax in axes[1]:
            ax.set_xlabel("epoch")
        handles, labels = axes[0, 0].get_legend_handles_labels()
        if title:
            fig.suptitle(title)
        fig.tight_layout(rect=(0, 0.04 + 0.035 * math.ceil(len(histories) / 3), 1, 1))
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 3), frameon=False)
    return fig


def _diverged(histories, key: str) -> bool:
    # a cost that is infinite, above DIVERGED, or NaN at an epoch whose accuracy was measured;
    # a NaN with no accuracy beside it only means that epoch was not evaluated
    accuracy = key.replace("loss", "acc")
    for h in histories:
        for cost, acc in zip(h[key], h[accuracy]):
            if math.isnan(cost):
                if not math.isnan(acc):
                    return True
            elif not math.isfinite(cost) or abs(cost) > DIVERGED:
                return True
    return False


def _markevery(n_points: int, i: int):
    # about ten markers per line, each run's markers shifted so coinciding runs show both
    if n_points <= 12:
        return None
    step = max(n_points // 10, 2)
    return (i % step, step)


def annotated_heatmap(ax, values, row_labels, col_labels, fmt: str = "{:.2f}",
                      cmap: str = "viridis", vmin=None, vmax=None, colorbar_label=None):
    """A heat map with each cell's value written on it, in black on light cells and white on dark
    ones (chosen from the cell colour's luminance). Returns the image."""
    values = np.asarray(values, dtype=float)
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(col_labels)), labels=col_labels)
    ax.set_yticks(range(len(row_labels)), labels=row_labels)
    ax.tick_params(labelsize=10)
    for (r, c), value in np.ndenumerate(values):
        red, green, blue, _ = image.cmap(image.norm(value))
        luminance = 0.299 * red + 0.587 * green + 0.114 * blue
        ax.text(c, r, fmt.format(value), ha="center", va="center", fontsize=10,
                color="black" if luminance > 0.5 else "white")
    if colorbar_label is not None:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    return image


def image_grid(images: np.ndarray, labels, class_names=None, cols: int = 8, title: str = ""):
    """Show images (N, H, W[, C]) in a grid with their class names."""
    n = len(images)
    rows = int(np.ceil(n / cols))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.6 * rows), dpi=DPI)
        for ax in np.ravel(axes):
            ax.axis("off")
        for ax, img, label in zip(np.ravel(axes), images, labels):
            img = np.asarray(img)
            if img.dtype != np.uint8:  # standardised data: rescale per image for display
                img = (img - img.min()) / max(float(img.max() - img.min()), 1e-8)
            ax.imshow(img.squeeze(), cmap="gray" if img.ndim == 2 or img.shape[-1] == 1 else None)
            ax.set_title(class_names[label] if class_names is not None else str(label), fontsize=9)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    return fig
