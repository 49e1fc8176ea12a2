"""Data files: fuzzed files and simulated download failures.

Every bad data file must end in a DataError naming the file: never an obscure exception from
deep inside numpy/pickle/gzip, never code execution, never a half-written file.
"""
import errno
import gzip
import hashlib
import http.server
import io
import os
import pickle
import struct
import threading

import numpy as np
import pytest

from shared import data
from shared.data import DataError

N_FUZZ = 24  # seeds per kind of damage below; each kind covers its edge cases at every seed


# ----------------------------------------------------------------------------- fuzzed files
def _idx_bytes(rng, kind):
    """Mutations of a valid MNIST label file (5 labels, then claimed as 60000 by the loader)."""
    good = struct.pack(">2I", 2049, 10000) + bytes(rng.integers(0, 10, 10000, dtype=np.uint8))
    if kind == "truncated":
        return good[:rng.integers(0, len(good) - 1)]
    if kind == "empty":
        return b""
    if kind == "wrong_magic":
        return struct.pack(">I", int(rng.integers(0, 2**32))) + good[4:]
    if kind == "wrong_size":
        return good + bytes(int(rng.integers(1, 100)))
    if kind == "random":
        return bytes(rng.integers(0, 256, int(rng.integers(0, 2000)), dtype=np.uint8))
    raise ValueError(kind)


@pytest.mark.parametrize("seed", range(N_FUZZ))
@pytest.mark.parametrize("kind", ["truncated", "empty", "wrong_magic", "wrong_size", "random"])
@pytest.mark.parametrize("compress", [True, False])
def test_fuzz_idx(tmp_path, seed, kind, compress):
    rng = np.random.default_rng(seed)
    payload = _idx_bytes(rng, kind)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        data._read_idx(path, 2049, 10000, ())


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo boom > /dev/null",))


def _batch_payload(rng, kind):
    good = {b"data": np.zeros((10000, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, 10000).tolist()}
    if kind == "wrong_keys":
        return pickle.dumps({b"pixels": good[b"data"], "labels": good[b"labels"]}, protocol=2)
    if kind == "wrong_dtype":
        dtype = rng.choice([np.float32, np.int64, np.uint16])
        return pickle.dumps({**good, b"data": np.zeros((100, 3072), dtype)}, protocol=2)
    if kind == "wrong_shape":
        return pickle.dumps({**good, b"data": good[b"data"][: int(rng.integers(0, 9999))]},
                            protocol=2)
    if kind == "bad_labels":
        bad = rng.choice(["str", "range", "short"])
        labels = {"str": ["cat"] * 10000, "range": [11] * 10000, "short": [1, 2]}[bad]
        return pickle.dumps({**good, b"labels": labels}, protocol=2)
    if kind == "not_a_dict":
        return pickle.dumps([good[b"data"], good[b"labels"]], protocol=2)
    if kind == "extra_objects":
        return pickle.dumps({**good, b"evil": _Boom()}, protocol=2)
    if kind == "code":
        return pickle.dumps(_Boom(), protocol=int(rng.integers(2, 5)))
    if kind == "truncated":
        raw = pickle.dumps(good, protocol=2)
        return raw[: int(rng.integers(0, len(raw) - 1))]
    if kind == "random":
        return bytes(rng.integers(0, 256, int(rng.integers(0, 5000)), dtype=np.uint8))
    raise ValueError(kind)


BATCH_KINDS = ["wrong_keys", "wrong_dtype", "wrong_shape", "bad_labels", "not_a_dict",
               "extra_objects", "code", "truncated", "random"]


@pytest.mark.parametrize("seed", range(N_FUZZ // 6))
@pytest.mark.parametrize("kind", BATCH_KINDS)
def test_fuzz_cifar_batch(tmp_path, monkeypatch, seed, kind):
    path = tmp_path / "data_batch_4"
    path.write_bytes(_batch_payload(np.random.default_rng(seed), kind))
    executed = []
    monkeypatch.setattr(os, "system", lambda *a: executed.append(a) or 0)
    with pytest.raises(DataError, match="data_batch_4"):
        data._read_cifar_batch(path)
    assert not executed, "a pickle ran code"


# ----------------------------------------------------------------------------- downloads
class _Server:
    """A throw-away HTTP server on 127.0.0.1 serving given bytes, optionally cutting them off."""

    def __init__(self, payload: bytes, cut_after: int | None = None):
        server_self = self
        self.payload, self.cut_after, self.hits = payload, cut_after, 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server_self.hits += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(server_self.payload)))
                self.end_headers()
                body = server_self.payload
                if server_self.cut_after is not None:
                    body = body[:server_self.cut_after]  # connection closes mid-file
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/file.gz"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def payload():
    return os.urandom(300_000)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_download_checksum_mismatch_leaves_nothing(tmp_path, payload):
    server = _Server(payload)
    try:
        with pytest.raises(DataError, match="checksum mismatch"):
            data.download(server.url, tmp_path / "file.gz", "0" * 32)
        assert _leftovers(tmp_path) == []
    finally:
        server.close()


def test_download_cut_mid_file_then_retry(tmp_path, payload):
    md5 = hashlib.md5(payload).hexdigest()
    server = _Server(payload, cut_after=100_000)
    try:
        with pytest.raises(DataError):
            data.download(server.url, tmp_path / "file.gz", md5)
        assert _leftovers(tmp_path) == []
        server.cut_after = None  # the next call simply retries
        data.download(server.url, tmp_path / "file.gz", md5)
        assert (tmp_path / "file.gz").read_bytes() == payload and server.hits == 2
    finally:
        server.close()


def test_download_disk_full_leaves_nothing(tmp_path, payload, monkeypatch):
    md5 = hashlib.md5(payload).hexdigest()
    server = _Server(payload)
    real_fdopen = os.fdopen

    class FullDisk(io.RawIOBase):
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, b):
            self.written += len(b)
            if self.written > 50_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(b)

        def close(self):
            self.f.close()

    monkeypatch.setattr(data.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    try:
        with pytest.raises(DataError, match="No space left"):
            data.download(server.url, tmp_path / "file.gz", md5)
        assert _leftovers(tmp_path) == []
        monkeypatch.setattr(data.os, "fdopen", real_fdopen)
        data.download(server.url, tmp_path / "file.gz", md5)
        assert (tmp_path / "file.gz").read_bytes() == payload
    finally:
        server.close()


def test_mnist_download_through_local_mirror(tmp_path, monkeypatch):
    """The loader fetches every missing file from its mirror and verifies it (here: a local one)."""
    rng = np.random.default_rng(0)
    files = {}
    for name in data.MNIST_FILES:
        n, dims, magic = (60000 if name.startswith("train") else 10000), (), 2049
        if "images" in name:
            dims, magic = (28, 28), 2051
        body = struct.pack(f">{2 + len(dims)}I", magic, n, *dims) + \
            bytes(rng.integers(0, 10, n * int(np.prod(dims, dtype=int)), dtype=np.uint8))
        files[name] = gzip.compress(body)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files[self.path.rsplit("/", 1)[1]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setattr(data, "MNIST_MIRROR", f"http://127.0.0.1:{httpd.server_address[1]}/")
        monkeypatch.setattr(data, "MNIST_FILES",
                            {k: hashlib.md5(v).hexdigest() for k, v in files.items()})
        (x, y), (xt, yt) = data.load_mnist(tmp_path)
        assert x.shape == (60000, 28, 28) and xt.shape == (10000, 28, 28)
    finally:
        httpd.shutdown()
        httpd.server_close()
