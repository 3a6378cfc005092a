"""Training smoke tests on tiny data: a checkpoint that hub reads back, metrics, model card, upload call."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from genlib import hub, train
from tests.conftest import idx_fixture


@pytest.fixture
def tiny_data(tmp_path):
    return idx_fixture(tmp_path / "data", n=64)


def test_ddpm_smoke_run_writes_a_loadable_checkpoint(tmp_path, tiny_data):
    out = train.main(["ddpm", "--epochs", "1", "--batch-size", "16", "--limit", "64", "--data-dir", str(tiny_data),
                      "--out", str(tmp_path / "ddpm"), "--seed", "1"])
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "metrics.json", "model.safetensors"]
    model = hub.load_from(out, "ddpm")
    assert model(torch.zeros(1, 1, 28, 28), torch.tensor([5])).shape == (1, 1, 28, 28)
    assert model.num_classes == 10  # class-conditional, with the null label 10 learned by label dropout
    m = json.loads((out / "metrics.json").read_text())
    assert m["p_uncond"] == 0.1 and m["unet"]["num_classes"] == 10
    assert m["epochs"] == 1 and m["steps"] == 4 and m["dataset"] == "mnist" and m["wall_time_s"] > 0
    assert m["loss_curve"][-1][0] == 4 and m["final"]["test_loss_ema"] > 0
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlicense: mit") and "CC BY-SA 3.0" in card and "train.py ddpm" in card
    assert "(1 epochs, 4 steps of batch 16, seed 1)" in card


def test_warm_start_copies_the_trained_model_into_the_net_and_its_ema(tmp_path):
    """`ddpm` continues `ddpm_base` (--init): both copies start as exactly the loaded weights, and metrics.json
    records where they came from (name, sha256 of the file, its command, wall time and final metric)."""
    import hashlib

    from genlib import registry

    model, ema = train.new_model(registry.MODELS["ddpm"])
    start = train.warm_start(model, ema, "ddpm_base")
    source = hub.load("ddpm_base")
    for net in (model, ema):
        for (k, a), (k2, b) in zip(net.state_dict().items(), source.state_dict().items(), strict=True):
            assert k == k2 and torch.equal(a, b), k
    digest = hashlib.sha256((hub.folder("ddpm_base") / "model.safetensors").read_bytes()).hexdigest()
    base = hub.load_metrics("ddpm_base")
    assert start == {"from": "ddpm_base", "sha256": digest, "command": base["command"], "epochs": base["epochs"],
                     "wall_time_s": base["wall_time_s"], "test_loss_ema": base["final"]["test_loss_ema"]}
    assert train.warm_start(model, ema, "") == {}


def test_warm_start_refuses_weights_that_do_not_fit():
    from genlib import registry

    spec = registry.MODELS["ddpm"]
    narrow, narrow_ema = train.new_model(dataclasses.replace(spec, config=spec.config | {"ch": 8}))
    with pytest.raises(train.TrainingError, match="do not fit this network"):  # same names, other shapes
        train.warm_start(narrow, narrow_ema, "ddpm_base")
    cnn, cnn_ema = train.new_model(registry.MODELS["cnn"])
    with pytest.raises(train.TrainingError, match="do not fit this network"):
        train.warm_start(cnn, cnn_ema, "ddpm_base")
    with pytest.raises(train.TrainingError, match="Train it first"):
        train.warm_start(cnn, cnn_ema, "no_such_model")


def test_card_of_a_time_budgeted_run_says_how_far_it_got(tmp_path):
    from genlib import registry

    metrics = {"dataset": "fashion-mnist", "command": "python genlib/train.py simclr", "hardware": "x86_64 CPU",
               "wall_time_s": 60.0, "epochs": 100, "steps": 950, "batch_size": 256, "seed": 0,
               "final": {"probe_accuracy": 0.5, "epochs_done": 4, "steps": 951}}
    train.write_model_card(tmp_path, registry.MODELS["simclr"], metrics, None)
    assert "(4 epochs (time budget; cap 100), 951 steps of batch 256, seed 0)" in (tmp_path / "README.md").read_text()


def test_steps_taken_prefers_the_recipes_count_to_the_last_logged_step():
    curve = [[25, 2.0], [50, 1.5]]  # logged every 25 steps; the budget stopped the run at step 63
    assert train.steps_taken({"loss_curve": curve, "final": {"steps": 63}}) == 63
    assert train.steps_taken({"loss_curve": curve, "final": {}}) == 50
    assert train.steps_taken({"final": {}}) == 0


def test_same_seed_same_weights(tmp_path, tiny_data):
    outs = [train.main(["ddpm", "--epochs", "1", "--batch-size", "32", "--limit", "64", "--data-dir", str(tiny_data),
                        "--out", str(tmp_path / f"run{i}"), "--seed", "3"]) for i in range(2)]
    a, b = (hub.load_from(o, "ddpm").state_dict() for o in outs)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_cnn_smoke_run(tmp_path, tiny_data):
    out = train.main(["cnn", "--epochs", "1", "--batch-size", "16", "--limit", "64", "--data-dir", str(tiny_data),
                      "--out", str(tmp_path / "cnn")])
    model = hub.load_from(out, "cnn")
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10) and model.features(torch.zeros(2, 1, 28, 28)).shape == (2, 128)
    assert 0.0 <= json.loads((out / "metrics.json").read_text())["final"]["test_accuracy"] <= 1.0


def test_push_to_hub_uses_the_upload_api_without_network(tmp_path, tiny_data, monkeypatch):
    import huggingface_hub

    calls = {}
    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", lambda self, repo_id, **kw: calls.setdefault("create", (repo_id, kw)))

    def upload_folder(self, **kw):
        calls["upload"] = kw
        return "https://huggingface.co/me/ddpm-test/commit/abc"

    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    out = train.main(["ddpm", "--epochs", "1", "--batch-size", "32", "--limit", "32", "--data-dir", str(tiny_data),
                      "--out", str(tmp_path / "ddpm"), "--push-to-hub", "me/ddpm-test"])
    assert calls["create"][0] == "me/ddpm-test" and calls["create"][1]["exist_ok"] is True
    assert calls["upload"]["repo_id"] == "me/ddpm-test" and calls["upload"]["folder_path"] == str(out)
    assert "me/ddpm-test" in (out / "README.md").read_text()


def test_lr_schedule_warms_up_then_decays():
    lrs = [train.lr_at(s, 100, 1.0, 10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:])) and lrs[-1] < 0.05


def test_flow_smoke_run_is_class_conditional(tmp_path, tiny_data):
    out = train.main(["flow", "--epochs", "1", "--batch-size", "16", "--limit", "64", "--data-dir", str(tiny_data),
                      "--out", str(tmp_path / "flow"), "--p-uncond", "0.5"])
    model = hub.load_from(out, "flow")
    assert model.num_classes == 10 and model.time_scale == 1000.0
    x, t = torch.zeros(2, 1, 28, 28), torch.tensor([0.2, 0.8])
    assert model(x, t, torch.tensor([3, 10])).shape == (2, 1, 28, 28)
    m = json.loads((out / "metrics.json").read_text())
    assert m["p_uncond"] == 0.5 and m["path"] == "condot" and m["final"]["test_cfm_loss_ema"] > 0
    assert "classifier-free guidance" in (out / "README.md").read_text()


def test_flow2d_smoke_run(tmp_path):
    out = train.main(["flow2d_ring8", "--epochs", "1", "--limit", "1024", "--out", str(tmp_path / "ring8")])
    model = hub.load_from(out, "flow2d_ring8")
    assert model(torch.zeros(3, 2), torch.rand(3)).shape == (3, 2)
    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"] == "toy-ring8" and m["steps"] == 2
    card = (out / "README.md").read_text()
    assert "datasets:" not in card and "Synthetic data" in card


def test_transformer_smoke_run_averages_checkpoints(tmp_path):
    out = train.main(["transformer_numbers", "--epochs", "1", "--batch-size", "20", "--limit", "200",
                      "--out", str(tmp_path / "tn")])
    model = hub.load_from(out, "transformer_numbers")
    assert model.generator.out_features == len(train.data.SEQ_TASKS["numbers"].tgt_vocab)
    m = json.loads((out / "metrics.json").read_text())
    assert m["checkpoints_averaged"] == 5 and m["steps"] == 10 and m["heldout_pairs"] == 10_000
    assert m["final"]["heldout_shapes_at_100"].endswith("of 100")
    assert 0.0 <= m["final"]["heldout_exact_match_averaged"] <= 1.0 and m["final"]["kept"] in ("averaged", "last")


def test_push_to_hub_dry_run_lists_the_upload_and_calls_no_api(tmp_path, tiny_data, monkeypatch, capsys):
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("a dry run must not call the Hub")

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", refuse)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", refuse)
    out = train.main(["cnn", "--epochs", "1", "--batch-size", "16", "--limit", "32", "--data-dir", str(tiny_data),
                      "--out", str(tmp_path / "cnn"), "--push-to-hub", "me/cnn-test", "--dry-run"])
    plan = capsys.readouterr().out
    assert "dry run: would create (if missing) the model repo me/cnn-test and upload 4 files" in plan
    for name in ("README.md", "config.json", "metrics.json", "model.safetensors"):
        assert f"  {name}" in plan and (out / name).exists()
    card = (out / "README.md").read_text()
    assert "me/cnn-test" in card and "CC BY-SA 3.0" in card and "test_accuracy" in card  # metrics and data licence
