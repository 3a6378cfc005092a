"""The SimCLR tab's callbacks as plain functions, on a tiny untrained model and a small gallery: views, the loss in the
open (its numbers equal genlib.simclr's), neighbours, the maps, the probe plot read from the benchmark's file, and
bad input (tau 0 / negative / huge / NaN, batch size out of range, junk toggles, blank or odd drawings, missing files)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from demos import simclr as tab
from demos import ui
from genlib import data, hub, simclr


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A tiny SimCLR under GENLIB_WEIGHTS_DIR with a 60-image gallery (bundled items 40..99)."""
    torch.manual_seed(0)
    folder = tmp_path / "weights" / "simclr"
    simclr.SimCLR(width=2, hidden=32, z_dim=8).eval().save_pretrained(folder)
    imgs, labels = tab.items()
    np.savez_compressed(folder / "gallery.npz", images=imgs[40:], labels=labels[40:].astype(np.uint8),
                        test_index=np.arange(40, 100))
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for f in (hub.clear_cache, tab.gallery.cache_clear, tab._gallery_features.cache_clear, tab._space_numbers.cache_clear,
              tab._spectra.cache_clear):
        f()
    yield folder
    for f in (hub.clear_cache, tab.gallery.cache_clear, tab._gallery_features.cache_clear, tab._space_numbers.cache_clear,
              tab._spectra.cache_clear):
        f()


def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("simclr_")}
    assert {"simclr_title", "simclr_tau", "simclr_anchor"} | {f"simclr_aug_{a}" for a in tab.AUGS} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("simclr_")}
    assert tab.TAB_ID == "simclr" and tab.MODELS == ("simclr",)


def test_views_are_seeded_and_the_toggles_switch_augmentations_off():
    sheet, status = tab.views(4, 3, tab.AUGS)
    again, _ = tab.views(4, 3, tab.AUGS)
    assert np.array_equal(sheet, again) and sheet.shape == (2 * (3 * 30 + 2), 2 * (4 * 30 + 2)) and "4 images" in status
    assert not np.array_equal(sheet, tab.views(4, 4, tab.AUGS)[0])
    plain, status = tab.views(4, 3, [])  # no augmentation: both view rows equal the images
    row = lambda r: plain[2 * (2 + 30 * r): 2 * (30 + 30 * r)]  # noqa: E731  row r of the sheet (pad 2, upscaled 2x)
    assert np.array_equal(row(0), row(1)) and np.array_equal(row(0), row(2)) and "none" in status


@pytest.mark.parametrize("n,augs,words", [(1, None, "outside [2, 12]"), (500, None, "outside [2, 12]"),
                                          ("junk", None, "not a number"), (4, ["crop", "solarize"], "'solarize' is not one of"),
                                          (4, 7, "is not one of")])
def test_bad_batch_sizes_and_toggles_are_messages(n, augs, words):
    sheet, status = tab.views(n, 0, augs)
    assert sheet is not None and words in status


def test_loss_view_equals_genlib_and_tau_sharpens(tiny):
    heat, bars, status = tab.loss_view(3, 0, tab.AUGS, 1, 0.5)
    assert heat.startswith("<svg") and bars.startswith("<svg") and "★" in bars
    _, _, a, b = tab._batch(3, 0, tuple(tab.AUGS))
    model = hub.load("simclr")
    with torch.no_grad():
        _, z = model(torch.cat([a, b]))
    s = simclr.similarity(z[:3].double(), z[3:].double())
    p, loss, rank = simclr.anchor_softmax(s, 1, 0.5)
    assert f"ℓ = −log p = {loss:.3f}" in status and f"rank {rank} of 5" in status
    assert f"{simclr.nt_xent(z[:3].double(), z[3:].double(), 0.5).item():.3f}" in status
    assert f"log 5 = {math.log(5):.3f}" in status
    cold, hot = tab.loss_view(3, 0, tab.AUGS, 1, 0.01)[1], tab.loss_view(3, 0, tab.AUGS, 1, 2.0)[1]
    assert cold != hot


@pytest.mark.parametrize("tau,words", [(0, "outside [0.01, 10]"), (-1, "outside [0.01, 10]"), (1e9, "outside [0.01, 10]"),
                                       (float("nan"), "not a number"), ("x", "not a number")])
