"""Numbers and small derivations that the notes state in prose, checked against genlib.

Each test is named next to its claim in notes/en/*.md and notes/zh/*.md with a `<!-- test: ... -->` marker.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from genlib import flow
from genlib import pixelcnn as px
from genlib import transformer as tr
from genlib.diffusion import GaussianDiffusion
from genlib.flow import PATHS, GaussianMixture

ROOT = Path(__file__).resolve().parents[2]
D64 = torch.float64


def _n(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ---- ddpm.md ---------------------------------------------------------------------------------------------
def _posterior_coefficients(d: GaussianDiffusion):
    """The two weights of mu_tilde_t = c_x0 x_0 + c_xt x_t, read off q_posterior with unit inputs."""
    t = torch.arange(d.T)
    one, zero = torch.ones(d.T, 1, 1, 1, dtype=D64), torch.zeros(d.T, 1, 1, 1, dtype=D64)
    c_x0 = d.q_posterior(one, zero, t)[0].flatten()
    c_xt = d.q_posterior(zero, one, t)[0].flatten()
    return c_x0, c_xt


def test_posterior_mean_weights():
    """At t = 1 the posterior mean is x_0 exactly; at t = 10 about 0.15 x_0 + 0.85 x_t; the weight on x_0 falls."""
    d = GaussianDiffusion()
    c_x0, c_xt = _posterior_coefficients(d)
    assert c_x0[0].item() == pytest.approx(1.0, abs=1e-12) and c_xt[0].item() == 0.0  # t = 1 (index 0)
    assert float(d.beta_tilde[0]) == 0.0  # and no spread: the first step back is fixed by x_0
    assert c_x0[1].item() == pytest.approx(0.545, abs=1e-3)  # t = 2
    assert c_x0[9].item() == pytest.approx(0.147, abs=1e-3) and c_xt[9].item() == pytest.approx(0.853, abs=1e-3)
    assert c_x0[99].item() == pytest.approx(0.019, abs=1e-3)  # t = 100
    assert (c_x0[1:] < c_x0[:-1]).all()  # monotone: the later the step, the less x_0 counts
    assert (c_xt[9:] > 0.85).all()  # from t = 10 on, x_t carries most of the weight


def test_posterior_by_completing_the_square():
    """The precision of q(x_{t-1} | x_t, x_0) is alpha_t / beta_t + 1 / (1 - alpha_bar_{t-1}) = 1 / beta_tilde_t,
    and the mean is beta_tilde_t times the linear coefficient sqrt(alpha_t) x_t / beta_t + sqrt(abar_{t-1}) x_0 / (1 - abar_{t-1})."""
    d = GaussianDiffusion()
    i = torch.arange(1, d.T)  # t >= 2 (at t = 1 the prior q(x_0 | x_0) is a point mass)
    a, b, ab_prev = d.alpha[i], d.beta[i], d.alpha_bar_prev[i]
    precision = a / b + 1.0 / (1.0 - ab_prev)
    torch.testing.assert_close(1.0 / precision, d.beta_tilde[i])
    c_x0, c_xt = _posterior_coefficients(d)
    torch.testing.assert_close(d.beta_tilde[i] * a.sqrt() / b, c_xt[i])
    torch.testing.assert_close(d.beta_tilde[i] * ab_prev.sqrt() / (1.0 - ab_prev), c_x0[i])


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_l_t_minus_1_with_different_fixed_variances(variance):
    """KL(N(mu_tilde, beta_tilde) || N(mu_theta, sigma_t^2)) = |mu_tilde - mu_theta|^2 / (2 sigma_t^2) + C_t, where
    C_t = d/2 (beta_tilde/sigma^2 - 1 - log(beta_tilde/sigma^2)) does not depend on the model (Ho et al. eq. 8)."""
    d, g = GaussianDiffusion(), torch.Generator().manual_seed(0)
    for i in [1, 9, 499, 999]:
        mu_q, mu_p = torch.randn(2, 50, generator=g, dtype=D64)
        var_q = d.beta_tilde[i]
        var_p = d.beta[i] if variance == "beta" else d.beta_tilde[i]
        kl = torch.distributions.kl_divergence(torch.distributions.Normal(mu_q, var_q.sqrt()),
                                               torch.distributions.Normal(mu_p, var_p.sqrt())).sum()
        r = var_q / var_p
        const = 0.5 * 50 * (r - 1.0 - torch.log(r))
        torch.testing.assert_close(kl, (mu_q - mu_p).pow(2).sum() / (2 * var_p) + const)
        assert (variance == "beta_tilde") == bool(const.abs() < 1e-12)


def test_eps_form_weight():
    """|mu_tilde(x_t, x_0) - mu_theta|^2 / (2 sigma_t^2) = beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)) |eps - eps_theta|^2;
    with sigma_t^2 = beta_t the weight is about 0.5 at t = 1 and about 0.01 at t = T."""
    d, g = GaussianDiffusion(), torch.Generator().manual_seed(1)
    x0, eps, eps_theta = torch.randn(3, 4, 1, 6, 6, generator=g, dtype=D64)
    for i in [0, 9, 499, 999]:
        t = torch.full((4,), i)
        xt = d.q_sample(x0, t, eps)
        mu_true, _ = d.q_posterior(x0, xt, t)
        mu_model, _ = d.q_posterior(d.predict_x0(xt, t, eps_theta), xt, t)
        sigma2 = d.beta[i]
        weight = d.beta[i] ** 2 / (2 * sigma2 * d.alpha[i] * (1 - d.alpha_bar[i]))
        torch.testing.assert_close((mu_true - mu_model).pow(2).sum() / (2 * sigma2), weight * (eps - eps_theta).pow(2).sum())
    w = d.beta / (2 * d.alpha * (1 - d.alpha_bar))  # the weight with sigma_t^2 = beta_t
    assert float(w[0]) == pytest.approx(0.5, abs=1e-3) and float(w[-1]) == pytest.approx(0.0102, abs=1e-4)
    assert float(w[9]) == pytest.approx(0.074, abs=1e-3) and int(w.argmax()) == 0
    assert 0.004 < float(w[99:].min()) and float(w[99:].max()) < 0.011  # from t = 100 on: 100 times smaller than at t = 1


def test_end_of_chain_under_both_schedules():
    """alpha_bar_T is about 4e-5 (linear) and 2e-9 (cosine, its last beta clipped at 0.999); L_T for the brightest
    digit (all pixels 1) is at most about 2e-5 nats per pixel (linear) and 1e-9 (cosine)."""
    lin, cos = GaussianDiffusion(schedule="linear"), GaussianDiffusion(schedule="cosine")
    assert float(lin.alpha_bar[-1]) == pytest.approx(4e-5, rel=0.05)
    assert float(cos.alpha_bar[-1]) == pytest.approx(2.4e-9, rel=0.05) and float(cos.beta[-1]) == pytest.approx(0.999)
    ones = torch.ones(1, 1, 28, 28, dtype=D64)
    assert lin.prior_kl(ones).item() == pytest.approx(2e-5, rel=0.05)
    assert cos.prior_kl(ones).item() == pytest.approx(1.2e-9, rel=0.05)


def test_cosine_schedule_facts_of_section_10():
    """alpha_bar_500 is 0.079 (linear) and 0.49 (cosine); SNR_t > 5 for the first 261 cosine steps (where the min-SNR
    cap acts); the eps loss weighs the x0 error by SNR_t, about e^10 times more at t = 1 than at t = 500."""
    lin, cos = GaussianDiffusion(schedule="linear"), GaussianDiffusion(schedule="cosine")
    assert float(lin.alpha_bar[499]) == pytest.approx(0.079, abs=5e-4)
    assert float(cos.alpha_bar[499]) == pytest.approx(0.49, abs=5e-3)
    snr = cos.alpha_bar.double() / (1 - cos.alpha_bar.double())
    assert int((snr > 5).sum()) == 261 and bool((snr[:261] > 5).all())  # the first 261 steps, t = 1..261
    assert math.log(snr[0] / snr[499]) == pytest.approx(10, abs=0.2)


def test_ddpm_conditional_figures_match_the_benchmarks():
    """Section 11's "now" figures are the ones the benchmarks wrote for the 18-epoch model it trained (`ddpm_base`,
    kept in benchmarks/results/ddpm_base.json), in both languages: the Compare board's DDPM rows and
    benchmarks/quality.py's rows (FID to one decimal, IS to two), the DDIM-50 / ancestral-1000 ratio and the
    null-label row."""
    results = json.loads((ROOT / "benchmarks" / "results" / "ddpm_base.json").read_text(encoding="utf-8"))
    rows = {r["label"]: r for r in results["compare"]["rows"]}
    quality = results["quality"]["models"]
    note = {lang: (ROOT / "notes" / lang / "ddpm.md").read_text(encoding="utf-8") for lang in ("en", "zh")}
    for lang, text in note.items():
        section = text[text.index("## 11.") :]
        for label in ("DDIM-10", "DDIM-50", "DDIM-50, η = 1"):
            assert f"{rows[label]['fid']:.1f} | " in section and f"{rows[label]['is']:.2f} |" in section, (lang, label)
        for config in ("ddim-50:bfloat16", "ancestral-1000:bfloat16"):
            q = quality[config]
            assert f"{q['fid']:.1f} | " in section and f"{q['is']:.2f} |" in section, (lang, config)
        anc, ddim, null = (quality[k] for k in ("ancestral-1000:bfloat16", "ddim-50:bfloat16", "ddim-50:bfloat16:w=0"))
        assert f"{ddim['fid'] / anc['fid']:.2f}" in section
        for q in (null, quality["ddim-50:bfloat16:w=1.25"]):
            assert f"FID {q['fid']:.1f}" in section and f"IS {q['is']:.2f}" in section
        m = json.loads((ROOT / "weights" / "ddpm_base" / "metrics.json").read_text())
        assert f"{m['wall_time_s'] / 60:.0f}" in section and m["p_uncond"] == 0.1 and m["unet"]["num_classes"] == 10


def _section(text: str, number: int) -> str:
    start = text.index(f"## {number}.")
    return text[start : text.index("\n## ", start)]


def test_ddpm_longer_run_figures_match_the_benchmarks():
    """Section 12's table and text are the benchmark files, in both languages: quality.json (the shipped `ddpm` and
    the rows of `ddpm_base` drawn again in the same run), ddpm_base.json (its other rows), the ratio to the
    ancestral sampler, the Compare board's DDIM-50 row, and both runs' metrics.json (minutes, held-out loss, lr)."""
    results = ROOT / "benchmarks" / "results"
    q = json.loads((results / "quality.json").read_text())["models"]
    base = json.loads((results / "ddpm_base.json").read_text(encoding="utf-8"))["quality"]["models"]
    board = {r["label"]: r for r in json.loads((results / "compare.json").read_text())["rows"] if r["model"] == "ddpm"}
    m, m0 = (json.loads((ROOT / "weights" / name / "metrics.json").read_text()) for name in ("ddpm", "ddpm_base"))
    assert m["init"]["from"] == "ddpm_base" and m["init"]["wall_time_s"] == m0["wall_time_s"]
    assert m["lr"] == 4e-4 and m["epochs"] == 12 and m0["epochs"] == 18 and m0["lr"] == 1e-3
    pairs = [("ddim-50:bfloat16", q["ddim-50:bfloat16:model=ddpm_base"]), ("ddim-50:bfloat16:eta=1", q["ddim-50:bfloat16:eta=1:model=ddpm_base"]),
             ("ancestral-1000:bfloat16", base["ancestral-1000:bfloat16"]), ("ddim-50:bfloat16:w=1.25", base["ddim-50:bfloat16:w=1.25"]),
             ("ddim-50:bfloat16:w=0", base["ddim-50:bfloat16:w=0"])]
    assert q["ddim-50:bfloat16:model=ddpm_base"]["fid"] == base["ddim-50:bfloat16"]["fid"]  # drawn again: the same
    for lang in ("en", "zh"):
        section = _section((ROOT / "notes" / lang / "ddpm.md").read_text(encoding="utf-8"), 12)
        for new, old in pairs:
            a = q[new]
            assert f"| {old['fid']:.2f} | {a['fid']:.2f} | {old['is']:.2f}" in section, (lang, new)
            assert f"| {a['is']:.2f} ± {a['is_std']:.2f} |" in section, (lang, new)
        assert f"{q['ddim-50:bfloat16']['fid'] / q['ancestral-1000:bfloat16']['fid']:.2f}" in section
        assert f"FID {board['DDIM-50']['fid']:.1f}" in section and f"IS {board['DDIM-50']['is']:.2f}" in section
        assert f"{m['wall_time_s'] / 60:.1f}" in section and f"{(m['wall_time_s'] + m0['wall_time_s']) / 60:.0f}" in section
        assert f"{m0['final']['test_loss_ema']:.5f}" in section and f"{m['final']['test_loss_ema']:.5f}" in section
        assert f"{base['ddim-50:bfloat16:w=0']['fid']:.1f} → {q['ddim-50:bfloat16:w=0']['fid']:.1f}" in section


def test_ddpm_speed_figures_match_the_benchmark():
    """Section 12's timings are benchmarks/results/speed.json's, and the split drew the same samples."""
    sm = json.loads((ROOT / "benchmarks" / "results" / "speed.json").read_text())["sampling_16"]
    assert sm["split_max_abs_diff"] == 0.0
    for lang, unit in (("en", " s"), ("zh", " 秒")):
        section = _section((ROOT / "notes" / lang / "ddpm.md").read_text(encoding="utf-8"), 12)
        for key in ("bfloat16/ddim-50", "bfloat16_split/ddim-50"):
            assert f"{sm[key]['median_s']}{unit}" in section, (lang, key)


def test_score_note_recipe_table_is_the_benchmark_file():
    """Section 7 of the score note quotes benchmarks/results/ddpm_recipes.json row by row, in both languages."""
    res = json.loads((ROOT / "benchmarks" / "results" / "ddpm_recipes.json").read_text())
    for lang in ("en", "zh"):
        note = (ROOT / "notes" / lang / "score.md").read_text(encoding="utf-8")
        assert res["command"] in note
        for name, v in res["variants"].items():
            q = v["quality"]
            cells = (f"| {v['schedule']} | {v['target']} | {v['weighting']} | {v['steps']} | {q['ddim-50']['fid']} | "
                     f"{q['ddim-50']['is']} | {q['ancestral-1000']['fid']} | {q['ancestral-1000']['is']} |")
            assert cells in note, (lang, name)


def test_ddim_step_keeps_the_marginal():
    """With the true x_0 and eps, the DDIM update gives x_s = sqrt(abar_s) x_0 + noise of variance 1 - abar_s,
    for every eta: the coefficient sqrt(1 - abar_s - sigma^2) is what makes (1 - abar_s - sigma^2) + sigma^2 = 1 - abar_s."""
    d, g = GaussianDiffusion(), torch.Generator().manual_seed(2)
    x0 = torch.full((200_000, 1, 1, 1), 0.4, dtype=D64)
    t, s = 600, 300
    eps, z = torch.randn(2, *x0.shape, generator=g, dtype=D64)
    xt = d.q_sample(x0, torch.full((len(x0),), t), eps)
    for eta in [0.0, 0.5, 1.0]:
        xs = d.ddim_step(xt, t, s, eps, x0, eta, z)
        a_s = float(d.alpha_bar[s])
        assert xs.mean().item() == pytest.approx(a_s**0.5 * 0.4, abs=5e-3)
        assert xs.var().item() == pytest.approx(1.0 - a_s, rel=1e-2)


def test_ddim_eta0_is_deterministic():
    """eta = 0 makes sigma = 0, so the noise z never enters: x_s is a fixed function of x_t."""
    d, g = GaussianDiffusion(), torch.Generator().manual_seed(3)
    x, eps, x0, z1, z2 = torch.randn(5, 2, 1, 4, 4, generator=g, dtype=D64)
    torch.testing.assert_close(d.ddim_step(x, 500, 480, eps, x0, 0.0, z1), d.ddim_step(x, 500, 480, eps, x0, 0.0, z2))
    assert not torch.allclose(d.ddim_step(x, 500, 480, eps, x0, 1.0, z1), d.ddim_step(x, 500, 480, eps, x0, 1.0, z2))


def test_unet_block_counts():
    """The trained DDPM U-Net: one residual block per level in the encoder, two in the decoder, two in the middle;
    16, 32 and 64 channels at 28, 14 and 7 pixels."""
    from genlib.nn import ResBlock
    from genlib.unet import UNet

    config = json.loads((ROOT / "weights" / "ddpm" / "config.json").read_text())
    net = UNet(**config)
    levels = len(config["ch_mult"])

    def count(blocks):
        return sum(isinstance(m, ResBlock) for m in blocks.modules())

    assert config["num_res_blocks"] == 1
    assert count(net.down) == levels * 1 and count(net.up) == levels * 2 and count(net.mid) == 2
    assert [config["ch"] * m for m in config["ch_mult"]] == [16, 32, 64]
    assert 0.68e6 < _n(net) < 0.70e6  # "about 0.69 million parameters"


# ---- transformer.md --------------------------------------------------------------------------------------
def test_positional_encoding_multiplies_position_by_frequency():
    """The code's exp(-2i ln(10000) / d) is the angular frequency omega_i = 1 / 10000^(2i/d), multiplied by pos."""
    d_model = 64
    pe = tr.positional_encoding(50, d_model).double()
    i = torch.arange(d_model // 2, dtype=D64)
    omega = torch.exp(-2 * i * math.log(10000.0) / d_model)
    torch.testing.assert_close(omega, 1.0 / 10000.0 ** (2 * i / d_model))
    assert omega[0] == 1.0 and omega[-1] < 1e-3  # a frequency (at most 1), not a divisor (at least 1)
    pos = torch.arange(50, dtype=D64)[:, None]
    torch.testing.assert_close(pe[:, 0::2], torch.sin(pos * omega), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("d_model,d_ff,h", [(64, 256, 4), (512, 2048, 8)])
def test_ffn_share_of_layer_parameters(d_model, d_ff, h):
    """FFN: 2 d d_ff + d_ff + d; attention: 4 d^2 + 4 d; LayerNorm: 2 d. The FFN holds about two thirds of an
    encoder layer but just under half of a decoder layer (which has two attention sublayers)."""
    attn, ff = tr.MultiHeadedAttention(h, d_model, 0.0), tr.PositionwiseFeedForward(d_model, d_ff, 0.0)
    enc = tr.EncoderLayer(d_model, attn, ff, 0.0)
    dec = tr.DecoderLayer(d_model, tr.MultiHeadedAttention(h, d_model, 0.0), tr.MultiHeadedAttention(h, d_model, 0.0),
                          tr.PositionwiseFeedForward(d_model, d_ff, 0.0), 0.0)
    assert _n(ff) == 2 * d_model * d_ff + d_ff + d_model
    assert _n(attn) == 4 * d_model**2 + 4 * d_model
    assert _n(enc) == _n(attn) + _n(ff) + 2 * 2 * d_model
    assert _n(dec) == 2 * _n(attn) + _n(ff) + 3 * 2 * d_model
    share_enc, share_dec = _n(ff) / _n(enc), _n(ff) / _n(dec)
    assert 0.65 < share_enc < 0.67
    assert 0.49 < share_dec < 0.50  # not "most": the two attentions together hold slightly more
    if d_model == 64:
        assert (_n(ff), _n(attn), _n(enc), _n(dec)) == (33_088, 16_640, 49_984, 66_752)


def test_forward_returns_states_and_log_probs_is_the_generator():
    torch.manual_seed(0)
    model = tr.Transformer(13, 13, N=1, d_model=16, d_ff=32, h=2, dropout=0.0).eval()
    src, tgt = torch.randint(3, 13, (2, 5)), torch.randint(3, 13, (2, 4))
    states = model(src, tgt, tr.padding_mask(src, 0), tr.subsequent_mask(4))
    assert states.shape == (2, 4, 16)  # decoder states, not probabilities
    lp = model.log_probs(states)
    assert lp.shape == (2, 4, 13)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 4))


