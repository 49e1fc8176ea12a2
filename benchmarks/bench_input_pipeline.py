"""Input pipeline: imgaug augmentation and batch preparation vs what the model consumes.

Notebook 03 augments every batch with the article's imgaug pipeline (``article_augmenter``) and
builds each epoch's batches on a background thread (``EpochBatches``) while the previous epoch
trains. This measures augmentation throughput (images/s on one core) beside the All-CNN-C
training throughput (measured here with Keras, batch 50), and the time the
training loop actually waited for data in an end-to-end run of EpochBatches with a stand-in
model step of the measured speed.

    python benchmarks/bench_input_pipeline.py [--tiny]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from shared import nbload  # noqa: E402



def model_images_per_s(tf, batch: int, steps: int, size: int) -> float:
    """All-CNN-C training throughput (Keras train_on_batch, median of ``steps``)."""
    from keras_models import all_cnn_c
    model = all_cnn_c(tf.keras, size=size)
    model.compile(tf.keras.optimizers.Adam(3e-4),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = np.random.default_rng(0).normal(size=(batch, size, size, 3)).astype(np.float32)
    y = np.arange(batch) % 10
    return batch / common.median(common.time_calls(lambda: model.train_on_batch(x, y), steps))


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--tiny", action="store_true")
    a = p.parse_args(argv)
    nb = nbload.load("03_all_cnn.ipynb")
    consumed = model_images_per_s(nb["tf"], 50, 2 if a.tiny else 10, 16 if a.tiny else 32)
    rng = np.random.default_rng(0)
    n_images = 100 if a.tiny else 2000
    images = rng.integers(0, 256, (n_images, 32, 32, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(10), n_images // 10)
    augmenter = nb["article_augmenter"]()
    augmenter.seed_(0)
    chunk = 25
    per_call = common.alternate(
        {"augment": lambda: augmenter.augment_images(images[:chunk])}, 3 if a.tiny else 40,
        1 if a.tiny else 3)["augment"]
    aug_rate = chunk / common.median(per_call)

    # end to end: batches built on the background thread while a stand-in step "trains"
    epochs = 2 if a.tiny else 3
    batches = nb["EpochBatches"](images, labels, nb["article_augmenter"](), chunk, 0, epochs)
    step_seconds = 2 * chunk / (consumed)
    waited, trained = [], 0.0
    for e in range(epochs):
        x, y, w = batches.epoch(e)
        waited.append(w)
        start = time.perf_counter()
        for _ in range(len(x)):
            time.sleep(step_seconds)
        trained += time.perf_counter() - start
    rows = [["imgaug augmentation, 1 thread (article pipeline, chunks of 25)", f"{aug_rate:.0f}"],
            ["All-CNN-C training consumes (Keras train_on_batch, batch 50)", f"{consumed:.0f}"],
            ["ratio: augmentation / consumption", f"{aug_rate / consumed:.1f}x"]]
    body = (common.table(["stage", "images/s"], rows)
            + f"\n\nEnd to end ({epochs} epochs of {n_images} images with EpochBatches, stand-in "
              f"step at the model's speed): waited for data {waited[0]:.2f} s before epoch 1 (the "
              f"first epoch is built before training starts), then "
              f"{sum(waited[1:]):.3f} s in total while training ran {trained:.1f} s: the next "
              "epoch is always ready before the current one ends.")
    common.write_section("input_pipeline", "Input pipeline", body, a.tiny)


if __name__ == "__main__":
    main()
