"""Data: MNIST and Fashion-MNIST from their IDX gzip files, and the small bundled sample of test digits.

Where the files come from, in order:
  1. an explicit `data_dir` (train.py's --data-dir),
  2. the environment variable GENLIB_DATA (CI sets it to ../shared/data),
  3. a download from the Hugging Face Hub into ~/.cache/genlib (for users with a network).
Each location holds `<dataset>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz`.

Images are returned as float tensors (N, 1, 28, 28) scaled to [-1, 1]; labels as int64 (N,).
"""
from __future__ import annotations

import gzip
import io
import os
import struct
from pathlib import Path

import numpy as np
import torch

DATASETS = ("mnist", "fashion-mnist")
SPLITS = {"train": "train", "test": "t10k"}
# Hub datasets with the same images as parquet (columns image{bytes}, label), used only for downloads.
HUB_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
SAMPLE_PATH = Path(__file__).resolve().parent / "assets" / "mnist_sample.npz"
CACHE_DIR = Path(os.environ.get("GENLIB_CACHE", Path.home() / ".cache" / "genlib"))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse an IDX file (optionally gzipped): magic 0x0000 08 NDIM (uint8), then NDIM big-endian sizes."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file (magic {raw[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: expected {shape} values, found {data.size}")
    return data.reshape(shape)


def to_model_range(images_uint8: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) in [0, 255] -> float32 (N, 1, 28, 28) in [-1, 1]."""
    x = torch.as_tensor(np.array(images_uint8), dtype=torch.float32)
    return (x / 127.5 - 1.0).unsqueeze(1)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (..., H, W) in [-1, 1] -> uint8 numpy in [0, 255] (values outside are clipped)."""
    return ((x.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).cpu().numpy()


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The first of data_dir, $GENLIB_DATA and the download cache that exists, else None."""
    for candidate in (data_dir, os.environ.get("GENLIB_DATA"), CACHE_DIR / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _idx_paths(root: Path, dataset: str, split: str) -> tuple[Path, Path]:
    prefix = SPLITS[split]
    return (root / dataset / f"{prefix}-images-idx3-ubyte.gz", root / dataset / f"{prefix}-labels-idx1-ubyte.gz")


def load(
    dataset: str = "mnist", split: str = "train", data_dir: str | os.PathLike | None = None, download: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, 28, 28) in [-1, 1], labels (N,)) for `dataset` in DATASETS and split 'train'/'test'."""
    if dataset not in DATASETS or split not in SPLITS:
        raise ValueError(f"dataset must be one of {DATASETS} and split one of {tuple(SPLITS)}")
    root = resolve_data_dir(data_dir)
    if root is None or not _idx_paths(root, dataset, split)[0].exists():
        if data_dir is not None or not download:
            raise FileNotFoundError(
                f"{dataset}/{split} not found under {data_dir or os.environ.get('GENLIB_DATA') or CACHE_DIR / 'data'}; "
                "pass --data-dir (or set GENLIB_DATA) to a folder holding the IDX .gz files"
            )
        root = download_from_hub(dataset)
    images_path, labels_path = _idx_paths(root, dataset, split)
    images, labels = read_idx(images_path), read_idx(labels_path)
    return to_model_range(images), torch.as_tensor(labels.astype(np.int64))


# ---- download (online users) ---------------------------------------------------------------------
def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzipped IDX file (the inverse of read_idx)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def parquet_to_arrays(parquet_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a Hub parquet shard (image: {bytes: PNG}, label: int) into uint8 (N, 28, 28) and (N,)."""
    import pyarrow.parquet as pq  # only needed for downloads
    from PIL import Image

    table = pq.read_table(parquet_path).to_pydict()
    images = np.stack([np.asarray(Image.open(io.BytesIO(img["bytes"])).convert("L")) for img in table["image"]])
    return images.astype(np.uint8), np.asarray(table["label"], dtype=np.uint8)


def download_from_hub(dataset: str, cache_dir: Path | None = None, repo_id: str | None = None) -> Path:
    """Fetch the dataset's parquet shards from the Hub and store them as IDX files; returns the data root."""
    from huggingface_hub import HfApi, hf_hub_download

    root = Path(cache_dir or CACHE_DIR) / "data"
    repo_id = repo_id or HUB_DATASETS[dataset]
    files = [f for f in HfApi().list_repo_files(repo_id, repo_type="dataset") if f.endswith(".parquet")]
    for split, prefix in SPLITS.items():
        shard = next((f for f in files if Path(f).name.startswith(split)), None)
        if shard is None:
            raise FileNotFoundError(f"no {split} parquet shard in {repo_id}")
        images, labels = parquet_to_arrays(hf_hub_download(repo_id, shard, repo_type="dataset"))
        images_path, labels_path = _idx_paths(root, dataset, split)
        write_idx(images_path, images)
        write_idx(labels_path, labels)
    return root


# ---- bundled sample (what the app ships) -----------------------------------------------------------
def load_sample() -> tuple[np.ndarray, np.ndarray]:
    """The bundled test digits: uint8 (N, 28, 28) and labels (N,). MNIST, CC BY-SA 3.0 (see assets/README.md)."""
    with np.load(SAMPLE_PATH) as z:
        return z["images"], z["labels"]


def make_sample(data_dir: str | os.PathLike | None = None, per_class: int = 10, out: Path = SAMPLE_PATH) -> Path:
    """Write the bundled sample: the first `per_class` test digits of each class (deterministic)."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise FileNotFoundError("need the MNIST IDX files (--data-dir or GENLIB_DATA)")
    images, labels = (read_idx(p) for p in _idx_paths(root, "mnist", "test"))
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    keep.sort()
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images[keep], labels=labels[keep], test_index=keep)
    return out