def test_label_smoothing_variants():
    """The Annotated Transformer spreads eps over the V - 2 tokens other than the truth and padding; the original
    (Szegedy et al.) mixes the one-hot target with the uniform distribution over all V classes."""
    V, eps = 13, 0.1
    q = tr.LabelSmoothing(V, padding_idx=0, smoothing=eps).target_distribution(torch.tensor([5]))[0]
    assert q[5] == pytest.approx(1 - eps) and q[0] == 0 and q[3] == pytest.approx(eps / (V - 2))
    original = (1 - eps) * nn.functional.one_hot(torch.tensor(5), V).double() + eps / V
    assert original.sum().item() == pytest.approx(1.0) and original[5].item() == pytest.approx(1 - eps + eps / V)


# ---- flow.md ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PATHS))
def test_marginal_field_uses_tweedie(name):
    """marginal_field = alpha'_t E[z|x] + beta'_t (x - alpha_t E[z|x]) / beta_t, and Tweedie's formula
    E[z | x_t = x] = (x + beta_t^2 grad log p_t(x)) / alpha_t ties the posterior mean to the score."""
    mix = GaussianMixture(torch.tensor([[-1.5, 0.0], [1.0, 1.0], [0.5, -1.5]], dtype=D64),
                          torch.tensor([0.3, 0.5, 0.2], dtype=D64), torch.tensor([0.5, 0.3, 0.2], dtype=D64))
    path, g = PATHS[name], torch.Generator().manual_seed(4)
    x = 2 * torch.randn(64, 2, generator=g, dtype=D64)
    for tv in [0.2, 0.5, 0.8]:
        t = torch.tensor(tv, dtype=D64)
        a, b, da, db = path.alpha(t), path.beta(t), path.d_alpha(t), path.d_beta(t)
        z_hat = mix.posterior_mean(path, x, t)
        torch.testing.assert_close(z_hat, (x + b**2 * mix.marginal(path, t).score(x)) / a)
        torch.testing.assert_close(mix.marginal_field(path, x, t), da * z_hat + db * (x - a * z_hat) / b)