def test_bad_temperatures_are_messages(tiny, tau, words):
    heat, bars, status = tab.loss_view(4, 0, tab.AUGS, 0, tau)
    assert heat.startswith("<svg") and words in status and "nan" not in bars.lower()


def test_anchor_out_of_range_is_clamped_to_the_batch(tiny):
    _, _, status = tab.loss_view(2, 0, tab.AUGS, 23, 0.5)
    assert "anchor: 23 is outside [0, 3]" in status and "Anchor b2" in status


def test_neighbours_of_an_item_and_of_a_drawing(tiny):
    item, preview, label, status = tab.pick_item(5)
    sheet, text = tab.neighbours(item, label)
    assert sheet.ndim == 2 and "h " in text and f"/{tab.K_NEIGHBOURS}" in text
    drawing = np.zeros((280, 280, 3), np.uint8) + 255
    drawing[40:240, 100:180] = 0
    item2, _, label2, msg = tab.use_drawing({"composite": drawing})
    assert label2 == -1 and item2.shape == (28, 28)
    sheet, text = tab.neighbours(item2, label2)
    assert sheet is not None and "your drawing" in text


@pytest.mark.parametrize("editor", [None, {"composite": np.zeros((280, 280, 4), np.uint8)},
                                    {"composite": np.zeros((5,), np.uint8)}])
def test_blank_or_odd_drawings_keep_the_item(editor):
    *outputs, msg = tab.use_drawing(editor)
    assert msg and all(isinstance(o, type(outputs[0])) for o in outputs)  # gr.skip() for each output


@pytest.mark.parametrize("bad", [None, np.zeros((5, 5)), "junk", np.full((28, 28), np.nan)])
def test_neighbours_without_a_usable_item_is_a_message(tiny, bad):
    sheet, status = tab.neighbours(bad, -1)
    assert sheet is None and "No item" in status


def test_missing_gallery_and_results_are_messages(tiny, tmp_path, monkeypatch):
    (tiny / "gallery.npz").unlink()
    tab.gallery.cache_clear()
    assert "benchmarks/simclr.py" in tab.neighbours(tab.items()[0][0], 0)[1]
    assert "benchmarks/simclr.py" in tab.space()[3]
    monkeypatch.setattr(tab, "RESULTS", tmp_path / "none.json")
    bars, sv, status = tab.probe_view()
    assert bars == "" and sv.startswith("<svg") and "benchmarks/simclr.py" in status
    (tmp_path / "bad.json").write_text("{\"probe\": 3}")
    assert "could not be read" in tab.read_results(tmp_path / "bad.json")[1]


def test_space_maps_both_feature_sets(tiny):
    h_map, px_map, legend, status = tab.space()
    assert h_map.count("<circle") == px_map.count("<circle") == 60 and "sneaker" in legend
    assert "60 test images" in status


def test_probe_plot_reads_the_benchmark_file(tiny, tmp_path, monkeypatch):
    res = {"command": "python benchmarks/simclr.py", "date": "2026-11-29", "budgets": ["10", "100", "all"],
           "probe": {f: {k: {"mean": v} for k, v in zip(["10", "100", "all"], vals)}
                     for f, vals in {"h": [0.7, 0.8, 0.873], "z": [0.6, 0.7, 0.8], "pixels": [0.65, 0.75, 0.84]}.items()},
           "knn20": {"h": 0.85}, "supervised": {"test_accuracy": 0.91}, "h_beats_z": True, "h_beats_pixels": True}
    path = tmp_path / "simclr.json"
    path.write_text(json.dumps(res))
    monkeypatch.setattr(tab, "RESULTS", path)
    bars, sv, status = tab.probe_view()
    assert "0.873" in bars and bars.count("<rect") == 9 and sv.startswith("<svg")
    assert "h 87.3%" in status and "91.0%" in status
    with ui.language("zh"):
        assert "全部" in tab.probe_view()[0]


def test_energy_rank():
    assert tab.energy_rank(np.array([1.0, 0.0, 0.0])) == 1
    assert tab.energy_rank(np.ones(10)) == 9  # 90 % of ten equal parts


def test_status_lines_follow_the_language(tiny):
    with ui.language("zh"):
        _, status = tab.views(20, 0, None)
        assert "超出范围" in status and "张图像" in status
        _, _, status = tab.loss_view(2, 0, None, 0, 0.5)
        assert "锚点" in status
