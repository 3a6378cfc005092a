"""Data loading, the offline download path, the bundled sample and user-image preprocessing."""
from __future__ import annotations

import gzip
import io
import os

import numpy as np
import pytest
import torch

from genlib import data
from tests.conftest import idx_fixture

HAVE_MNIST = bool(os.environ.get("GENLIB_DATA")) and os.path.isdir(os.path.join(os.environ.get("GENLIB_DATA", ""), "mnist"))


def test_idx_round_trip_and_bad_magic(tmp_path):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    data.write_idx(tmp_path / "a.gz", a)
    assert np.array_equal(data.read_idx(tmp_path / "a.gz"), a)
    with gzip.open(tmp_path / "bad.gz", "wb") as f:
        f.write(b"\x00\x00\x0d\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="uint8 IDX"):
        data.read_idx(tmp_path / "bad.gz")


def test_load_scales_to_minus_one_one(tmp_path):
    root = idx_fixture(tmp_path, n=10)
    x, y = data.load("mnist", "train", data_dir=root)
    raw = data.read_idx(root / "mnist" / "train-images-idx3-ubyte.gz")
    assert x.shape == (10, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert torch.allclose(x[:, 0], torch.tensor(raw, dtype=torch.float32) / 127.5 - 1)
    assert np.array_equal(data.to_uint8(x[:, 0]), raw)


def test_missing_data_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="--data-dir"):
        data.load("mnist", "train", data_dir=tmp_path)
    with pytest.raises(ValueError):
        data.load("cifar", "train", data_dir=tmp_path)


@pytest.mark.skipif(not HAVE_MNIST, reason="needs GENLIB_DATA with the MNIST IDX files")
def test_real_mnist_shapes():
    x, y = data.load("mnist", "test")
    assert x.shape == (10_000, 1, 28, 28) and y.shape == (10_000,)
    assert x.min() == -1 and x.max() == 1 and set(y.unique().tolist()) == set(range(10))


def _parquet_shard(path, images, labels):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    def png(a):
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, format="PNG")
        return {"bytes": buf.getvalue(), "path": None}

    pq.write_table(pa.table({"image": [png(a) for a in images], "label": labels.tolist()}), path)


def test_download_from_hub_with_a_local_fixture(tmp_path, monkeypatch):
    """The real download code, with the Hub calls answered from local parquet files (no network)."""
    pytest.importorskip("pyarrow")
    import huggingface_hub

    rng = np.random.default_rng(0)
    shards = {}
    for split, n in (("train", 7), ("test", 5)):
        images, labels = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)
        path = tmp_path / f"{split}-00000-of-00001.parquet"
        _parquet_shard(path, images, labels)
        shards[f"mnist/{path.name}"] = (path, images, labels)
    calls = []
    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_files", lambda self, repo_id, repo_type=None: list(shards) + ["README.md"])

    def fake_download(repo_id, filename, repo_type=None, **kw):
        calls.append((repo_id, filename, repo_type))
        return str(shards[filename][0])

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    root = data.download_from_hub("mnist", cache_dir=tmp_path / "cache")
    assert {c[0] for c in calls} == {"ylecun/mnist"} and {c[2] for c in calls} == {"dataset"}
    x, y = data.load("mnist", "train", data_dir=root)
    _, images, labels = shards["mnist/train-00000-of-00001.parquet"]
    assert np.array_equal(data.to_uint8(x[:, 0]), images) and np.array_equal(y.numpy(), labels)
    assert data.load("mnist", "test", data_dir=root)[0].shape == (5, 1, 28, 28)


def test_bundled_sample():
    images, labels = data.load_sample()
    assert images.shape == (100, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [10] * 10
    assert data.SAMPLE_PATH.stat().st_size <= 1_000_000
    assert "CC BY-SA 3.0" in (data.SAMPLE_PATH.parent / "README.md").read_text()


@pytest.mark.skipif(not HAVE_MNIST, reason="needs GENLIB_DATA with the MNIST IDX files")
def test_bundled_sample_is_the_stated_test_digits():
    with np.load(data.SAMPLE_PATH) as z:
        idx, images = z["test_index"], z["images"]
    raw = data.read_idx(os.path.join(os.environ["GENLIB_DATA"], "mnist", "t10k-images-idx3-ubyte.gz"))
    assert np.array_equal(raw[idx], images)