def test_guidance_w0_samples_the_data():
    """w = 0 is the unconditional field, which carries p_init exactly to p_data: not a heuristic, like w = 1."""
    u_cond, u_uncond = torch.ones(3, 2), 2 * torch.ones(3, 2)
    torch.testing.assert_close(flow.guided_field(u_cond, u_uncond, 0.0), u_uncond)
    torch.testing.assert_close(flow.guided_field(u_cond, u_uncond, 1.0), u_cond)


# ---- pixelcnn.md -----------------------------------------------------------------------------------------
def _masked_stack(L: int, channels: int = 4) -> nn.Module:
    """L layers of 3x3 masked convolutions: mask A, then mask B (tanh between, so no gradient is lost)."""
    torch.manual_seed(0)
    mods: list[nn.Module] = [px.MaskedConv2d(1, channels, 3, "A")]
    for _ in range(L - 1):
        mods += [nn.Tanh(), px.MaskedConv2d(channels, channels, 3, "B")]
    return nn.Sequential(*mods, nn.Tanh(), nn.Conv2d(channels, 1, 1)).double()


def _footprint(model: nn.Module, r: int, c: int, size: int = 20) -> torch.Tensor:
    x = torch.randn(1, 1, size, size, dtype=D64, requires_grad=True)
    model(x)[0, 0, r, c].backward()
    return x.grad[0, 0].abs()


