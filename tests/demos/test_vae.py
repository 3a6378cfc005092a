"""The autoencoder / VAE tab's callbacks as plain functions (committed weights): the map's pixel <-> z mapping, decoding
a point, prior samples and the beta switch, one digit's posterior, interpolation, traversal, few labels, bad input."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from demos import ui
from demos import vae as tab
from genlib import hub
from genlib import vae as V


def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("vae_")}
    assert {"vae_title", "vae_map_h", "vae_beta", "vae_msg_posterior"} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("vae_")}
    assert tab.TAB_ID == "vae" and set(tab.MAP_MODELS) <= set(tab.MODELS)


@pytest.mark.parametrize("name", ["ae2", "vae2"])
def test_pixel_to_z_and_back(name):
    w = tab.WINDOW[name]
    assert tab.pixel_to_z(0, 0, w) == (-w, w)  # top left corner: smallest z1, largest z2
    assert tab.pixel_to_z(tab.SIZE, tab.SIZE, w) == (w, -w)
    assert tab.pixel_to_z(tab.SIZE / 2, tab.SIZE / 2, w) == (0.0, 0.0)
    z = np.array([[0.3 * w, -0.7 * w], [-0.9 * w, 0.1 * w]])
    px = tab.z_to_pixel(z, w)
    back = np.array([tab.pixel_to_z(x, y, w) for x, y in px])
    np.testing.assert_allclose(back, z, atol=1e-12)


def test_a_click_on_a_test_digits_code_decodes_that_digits_class():
    """Click where the test codes of one class are densest: the sliders get that z, and the decoded image there is
    closer to that class's mean test image than to any other class's."""
    codes, labels, full = tab.test_codes("vae2")
    assert full and len(codes) == 10_000
    digits, digit_labels = ui.sample_digits()
    for cls in (0, 1):
        z = np.median(codes[labels == cls], axis=0)
        px, py = tab.z_to_pixel(z, tab.WINDOW["vae2"])
        which, z1, z2, status = tab.map_click("vae2", px, py)
        assert which == "vae2" and abs(z1 - z[0]) < 1e-2 and abs(z2 - z[1]) < 1e-2 and status == ""
        *_, image, status = tab.decode_point(which, z1, z2)
        small = image[::4, ::4].astype(float) / 255  # the 4x upscale back to 28x28
        means = [digits[digit_labels == c].mean(0) / 255 for c in range(10)]
        assert int(np.argmin([((small - m) ** 2).sum() for m in means])) == cls
        assert "test codes lie within" in status


@pytest.mark.parametrize("x,y,message", [(-5, 400, "outside [0, 320]"), (float("nan"), 10, "not a number"),
                                         ("junk", None, "not a number")])
def test_clicks_outside_the_map_are_clamped_with_a_message(x, y, message):
    which, z1, z2, status = tab.map_click("ae2", x, y)
    w = tab.WINDOW["ae2"]
    assert -w <= z1 <= w and -w <= z2 <= w and message in status


def test_the_click_handler_without_coordinates_says_so():
    class Evt:
        _data = None
    *_, status = tab._click_handler("vae2")(Evt())
    assert "No click position" in status


def test_decode_point_draws_both_maps_and_clamps_bad_values():
    ae_map, vae_map, image, status = tab.decode_point("vae2", 0.0, 0.0)
    assert ae_map.startswith("<svg") and vae_map.startswith("<svg") and image.shape == (112, 112)
    assert vae_map.count("<circle") > ae_map.count("<circle")  # the marker is on the VAE's map
    *_, status = tab.decode_point("vae2", float("nan"), 99)
    assert "z₁: nan is not a number" in status and "z₂: 99 is outside [-4, 4]" in status
    *_, status = tab.decode_point("nope", 0, 0)
    assert "is not one of" in status


def test_the_ae_map_has_holes_and_the_vae_map_does_not():
    """Over a grid of the VAE map's central 2-sigma box, almost every point has test codes nearby; the AE's codes, on
    their own map's scale, leave far more empty space (the point of demo 1)."""
    def empty_share(name):
        codes, _, _ = tab.test_codes(name)
        lo, hi = np.percentile(codes, [5, 95], axis=0)
        g = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 15), np.linspace(lo[1], hi[1], 15)), -1).reshape(-1, 2)
        r = (hi - lo).max() / 30
        d = np.linalg.norm(g[:, None] - codes[None, ::5], axis=-1).min(1)
        return (d > r).mean()
    assert empty_share("ae2") > empty_share("vae2")


