"""Loaders: real data shapes and counts, clear errors offline, hostile and corrupt files refused."""
import gzip
import os
import pickle
import struct

import numpy as np
import pytest

from shared import data
from shared.data import DataError


def have_cifar():
    return (data.data_dir() / data.CIFAR10_DIR / "test_batch").is_file()


def have_mnist():
    return (data.data_dir() / data.MNIST_DIR / "t10k-labels-idx1-ubyte.gz").is_file()


@pytest.fixture
def offline(monkeypatch):
    """No network: every download attempt fails like a machine without internet."""
    import urllib.error

    def refuse(url, timeout=None):
        raise urllib.error.URLError("network is unreachable (test)")
    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    monkeypatch.setattr(data.download, "__defaults__", (refuse,))


@pytest.mark.skipif(not have_cifar(), reason="CIFAR-10 not installed in the data directory")
def test_load_cifar10_shapes_and_counts():
    (x_train, y_train), (x_test, y_test) = data.load_cifar10()
    assert x_train.shape == (50000, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 32, 32, 3) and x_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [5000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    # NHWC really is HWC: the channels of natural images are strongly correlated
    r, g = x_train[:500, ..., 0].ravel(), x_train[:500, ..., 1].ravel()
    assert np.corrcoef(r, g)[0, 1] > 0.8


@pytest.mark.skipif(not have_mnist(), reason="MNIST not installed in the data directory")
def test_load_mnist_shapes():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28)
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_digits_classes():
    x, y = data.load_digits(classes=(0, 1))
    assert x.shape == (360, 8, 8) and set(y.tolist()) == {0, 1}
    assert x.max() == 16


@pytest.mark.parametrize("loader,missing", [("load_cifar10", "data_batch_1"),
                                            ("load_mnist", "train-images-idx3-ubyte.gz")])
def test_empty_data_dir_offline_is_one_clear_error(tmp_path, monkeypatch, offline, loader, missing):
    monkeypatch.setenv("BACKPROP_DATA", str(tmp_path))
    with pytest.raises(DataError) as err:
        getattr(data, loader)()
    msg = str(err.value)
    assert missing in msg and "https://" in msg and "BACKPROP_DATA" in msg
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "nothing half-written is left"


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def _write_batch(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=2)


def test_unpickler_refuses_code(tmp_path):
    path = tmp_path / "data_batch_1"
    _write_batch(path, {b"data": _Evil(), b"labels": [0]})
    with pytest.raises(DataError, match="refusing to load"):
        data.safe_unpickle(path)


def test_unpickler_accepts_arrays(tmp_path):
    path = tmp_path / "batch"
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    _write_batch(path, {b"data": arr, b"labels": [1, 2, 3], b"filenames": [b"a.png"]})
    out = data.safe_unpickle(path)
    np.testing.assert_array_equal(out[b"data"], arr)


def _fake_cifar(root, n_per_class=1000):
    rng = np.random.default_rng(0)
    folder = root / data.CIFAR10_DIR
    for name in data.CIFAR10_TRAIN_FILES + (data.CIFAR10_TEST_FILE,):
        labels = np.repeat(np.arange(10), n_per_class).tolist()
        _write_batch(folder / name, {b"data": rng.integers(0, 255, (10000, 3072), dtype=np.uint8),
                                     b"labels": labels})
    return folder


def test_truncated_batch_is_clear_error(tmp_path):
    folder = _fake_cifar(tmp_path)
    target = folder / "data_batch_3"
    target.write_bytes(target.read_bytes()[:5000])
    with pytest.raises(DataError, match="data_batch_3"):
        data.load_cifar10(tmp_path)


def test_wrong_shape_batch_is_clear_error(tmp_path):
    folder = _fake_cifar(tmp_path)
    _write_batch(folder / "test_batch", {b"data": np.zeros((10, 3072), np.uint8), b"labels": [0]})
    with pytest.raises(DataError, match="test_batch.*10000, 3072"):
        data.load_cifar10(tmp_path)


def test_fake_cifar_loads_in_order(tmp_path):
    _fake_cifar(tmp_path)
    (x, y), (xt, yt) = data.load_cifar10(tmp_path)
    assert x.shape == (50000, 32, 32, 3) and xt.shape == (10000, 32, 32, 3)


def _write_idx(path, magic, dims, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(f">{len(dims) + 1}I", magic, *dims) + payload)


