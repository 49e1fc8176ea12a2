"""Dataset loaders (NHWC arrays, integer labels) and small data helpers.

The data directory is ``$BACKPROP_DATA``, else ``data/`` in ``runtime.home()`` (the repository
in a checkout, else the working folder). Loaders read the official on-disk layouts::

    $BACKPROP_DATA/cifar-10-batches-py/  data_batch_1..5, test_batch   (python pickles)
    $BACKPROP_DATA/mnist/                train-/t10k- images/labels idx .gz files

Missing files are downloaded (CIFAR-10 from its official URL, MNIST's official files from a
mirror, since yann.lecun.com refuses downloads), checked against their MD5 and moved into place
atomically. Files already present are validated by structure (keys, dtypes, shapes, class
counts) rather than by hash. Every problem is a ``DataError`` naming the file and saying what to
do.

Used in: 01, 02, 03, 04, 05.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from shared import runtime

DATA_ENV = "BACKPROP_DATA"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/" + CIFAR10_ARCHIVE
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch"
# MD5 of the official batch files, as unpacked from the official archive (torchvision checks the
# same values): what tells the official pixels from any other copy in the same layout
CIFAR10_BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
# written beside the batches by an offline installer that rebuilds them from JPEG files
OFFLINE_STAMP = ".offline-pack.json"

MNIST_DIR = "mnist"
MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
# MD5 of the official .gz downloads.
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
# MD5 of their decompressed content: a copy gzipped again has other .gz bytes, the same images
MNIST_CONTENT_MD5 = {
    "train-images-idx3-ubyte.gz": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte.gz": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte.gz": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte.gz": "27ae3e4e09519cfbb04c329615203637",
}


class DataError(RuntimeError):
    """Data that is missing, unreadable or not what it claims to be."""


def data_dir() -> Path:
    return Path(os.environ.get(DATA_ENV) or runtime.home() / "data").expanduser()


# ----------------------------------------------------------------------------- downloads
def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, md5: str, opener=urllib.request.urlopen) -> Path:
    """Download ``url`` to ``dest``, verify its MD5, then rename into place.

    The bytes go to a temporary file beside ``dest``; only a complete file with the right
    checksum is renamed to ``dest``, so an interrupted or corrupt download leaves nothing that
    looks finished and the next call simply retries.
    """
    from tqdm import tqdm
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, opener(url, timeout=30) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name,
                      mininterval=2) as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        got = _md5(tmp)
        if got != md5:
            raise DataError(f"{url}: checksum mismatch (md5 {got}, expected {md5}); "
                            "the download was discarded, try again.")
        os.replace(tmp, dest)
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        raise DataError(_download_failed(dest, url, err)) from err
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _download_failed(missing: Path, url: str, err: Exception) -> str:
    return (f"missing dataset file {missing} and the download from {url} failed ({err}). "
            f"Fix: download {url} by hand into {missing.parent}, or set ${DATA_ENV} to a "
            f"directory that holds it as {missing.parent.name}/{missing.name}.")


# ----------------------------------------------------------------------------- CIFAR-10
class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles plain containers, bytes, str, numbers and numpy arrays; refuses anything else.

    A CIFAR batch is a dict of a uint8 array, lists of ints and bytes. Pickles can call any
    importable function while loading, so a file dropped into the data directory could run code;
    this unpickler only resolves numpy's array reconstruction and dtype.
    """
    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) == ("_codecs", "encode"):
            # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(str, "latin1")
            return _latin1_encode
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        if module.startswith("numpy.core"):  # numpy 2 renamed numpy.core -> numpy._core
            module = "numpy._core" + module[len("numpy.core"):]
        return super().find_class(module, name)


def _latin1_encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing to load _codecs.encode with {encoding!r}")
    return text.encode("latin1")


