"""The diffusion-theory tab's callbacks as plain functions: figures, status lines, clamping, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest

from demos import score, ui


def test_field_draws_arrows_over_the_density_and_clamps():
    svg, status = score.field("mixture", 0.5)
    assert svg.count("<line") > 50 and "data:image/png" in svg and "σ = 0.5" in status
    svg, status = score.field("spiral", float("nan"))
    assert "<svg" in svg and "'spiral' is not one of" in status and "not a number" in status


def test_langevin_reports_mode_shares_and_shows_divergence():
    svg, status = score.run_langevin("two_modes", 0.1, 0.01, 60, 0)
    assert "<circle" in svg and "data weights 0.80 : 0.20" in status
    svg, status = score.run_langevin("two_modes", 0.1, 1e9, 60, 0)  # huge: clamped to 5, then diverges
    assert "outside" in status and "Diverged" in status and "<svg" in svg
    _, status = score.run_langevin("two_modes", 0.1, 0, 5, 0)  # zero and negative steps are clamped up
    assert "outside [0.0001, 5]" in status
    _, status = score.run_langevin("two_modes", 0.1, -1, 5, 0)
    assert "using 0.0001" in status


def test_annealed_langevin_beats_one_sigma_and_refuses_bad_ladders():
    one, ann, status = score.run_annealed("two_modes", 3.0, 0.1, 8, 0.01, 80, 0)
    assert "<svg" in one and "<svg" in ann
    tv = [float(v) for v in __import__("re").findall(r"distance (\d\.\d\d)", status)]
    assert len(tv) == 2 and tv[0] < tv[1]  # annealed first, one sigma second
    one, ann, status = score.run_annealed("two_modes", 0.1, 1.0, 8, 0.01, 100, 0)
    assert one is None and ann is None and "must go down" in status
    _, _, status = score.run_annealed("two_modes", float("nan"), 0.1, 8, 0.01, 20, 0)
    assert "not a number" in status


def test_schedules_show_both_processes_at_the_same_t():
    img, curves, status = score.schedules(3, 300)
    assert img.ndim == 2 and curves.count("<svg") == 2 and "cosine 0.78" in status
    _, _, status = score.schedules(3, 0)
    assert "clean" in status
    _, _, status = score.schedules(10**6, 5000)
    assert "outside" in status


def test_recipe_table_reads_the_benchmark(tmp_path, monkeypatch):
    monkeypatch.setattr(score, "RECIPES", tmp_path / "none.json")
    assert "not been run yet" in score.recipes_html()
    res = {"n": 100, "n_ancestral": 20, "train_steps": 300, "batch_size": 64, "command": "python benchmarks/ddpm_recipes.py",
           "variants": {"cosine_eps": {"schedule": "cosine", "target": "eps", "weighting": "uniform", "train_minutes": 3.0,
                                       "quality": {"ddim-50": {"fid": 40.0, "is": 8.0}}, "grid": None}}}
    (tmp_path / "r.json").write_text(json.dumps(res))
    monkeypatch.setattr(score, "RECIPES", tmp_path / "r.json")
    table = score.recipes_html()
    assert "cosine_eps" in table and "<td>40</td>" in table and "—" in table and "300 steps of batch 64" in table


def test_sde_view_from_the_same_noise():
    fwd, rsde, ode, status = score.simulate_sde("two_modes", 30, "exact", 0)
    assert all("<polyline" in f for f in (fwd, rsde, ode)) and "reverse SDE" in status
    *_, status = score.simulate_sde("two_modes", 30, "learned", 0)
    assert "No learned field" in status
    *_, status = score.simulate_sde("ring8", -4, "junk", 0)
    assert "outside" in status and "not one of" in status


def test_predictor_corrector_streams_and_bounds_work(tiny_weights):
    out = list(score.pc_sample(3, 1, 0.16, 2, 0))
    assert out[-1][0].ndim == 2 and "level 3/3" in out[-1][2]
    stream = score.pc_sample(10**6, 99, -1, 10**6, "x")  # clamped to the bounds: 100 levels, 5 corrector steps, 16
    first = next(stream)
    stream.close()  # the first frame already says what was clamped; running all 100 levels adds ~15 s, no check
    assert first[0].shape == (122, 122) and "100 DDIM steps × (1 + 5) network calls" in first[2]  # 16 images: 4 x 4
    assert "outside [1, 100]" in first[2] and "outside [0, 5]" in first[2] and "outside [1, 16]" in first[2]
    # the tiny weights come without a classifier: the sweep says so instead of crashing
    last = list(score.pc_sweep(2, 0.16, 1, 0))[-1]
    assert last[0] is None and "No weights for 'cnn'" in last[2]


def test_missing_ddpm_gives_a_message(tmp_path, monkeypatch):
    from genlib import hub

    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    hub.clear_cache()
    try:
        (a, b, status), = list(score.pc_sample())
        assert a is None and "No weights for 'ddpm'" in status
    finally:
        hub.clear_cache()


@pytest.mark.parametrize("lang", ["zh"])
def test_status_lines_in_chinese(lang):
    with ui.language(lang):
        _, status = score.run_langevin("two_modes", 0.1, 1e9, 10, 0)
        assert "发散" in status
        _, _, status = score.run_annealed("two_modes", 0.1, 1.0, 8, 0.01, 100, 0)
        assert "阶梯必须往下走" in status
