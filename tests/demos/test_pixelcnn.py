"""The PixelCNN tab's callbacks as plain functions, with a tiny untrained PixelSNAIL standing in."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demos import pixelcnn as tab
from demos import ui
from genlib import hub
from genlib.pixelcnn import PixelSNAIL


def _serve(model, tmp_path, monkeypatch):
    """Save `model` as the tab's `pixelcnn` weights in tmp_path and point the loader there for one test."""
    model.save_pretrained(tmp_path / "pixelcnn")
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    tab.viewer_model.cache_clear()
    yield tmp_path
    hub.clear_cache()
    tab.viewer_model.cache_clear()


@pytest.fixture
def tiny_pixelsnail(tmp_path, monkeypatch):
    torch.manual_seed(0)
    yield from _serve(PixelSNAIL(channels=8, n_blocks=1, n_res=1, n_mix=2, d_k=4, d_v=4), tmp_path, monkeypatch)


@pytest.fixture
def tiny_conditional(tmp_path, monkeypatch):
    """A tiny class-conditional PixelSNAIL (random class vectors) as `pixelcnn`."""
    torch.manual_seed(0)
    model = PixelSNAIL(channels=8, n_blocks=1, n_res=1, n_mix=2, d_k=4, d_v=8, num_classes=10)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".cond." in name:
                p.normal_(0.0, 2.0)
    yield from _serve(model, tmp_path, monkeypatch)


def test_conditional_sampling_draws_the_chosen_class(tiny_conditional):
    grid, status = list(tab.sample(1.0, 4, 2, "7"))[-1]
    assert "label 7" in status and "✓" in status
    all_grid, status = list(tab.sample(1.0, 4, 2, "all"))[-1]
    assert "labels 0–9 in turn" in status and not np.array_equal(grid, all_grid)
    assert np.array_equal(grid, list(tab.sample(1.0, 4, 2, 7))[-1][0])  # a number from the API or a share link
    _, status = list(tab.sample(1.0, 2, 2, "eleven"))[-1]
    assert "class: 'eleven'" in status and "labels 0–9 in turn" in status
    assert f"label 7, w = {tab.W_DEFAULT:g}" in list(tab.sample(1.0, 4, 2, "7"))[-1][1]  # the tab's default guidance
    plain, status = list(tab.sample(1.0, 4, 2, "7", 1.0))[-1]
    assert "label 7, w = 1" in status and not np.array_equal(plain, grid)
    for bad, expect in ((float("nan"), "guidance scale w: nan is not a number"), (99, "guidance scale w: 99 is outside")):
        _, status = list(tab.sample(1.0, 1, 2, "7", bad))[-1]
        assert expect in status and "✓" in status


def test_completion_draws_each_label_from_the_posterior_of_the_kept_rows(tiny_conditional):
    digit = ui.sample_digits()[0][3]
    frames = list(tab.complete(digit, 24, 3, 1.0, 0))
    sheet, status = frames[-1]
    assert len(frames) == 4 and "p(y | kept rows):" in status and status.count("%") == 3 and "✓" in status
    assert np.array_equal(sheet[2:2 + 24, 32:60], digit[:24])
    model = tab._load()[0]
    x0 = torch.from_numpy(digit).float()[None, None] / 127.5 - 1
    y, text = tab.completion_labels(model, x0, 24, 5, seed=0)
    assert y.shape == (5,) and torch.equal(y, tab.completion_labels(model, x0, 24, 5, seed=0)[0])
    top = torch.argsort(__import__("genlib.pixelcnn", fromlist=["x"]).class_posterior(model, x0, 24)[0], descending=True)
    assert text.split(": ", 1)[1].startswith(f"{top[0].item()} (")
    _, text = tab.completion_labels(model, x0, 0, 2, seed=0)  # nothing kept: the uniform prior
    assert "10 %" in text


def test_training_record_of_a_warm_started_conditional_model():
    m = {"epochs": 3, "steps": 2811, "wall_time_s": 1500.0, "hardware": "x86_64 CPU, 2 threads",
         "final": {"test_bits_per_dim_ema": 1.0301, "test_bits_per_dim_given_label_ema": 1.0312, "test_images": 10000},
         "init": {"from": "pixelcnn_uncond", "epochs": 16, "wall_time_s": 7643.1}}
    text = tab.describe_training(m, "local")
    assert "1.0301" in text and "1.0312 given the true label" in text
    assert "started from `pixelcnn_uncond` (16 epochs, 127.4 min): 152.4 min in all" in text


