"""hub.load: the Hub path through a pre-filled cache (HF_HUB_OFFLINE=1), the local fallback, and failures."""
from __future__ import annotations

import shutil
import socket

import pytest
import torch

from genlib import hub
from tests.conftest import make_tiny_unet

SHA = "0123456789abcdef0123456789abcdef01234567"


def _fill_cache(cache, repo_id: str, src, revision: str = "main") -> None:
    """Lay out files the way huggingface_hub stores them: refs/<rev> -> sha, snapshots/<sha>/<files>."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / revision).write_text(SHA)
    snap = repo / "snapshots" / SHA
    snap.mkdir(parents=True)
    for f in src.iterdir():
        shutil.copy(f, snap / f.name)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "weights"))
    hub.clear_cache()
    yield tmp_path
    hub.clear_cache()


def _save(model, folder):
    model.save_pretrained(folder)
    return folder


def test_hub_cache_is_used_when_it_has_the_files(env):
    hub_model, local_model = make_tiny_unet(seed=1), make_tiny_unet(seed=2)
    _fill_cache(env / "cache", hub.hub_ref("ddpm")[0], _save(hub_model, env / "hub-src"))
    _save(local_model, env / "weights" / "ddpm")
    folder, source = hub.resolve("ddpm")
    assert source == f"hub:{hub.MODELS['ddpm'].repo_id}@main" and SHA in str(folder)
    loaded = hub.load("ddpm")
    assert not loaded.training
    for (k, v), v_ref in zip(loaded.state_dict().items(), hub_model.state_dict().values()):
        assert torch.equal(v, v_ref), k


def test_pinned_revision_and_repo_come_from_env(env, monkeypatch):
    monkeypatch.setenv("GENLIB_HUB_REPO_DDPM", "someone/other-ddpm")
    monkeypatch.setenv("GENLIB_HUB_REVISION_DDPM", "v1")
    _fill_cache(env / "cache", "someone/other-ddpm", _save(make_tiny_unet(), env / "src"), revision="v1")
    assert hub.resolve("ddpm")[1] == "hub:someone/other-ddpm@v1"


def test_falls_back_to_local_weights_when_cache_is_empty(env):
    model = make_tiny_unet(seed=3)
    _save(model, env / "weights" / "ddpm")
    (env / "weights" / "ddpm" / "metrics.json").write_text('{"epochs": 1}')
    folder, source = hub.resolve("ddpm")
    assert source.startswith("local:") and folder == env / "weights" / "ddpm"
    assert torch.equal(hub.load("ddpm").out[-1].weight, model.out[-1].weight)
    assert hub.load_metrics("ddpm") == {"epochs": 1}


def test_unreachable_hub_falls_back_at_once(env, monkeypatch):
    """No HF_HUB_OFFLINE, but the endpoint refuses connections: the probe fails and the cache/local path is used."""
    monkeypatch.delenv("HF_HUB_OFFLINE")
    with socket.socket() as s:  # a free local port with nothing listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    hub.clear_cache()
    assert hub.hub_reachable() is False
    _save(make_tiny_unet(), env / "weights" / "ddpm")
    assert hub.resolve("ddpm")[1].startswith("local:")


def test_missing_everywhere_gives_a_clear_message(env):
    with pytest.raises(hub.ModelUnavailable, match="train.py ddpm"):
        hub.load("ddpm")
    with pytest.raises(hub.ModelUnavailable, match="unknown model"):
        hub.resolve("nope")


def test_corrupt_or_mismatched_weights_give_a_clear_message(env):
    folder = _save(make_tiny_unet(), env / "weights" / "ddpm")
    good = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(good[: len(good) // 2])  # truncated download
    with pytest.raises(hub.ModelUnavailable, match="could not be read"):
        hub.load("ddpm")
    hub.clear_cache()
    (folder / "model.safetensors").write_bytes(good)
    (folder / "config.json").write_text('{"ch": 16}')  # config that does not fit the tensors: strict loading refuses
    with pytest.raises(hub.ModelUnavailable, match="could not be read"):
        hub.load("ddpm")


def test_committed_weights_load_strictly():
    """The weights in the repository load with the default (no environment overrides)."""
    folder = hub.WEIGHTS_DIR / "ddpm"
    if not (folder / "model.safetensors").exists():
        pytest.skip("weights/ddpm not trained yet")
    model = hub.load_from(folder, "ddpm")
    x = torch.zeros(2, 1, 28, 28)
    assert model(x, torch.tensor([0, 999])).shape == x.shape


def test_every_toy_set_has_a_hub_model():
    from genlib import data

    assert {f"flow2d_{toy}" for toy in data.TOY_SETS} <= set(hub.MODELS)
    assert all(hub.MODELS[f"flow2d_{toy}"].cls == "MLPField" for toy in data.TOY_SETS)
