"""Schedules, targets, weightings, scores, Langevin dynamics and the VP SDE of genlib.diffusion (issue 16), checked
against independent formulas, autograd and closed forms (float64 unless stated)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlib.diffusion import (VPSDE, GaussianDiffusion, annealed_langevin, cosine_betas, min_snr_weight, perturbed,
                              sigma_ladder)
from genlib.flow import PATHS, GaussianMixture, GaussianPath, langevin, toy_mixture


def _fixed_path(a: float, s: float) -> GaussianPath:
    """A path frozen at x = a z + s eps (for GaussianMixture.marginal / posterior_mean at one DDPM step)."""
    path = GaussianPath()
    path.alpha = lambda t: torch.as_tensor(a, dtype=torch.float64)
    path.beta = lambda t: torch.as_tensor(s, dtype=torch.float64)
    return path


def _mix(means, stds, weights) -> GaussianMixture:
    f = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return GaussianMixture(f(means), f(stds), f(weights))


# ---- schedules -----------------------------------------------------------------------------------------------
def test_cosine_schedule_matches_formula():
    T, s = 1000, 0.008
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2  # numpy, independent of torch
    ab = f / f[0]
    beta = np.minimum(1 - ab[1:] / ab[:-1], 0.999)
    assert np.allclose(cosine_betas(T).numpy(), beta, rtol=1e-12, atol=0)
    d = GaussianDiffusion(schedule="cosine")
    assert torch.allclose(d.beta, torch.from_numpy(beta))
    assert d.beta.max().item() == pytest.approx(0.999) and (d.beta > 0.999 - 1e-12).sum() == 1  # only t = T clipped
    assert np.allclose(d.alpha_bar[:-1].numpy(), ab[1:-1], rtol=1e-9)  # alpha_bar_t = f(t)/f(0) where unclipped
    assert d.alpha_bar[-1].item() == pytest.approx(ab[-2] * 0.001)  # the clipped last step keeps 0.1 % of the signal
    lin = GaussianDiffusion()
    assert d.alpha_bar[499] > lin.alpha_bar[499] * 5  # cosine keeps far more signal in the middle of the chain
    assert torch.all(d.log_snr().diff() < 0) and torch.all(lin.log_snr().diff() < 0)


def test_from_metrics_defaults_to_ho_et_al_process():
    d = GaussianDiffusion.from_metrics({})
    assert (d.schedule, d.target, d.weighting) == ("linear", "eps", "uniform")
    e = GaussianDiffusion.from_metrics({"diffusion": GaussianDiffusion(schedule="cosine", target="v").config})
    assert (e.schedule, e.target) == ("cosine", "v")
    with pytest.raises(ValueError):
        GaussianDiffusion(target="score")


# ---- targets ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_targets_convert_into_each_other_exactly(schedule):
    d = GaussianDiffusion(schedule=schedule)
    g = torch.Generator().manual_seed(0)
    t = torch.tensor([0, 1, 10, 250, 500, 900, 998])
    x0 = torch.rand((len(t), 1, 4, 4), generator=g, dtype=torch.float64) * 2 - 1
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    xt = d.q_sample(x0, t, eps)
    a, s = d.alpha_bar[t].sqrt().view(-1, 1, 1, 1), (1 - d.alpha_bar[t]).sqrt().view(-1, 1, 1, 1)
    truth = {"eps": eps, "x0": x0, "v": a * eps - s * x0}  # Salimans & Ho: v = alpha eps - sigma x
    for src in truth:
        for dst in truth:
            assert torch.allclose(d.convert(xt, t, truth[src], src, dst), truth[dst], atol=1e-9), (src, dst)
    # v is the velocity of x_phi = cos(phi) x0 + sin(phi) eps at phi = atan(s / a)
    phi = torch.atan2(s, a)
    assert torch.allclose(-torch.sin(phi) * x0 + torch.cos(phi) * eps, truth["v"])


# ---- weightings ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["eps", "x0", "v"])
def test_min_snr_weight_equals_its_formula(target):
    d = GaussianDiffusion(target=target, weighting="min_snr", gamma=5.0)
    t = torch.arange(0, 1000, 37)
    snr = d.alpha_bar[t] / (1 - d.alpha_bar[t])
    expected = {"eps": torch.minimum(snr, torch.tensor(5.0)) / snr, "x0": torch.minimum(snr, torch.tensor(5.0)),
                "v": torch.minimum(snr, torch.tensor(5.0)) / (snr + 1)}[target]
    assert torch.allclose(d.loss_weight(t), expected)
    # ... and it is the same weight min(SNR, gamma) on the x0-space error, whatever the target
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand((len(t), 1, 3, 3), generator=g, dtype=torch.float64)
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    xt = d.q_sample(x0, t, eps)
    x0_hat = x0 + 0.1 * torch.randn(x0.shape, generator=g, dtype=torch.float64)  # some model's guess
    pred = d.convert(xt, t, x0_hat, "x0", target)
    err = (d.target_of(x0, t, eps) - pred).pow(2).flatten(1).sum(1)
    err_x0 = (x0 - x0_hat).pow(2).flatten(1).sum(1)
    assert torch.allclose(d.loss_weight(t) * err, torch.minimum(snr, torch.tensor(5.0)) * err_x0)


def test_weighted_loss_matches_a_manual_computation():
    d = GaussianDiffusion(schedule="cosine", target="v", weighting="min_snr")
    x0 = torch.rand((8, 1, 4, 4)) * 2 - 1
    model = lambda x, t: 0.3 * x  # noqa: E731
    got = d.loss(model, x0, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    t = torch.randint(0, 1000, (8,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    xt = d.q_sample(x0, t, eps)
    a, s = d.alpha_bar[t].sqrt().view(-1, 1, 1, 1), (1 - d.alpha_bar[t]).sqrt().view(-1, 1, 1, 1)
    snr = d.alpha_bar[t] / (1 - d.alpha_bar[t])
    w = snr.clamp(max=5.0) / (snr + 1)
    manual = (w * ((a * eps - s * x0).double() - 0.3 * xt.double()).pow(2).flatten(1).mean(1)).mean()
    assert got.item() == pytest.approx(manual.item(), rel=1e-5)


# ---- scores ----------------------------------------------------------------------------------------------------
def test_perturbed_mixture_score_equals_autograd_gradient():
    mix = toy_mixture("ring8")
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0)) * 2
    for sigma in (0.0, 0.3, 2.0):
        p = perturbed(mix, sigma)
        xr = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(p.log_prob(xr).sum(), xr)
        assert torch.allclose(p.score(x), grad, atol=1e-4)


def test_eps_to_score_matches_the_exact_mixture_score():
    """With the exact noise predictor E[eps | x_t] (Tweedie), -eps / sqrt(1 - alpha_bar_t) is grad log q(x_t)."""
    d = GaussianDiffusion()
    mix = _mix([[1.5, 0.0], [-1.0, 1.0], [0.0, -1.5]], [0.2, 0.4, 0.3], [0.5, 0.3, 0.2])
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for i in (0, 50, 300, 800):
        a, s = d.alpha_bar[i].sqrt().item(), (1 - d.alpha_bar[i]).sqrt().item()
        path = _fixed_path(a, s)
        eps_exact = (x - a * mix.posterior_mean(path, x, torch.tensor(0.0))) / s  # E[eps | x_t]
        t = torch.full((50,), i)
        score = d.score_from_eps(x[:, :, None, None], t, eps_exact[:, :, None, None])[:, :, 0, 0]
        assert torch.allclose(score, mix.marginal(path, torch.tensor(0.0)).score(x), atol=1e-8)


# ---- Langevin --------------------------------------------------------------------------------------------------
def test_langevin_reaches_the_gaussian_mean_and_variance():
    mu, var, h = 1.0, 0.25, 0.01
    x = torch.zeros(4000, 1, dtype=torch.float64)
    for step in langevin(lambda v: -(v - mu) / var, x, 800, h, torch.Generator().manual_seed(0)):
        x = step.x
    # unadjusted Langevin on a Gaussian is an AR(1) chain with stationary variance h / (1 - (1 - h / (2 var))^2)
    r = 1 - h / (2 * var)
    assert x.mean().item() == pytest.approx(mu, abs=4 * math.sqrt(var / 4000))
    assert x.var().item() == pytest.approx(h / (1 - r**2), rel=0.08)
    assert x.var().item() == pytest.approx(var, rel=0.08)


def test_annealed_langevin_recovers_mode_weights_that_one_sigma_misses():
    """Song & Ermon's sec. 3.2: Langevin with the data score cannot move mass between separated modes, so it keeps
    the start's split (here 1/2 : 1/2); annealing through a sigma ladder recovers the true weights 0.8 : 0.2."""
    mix = _mix([[-4.0], [4.0]], [0.5, 0.5], [0.8, 0.2])
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(2000, 1, generator=g, dtype=torch.float64) * 16 - 8)
    one = x
    for step in langevin(mix.score, x, 100, 0.01, g):
        one = step.x
    ladder = sigma_ladder(10.0, 0.1, 10)
    ann = x
    for step in annealed_langevin(lambda v, s: perturbed(mix, s).score(v), x, ladder, 50, 2e-3, g):
        ann = step.x
    assert (one < 0).double().mean().item() == pytest.approx(0.5, abs=0.05)
    assert (ann < 0).double().mean().item() == pytest.approx(0.8, abs=0.05)


