"""Load trained models: the Hugging Face Hub at a pinned revision first, else the local `weights/<name>/` copy.

    model = hub.load("ddpm")      # eval mode, strict state-dict loading, safetensors only

Order of sources for a model `name`:
  1. the Hub repo `GENLIB_HUB_REPO_<NAME>` (default: the model's genlib.registry entry) at revision `GENLIB_HUB_REVISION_<NAME>`.
     Online, files are fetched (and cached); offline (HF_HUB_OFFLINE=1, or the Hub host does not answer a
     1.5 s TCP probe) only the local Hub cache is read, so start-up never waits on retries.
  2. `weights/<name>/` in this repository (or GENLIB_WEIGHTS_DIR/<name>).
A source that lacks the files is skipped; a file that is present but broken raises ModelUnavailable with a
message a tab can show, and the other tabs are not affected.
"""
from __future__ import annotations

import functools
import json
import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlparse

import torch

from genlib import registry

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
FILES = ("config.json", "model.safetensors")


MODELS = registry.MODELS  # name -> ModelSpec (module, cls, repo_id, revision, ...): the one table of models


class ModelUnavailable(RuntimeError):
    """The weights of a model could not be found or read; str(err) is a message fit for the page (in English).
    `reason` ('unknown', 'missing' or 'broken') and `fields` let the UI say the same in the page's language."""

    def __init__(self, text: str, reason: str = "", **fields):
        super().__init__(text)
        self.reason, self.fields = reason, fields


def _env(name: str, key: str) -> str | None:
    return os.environ.get(f"GENLIB_HUB_{key}_{name.upper()}")


def hub_ref(name: str) -> tuple[str, str]:
    """(repo_id, revision) for a model, after environment overrides."""
    spec = MODELS[name]
    return _env(name, "REPO") or spec.repo_id, _env(name, "REVISION") or spec.revision


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 1.5) -> bool:
    """False when HF_HUB_OFFLINE is set or the Hub endpoint refuses a quick TCP connection (checked once)."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes", "on"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _from_hub(name: str) -> Path | None:
    """The snapshot folder holding FILES for the pinned revision, or None when the Hub (or cache) lacks it."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

    repo_id, revision = hub_ref(name)
    offline = not hub_reachable()
    cache_dir = os.environ.get("HF_HUB_CACHE")  # read per call, so tests can point at a pre-filled cache
    try:
        paths = [Path(hf_hub_download(repo_id, f, revision=revision, cache_dir=cache_dir, local_files_only=offline))
                 for f in FILES]
    except (LocalEntryNotFoundError, OfflineModeIsEnabled, HfHubHTTPError, OSError, ValueError):
        return None
    try:  # the training record is optional
        hf_hub_download(repo_id, "metrics.json", revision=revision, cache_dir=cache_dir, local_files_only=offline)
    except Exception:
        pass
    return paths[0].parent


def _local(name: str) -> Path | None:
    folder = Path(os.environ.get("GENLIB_WEIGHTS_DIR", WEIGHTS_DIR)) / name
    return folder if all((folder / f).exists() for f in FILES) else None


def resolve(name: str) -> tuple[Path, str]:
    """(folder with config.json + model.safetensors, source description). Raises ModelUnavailable."""
    if name not in MODELS:
        raise ModelUnavailable(f"unknown model {name!r}; known: {', '.join(MODELS)}", "unknown", name=name,
                               known=", ".join(MODELS))
    folder = _from_hub(name)
    if folder is not None:
        repo_id, revision = hub_ref(name)
        return folder, f"hub:{repo_id}@{revision}"
    folder = _local(name)
    if folder is not None:
        return folder, f"local:{folder}"
    raise ModelUnavailable(
        f"No weights for '{name}': not in the Hub cache ({'/'.join(hub_ref(name))}) and not in weights/{name}/. "
        f"Train them with `python genlib/train.py {name}`.", "missing", name=name, repo="/".join(hub_ref(name))
    )


def load_from(folder: str | os.PathLike, name: str) -> torch.nn.Module:
    """Build the model from folder/config.json and load folder/model.safetensors with strict=True."""
    try:
        model = MODELS[name].model_class().from_pretrained(str(folder), strict=True, map_location="cpu")
    except Exception as err:  # corrupt JSON, truncated safetensors, shape or key mismatch
        raise ModelUnavailable(f"The weights of '{name}' in {folder} could not be read ({type(err).__name__}: {err}).",
                               "broken", name=name, folder=str(folder), error=f"{type(err).__name__}: {err}") from err
    return model.eval().requires_grad_(False)


@functools.lru_cache(maxsize=None)
def _resolved(name: str) -> tuple[Path, str]:
    return resolve(name)


@functools.lru_cache(maxsize=None)
def _load_cached(name: str) -> torch.nn.Module:
    return load_from(_resolved(name)[0], name)


_LOAD_LOCK = threading.Lock()  # two first uses at once would otherwise both read the file


def load(name: str) -> torch.nn.Module:
    """The trained model `name` in eval mode (read once per process, on first use; thread-safe)."""
    with _LOAD_LOCK:
        return _load_cached(name)


def folder(name: str) -> Path:
    """The folder holding the weights of `name` (Hub snapshot or weights/<name>/); files are located, not read.
    Extra files a benchmark writes next to the weights (e.g. test_errors.npz) are read from here."""
    return _resolved(name)[0]


def source(name: str) -> str:
    """Where the weights of `name` are: 'hub:<repo>@<rev>' or 'local:<folder>' (files are located, not read)."""
    return _resolved(name)[1]


def load_metrics(name: str) -> dict:
    """metrics.json written by train.py next to the weights ({} when absent); the weights are not read."""
    path = _resolved(name)[0] / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def training_minutes(metrics: dict) -> float | None:
    """The training wall time of a metrics.json record in minutes (one decimal); a warm-started run (metrics["init"],
    e.g. `ddpm` from `ddpm_base`) adds the run it started from, so the figure is what the model cost in all."""
    if "wall_time_s" not in metrics:
        return None
    return round((metrics["wall_time_s"] + (metrics.get("init", {}).get("wall_time_s") or 0)) / 60, 1)


def clear_cache() -> None:
    """Forget loaded models and the reachability probe (tests change the environment)."""
    _load_cached.cache_clear()
    _resolved.cache_clear()
    hub_reachable.cache_clear()
