"""The DDPM tab's callbacks as plain functions (a tiny model stands in for the trained one)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demos import ddpm, ui
from genlib import data, hub


def test_forward_frames_are_the_closed_form():
    digit = ui.sample_digits()[0][3]
    frames = ddpm.forward_frames(digit, seed=0)
    assert frames.shape == (1001, 28, 28) and frames.dtype == np.uint8
    assert np.array_equal(frames[0], digit)
    eps = torch.randn((1, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    x500 = ddpm.process().q_sample(data.to_model_range(digit[None]), torch.tensor([499]), eps)
    assert np.array_equal(frames[500], data.to_uint8(x500[0, 0]))


def test_forward_step_clamps_t_and_reports_schedule_values():
    frames = ddpm.forward_frames(ui.sample_digits()[0][0])
    img, html = ddpm.forward_step(frames, -5)
    assert np.array_equal(img, ui.upscale(frames[0])) and "outside [0, 1000]" in html and "∞" in html
    img, html = ddpm.forward_step(frames, 10**6)
    assert np.array_equal(img, ui.upscale(frames[1000]))
    d = ddpm.process()  # the shipped schedule (cosine since issue 16): sqrt(alpha_bar_t) read from it
    assert d.schedule == hub.load_metrics("ddpm")["diffusion"]["schedule"]
    for t in (1, 500):
        _, html = ddpm.forward_step(frames, t)
        assert f"<td>{float(d.alpha_bar[t - 1]) ** 0.5:.4f}</td>" in html
    _, html = ddpm.forward_step(None, "abc")  # no state yet and junk input: the default digit, t = 0
    assert "not a number" in html


def test_sample_streams_frames_and_clamps_the_request(tiny_weights):
    frames = list(ddpm.sample("ddim", 10, 0.0, 10**4, 1))
    assert 2 <= len(frames) <= 11
    xt, x0, status = frames[-1]
    assert "outside [1, 36]" in status and "✓" in status
    assert xt.shape == x0.shape == (6 * 30 + 2, 6 * 30 + 2)  # 36 images, 6 per row (the page upscales with CSS)
    again = list(ddpm.sample("ddim", 10, 0.0, 10**4, 1))[-1]
    assert np.array_equal(again[0], xt)  # same seed, same images


def test_sample_draws_the_asked_labels_and_bounds_guidance(tiny_weights):
    *_, (xt, _, status) = ddpm.sample("ddim", 3, 0.0, 4, 0, "7", 2.0)
    assert "label 7, w = 2" in status and "✓" in status
    *_, (xt_all, _, status) = ddpm.sample("ddim", 3, 0.0, 4, 0)
    assert "labels 0–9 in turn, w = 1" in status and not np.array_equal(xt, xt_all)
    *_, (_, _, status) = ddpm.sample("ddim", 3, 0.0, 4, 0, "none", 1.0)
    assert "no label (unconditional)" in status
    *_, (_, _, status) = ddpm.sample("ddim", 3, 0.0, 4, 0, "eleven", float("nan"))
    assert "class" in status and "guidance scale w" in status and "labels 0–9 in turn, w = 1" in status
    *_, (_, _, status) = ddpm.sample("ddim", 3, 0.0, 4, 0, 3, 99)
    assert "outside [0, 5]" in status and "label 3, w = 5" in status


def test_sample_rejects_junk_and_bounds_steps(tiny_weights):
    gen = ddpm.sample("euler", 10**6, 7.5, -3, -1)
    _, _, status = next(gen)
    gen.close()
    for text in ("sampler", "steps: 1000000 is outside", "eta", "number of images", "seed"):
        assert text in status


def test_ancestral_and_denoise(tiny_weights):
    digit = ui.sample_digits()[0][0]
    out = list(ddpm.denoise(digit, 40, "ancestral", 50, 0.0, 0, 3))
    assert "from t = 40: ancestral — step 40/40 (t = 0) ✓" in out[-1][2]
    assert out[-1][0].shape == (32, 3 * 30 + 2)
    out = list(ddpm.denoise(digit, 10, "ancestral_tilde", 5, 0.0, 0, 1))
    assert "ancestral_tilde — step 10/10" in out[-1][2]
    out = list(ddpm.denoise(digit, 500, "ddim", 5, 0.5, 0, 2))
    assert "ddim — step 5/5" in out[-1][2]
    out = list(ddpm.denoise(None, 0, "ddim", 5, 0.0, 0, 2))
    assert "t = 0 is the clean digit" in out[-1][2]


def test_missing_weights_give_a_message_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
    hub.clear_cache()
    try:
        (xt, x0, status), = list(ddpm.sample())
        assert xt is None and "No weights for 'ddpm'" in status
        (_, _, status), = list(ddpm.denoise(None))
        assert "No weights" in status
        assert ui.loss_frame("ddpm") is None and "No weights" in ui.training_summary("ddpm", ddpm.describe_training)
        import app

        page = app.build_app()  # the page still builds, with the message in the tab
        assert any("No weights for 'ddpm'" in str(getattr(b, "value", "")) for b in page.blocks.values())
    finally:
        hub.clear_cache()


def test_sampler_streams_about_twenty_frames_and_states_the_steps(tiny_weights):
    frames = list(ddpm.sample("ancestral", 50, 0.0, 2, 0))
    assert 20 <= len(frames) <= 21 and "step 1000/1000 (t = 0) ✓" in frames[-1][2]


def test_training_record_reads_metrics_without_loading_weights():
    from genlib import hub

    hub.clear_cache()
    summary = ui.training_summary("ddpm", ddpm.describe_training)
    loss = hub.load_metrics("ddpm")["final"]["test_loss_ema"]  # the committed record
    assert "cosine schedule, v target, min-SNR-5 weights" in summary and f"held-out training loss {loss:.4f}" in summary
    assert len(ui.loss_frame("ddpm")) > 10 and hub._load_cached.cache_info().currsize == 0


def test_training_record_names_the_recipe_of_the_weights():
    """The recipe comes from the record: one without a "diffusion" entry was trained before recipes existed
    (linear / eps / uniform); in zh the names are translated."""
    old = {"epochs": 12, "dataset": "mnist", "steps": 5616, "wall_time_s": 2882.4, "hardware": "x86_64 CPU, 2 threads",
           "final": {"test_loss_ema": 0.02188}}
    assert "linear schedule, ε target, uniform weights" in ddpm.describe_training(old, "weights/ddpm")
    new = old | {"diffusion": {"schedule": "cosine", "target": "x0", "weighting": "min_snr"}}
    with ui.language("zh"):
        assert "余弦调度，预测 x₀，信噪比封顶为 5 的权重" in ddpm.describe_training(new, "weights/ddpm")
    assert "started from" not in ddpm.describe_training(new, "weights/ddpm")
    continued = new | {"wall_time_s": 1800.0, "init": {"from": "ddpm_base", "epochs": 18, "wall_time_s": 3429.7}}
    assert "started from `ddpm_base` (18 epochs, 57.2 min): 87.2 min in all" in ddpm.describe_training(continued, "w")
    with ui.language("zh"):
        assert "从 `ddpm_base` 开始（18 轮，57.2 分钟）：共 87.2 分钟" in ddpm.describe_training(continued, "w")


@pytest.mark.parametrize("lang", ["en", "zh", "xx"])
def test_language_switch_renders_every_note(lang):
    import app

    texts = app.set_language(lang)
    assert len(texts) == len(app.TABS) + 1  # every tab's note, then the notation table
    assert ("符号表" in texts[-1]) == (lang == "zh") and "#notation" in texts[0]
    assert ("去噪扩散模型" in texts[0]) == (lang == "zh")
    flow = texts[[tab.TAB_ID for tab in app.TABS].index("flow")]
    assert ("流匹配" in flow) == (lang == "zh") and "arXiv:2506.02070" in flow