def _window(L: int, r: int, c: int) -> list[tuple[int, int]]:
    """What L layers of 3x3 kernels should reach in the past: rows r-L..r-1 within L columns, and L pixels left."""
    return [(r - a, c + b) for a in range(1, L + 1) for b in range(-L, L + 1)] + [(r, c - b) for b in range(1, L + 1)]


@pytest.mark.parametrize("L", [2, 3, 4, 6])
def test_masked_stack_blind_spot_count(L):
    """Row r - k is reached only up to column c + k, so it misses L - k pixels: sum_k (L - k) = L (L - 1) / 2."""
    r, c = 12, 9
    seen = _footprint(_masked_stack(L), r, c)
    blind = [(i, j) for i, j in _window(L, r, c) if seen[i, j] == 0]
    assert len(blind) == L * (L - 1) // 2
    assert all(j - c > r - i for i, j in blind)  # all of them above and to the right of the diagonal
    outside = [(i, j) for i in range(20) for j in range(20) if seen[i, j] > 0 and (i, j) not in _window(L, r, c)]
    assert outside == []  # causal, and nothing beyond the window


def blind_spot_figure(L: int = 4) -> str:
    """The text figure of pixelcnn.md: # seen, o blind spot, x the pixel, . later in raster order."""
    r, c = 12, 9
    seen = _footprint(_masked_stack(L), r, c)
    head = "      " + " ".join(f"{'c' if b == 0 else f'{b:+d}':>2}" for b in range(-L, L + 1))
    rows = [head]
    for a in range(L, -1, -1):
        cells = []
        for b in range(-L, L + 1):
            i, j = r - a, c + b
            if a == 0 and b == 0:
                cells.append("x")
            elif a == 0 and b > 0:
                cells.append(".")
            else:
                cells.append("#" if seen[i, j] > 0 else "o")
        label = "r" if a == 0 else f"r-{a}"
        rows.append(f"{label:<5} " + " ".join(f"{ch:>2}" for ch in cells))
    return "\n".join(rows)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_blind_spot_figure_in_the_note_is_current(lang):
    text = (ROOT / "notes" / lang / "pixelcnn.md").read_text(encoding="utf-8")
    assert blind_spot_figure(4) in text, "regenerate with: python -m tests.genlib.test_note_claims"