def test_truncated_idx_is_clear_error(tmp_path):
    folder = tmp_path / "mnist"
    for name in data.MNIST_FILES:
        _write_idx(folder / name, 2049, [5], bytes(5))
    _write_idx(folder / "train-images-idx3-ubyte.gz", 2051, [60000, 28, 28], bytes(100))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz: 100 data bytes.*truncated"):
        data.load_mnist(tmp_path)


def test_stratified_subset_and_split():
    y = np.repeat(np.arange(3), 20)
    idx = data.stratified_subset(y, 5, seed=1)
    assert np.bincount(y[idx]).tolist() == [5, 5, 5]
    np.testing.assert_array_equal(idx, data.stratified_subset(y, 5, seed=1))
    train, held = data.stratified_split(y, 0.25, seed=0)
    assert np.bincount(y[held]).tolist() == [5, 5, 5]
    assert not set(train) & set(held) and len(train) + len(held) == 60


def test_standardizer_uses_training_statistics():
    rng = np.random.default_rng(0)
    x_train = rng.normal(5, 2, size=(200, 4, 4, 3))
    std = data.Standardizer(x_train)
    z = std(x_train)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    shifted = std(x_train + 10)  # a test set is not re-centred with its own statistics
    assert np.all(shifted.mean(axis=(0, 1, 2)) > 4)


def test_minibatches_cover_everything_once():
    rng = np.random.default_rng(0)
    batches = list(data.minibatches(10, 3, rng))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches).tolist()) == list(range(10))


def test_flip_and_translate_moves_whole_images():
    from shared.data import flip_and_translate
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 5, 2)).astype(np.float32)
    flipped_only = flip_and_translate(x, np.random.default_rng(1), pad=0)
    mirrored = [np.array_equal(a, b[:, ::-1]) for a, b in zip(flipped_only, x)]
    kept = [np.array_equal(a, b) for a, b in zip(flipped_only, x)]
    assert all(m or k for m, k in zip(mirrored, kept)) and 10 < sum(mirrored) < 54
    out = flip_and_translate(x, np.random.default_rng(2), pad=2)
    assert out.shape == x.shape and out.dtype == x.dtype
    for a, b in zip(out, x):  # every output is a window of the reflect-padded (mirrored) image
        windows = [np.pad(img, ((2, 2), (2, 2), (0, 0)), mode="reflect")[t:t + 6, s:s + 5]
                   for img in (b, b[:, ::-1]) for t in range(5) for s in range(5)]
        assert any(np.array_equal(a, w) for w in windows)
    assert not np.array_equal(out, x)
    zeros = flip_and_translate(x, np.random.default_rng(3), pad=2, mode="constant")
    for a, b in zip(zeros, x):  # with zeros for the border instead of its reflection
        windows = [np.pad(img, ((2, 2), (2, 2), (0, 0)))[t:t + 6, s:s + 5]
                   for img in (b, b[:, ::-1]) for t in range(5) for s in range(5)]
        assert any(np.array_equal(a, w) for w in windows)
    assert (zeros == 0).any() and not (out == 0).any()


def test_flip_and_translate_refuses_a_shift_as_large_as_the_image():
    from shared.data import flip_and_translate
    with pytest.raises(ValueError, match="larger than the shift"):
        flip_and_translate(np.zeros((2, 3, 3, 1)), np.random.default_rng(0), pad=3)


def test_provenance_tells_the_official_files_from_other_copies(tmp_path, monkeypatch):
    assert data.cifar10_provenance(tmp_path)["copy"] == "not on disk yet"
    folder = _fake_cifar(tmp_path, n_per_class=1000)
    found = data.cifar10_provenance(tmp_path)
    assert found["copy"] == "unknown" and found["official"] is False
    (folder / data.OFFLINE_STAMP).write_text("{}")
    assert data.cifar10_provenance(tmp_path)["copy"] == "offline JPEG re-encoding"
    # the official MD5s win over any stamp
    monkeypatch.setattr(data, "CIFAR10_BATCH_MD5",
                        {n: data._md5(folder / n) for n in data.CIFAR10_BATCH_MD5})
    assert data.cifar10_provenance(tmp_path)["official"] is True
    data.load_cifar10(tmp_path)
    assert data.provenance()["cifar10"]["copy"] == "official"
    with pytest.raises(ValueError, match="unknown dataset 'svhn'"):
        data.describe("svhn")