@pytest.mark.parametrize("name", tab.PRIOR_MODELS)
def test_prior_samples_of_every_model(name):
    grid, table, status = tab.prior_samples(name, 9, 3)
    assert grid.shape[0] == grid.shape[1] and f"**{tab.LABEL[name]}**" in table and "seed 3" in status


def test_the_kl_only_model_draws_untrained_grey():
    x = V.prior_sample(hub.load("vae32_kl"), 16, 0)
    assert 0.25 < x.min() and x.max() < 0.75  # the decoder never learnt: every pixel near 1/2, no black background
    digits = V.prior_sample(hub.load("vae32"), 16, 0)
    assert (digits < 0.05).float().mean() > 0.5  # the trained VAE's samples are mostly black background


def test_prior_clamps_and_the_table_reads_the_test_terms():
    grid, table, status = tab.prior_samples("vae32", 10**6, -4)
    assert "samples: 1000000 is outside [1, 36]" in status and "seed: -4 is outside" in status
    m = hub.load_metrics("vae32")
    assert f"{m['final']['neg_elbo']:.2f}" in table and f"{m['final']['kl_nats']:.2f}" in table
    assert f"| {m['epochs']} |" in table.replace("**", "")


@pytest.mark.parametrize("beta,name,nearest", [(0, "vae32_recon", False), (0.5, "vae32_beta05", False),
                                               (1, "vae32", False), (4, "vae32_beta4", False), (2.6, "vae32_beta4", True),
                                               (1.4, "vae32", True), (float("nan"), "vae32", False)])
def test_beta_switch_picks_the_nearest_trained_beta(beta, name, nearest):
    model, status = tab.beta_model(beta)
    assert model == name and ("was not trained" in status) == nearest


def test_beta_trades_reconstruction_for_kl_on_the_test_set():
    """beta = 0, 0.5, 4 at d = 32, trained alike (8-10 epochs), on the test set: a larger beta pays less KL and more
    reconstruction. (The beta = 1 model, VAE-32, trained 80 epochs and is left out of the ordering.)"""
    terms = {b: hub.load_metrics(name)["final"] for b, name in tab.BETAS.items() if b != 1.0}
    assert terms[0.0]["kl_nats"] > terms[0.5]["kl_nats"] > terms[4.0]["kl_nats"]
    assert terms[0.0]["elbo_recon_nats"] < terms[0.5]["elbo_recon_nats"] < terms[4.0]["elbo_recon_nats"]
    assert hub.load_metrics("vae32_beta4")["final"]["active_units"] < hub.load_metrics("vae32_beta05")["final"]["active_units"]


@pytest.mark.parametrize("name", tab.POSTERIOR_MODELS)
def test_posterior_of_a_bundled_digit(name):
    digit = ui.sample_digits()[0][0]
    sheet, mu_sigma, mapped, status = tab.posterior(digit, name, 6, 1)
    assert sheet is not None and mu_sigma.startswith("<svg") and "≥ ELBO" in status
    assert (mapped.count("<ellipse") == 2) == (name == "vae2")
    elbo = float(status.split("ELBO = ")[1].split(" nats")[0])
    iw = float(status.split(f"ℒ_{tab.IW_K} = ")[1].split(" ")[0])
    assert elbo < iw < 0


@pytest.mark.parametrize("bad", [None, np.zeros((5, 5), np.uint8), "junk", np.zeros((28, 28, 3), np.uint8)])
def test_posterior_and_interpolation_without_a_usable_digit(bad):
    assert "No digit" in tab.posterior(bad)[-1]
    assert "No digit" in tab.interpolate(bad)[-1]
    assert "No digit" in tab.traverse(bad)[-1]


def test_posterior_clamps():
    digit = ui.sample_digits()[0][0]
    *_, status = tab.posterior(digit, "vae32_kl", 999, 0)
    assert "is not one of" in status and "samples: 999 is outside [1, 16]" in status


def test_interpolation_ends_at_the_two_codes():
    digits, labels = ui.sample_digits()
    sheet, status = tab.interpolate(digits[0], 7, "32", 5)
    assert sheet.shape[1] > 5 * 28 and f"#7 (label {labels[7]})" in status
    model = hub.load("vae32")
    xa = tab._binary_digit(digits[0], 0)
    with torch.no_grad():
        first = tab._uint8(model.mean_image(V.code(model, xa)))[0]
    sheet32, _ = tab.interpolate(digits[0], 7, "32", 5)
    # the sheet's bottom-left tile (the VAE row, t = 0) is the decode at mu(x_A); ui.sheet pads tiles by 2 pixels
    tile = sheet32[2 + 30 : 2 + 30 + 28, 2 : 2 + 28]
    tile = tile[..., 0] if tile.ndim == 3 else tile
    assert np.abs(tile.astype(int) - first.astype(int)).max() <= 1
    *_, status = tab.interpolate(digits[0], 10**6, "7", 1)
    assert "is outside" in status and "is not one of" in status


