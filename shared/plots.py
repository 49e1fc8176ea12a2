"""Figures: the articles' 2x2 training curves, overlays of several runs, image grids.

Library code returns figures and never calls ``plt.show()``. Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

PANELS = (("train_acc", "train accuracy"), ("train_loss", "train cost"),
          ("test_acc", "test accuracy"), ("test_loss", "test cost"))


def plot_curves(histories, title: str = "", logy: bool = False):
    """2x2 panels (train acc, train cost, test acc, test cost per epoch), one line per history.

    ``histories``: one ``records.History`` or a list of them (runs overlaid for comparison).
    """
    if not isinstance(histories, (list, tuple)):
        histories = [histories]
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True)
    for ax, (key, label) in zip(axes.ravel(), PANELS):
        for h in histories:
            epochs = h["epoch"] if h.rows and "epoch" in h.rows[0] else range(1, len(h) + 1)
            ax.plot(list(epochs), h[key], marker="." if len(h) < 30 else None, label=h.name)
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if logy and key.endswith("loss"):
            ax.set_yscale("log")
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    axes[0, 0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images: np.ndarray, labels, class_names=None, cols: int = 8, title: str = ""):
    """Show images (N, H, W[, C]) in a grid with their class names."""
    n = len(images)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.5 * rows))
    for ax in np.ravel(axes):
        ax.axis("off")
    for ax, img, label in zip(np.ravel(axes), images, labels):
        img = np.asarray(img)
        if img.dtype != np.uint8:  # standardised data: rescale per image for display
            img = (img - img.min()) / max(float(img.max() - img.min()), 1e-8)
        ax.imshow(img.squeeze(), cmap="gray" if img.ndim == 2 or img.shape[-1] == 1 else None)
        ax.set_title(class_names[label] if class_names is not None else str(label), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
