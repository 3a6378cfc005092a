"""The README's front matter is the Hugging Face Space's configuration: it must agree with what the app pins and
with the registry (https://huggingface.co/docs/hub/spaces-config-reference)."""
from __future__ import annotations

import re
import sys

import yaml

from genlib import registry
from tests.conftest import ROOT


def _front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "the README must start with the Space's YAML block"
    return yaml.safe_load(text.split("---\n")[1])


def _pinned(package: str) -> str:
    line = next(l for l in (ROOT / "requirements.txt").read_text().splitlines() if l.startswith(f"{package}=="))
    return line.split("==")[1].strip()


def test_space_runs_the_app_with_the_pinned_gradio_and_python():
    config = _front_matter()
    assert config["sdk"] == "gradio" and str(config["sdk_version"]) == _pinned("gradio")
    assert config["app_file"] == "app.py" and (ROOT / config["app_file"]).exists()
    assert isinstance(config["python_version"], str), "quote it: YAML reads 3.10 as 3.1"
    assert re.fullmatch(r"3\.\d+", config["python_version"])
    assert config["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"  # what the tests ran on
    assert config["license"] == "mit" and config["title"] and config["emoji"]
    assert config["colorFrom"] in {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def test_space_lists_every_model_and_data_set_it_uses():
    config = _front_matter()
    assert config["models"] == list(dict.fromkeys(spec.repo_id for spec in registry.MODELS.values()))
    used = {spec.dataset for spec in registry.MODELS.values()} & {"mnist", "fashion-mnist"}
    hub_ids = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
    assert set(config["datasets"]) == {hub_ids[d] for d in used}
    # preload_from_hub needs published revisions; while every revision is still "main" the app ships weights/ instead
    if all(spec.revision == "main" for spec in registry.MODELS.values()):
        assert "preload_from_hub" not in config
    else:
        assert {entry.split()[0] for entry in config["preload_from_hub"]} >= {
            s.repo_id for s in registry.MODELS.values() if s.revision != "main"}