def test_traversal_rows_are_the_digits_largest_kl_dimensions():
    digit = ui.sample_digits()[0][2]
    grid, status = tab.traverse(digit, 3.0, 4)
    assert grid is not None and "−3 to 3" in status
    model = hub.load("vae32")
    with torch.no_grad():
        mu, logvar = model.encode(tab._binary_digit(digit, 0))
    top = torch.argsort(V.kl_per_dim(mu[0], logvar[0]), descending=True)[:4].tolist()
    assert "dimensions " + ", ".join(str(j + 1) for j in top) in status
    *_, status = tab.traverse(digit, 99, 0)
    assert "range: 99 is outside" in status and "dimensions: 0 is outside" in status


def test_few_labels_reads_the_results_and_says_when_they_are_missing(tmp_path, monkeypatch):
    plot, table, status = tab.few_labels()
    assert plot.startswith("<svg") and "| pixels |" in table and "benchmarks/vae.py" in status
    monkeypatch.setattr(tab, "RESULTS", tmp_path / "none.json")
    assert tab.few_labels() == ("", "", tab.few_labels()[2]) and "No few-labels results" in tab.few_labels()[2]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    monkeypatch.setattr(tab, "RESULTS", bad)
    assert "could not be read" in tab.few_labels()[2]
    bad.write_text(json.dumps({"few_labels": {}}))
    assert "could not be read" in tab.few_labels()[2]


def test_missing_weights_are_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    tab.test_codes.cache_clear()
    tab._scatter_layer.cache_clear()
    try:
        digit = ui.sample_digits()[0][0]
        assert "⛔" in tab.decode_point("vae2", 0, 0)[-1]
        assert tab.prior_samples("vae32")[0] is None and "⛔" in tab.prior_samples("vae32")[-1]
        assert "⛔" in tab.posterior(digit)[-1] and "⛔" in tab.interpolate(digit)[-1] and "⛔" in tab.traverse(digit)[-1]
        assert "⛔" in ui.training_summary("vae32", tab.describe_training)
    finally:
        hub.clear_cache()
        tab.test_codes.cache_clear()
        tab._scatter_layer.cache_clear()


def test_chinese_status_lines():
    with ui.language("zh"):
        *_, status = tab.decode_point("vae2", 0.0, 0.0)
        assert "解码器给出的均值图像" in status
        assert "随机种子" in tab.prior_samples("vae32", 4, 0)[-1]


def test_the_notes_quote_the_measured_few_labels_figures():
    """Every few-labels percentage the notes quote is in benchmarks/results/vae.json (rounded to 0.1 %)."""
    rows = json.loads(tab.RESULTS.read_text(encoding="utf-8"))["few_labels"]["rows"]
    acc = {(r["features"], r["labels"]): f"{100 * r['accuracy']:.1f} %" for r in rows}
    quoted = [("AE-32 codes", 10), ("pixels", 10), ("AE-32 codes", 100), ("pixels", 100), ("AE-32 codes", 1000),
              ("pixels", 1000), ("pixels", 60000), ("AE-32 codes", 60000), ("VAE-32 μ", 10)]
    for lang in ("en", "zh"):
        text = (tab.RESULTS.parents[2] / "notes" / lang / "vae.md").read_text(encoding="utf-8")
        for key in quoted:
            assert acc[key] in text, (lang, key, acc[key])
        active = [acc[("VAE-32 μ, active units", k)].removesuffix(" %") for k in (10, 100, 1000, 60000)]
        assert " / ".join(active[:3]) in text.replace(" % / ", " / ")


def test_the_notes_quote_the_measured_likelihood_bound():
    iw = json.loads(tab.RESULTS.read_text(encoding="utf-8"))["iw"]
    assert iw["k"] == 5000 and iw["n"] == 10_000 and iw["iw_nll"] <= iw["neg_elbo"]  # the IW bound is the tighter one
    for lang in ("en", "zh"):
        text = (tab.RESULTS.parents[2] / "notes" / lang / "vae.md").read_text(encoding="utf-8")
        assert f"{iw['iw_nll']:.2f} ± {iw['iw_se']:.2f}" in text and f"{iw['neg_elbo']:.2f}" in text