@pytest.mark.parametrize("kind", ["pixelsnail", "shift"])
def test_influence_of_a_conditional_model_is_causal(tiny_conditional, kind):
    img, status = tab.influence(kind, 12, 20)
    assert "later pixels with influence: 0." in status


def test_sample_streams_row_by_row(tiny_pixelsnail):
    frames = list(tab.sample(0.8, 4, 2))
    assert len(frames) == 28 and "row 1/28" in frames[0][1] and "✓" in frames[-1][1]
    grid = frames[-1][0]
    assert grid.shape == (2 * 30 + 2, 2 * 30 + 2)
    first = frames[0][0][2:30, 2:30]  # the first image after one row: rows 1..27 are still the unsampled 0 (grey)
    assert (first[1:] == first[1, 0]).all() and first[1, 0] in (127, 128) and not (first[0] == first[1, 0]).all()
    assert np.array_equal(grid, list(tab.sample(0.8, 4, 2))[-1][0])  # seeded


@pytest.mark.parametrize("t,expect", [(0, "temperature: 0 is outside [0.1, 2]"), (-3, "temperature: -3 is outside"),
                                      (1e6, "temperature: 1e+06 is outside"), (float("nan"), "temperature: nan is not a number")])
def test_bad_temperature_is_clamped_with_a_message(tiny_pixelsnail, t, expect):
    frame = next(tab.sample(t, 1, 0))
    assert expect in frame[1]


def test_completion_keeps_rows_and_handles_bad_input(tiny_pixelsnail):
    digit = ui.sample_digits()[0][3]
    frames = list(tab.complete(digit, 24, 3, 1.0, 0))
    assert len(frames) == 4  # rows 24..27
    sheet, status = frames[-1]
    assert sheet.shape == (32, 4 * 30 + 2) and "24 rows kept" in status and "✓" in status
    # each completion keeps the digit's top rows exactly
    kept = sheet[2:2 + 24, 32:60]
    assert np.array_equal(kept, digit[:24])
    sheet, status = list(tab.complete(digit, 99, 10**6, 1.0, 0))[-1]
    assert "rows to keep: 99 is outside [0, 27]" in status and "completions: 1000000 is outside [1, 8]" in status
    _, status = next(tab.complete(np.zeros((5, 5)), 10, 2, 1.0, 0))
    assert "28×28" in status


def test_drawings(tiny_pixelsnail):
    assert "Nothing drawn" in ui.use_drawing(None)[2]
    blank = {"composite": np.zeros((280, 280, 4), np.uint8)}
    assert "blank" in ui.use_drawing(blank)[2]
    ink = np.full((300, 300, 3), 255, np.uint8)
    ink[60:240, 140:170] = 0
    digit, preview, status = ui.use_drawing(ink)
    assert digit.shape == (28, 28) and preview.shape == (112, 112) and "centred" in status
    d, _, status = ui.pick_digit(10**6)
    assert "outside" in status and d.shape == (28, 28)


@pytest.mark.parametrize("kind", tab.VIEWERS)
def test_influence_is_causal_for_every_model(tiny_pixelsnail, kind):
    img, status = tab.influence(kind, 12, 20)
    assert img.shape == (224, 224, 3) and "later pixels with influence: 0." in status
    assert tuple(img[12 * 8, 20 * 8]) == (220, 38, 38)
    if kind == "masked":
        assert "blind spot" in status
    if kind == "pixelsnail":
        assert "(all of them)" in status


def test_influence_clamps(tiny_pixelsnail):
    _, status = tab.influence("resnet", -4, 99)
    assert "model: 'resnet'" in status and "row: -4 is outside" in status and "column: 99 is outside" in status


def test_missing_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    try:
        grid, status = next(tab.sample(1.0, 2, 0))
        assert grid is None and "⛔" in status
        assert next(tab.complete(None, 10, 2, 1.0, 0))[0] is None
        assert ui.loss_frame("pixelcnn") is None and "⛔" in ui.training_summary("pixelcnn", tab.describe_training)
    finally:
        hub.clear_cache()


def test_viewer_does_not_change_the_sampling_model(tiny_pixelsnail):
    tab.influence("pixelsnail", 5, 5)  # the viewer works in float64 ...
    grid, status = list(tab.sample(1.0, 1, 0))[-1]  # ... and sampling still runs in float32
    assert "✓" in status and next(tab._load()[0].parameters()).dtype == torch.float32