def test_pixelcnn_result_figures_match_the_benchmarks():
    """Section 11 quotes the trained model's record (weights/pixelcnn/metrics.json: epochs, steps, minutes, and the
    run it started from) and benchmarks/pixelcnn.py's figures (test bits/dim with the label summed out, given it and
    without it; IS, its bootstrap spread, FID and label agreement per temperature and guidance scale, the
    unconditional start; the time for 16 samples with and without guidance), in both languages."""
    pc = json.loads((ROOT / "benchmarks" / "results" / "pixelcnn.json").read_text())
    m = json.loads((ROOT / "weights" / "pixelcnn" / "metrics.json").read_text())
    bpd, q = pc["test_bits_per_dim"], pc["samples"]
    results = [*q["temperatures"].values(), *pc["samples_guidance"]["guidance"].values()]
    for lang, pct in (("en", " %"), ("zh", "%")):
        note = (ROOT / "notes" / lang / "pixelcnn.md").read_text(encoding="utf-8")
        assert f"{m['steps']:,}" in note and f"{m['epochs']}" in note and f"{m['wall_time_s'] / 60:.0f}" in note
        assert f"{m['init']['wall_time_s'] / 60:.0f}" in note
        assert f"{(m['init']['wall_time_s'] + m['wall_time_s']) / 60:.0f}" in note
        for key in ("float32", "bfloat16", "given_label_float32", "no_label_float32"):
            assert f"{bpd[key]:.3f}" in note, (lang, key)
        assert f"{q['n']:,}" in note and f"w = {q['w']:g}" in note
        for r in [*results, pc["samples_uncond"]["temperatures"]["T=1.0"]]:
            row = f"{r['is']:.2f} ± {r['is_bootstrap_std']:.2f} | {r['fid']:.0f} | "
            assert row in note, (lang, row)
            if "label_agreement" in r:
                assert f"{row}{100 * r['label_agreement']:.0f}{pct}" in note
        s16 = pc["sampling_16"]
        assert f"{s16['guided_median_s']:.2f}" in note and f"{s16['cached_median_s']:.2f}" in note
        step = pc["training_step"]
        assert f"{step['fused_s']:.2f}" in note and f"{step['mask_s']:.2f}" in note
        speed_up = f"{s16['speed_up']:.0f}"
        assert (f"{speed_up} times faster" if lang == "en" else f"快 {speed_up} 倍") in note


