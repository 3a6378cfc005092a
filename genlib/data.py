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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from genlib import numerals
from genlib.numerals import number_to_words  # noqa: F401  (re-exported: the English phrase of a number)

DATASETS = ("mnist", "fashion-mnist")
SPLITS = {"train": "train", "test": "t10k"}
# Hub datasets with the same images as parquet (columns image{bytes}, label), used only for downloads.
HUB_DATASETS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
SAMPLE_PATH = Path(__file__).resolve().parent / "assets" / "mnist_sample.npz"
FASHION_SAMPLE_PATH = SAMPLE_PATH.with_name("fashion_sample.npz")  # the CNN tab's Fashion-MNIST items
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


class DataUnavailable(FileNotFoundError):
    """A data set that is neither on disk nor downloadable now; str(err) says what to do, in one line."""


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
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataUnavailable(f"--data-dir {data_dir} is not a folder; pass one that holds {dataset}/*-ubyte.gz "
                              "(e.g. ../shared/data)")
    root = resolve_data_dir(data_dir)
    if root is None or not _idx_paths(root, dataset, split)[0].exists():
        where = data_dir or os.environ.get("GENLIB_DATA") or CACHE_DIR / "data"
        if data_dir is not None or not download:
            raise DataUnavailable(f"{dataset}/{split} not found under {where}: pass --data-dir (or set GENLIB_DATA) to "
                                  f"a folder holding {dataset}/{_idx_paths(Path('.'), dataset, split)[0].name} and the rest")
        root = _download(dataset, where)
    images_path, labels_path = _idx_paths(root, dataset, split)
    images, labels = read_idx(images_path), read_idx(labels_path)
    return to_model_range(images), torch.as_tensor(labels.astype(np.int64))


# ---- download (online users) ---------------------------------------------------------------------
def _download(dataset: str, where) -> Path:
    """download_from_hub, with every way it can fail turned into one DataUnavailable line."""
    hint = f"or pass --data-dir (or set GENLIB_DATA) to a folder holding {dataset}/*-ubyte.gz"
    from genlib.hub import hub_reachable

    if not hub_reachable():  # HF_HUB_OFFLINE, or no answer to a quick TCP probe: fail now, not after retries
        raise DataUnavailable(f"{dataset} is not under {where} and the Hub cannot be reached (offline), so it cannot "
                              f"be downloaded; {hint}")
    try:
        return download_from_hub(dataset)
    except ImportError as err:
        raise DataUnavailable(f"downloading {dataset} reads the Hub's parquet files, which needs {err.name}: "
                              f"`pip install pyarrow`, {hint}") from None
    except Exception as err:  # no network (httpx ConnectError), Hub errors, a broken shard
        raise DataUnavailable(f"{dataset} is not under {where} and could not be downloaded from the Hub "
                              f"({type(err).__name__}); {hint}") from None


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
def load_sample(path: Path = SAMPLE_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The bundled test images: uint8 (N, 28, 28) and labels (N,). MNIST, CC BY-SA 3.0; FASHION_SAMPLE_PATH:
    Fashion-MNIST, MIT (see assets/README.md)."""
    with np.load(path) as z:
        return z["images"], z["labels"]


def make_sample(data_dir: str | os.PathLike | None = None, per_class: int = 10, out: Path = SAMPLE_PATH,
                dataset: str = "mnist") -> Path:
    """Write the bundled sample: the first `per_class` test images of each class (deterministic)."""
    root = resolve_data_dir(data_dir)
    if root is None:
        raise FileNotFoundError(f"need the {dataset} IDX files (--data-dir or GENLIB_DATA)")
    images, labels = (read_idx(p) for p in _idx_paths(root, dataset, "test"))
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)])
    keep.sort()
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=images[keep], labels=labels[keep], test_index=keep)
    return out


# ---- 2-D toy data sets (generated, seeded) -------------------------------------------------------
TOY_SETS = ("moons", "circles", "checkerboard", "ring8", "mixture")


def mixture_params(name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(means (K, 2), stds (K,), weights (K,)) of the two toy sets that are Gaussian mixtures; genlib.flow.toy_mixture
    wraps them in a GaussianMixture, whose p_t, score and marginal field are exact."""
    if name == "ring8":  # 8 equal Gaussians on a circle of radius 2
        angles = torch.arange(8) * (2 * np.pi / 8)
        means = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
        return means, torch.full((8,), 0.15), torch.full((8,), 1 / 8)
    if name == "mixture":  # unequal weights and widths
        means = torch.tensor([[-1.5, -1.0], [1.5, -0.5], [0.0, 1.6], [1.2, 1.8]])
        return means, torch.tensor([0.35, 0.5, 0.3, 0.2]), torch.tensor([0.3, 0.35, 0.2, 0.15])
    raise ValueError(f"{name!r} is not a mixture; mixtures are 'ring8' and 'mixture'")


def toy_2d(name: str, n: int, seed: int = 0) -> torch.Tensor:
    """n points (n, 2) from a toy distribution, spread over roughly [-3, 3]^2."""
    g = torch.Generator().manual_seed(seed)
    if name in ("ring8", "mixture"):  # pick a component k ~ w, then x = mu_k + s_k * noise
        means, stds, weights = mixture_params(name)
        k = torch.multinomial(weights, n, replacement=True, generator=g)
        return means[k] + stds[k, None] * torch.randn(n, 2, generator=g)
    if name == "moons":  # two interleaved half circles, centred and scaled by 1.5
        upper = torch.rand(n, generator=g) < 0.5
        theta = torch.rand(n, generator=g) * np.pi
        x = torch.where(upper, torch.cos(theta), 1 - torch.cos(theta))
        y = torch.where(upper, torch.sin(theta), 0.5 - torch.sin(theta))
        pts = torch.stack([x - 0.5, y - 0.25], dim=1) * 1.5
        return pts + 0.06 * torch.randn(n, 2, generator=g)
    if name == "circles":  # radii 1 and 2.2, equal mass
        r = torch.where(torch.rand(n, generator=g) < 0.5, 1.0, 2.2)
        theta = torch.rand(n, generator=g) * 2 * np.pi
        return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1) + 0.07 * torch.randn(n, 2, generator=g)
    if name == "checkerboard":  # the 8 "black" squares of a 4 x 4 board on [-2, 2]^2
        cells = torch.tensor([(i, j) for i in range(4) for j in range(4) if (i + j) % 2 == 0], dtype=torch.float32)
        k = torch.randint(len(cells), (n,), generator=g)
        return cells[k] - 2.0 + torch.rand(n, 2, generator=g)
    raise ValueError(f"unknown toy set {name!r}; choose one of {TOY_SETS}")


