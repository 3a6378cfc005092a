"""genlib.compare: the board's rows come from the registry, are scored by one evaluator, and the families that share
a starting noise really do share it."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from genlib import compare, diffusion, flow, hub, registry

BOARD = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "compare.json"


def test_every_board_setting_comes_from_a_registry_entry_with_a_draw_function():
    rows = compare.settings()
    assert {"ddpm", "flow", "pixelcnn"} <= {s.model for s in rows}
    assert [compare.FAMILIES.index(s.family) for s in rows] == sorted(compare.FAMILIES.index(s.family) for s in rows)
    for s in rows:
        assert s.model in registry.MODELS and callable(s.function())
        assert registry.MODELS[s.model].options["board"][s.label] == s.kwargs
    assert not compare.live(compare.Setting("ddpm", "ancestral-1000", "diffusion", "genlib.diffusion.draw",
                                            dict(sampler="ancestral", steps=1000)))
    assert compare.live(next(s for s in rows if s.key == "ddpm:DDIM-50"))


def test_a_board_entry_with_an_unknown_family_is_refused(monkeypatch):
    bad = dataclasses.replace(registry.MODELS["flow"], name="bad", options=dict(family="energy", draw="x.y", board={"a": {}}))
    monkeypatch.setitem(registry.MODELS, "bad", bad)
    with pytest.raises(ValueError, match="family"):
        compare.settings()


def test_classes_covered_counts_the_classes_with_at_least_five_percent_of_the_samples():
    # 100 samples: classes 0..7 get 12 each (96), class 8 gets 4 (< 5 %), class 9 none
    labels = torch.tensor([c for c in range(8) for _ in range(12)] + [8] * 4)
    probs = torch.nn.functional.one_hot(labels, 10).float()
    assert compare.classes_covered(probs) == 8
    assert compare.classes_covered(probs, share=0.04) == 9


class _Recorder(nn.Module):
    """A network that returns zeros and keeps the first input it saw (the starting noise of a sampler)."""

    num_classes = 10

    def __init__(self):
        super().__init__()
        self.first = None

    def forward(self, x, t, y=None):
        if self.first is None:
            self.first = x.detach().clone()
        return torch.zeros_like(x)


def test_ddim_and_the_flow_ode_start_from_the_same_noise_for_a_seed():
    eps, u = _Recorder(), _Recorder()
    diffusion.draw(eps, 3, seed=7, steps=2, bfloat16=False)
    flow.draw(u, 3, seed=7, w=1.0, steps=2)
    expected = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(7))
    assert torch.equal(eps.first, expected)
    assert torch.allclose(u.first, expected, atol=1e-2)  # the flow's field runs under bfloat16 autocast
    x = flow.draw(_Recorder(), 3, seed=7, steps=4)  # a zero field leaves the noise where it started
    assert torch.equal(x, expected)


def test_draw_in_batches_keeps_the_first_images_of_a_seed():
    s = next(s for s in compare.settings() if s.key == "flow:w = 1, Euler-5")
    model = hub.load("flow")
    three = compare.draw(s, model, 3, seed=3, batch=2)
    two = compare.draw(s, model, 2, seed=3, batch=2)
    assert three.shape == (3, 1, 28, 28) and torch.equal(three[:2], two)
    assert three.min() >= -1 and three.max() <= 1


def test_one_board_row_regenerated_on_a_tiny_n_has_the_committed_schema():
    s = next(s for s in compare.settings() if s.key == "flow:w = 1, Euler-5")
    clf = hub.load("cnn")
    f_ref = torch.randn(64, 128)
    row = compare.score(s, hub.load("flow"), clf, f_ref, n=8, metrics=hub.load_metrics("flow"), timing_runs=1,
                      timing_n=2)
    assert row["n"] == 8 and row["family"] == "flow" and 0 <= row["classes_covered"] <= 10
    assert sum(row["class_histogram"]) == 8 and 1.0 <= row["is"] <= 10.0 and row["seconds_16"] > 0
    assert row["parameters"] == sum(p.numel() for p in hub.load("flow").parameters())
    assert row["training_minutes"] == round(hub.load_metrics("flow")["wall_time_s"] / 60, 1)
    board = json.loads(BOARD.read_text())
    for committed in board["rows"]:
        assert set(committed) - {"wall_s"} == set(row)
        assert committed["n"] == board["n"]


def test_training_minutes_count_a_warm_start():
    from genlib.compare import training_minutes

    assert training_minutes({"wall_time_s": 600.0}) == 10.0
    assert training_minutes({"wall_time_s": 600.0, "init": {"wall_time_s": 7643.1}}) == 137.4
    assert training_minutes({}) is None