def safe_unpickle(path: Path) -> object:
    try:
        with open(path, "rb") as f:
            return _ArrayOnlyUnpickler(f, encoding="bytes").load()
    except Exception as err:  # any failure to read an untrusted file means "not a batch"
        raise DataError(f"{path}: not a readable CIFAR-10 batch ({type(err).__name__}: {err}); "
                        f"delete it and load again to unpack it from {CIFAR10_ARCHIVE} in the "
                        f"data directory or, without that archive, to download {CIFAR10_URL}."
                        ) from err


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    batch = safe_unpickle(path)
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DataError(f"{path}: expected a dict with b'data' and b'labels'")
    data, labels = batch[b"data"], batch[b"labels"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.shape != (10000, 3072):
        shape = getattr(data, "shape", None)
        dtype = getattr(data, "dtype", type(data).__name__)
        raise DataError(f"{path}: b'data' should be uint8 (10000, 3072), got {dtype} {shape}")
    try:
        labels = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError) as err:
        raise DataError(f"{path}: b'labels' is not a list of integers") from err
    if labels.shape != (10000,) or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"{path}: b'labels' should be 10000 integers in 0..9")
    # rows are 1024 red, 1024 green, 1024 blue values: CHW -> HWC
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


def _ensure_cifar10(root: Path) -> Path:
    folder = root / CIFAR10_DIR
    needed = [folder / n for n in CIFAR10_TRAIN_FILES + (CIFAR10_TEST_FILE,)]
    if all(p.is_file() for p in needed):
        return folder
    archive = root / CIFAR10_ARCHIVE
    if not archive.is_file():
        missing = next(p for p in needed if not p.is_file())
        try:
            download(CIFAR10_URL, archive, CIFAR10_MD5)
        except DataError as err:
            raise DataError(
                f"missing CIFAR-10 file {missing} and the download from {CIFAR10_URL} failed "
                f"({err.__cause__ or err}). Fix: put {CIFAR10_ARCHIVE} from that URL in {root} "
                f"(or its unpacked {CIFAR10_DIR}/ folder: data_batch_1..5 and test_batch), "
                f"or set ${DATA_ENV} to a directory that holds either.") from err
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(Path(tmp) / CIFAR10_DIR, folder)
    return folder


_provenance: dict = {}   # dataset -> what load_* found on disk in this process
_cifar_checked: dict = {}  # (folder, sizes and mtimes) -> cifar10_provenance's answer


def cifar10_provenance(root: Path | str | None = None) -> dict:
    """Which CIFAR-10 is on disk: ``{"dataset", "copy", "official", "note"}``.

    ``official`` is True only when all six batch files have the official MD5s. The offline
    installer's copy (a JPEG re-encoding, recognised by its stamp file) and any other files
    are named as such, with what that means for the numbers computed on them.
    """
    folder = (Path(root) if root is not None else data_dir()) / CIFAR10_DIR
    paths = [folder / name for name in CIFAR10_BATCH_MD5]
    if not all(p.is_file() for p in paths):
        return {"dataset": "CIFAR-10", "copy": "not on disk yet", "official": None,
                "note": "load_cifar10 downloads the official archive and checks its MD5"}
    key = (str(folder.resolve()), (folder / OFFLINE_STAMP).is_file(),
           tuple(CIFAR10_BATCH_MD5.values()),
           tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in paths))
    if key not in _cifar_checked:
        if all(_md5(p) == md5 for p, md5 in zip(paths, CIFAR10_BATCH_MD5.values())):
            found = {"copy": "official", "official": True,
                     "note": "the official batch files (MD5-checked)"}
        elif (folder / OFFLINE_STAMP).is_file():
            found = {"copy": "offline JPEG re-encoding", "official": False,
                     "note": "a lossy JPEG re-encoding of CIFAR-10 (about 6 grey levels of "
                             "error per value) with another split into batches; accuracies "
                             "on the official files will differ"}
        else:
            found = {"copy": "unknown", "official": False,
                     "note": "batch files that are not the official ones (their MD5s differ); "
                             "accuracies on the official files may differ"}
        _cifar_checked[key] = {"dataset": "CIFAR-10", **found}
    return dict(_cifar_checked[key])