def test_pixelcnn_tab_default_guidance_is_the_benchmarked_one():
    from demos import pixelcnn as tab

    pc = json.loads((ROOT / "benchmarks" / "results" / "pixelcnn.json").read_text())
    assert pc["samples"]["w"] == tab.W_DEFAULT == pc["sampling_16"]["guided_w"]


# ---- simclr.md -------------------------------------------------------------------------------------------
def test_simclr_result_figures_match_the_benchmarks():
    """Section 8 quotes benchmarks/simclr.py's linear evaluation (h, z and raw pixels at each label budget, k-NN, the
    supervised anchor) and the trained model's record (steps, epochs, training minutes), in both languages."""
    r = json.loads((ROOT / "benchmarks" / "results" / "simclr.json").read_text())
    m = json.loads((ROOT / "weights" / "simclr" / "metrics.json").read_text())
    for lang, pct in (("en", " %"), ("zh", "%")):
        note = (ROOT / "notes" / lang / "simclr.md").read_text(encoding="utf-8")
        for feature in ("h", "z", "pixels"):
            row = [f"{100 * r['probe'][feature][k]['mean']:.1f}{pct}" for k in r["budgets"]]
            assert " | ".join(row + [f"{100 * r['knn20'][feature]:.1f}{pct}"]) in note, (lang, feature)
        assert f"{100 * r['supervised']['test_accuracy']:.1f}{pct}" in note
        final = m["final"]
        assert f"{final['steps']:,}" in note and f"{final['epochs_done']} " in note
        assert f"{final['training_minutes']:.1f}" in note


if __name__ == "__main__":
    print(blind_spot_figure(4))
