"""genlib.registry is the one table of models: hub, the train CLI, the cards and these tests derive from it."""
from __future__ import annotations

import json

import pytest

from genlib import hub, registry, train


@pytest.mark.parametrize("name", list(registry.MODELS))
def test_every_model_has_a_recipe_and_committed_weights_that_load_strictly(name):
    spec = registry.MODELS[name]
    assert spec.name == name and callable(spec.recipe_module().train)
    assert spec.metric and spec.description and spec.repo_id.startswith("genlib-annotated/")
    model = hub.load_from(hub.WEIGHTS_DIR / name, name)  # strict=True: config and weights agree
    assert isinstance(model, spec.model_class())
    saved = json.loads((hub.WEIGHTS_DIR / name / "config.json").read_text())
    assert {k: saved[k] for k in spec.config} == spec.config  # the registry's config is what was trained
    metrics = json.loads((hub.WEIGHTS_DIR / name / "metrics.json").read_text())
    assert spec.metric in metrics["final"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="ddpm"):
        registry.get("nope")


def test_cli_defaults_and_extra_flags_come_from_the_registry():
    args = train.parse_args(["flow"])
    assert all(getattr(args, k) == v for k, v in registry.MODELS["flow"].defaults.items())
    assert train.parse_args(["flow", "--p-uncond", "0.3"]).p_uncond == 0.3
    assert train.parse_args(["transformer_numbers", "--smoothing", "0"]).smoothing == 0.0


@pytest.mark.parametrize("argv,message", [
    (["nope"], "unknown model 'nope'"),
    (["cnn", "--p-uncond", "0.3"], "--p-uncond does not apply to cnn"),
])
def test_cli_mistakes_end_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        train.parse_args(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and message in err and len(err.splitlines()) == 1


def test_list_shows_every_model_with_its_command_and_record(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--list"])
    out = capsys.readouterr().out
    for spec in registry.MODELS.values():
        assert spec.command in out
    ddpm_minutes = hub.load_metrics("ddpm")["wall_time_s"] / 60  # the committed record, whatever run made it
    assert f"trained in {ddpm_minutes:.1f} min" in out and "test_accuracy = 0.9944" in out


@pytest.mark.parametrize("argv,message", [
    (["cnn", "--data-dir", "/no/such/folder"], "is not a folder"),
    (["cnn"], "the Hub cannot be reached"),
])
def test_missing_data_or_network_is_one_clear_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GENLIB_DATA", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(train.data, "CACHE_DIR", tmp_path / "empty-cache")
    hub.clear_cache()
    assert train.cli(argv + ["--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("train.py: ") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()
    hub.clear_cache()


def test_model_help_ends_with_its_command_and_defaults(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["flow", "--help"])
    out = capsys.readouterr().out
    assert "python genlib/train.py flow --data-dir ../shared/data" in out and "--p-uncond 0.1" in out
    assert registry.MODELS["flow"].description[:40] in out
