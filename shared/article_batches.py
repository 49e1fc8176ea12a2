"""The article's training batches (notebook 04): every case sees the same batches, in order.

The article walked through the training set in chunks of 25 images, augmented each chunk with
imgaug (``article_augmenter``) and stacked the 25 copies under the 25 originals: a batch of 50,
labels repeated, shuffled inside the batch. ``EpochBatches`` builds epoch ``e`` as a pure function
of ``(seed, e)`` (the order, imgaug's random state and the in-batch shuffle are all seeded by the
epoch), so a later case, or a resumed run, gets identical batches. It builds the next epoch on a
background thread while the current one trains and keeps finished epochs (uint8) when they fit.

Used in: 04.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from shared.imgaug_compat import iaa


def article_augmenter():
    """imgaug pipeline of the article: always mirror, plus three affine changes, each at 1 in 10."""
    return iaa.Sequential([
        iaa.Sometimes(0.1, iaa.Affine(translate_percent={"x": (-0.2, 0.2), "y": (-0.2, 0.2)})),
        iaa.Sometimes(0.1, iaa.Affine(rotate=(-25, 25))),
        iaa.Sometimes(0.1, iaa.Affine(scale={"x": (0.8, 1.2), "y": (0.8, 1.2)})),
        iaa.Fliplr(1.0),
    ], random_order=True)


class EpochBatches:
    """The training batches of every epoch, identical for every case that asks for them.

    ``with_originals=True`` (the article): each batch is ``chunk`` originals plus their ``chunk``
    augmented copies, shuffled together, so a batch has 2 * chunk images. ``False``: each batch is
    ``chunk`` augmented images (the paper's recipe).
    ``epoch(e)`` returns ``(x, y)``: uint8 images (steps, batch, H, W, C) and labels
    (steps, batch); it also starts building ``e + 1``.
    """

    def __init__(self, images, labels, augmenter, chunk, seed, epochs, with_originals=True,
                 cache_limit_bytes=2 * 1024**3):
        if len(images) % chunk:
            raise ValueError(f"{len(images)} images do not split into chunks of {chunk}")
        self.images, self.labels, self.augmenter = images, labels, augmenter
        self.chunk, self.seed, self.epochs = chunk, seed, epochs
        self.with_originals = with_originals
        per_epoch = images.nbytes * (2 if with_originals else 1)
        self.keep_all = per_epoch * epochs <= cache_limit_bytes
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._futures, self._lock = {}, threading.Lock()

    def _build(self, epoch):
        order_rng = np.random.default_rng([self.seed, epoch])
        order = order_rng.permutation(len(self.images))
        augmenter = self.augmenter.deepcopy()
        augmenter.seed_(self.seed * 1000 + epoch)
        originals = self.images[order]
        copies = augmenter.augment_images(originals)
        steps = len(order) // self.chunk
        shape = (steps, self.chunk) + originals.shape[1:]
        x, y = copies.reshape(shape), self.labels[order].reshape(steps, self.chunk)
        if self.with_originals:
            x = np.concatenate([originals.reshape(shape), x], axis=1)
            y = np.concatenate([y, y], axis=1)
            within = np.argsort(order_rng.random(y.shape), axis=1)  # shuffle inside each batch
            x = np.take_along_axis(x, within[:, :, None, None, None], axis=1)
            y = np.take_along_axis(y, within, axis=1)
        return x, y

    def _submit(self, epoch):
        with self._lock:
            if epoch < self.epochs and epoch not in self._futures:
                self._futures[epoch] = self._pool.submit(self._build, epoch)
            return self._futures.get(epoch)

    def epoch(self, e):
        x, y = self._submit(e).result()
        with self._lock:
            if not self.keep_all:
                self._futures.pop(e, None)  # rebuilt (identically) by the next case
        self._submit(e + 1)
        return x, y