def test_sigma_ladders_out_of_order_are_refused():
    for bad in ([0.1, 1.0], [1.0, 1.0], [1.0, -0.5], [], [1.0, float("nan")]):
        with pytest.raises(ValueError):
            next(annealed_langevin(lambda v, s: -v, torch.zeros(2, 1), bad, 1, 0.1))
    with pytest.raises(ValueError):
        sigma_ladder(0.1, 1.0, 5)
    assert sigma_ladder(1.0, 0.01, 3) == pytest.approx([1.0, 0.1, 0.01])


# ---- the SDE view ----------------------------------------------------------------------------------------------
def test_reverse_sde_and_probability_flow_ode_agree_in_distribution_on_a_gaussian():
    mu, s0 = torch.tensor([[1.0, -0.5]], dtype=torch.float64), 0.3
    data = _mix(mu.tolist(), [s0], [1.0])
    sde = VPSDE()
    m, s = sde.mean_std(1.0)
    assert m < 0.01 and s == pytest.approx(math.sqrt(1 - m * m))
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(3000, 2, generator=g, dtype=torch.float64) * math.sqrt(m**2 * s0**2 + s**2) + m * mu
    score = lambda x, tau: sde.marginal(data, tau).score(x)  # noqa: E731
    out = {}
    for method in ("sde", "ode"):
        x = x1
        for step in sde.reverse(score, x1, 300, method, generator=g):
            x = step.x
        out[method] = x
        assert torch.allclose(x.mean(0), mu[0], atol=0.03), method
        assert torch.allclose(x.std(0), torch.full((2,), s0, dtype=torch.float64), rtol=0.08), method
    # the ODE is deterministic and maps N(0, I) to the data by an affine map here: the same noise, one answer each
    assert not torch.allclose(out["sde"], out["ode"])