def mnist_provenance(root: Path | str | None = None) -> dict:
    """Which MNIST is on disk: the official content (MD5 of the decompressed files) or not."""
    folder = (Path(root) if root is not None else data_dir()) / MNIST_DIR
    paths = [folder / name for name in MNIST_FILES]
    if not all(p.is_file() for p in paths):
        return {"dataset": "MNIST", "copy": "not on disk yet", "official": None,
                "note": "load_mnist downloads the official files and checks their MD5"}
    same = []
    for path, name in zip(paths, MNIST_FILES):
        if _md5(path) == MNIST_FILES[name]:
            same.append(True)
            continue
        try:
            with gzip.open(path, "rb") as f:
                same.append(hashlib.md5(f.read()).hexdigest() == MNIST_CONTENT_MD5[name])
        except Exception:  # unreadable: load_mnist says why
            same.append(False)
    if all(same):
        return {"dataset": "MNIST", "copy": "official", "official": True,
                "note": "the official images and labels (MD5 of the content checked)"}
    return {"dataset": "MNIST", "copy": "unknown", "official": False,
            "note": "files whose content is not the official MNIST; results may differ"}


DIGITS_PROVENANCE = {"dataset": "digits", "copy": "scikit-learn", "official": True,
                     "note": "the 8x8 digits that ship with scikit-learn"}


def describe(name: str, root: Path | str | None = None) -> dict:
    """Provenance of ``cifar10``, ``mnist`` or ``digits`` as found on disk now."""
    finders = {"cifar10": cifar10_provenance, "mnist": mnist_provenance,
               "digits": lambda root=None: dict(DIGITS_PROVENANCE)}
    if name not in finders:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(finders)}")
    return finders[name](root)


def provenance() -> dict:
    """The datasets this process loaded, each with where its copy came from (for results files)."""
    return {name: dict(found) for name, found in _provenance.items()}


def load_cifar10(root: Path | str | None = None):
    """CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``.

    x_train: (50000, 32, 32, 3) uint8, y_train: (50000,) int64; test: 10000 images.
    Batch files are read by name, in order: the articles walked the directory in filesystem
    order, which can swap a training batch with the test batch.
    """
    root = Path(root) if root is not None else data_dir()
    folder = _ensure_cifar10(root)
    parts = [_read_cifar_batch(folder / name) for name in CIFAR10_TRAIN_FILES]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _read_cifar_batch(folder / CIFAR10_TEST_FILE)
    for name, y, per_class in (("training set", y_train, 5000), ("test set", y_test, 1000)):
        counts = np.bincount(y, minlength=10)
        if not np.all(counts == per_class):
            raise DataError(f"{folder}: CIFAR-10 {name} should have {per_class} images per "
                            f"class, found {counts.tolist()}")
    _provenance["cifar10"] = cifar10_provenance(root)
    return (x_train, y_train), (x_test, y_test)


# ----------------------------------------------------------------------------- MNIST
def _read_idx(path: Path, magic: int, count: int, item_shape: tuple) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except Exception as err:  # gzip.BadGzipFile, zlib.error, EOFError, ...
        raise DataError(f"{path}: not a readable gzip file ({type(err).__name__}: {err}); "
                        "delete it to re-download.") from err
    header = 4 * (1 + 1 + len(item_shape))
    if len(raw) < header:
        raise DataError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    fields = struct.unpack(f">{1 + 1 + len(item_shape)}I", raw[:header])
    if fields[0] != magic:
        raise DataError(f"{path}: IDX magic number {fields[0]}, expected {magic}")
    if fields[1] != count or tuple(fields[2:]) != item_shape:
        raise DataError(f"{path}: IDX shape {fields[1:]}, expected {(count, *item_shape)}")
    expected = count * int(np.prod(item_shape, dtype=np.int64))
    if len(raw) - header != expected:
        raise DataError(f"{path}: {len(raw) - header} data bytes, expected {expected} "
                        "(truncated or padded file)")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(count, *item_shape).copy()


def _ensure_mnist(root: Path) -> Path:
    folder = root / MNIST_DIR
    for name, md5 in MNIST_FILES.items():
        if not (folder / name).is_file():
            download(MNIST_MIRROR + name, folder / name, md5)
    return folder


