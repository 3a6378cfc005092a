"""The flow-matching tab's callbacks as plain functions, with tiny untrained models standing in."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demos import flow as tab
from demos import ui
from genlib import data, hub
from genlib.flow import MLPField
from genlib.unet import UNet


@pytest.fixture
def tiny_flow_weights(tmp_path, monkeypatch):
    """GENLIB_WEIGHTS_DIR with a tiny conditional U-Net ("flow") and tiny 2-D fields; no classifier."""
    torch.manual_seed(0)
    UNet(in_channels=1, ch=8, ch_mult=[1, 2], num_res_blocks=1, attn_resolutions=[], dropout=0.0, num_classes=10,
         time_scale=1000.0).save_pretrained(tmp_path / "flow")
    for toy in data.TOY_SETS:
        MLPField(hidden=16, depth=2).save_pretrained(tmp_path / f"flow2d_{toy}")
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    tab.clear_cache()
    yield tmp_path
    hub.clear_cache()
    tab.clear_cache()


def test_field_view_draws_density_and_arrows(tiny_flow_weights):
    svg, status = tab.field_view("moons", 0.3)
    assert svg.startswith("<svg") and "data:image/png;base64," in svg and svg.count("<line") > 50
    assert "t = 0.30" in svg and "3000 particles" in status
    frames = tab.simulation("moons")
    assert frames.shape == (tab.FRAMES + 1, tab.N_PARTICLES, 2)
    noise = torch.randn(tab.N_PARTICLES, 2, generator=torch.Generator().manual_seed(0)).numpy()
    assert np.allclose(frames[0], noise)  # t = 0 is the seeded noise


def test_field_view_clamps_bad_input(tiny_flow_weights):
    svg, status = tab.field_view("spiral", float("nan"))
    assert "data set: 'spiral' is not one of" in status and "t: nan is not a number" in status
    _, status = tab.field_view("ring8", 1e9)
    assert "outside [0, 1]" in status


def test_animation_has_one_moving_circle_per_particle(tiny_flow_weights):
    svg, status = tab.animate("circles", 10, 3)
    assert svg.count('<animate attributeName="cx"') == tab.N_ANIMATE and "seed 3" in status
    _, status = tab.animate("circles", 10**6, -1)
    assert "steps: 1000000 is outside" in status and "seed: -1 is outside" in status


def test_compare_ode_and_sde_share_noise(tiny_flow_weights):
    ode, sde, status = tab.compare("moons", 5, 0.0, "vanishing", 0)
    assert ode.startswith("<svg") and "Sliced W2" in status
    # with sigma = 0 the SDE is the ODE: both clouds, and so their distances, are identical
    w_ode, w_sde = status.split("ODE ")[1].split(" · SDE ")[0], status.split(" · SDE ")[1][:5]
    assert w_ode == w_sde
    a = tab._simulate(tab._load("flow2d_moons")[0], "euler", 5, 0.0, "vanishing", 0, 50)
    b = tab._simulate(tab._load("flow2d_moons")[0], "sde", 5, 0.0, "vanishing", 0, 50)
    assert torch.allclose(a, b)
    _, _, status = tab.compare("moons", 5, 99.0, "sideways", 0)
    assert "sigma: 99 is outside" in status and "sigma_t: 'sideways'" in status


def test_paths_view_conditional_cloud_is_the_gaussian_path(tiny_flow_weights):
    left, right, status = tab.paths_view("moons", "condot", 1.0, 0.5, 0.25)
    assert "α_t = 0.250, β_t = 0.750" in status and left.count("<polyline") == 40 and right.count("<polyline") == 40
    _, _, status = tab.paths_view("moons", "vp-cosine", 0.0, 0.0, 1.0)
    assert "α_t = 1.000, β_t = 0.000" in status
    _, _, status = tab.paths_view("moons", "bogus", 7, 0, 0.5)
    assert "path: 'bogus'" in status and "z (horizontal): 7 is outside" in status


def test_langevin_streams_and_approaches_the_mixture():
    frames = list(tab.langevin_run(400, 0.02, 0))
    assert len(frames) == 21 and frames[-1][0].startswith("<svg") and "✓" in frames[-1][1]
    sw = [float(f[1].split("exact samples ")[1].split()[0]) for f in frames[1:]]
    assert sw[-1] < 0.25 < sw[0]
    _, status = next(tab.langevin_run(10**9, -1, 0))
    assert "steps: 1000000000 is outside" in status and "step size: -1 is outside" in status


def test_mnist_sample_streams_and_reports(tiny_flow_weights):
    frames = list(tab.mnist_sample(7, 2.5, 4, "heun", 0.5, 4, 0))
    assert len(frames) == 4
    grid, status = frames[-1]
    assert grid.shape == (2 * 30 + 2, 2 * 30 + 2) and "class 7, w = 2.5, heun, 4 steps (8 evaluations)" in status
    assert "✓" in status and "2 network passes per evaluation" in status and "classifier" not in status  # no cnn here
    again = list(tab.mnist_sample(7, 2.5, 4, "heun", 0.5, 4, 0))[-1][0]
    assert np.array_equal(grid, again)  # seeded


@pytest.mark.parametrize("label,w,steps,expect", [
    (12, 2.0, 3, "class: 12 is not one of"), ("cat", 2.0, 3, "class: 'cat' is not one of"),
    (3, 1e9, 3, "guidance scale w: 1e+09 is outside [0, 10]"), (3, float("nan"), 3, "guidance scale w: nan is not a number"),
    (3, 2.0, 0, "steps: 0 is outside [1, 100]"), (3, 2.0, 10**6, "steps: 1000000 is outside [1, 100]"),
])
def test_mnist_sample_refuses_bad_input_with_a_message(tiny_flow_weights, label, w, steps, expect):
    grid, status = list(tab.mnist_sample(label, w, steps, "sde", 0.5, 2, 0))[-1]
    assert expect in status and "✓" in status and grid is not None


def test_guidance_row_uses_the_same_noise_per_row(tiny_flow_weights):
    sheet, status = tab.guidance_row(4, 3, "euler", 0.0, 5, 1)
    rows = len(tab.GUIDANCE_ROW)
    assert sheet.shape == (rows * 30 + 2, 5 * 30 + 2) and "rows top to bottom w = 0, 1, 2, 3, 5, 7, 10" in status


def test_missing_weights_give_messages_not_crashes(no_weights):
    assert "flow2d_moons" in tab.field_view("moons", 0.5)[1]
    assert tab.animate("moons", 5, 0)[0] == "" and tab.compare("moons", 5, 1.0, "vanishing", 0)[0] == ""
    assert "⛔" in tab.paths_view("moons", "condot", 0, 0, 0.5)[2]
    grid, status = list(tab.mnist_sample(3, 2.0, 5, "euler", 0.5, 4, 0))[-1]
    assert grid is None and "⛔" in status
    assert tab.guidance_row(3, 5, "euler", 0.5, 4, 0)[0] is None
    assert ui.loss_frame("flow") is None and "⛔" in ui.training_summary("flow", tab.describe_training)