def test_forward_sde_reaches_the_closed_form_marginal():
    sde = VPSDE()
    x0 = torch.full((5000, 2), 2.0, dtype=torch.float64)
    x = x0
    for step in sde.forward(x0, 400, torch.Generator().manual_seed(0)):
        x = step.x
        if step.index == 100:  # tau = 0.25
            m, s = sde.mean_std(0.25)
            assert x.mean().item() == pytest.approx(2 * m, abs=0.03) and x.std().item() == pytest.approx(s, rel=0.05)
    assert x.mean().item() == pytest.approx(0.0, abs=0.05) and x.std().item() == pytest.approx(1.0, rel=0.05)


def test_vp_score_from_a_condot_field_equals_the_exact_score():
    mix = toy_mixture("ring8")
    sde, condot = VPSDE(), PATHS["condot"]
    u = lambda x, t: mix.marginal_field(condot, x, t[0])  # the exact CondOT field (a trained flow2d learns this)  # noqa: E731
    x = torch.randn(40, 2, generator=torch.Generator().manual_seed(4)) * 1.5
    for tau in (0.1, 0.4, 0.9):
        assert torch.allclose(sde.score_from_condot_field(u, x, tau), sde.marginal(mix, tau).score(x), atol=1e-4)


# ---- predictor-corrector on a Gaussian "image" with the exact noise predictor ---------------------------------
@pytest.mark.parametrize("target", ["eps", "v"])
def test_langevin_corrector_moves_samples_towards_the_data_distribution(target):
    c = 0.5  # data: every pixel N(0, c^2) independently
    d = GaussianDiffusion(target=target)
    calls = []

    def exact(x, t):  # E[eps | x_t] = s x_t / (a^2 c^2 + s^2), given as the model's target
        calls.append(1)
        ab = d.alpha_bar[t].view(-1, 1, 1, 1).to(x.dtype)
        a, s = ab.sqrt(), (1 - ab).sqrt()
        eps = s * x / (a**2 * c**2 + s**2)
        return eps if target == "eps" else d.convert(x, t, eps, "eps", target)

    x = torch.randn((100, 1, 16, 16), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    stds = {}
    for m in (0, 3):
        calls.clear()
        steps = list(d.pc_sample_loop(exact, x, steps=20, corrector_steps=m, snr=0.16,
                                      generator=torch.Generator().manual_seed(1), clip=False))
        assert len(steps) == 20 and len(calls) == 20 * (1 + m)  # bounded work: steps x (1 + corrector steps) calls
        stds[m] = steps[-1].x.std().item()
    # 20 DDIM steps alone undershoot the spread (discretisation error); Langevin at each level pulls it back
    assert abs(stds[3] - c) < 0.5 * abs(stds[0] - c)
    assert stds[3] == pytest.approx(c, rel=0.07)
    with pytest.raises(ValueError):
        next(d.pc_sample_loop(exact, x, snr=0.0))


def test_eps_form_weight_is_half_the_drop_in_snr():
    """With sigma_t^2 = beta_tilde_t, the bound's weight on ||eps - eps_theta||^2 is (SNR_{t-1} / SNR_t - 1) / 2."""
    d = GaussianDiffusion()
    i = torch.arange(1, 1000)  # the paper's t = 2 .. T (t = 1 is the decoder term L_0)
    lam = d.beta[i] ** 2 / (2 * d.beta_tilde[i] * d.alpha[i] * (1 - d.alpha_bar[i]))
    snr = d.alpha_bar / (1 - d.alpha_bar)
    assert torch.allclose(lam, 0.5 * (snr[i - 1] / snr[i] - 1), rtol=1e-9)
    assert lam[0] > 50 * lam[-1]  # the bound weighs the first steps far more than the last ones