def load_mnist(root: Path | str | None = None):
    """MNIST as ``(x_train, y_train), (x_test, y_test)``: (60000, 28, 28) / (10000, 28, 28) uint8."""
    root = Path(root) if root is not None else data_dir()
    folder = _ensure_mnist(root)
    x_train = _read_idx(folder / "train-images-idx3-ubyte.gz", 2051, 60000, (28, 28))
    y_train = _read_idx(folder / "train-labels-idx1-ubyte.gz", 2049, 60000, ())
    x_test = _read_idx(folder / "t10k-images-idx3-ubyte.gz", 2051, 10000, (28, 28))
    y_test = _read_idx(folder / "t10k-labels-idx1-ubyte.gz", 2049, 10000, ())
    for name, y in (("train-labels", y_train), ("t10k-labels", y_test)):
        if y.max() > 9:
            raise DataError(f"{folder / name}: labels outside 0..9")
    _provenance["mnist"] = mnist_provenance(root)
    return (x_train, y_train.astype(np.int64)), (x_test, y_test.astype(np.int64))


# ----------------------------------------------------------------------------- digits
def load_digits(classes=None):
    """scikit-learn's 8x8 digits (ships with scikit-learn, no download).

    Returns ``x`` (N, 8, 8) float64 with raw values 0..16 and ``y`` (N,) int64; ``classes``
    keeps only those labels (e.g. ``(0, 1)``), labels left unchanged.
    """
    from sklearn.datasets import load_digits as sk_load_digits
    digits = sk_load_digits()
    _provenance["digits"] = dict(DIGITS_PROVENANCE)
    x, y = digits.images.astype(np.float64), digits.target.astype(np.int64)
    if classes is not None:
        keep = np.isin(y, list(classes))
        x, y = x[keep], y[keep]
    return x, y


# ----------------------------------------------------------------------------- helpers
def stratified_subset(y: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of ``per_class`` examples of every class, chosen with ``seed``, in shuffled order."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has {len(idx)} examples, fewer than {per_class}")
        picks.append(rng.choice(idx, per_class, replace=False))
    out = np.concatenate(picks)
    rng.shuffle(out)
    return out


def stratified_split(y: np.ndarray, test_fraction: float, seed: int):
    """Split indices into (train, held_out) with the same class proportions in both."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_held = int(round(test_fraction * len(idx)))
        held.append(idx[:n_held])
        train.append(idx[n_held:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(held))


class Standardizer:
    """Per-channel standardisation with statistics from the *training* set only.

    The articles normalised the test set with its own statistics (or not at all); here the
    training mean/std are applied unchanged to any later data, as at deployment.
    """

    def __init__(self, x_train: np.ndarray):
        axes = tuple(range(x_train.ndim - 1))  # every axis but the channel axis
        x = x_train.astype(np.float64)
        self.mean = x.mean(axis=axes).astype(np.float32)
        self.std = x.std(axis=axes).astype(np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x.astype(np.float32) - self.mean) / self.std).astype(np.float32)


def minibatches(n: int, batch_size: int, rng: np.random.Generator | None = None):
    """Yield index arrays covering ``range(n)`` in batches; shuffled when ``rng`` is given."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def flip_and_translate(x: np.ndarray, rng: np.random.Generator, pad: int = 2,
                       mode: str = "reflect") -> np.ndarray:
    """Random training augmentation of a batch of NHWC images: each image is mirrored left-right
    with probability 1/2 and shifted by up to ``pad`` pixels each way, the uncovered border filled
    by ``np.pad``'s ``mode`` ("reflect": the image reflected in; "constant": zeros)."""
    if x.ndim != 4 or pad < 0 or pad >= min(x.shape[1:3]):
        raise ValueError(f"need NHWC images larger than the shift {pad}, got {x.shape}")
    n, h, w = x.shape[:3]
    flip = rng.random(n) < 0.5
    out = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
    if pad:
        padded = np.pad(out, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode=mode)
        # every h x w window of every padded image, as a view: picking one per image copies once
        windows = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(1, 2))
        top, left = rng.integers(0, 2 * pad + 1, size=(2, n))
        out = np.ascontiguousarray(windows[np.arange(n), top, left].transpose(0, 2, 3, 1))
    return out