# ---- sequence tasks for the Transformer (generated, seeded) --------------------------------------------
PAD, BOS, EOS = 0, 1, 2
SPECIALS = ["<pad>", "<bos>", "<eos>"]
NUMBER_TASKS = ("numbers", "zh_numbers")  # phrase -> digits; grammar, shapes and forms in genlib.numerals


@dataclass(frozen=True)
class SeqTask:
    """A source -> target task with its vocabularies (index 0, 1, 2 = <pad>, <bos>, <eos> in both)."""

    name: str
    src_vocab: tuple[str, ...]
    tgt_vocab: tuple[str, ...]
    max_src: int  # tokens, without EOS
    max_tgt: int

    def tokenize(self, text: str) -> list[str]:
        """Split user text into source tokens: words for 'numbers', characters for 'zh_numbers', single symbols
        for 'copy'."""
        if self.name == "numbers":
            return numerals.tokenize_words(text)
        if self.name == "zh_numbers":
            return numerals.tokenize_chinese(text)
        return [c for c in text.strip().lower() if not c.isspace() and c != ","]

    def parse(self, text: str) -> int | None:
        """The number a phrase names (NotANumber, a ValueError, says why it is not one); None for 'copy', which
        has no grammar."""
        return numerals.parse(self.name, text) if self.name in NUMBER_TASKS else None

    def encode_src(self, text: str) -> list[int]:
        """Token ids + EOS; ValueError with a readable message for empty, unknown or too long input."""
        tokens = self.tokenize(text)
        if not tokens:
            raise ValueError("the input is empty")
        unknown = sorted({t for t in tokens if t not in self.src_vocab[3:]})
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise ValueError(f"unknown token{'s' if len(unknown) > 1 else ''} {shown}; the vocabulary is "
                             + " ".join(self.src_vocab[3:]))
        if len(tokens) > self.max_src:
            raise ValueError(f"{len(tokens)} tokens; this model reads at most {self.max_src}")
        return [self.src_vocab.index(t) for t in tokens] + [EOS]

    def decode_tgt(self, ids: list[int]) -> str:
        out = []
        for i in ids:
            if i == EOS:
                break
            if i >= 3:
                out.append(self.tgt_vocab[i])
        return ("" if self.name in NUMBER_TASKS else " ").join(out)

    def pair(self, rng: np.random.Generator) -> tuple[str, str]:
        """One random copy example: 1 to max_src digits."""
        length = int(rng.integers(1, self.max_src + 1))
        seq = " ".join(str(int(v)) for v in rng.integers(0, 10, length))
        return seq, seq

    def tgt_ids(self, text: str) -> list[int]:
        tokens = list(text) if self.name in NUMBER_TASKS else text.split()
        return [self.tgt_vocab.index(t) for t in tokens] + [EOS]


DIGITS = tuple(str(d) for d in range(10))
SEQ_TASKS = {
    "copy": SeqTask("copy", tuple(SPECIALS) + DIGITS, tuple(SPECIALS) + DIGITS, max_src=10, max_tgt=11),
    "numbers": SeqTask("numbers", tuple(SPECIALS) + numerals.WORDS, tuple(SPECIALS) + DIGITS, max_src=16, max_tgt=7),
    "zh_numbers": SeqTask("zh_numbers", tuple(SPECIALS) + numerals.ZH_CHARS, tuple(SPECIALS) + DIGITS, max_src=14,
                          max_tgt=7),
}
UNIFORM_SHARE = 0.25  # number tasks: this share of training numbers is uniform over the digit count, the rest by shape


def seq_dataset(task: str, n: int, seed: int, exclude: set[str] | None = None, heldout: bool = False) -> list[tuple[str, str]]:
    """n random (source, target) pairs; repeats are allowed, but targets in `exclude` (held-out ones) are skipped.

    copy: random digit strings. Number tasks: numbers drawn by genlib.numerals.stratified_numbers (a quarter uniform
    over the digit count, three quarters with the shape uniform over all shapes, so rare shapes are oversampled),
    each written in a random accepted form (genlib.numerals.phrase). heldout=True: n distinct numbers stratified by
    shape (genlib.numerals.heldout_numbers), each in a random form."""
    rng, skip = np.random.default_rng(seed), set(exclude or ())
    if task in NUMBER_TASKS:
        if heldout:
            values = numerals.heldout_numbers(task, n, rng)
        else:
            values = []
            while len(values) < n:
                values += [v for v in numerals.stratified_numbers(task, n - len(values), rng, UNIFORM_SHARE)
                           if str(v) not in skip]
        return [(numerals.phrase(task, v, rng), str(v)) for v in values]
    spec, out = SEQ_TASKS[task], []
    while len(out) < n:
        src, tgt = spec.pair(rng)
        if tgt not in skip:
            out.append((src, tgt))
    return out


def heldout_exclusion(task: str, pairs: list[tuple[str, str]]) -> set[str]:
    """The targets of held-out `pairs` that training must skip: all of them for 'copy'; for the number tasks those
    of shapes large enough to hold a quarter out (genlib.numerals.held_out_for_real)."""
    if task not in NUMBER_TASKS:
        return {t for _, t in pairs}
    return {t for _, t in pairs if numerals.held_out_for_real(task, numerals.shape(task, int(t)), len(pairs))}


def seq_batch(task: str, pairs: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(src (B, S) with EOS, tgt (B, T + 1) = BOS + target + EOS), right-padded with PAD."""
    spec = SEQ_TASKS[task]
    srcs = [spec.encode_src(s) for s, _ in pairs]
    tgts = [[BOS] + spec.tgt_ids(t) for _, t in pairs]

    def pad(rows):
        width = max(map(len, rows))
        return torch.tensor([r + [PAD] * (width - len(r)) for r in rows], dtype=torch.long)

    return pad(srcs), pad(tgts)


# ---- text corpora (character-level language models) -----------------------------------------------------------
TEXTS = {"shakespeare": "tinyshakespeare.txt", "tang": "tang-poems.txt"}  # under <data_dir>/text/


def load_text(corpus: str, data_dir: str | os.PathLike | None = None) -> str:
    """The whole corpus as one string (UTF-8, LF lines). Not bundled and not downloaded: pass --data-dir (or set
    GENLIB_DATA) to a folder holding text/<file> (../shared/data)."""
    if corpus not in TEXTS:
        raise ValueError(f"corpus must be one of {tuple(TEXTS)}")
    root = resolve_data_dir(data_dir)
    path = root / "text" / TEXTS[corpus] if root is not None else None
    if path is None or not path.exists():
        raise DataUnavailable(f"text/{TEXTS[corpus]} not found under {data_dir or os.environ.get('GENLIB_DATA') or '?'}: "
                              "pass --data-dir (or set GENLIB_DATA) to a folder holding it (e.g. ../shared/data)")
    return path.read_text(encoding="utf-8")


def text_split(corpus: str, text: str) -> tuple[str, str]:
    """(train, validation): Tiny Shakespeare's first 90% / last 10% of characters (the usual split); for the Tang
    poems (one per line) every tenth poem is held out."""
    if corpus == "tang":
        poems = text.strip("\n").split("\n")
        return ("\n".join(p for i, p in enumerate(poems) if i % 10 != 9) + "\n",
                "\n" + "\n".join(p for i, p in enumerate(poems) if i % 10 == 9) + "\n")
    n = int(0.9 * len(text))
    return text[:n], text[n:]
