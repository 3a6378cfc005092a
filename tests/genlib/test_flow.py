"""Every key equation of the flow-matching note checked against genlib.flow: paths, fields, scores, the
marginalisation trick, continuity / Fokker-Planck, CFM = FM + C, conversions, samplers, Langevin, guidance."""
from __future__ import annotations

import math

import pytest
import torch

from genlib import flow
from genlib.flow import toy_mixture
from genlib.diffusion import GaussianDiffusion
from genlib.flow import PATHS, GaussianMixture

D64 = torch.float64


def _mixture() -> GaussianMixture:
    """A 2-D mixture with unequal weights and widths, in float64 for finite differences."""
    m = toy_mixture("mixture")
    return GaussianMixture(m.means.double(), m.stds.double(), m.weights.double())


@pytest.mark.parametrize("name", PATHS)
def test_conditional_field_is_time_derivative(name):
    path, g = PATHS[name], torch.Generator().manual_seed(0)
    z, eps = torch.randn(16, 3, generator=g, dtype=D64), torch.randn(16, 3, generator=g, dtype=D64)
    t = 0.05 + 0.9 * torch.rand(16, generator=g, dtype=D64)
    h = 1e-6
    fd = (path.sample(z, t + h, eps) - path.sample(z, t - h, eps)) / (2 * h)  # d/dt (alpha_t z + beta_t eps)
    x = path.sample(z, t, eps)
    torch.testing.assert_close(path.target(z, t, eps), fd, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(path.conditional_field(x, z, t), fd, rtol=1e-6, atol=1e-6)
    assert torch.allclose(path.alpha(torch.tensor([1.0], dtype=D64)), torch.ones(1, dtype=D64))
    assert torch.allclose(path.beta(torch.tensor([1.0], dtype=D64)), torch.zeros(1, dtype=D64))


def test_condot_target_is_z_minus_eps():
    z, eps, t = torch.randn(4, 2), torch.randn(4, 2), torch.rand(4)
    torch.testing.assert_close(PATHS["condot"].target(z, t, eps), z - eps)


@pytest.mark.parametrize("name", PATHS)
def test_conditional_score_matches_autograd(name):
    path, g = PATHS[name], torch.Generator().manual_seed(1)
    z, t = torch.randn(8, 3, generator=g, dtype=D64), 0.05 + 0.9 * torch.rand(8, generator=g, dtype=D64)
    x = torch.randn(8, 3, generator=g, dtype=D64).requires_grad_(True)
    a, b = path.alpha(t)[:, None], path.beta(t)[:, None]
    torch.distributions.Normal(a * z, b).log_prob(x).sum().backward()
    torch.testing.assert_close(path.conditional_score(x.detach(), z, t), x.grad)


@pytest.mark.parametrize("name", PATHS)
def test_ddpm_eps_is_a_scaled_score(name):
    path = PATHS[name]
    z, eps, t = torch.randn(8, 5, dtype=D64), torch.randn(8, 5, dtype=D64), torch.rand(8, dtype=D64) * 0.9 + 0.05
    x = path.sample(z, t, eps)
    torch.testing.assert_close(path.conditional_score(x, z, t), -eps / path.beta(t)[:, None])


def test_ddpm_path_matches_ddpm_schedule():
    """alpha_t^2 of vp-ddpm at t = 1 - (i + 1)/T is DDPM's alpha_bar for step i + 1 (a Riemann sum vs its integral)."""
    diffusion, path = GaussianDiffusion(), PATHS["vp-ddpm"]
    tau = torch.arange(1, 1001, dtype=D64) / 1000
    a2 = path.alpha(1 - tau) ** 2
    torch.testing.assert_close(a2, diffusion.alpha_bar, atol=5e-3, rtol=0)
    keep = diffusion.alpha_bar > 1e-3
    # log alpha_bar = sum log(1 - beta_i) = -sum beta_i - sum beta_i^2 / 2 - ...; the integral keeps only the first
    # sum, so the relative gap is about sum beta_i^2 / 2, under 4% wherever alpha_bar > 1e-3
    gap = (a2[keep] / diffusion.alpha_bar[keep]).log()
    second_order = (diffusion.beta.pow(2) / 2).cumsum(0)[keep]
    torch.testing.assert_close(gap, second_order, atol=5e-3, rtol=0)
    assert gap.max() < 0.04


@pytest.mark.parametrize("name", ["condot", "vp-cosine"])
def test_marginal_field_is_posterior_average(name):
    """u_t(x) = E[u_t(x | z) | x_t = x]: self-normalised importance weights p_t(x | z) over z ~ p_data."""
    path, mix, g = PATHS[name], _mixture(), torch.Generator().manual_seed(2)
    t = torch.tensor(0.5, dtype=D64)
    z = mix.sample(400_000, generator=g)  # (N, 2)
    x = torch.tensor([[0.3, -0.2], [-1.0, 0.5], [1.2, 1.0]], dtype=D64)
    a, b = path.alpha(t), path.beta(t)
    for xi, ui in zip(x, mix.marginal_field(path, x, t)):
        logw = -((xi - a * z) ** 2).sum(1) / (2 * b**2)
        w = torch.softmax(logw, dim=0)[:, None]
        u_cond = path.conditional_field(xi.expand_as(z), z, t.expand(len(z)))
        torch.testing.assert_close((w * u_cond).sum(0), ui, atol=0.02, rtol=0.02)
    # and it agrees with the field read off the closed-form score of p_t
    tt = torch.full((len(x),), 0.5, dtype=D64)
    torch.testing.assert_close(mix.marginal_field(path, x, t), path.field_from_score(mix.marginal(path, t).score(x), x, tt))


def _density_and_fields(path, mix, sigma):
    def p(x, t):
        return mix.marginal(path, torch.tensor(t, dtype=D64)).log_prob(x).exp()

    def drift(x, t):
        tt = torch.tensor(t, dtype=D64)
        u = mix.marginal_field(path, x, tt)
        return u + 0.5 * sigma**2 * mix.marginal(path, tt).score(x)

    return p, drift


def _divergence(f, x, h=1e-4):
    """Central-difference divergence of a field f: (N, 2) -> (N, 2)."""
    out = torch.zeros(len(x), dtype=D64)
    for i in range(x.shape[1]):
        e = torch.zeros_like(x)
        e[:, i] = h
        out += (f(x + e)[:, i] - f(x - e)[:, i]) / (2 * h)
    return out


@pytest.mark.parametrize("name", ["condot", "vp-cosine"])
@pytest.mark.parametrize("t", [0.3, 0.7])
def test_continuity_equation_holds(name, t):
    """d/dt p_t + div(p_t u_t) = 0 for the marginal field of a mixture (finite differences)."""
    path, mix = PATHS[name], _mixture()
    p, drift = _density_and_fields(path, mix, sigma=0.0)
    x = torch.tensor([[0.2, 0.1], [-1.0, -0.8], [1.4, -0.3], [0.5, 1.5]], dtype=D64)
    h = 1e-5
    dp_dt = (p(x, t + h) - p(x, t - h)) / (2 * h)
    flux_div = _divergence(lambda y: p(y, t)[:, None] * drift(y, t), x)
    torch.testing.assert_close(dp_dt + flux_div, torch.zeros_like(dp_dt), atol=1e-5 * dp_dt.abs().max().item() + 1e-7, rtol=0)
    assert dp_dt.abs().max() > 1e-3  # the density really moves


@pytest.mark.parametrize("sigma", [0.5, 1.5])
def test_fokker_planck_holds_for_sde_drift(sigma):
    """With drift u_t + sigma^2/2 grad log p_t: d/dt p_t = -div(p_t drift) + sigma^2/2 Laplacian p_t."""
    path, mix, t = PATHS["condot"], _mixture(), 0.6
    p, drift = _density_and_fields(path, mix, sigma)
    x = torch.tensor([[0.2, 0.1], [-1.0, -0.8], [1.4, -0.3]], dtype=D64)
    h = 1e-5
    dp_dt = (p(x, t + h) - p(x, t - h)) / (2 * h)
    hx = 1e-3  # Laplacian by the 5-point stencil
    lap = sum((p(x + e, t) - 2 * p(x, t) + p(x - e, t)) / hx**2
              for e in (torch.tensor([hx, 0.0], dtype=D64), torch.tensor([0.0, hx], dtype=D64)))
    rhs = -_divergence(lambda y: p(y, t)[:, None] * drift(y, t), x) + 0.5 * sigma**2 * lap
    torch.testing.assert_close(dp_dt, rhs, atol=1e-4 * dp_dt.abs().max().item() + 1e-6, rtol=0)


def test_cfm_and_fm_losses_have_equal_gradients():
    """L_FM(theta) = L_CFM(theta) + C: the difference does not depend on theta, so the gradients agree."""
    path, mix, g = PATHS["condot"], _mixture(), torch.Generator().manual_seed(3)
    ts = [0.1, 0.3, 0.5, 0.7, 0.9]
    n = 40_000
    batches = []
    for t in ts:
        z, eps = mix.sample(n, generator=g), torch.randn(n, 2, generator=g, dtype=D64)
        tt = torch.full((n,), t, dtype=D64)
        x = path.sample(z, tt, eps)
        batches.append((x, tt, path.target(z, tt, eps), mix.marginal_field(path, x, torch.tensor(t, dtype=D64))))

    def losses(theta):  # a small model: u_theta(x, t) = W(t) x + b(t), linear in t
        W0, W1, b0, b1 = theta[:4].view(2, 2), theta[4:8].view(2, 2), theta[8:10], theta[10:12]
        cfm = fm = 0.0
        for x, tt, target, u_marg in batches:
            u = x @ (W0 + tt[:1] * W1).T + b0 + tt[:1] * b1
            cfm = cfm + (u - target).pow(2).sum(1).mean() / len(ts)
            fm = fm + (u - u_marg).pow(2).sum(1).mean() / len(ts)
        return cfm, fm

    gaps, grads = [], []
    for seed in range(3):
        theta = torch.randn(12, generator=torch.Generator().manual_seed(10 + seed), dtype=D64).requires_grad_(True)
        cfm, fm = losses(theta)
        g_cfm, = torch.autograd.grad(cfm, theta, retain_graph=True)
        g_fm, = torch.autograd.grad(fm, theta)
        gaps.append((cfm - fm).item())
        grads.append((g_cfm, g_fm))
    assert max(gaps) - min(gaps) < 0.02 * abs(gaps[0]) and gaps[0] > 0  # C > 0: L_CFM has irreducible variance
    for g_cfm, g_fm in grads:
        assert (g_cfm - g_fm).norm() < 0.03 * g_fm.norm()


@pytest.mark.parametrize("name", PATHS)
def test_score_field_roundtrip(name):
    path, g = PATHS[name], torch.Generator().manual_seed(4)
    u, x, z = (torch.randn(8, 3, generator=g, dtype=D64) for _ in range(3))
    t = 0.05 + 0.9 * torch.rand(8, generator=g, dtype=D64)
    torch.testing.assert_close(path.field_from_score(path.score_from_field(u, x, t), x, t), u)
    # the conversion also maps the conditional field onto the conditional score
    torch.testing.assert_close(path.score_from_field(path.conditional_field(x, z, t), x, t), path.conditional_score(x, z, t))


def _linear_field(a=-1.3, b=2.0):
    """u_t(x) = (a + b t) x, whose flow from t = 0 to 1 is x_1 = x_0 exp(a + b/2)."""
    return (lambda x, t: (a + b * t)[:, None] * x), math.exp(a + b / 2)


@pytest.mark.parametrize("method,order", [("euler", 1), ("midpoint", 2), ("heun", 2)])
def test_euler_converges_to_closed_form(method, order):
    u, factor = _linear_field()
    x0 = torch.randn(5, 2, generator=torch.Generator().manual_seed(5), dtype=D64)
    errors = []
    for n in (20, 40, 80, 160):
        x1 = list(flow.integrate(u, x0, n, method))[-1].x
        errors.append((x1 - factor * x0).abs().max().item())
    ratios = [errors[i] / errors[i + 1] for i in range(3)]  # halving h divides the error by 2^order
    assert abs(ratios[-1] - 2**order) < 0.15 * 2**order and errors[-1] < errors[0], ratios
    assert errors[-1] < (2e-2 if order == 1 else 3e-5)


def test_sampler_steps_and_times():
    u, _ = _linear_field()
    steps = list(flow.integrate(u, torch.zeros(1, 2), 4, "heun"))
    assert [s.t for s in steps] == [0.25, 0.5, 0.75, 1.0] and [s.index for s in steps] == [1, 2, 3, 4] and steps[-1].last and flow.evaluations_per_step("heun") == 2
    with pytest.raises(ValueError):
        next(flow.integrate(u, torch.zeros(1, 2), 0))
    with pytest.raises(ValueError):
        next(flow.integrate(u, torch.zeros(1, 2), 3, "sde"))  # needs a path


def test_sde_with_zero_sigma_is_euler():
    mix, path = _mixture(), PATHS["condot"]
    u = lambda x, t: mix.marginal_field(path, x, t[0])  # noqa: E731
    x0 = torch.randn(50, 2, generator=torch.Generator().manual_seed(6), dtype=D64)
    ode = list(flow.integrate(u, x0, 20, "euler"))[-1].x
    sde = list(flow.integrate(u, x0, 20, "sde", path=path, sigma=0.0, generator=torch.Generator().manual_seed(0)))[-1].x
    torch.testing.assert_close(sde, ode)


@pytest.mark.parametrize("method,sigma", [("euler", 0.0), ("sde", 1.0)])
def test_exact_field_carries_noise_to_the_mixture(method, sigma):
    """With the closed-form marginal field, both the ODE and the SDE (score from the field) end at p_data."""
    mix, path = _mixture(), PATHS["condot"]
    u = lambda x, t: mix.marginal_field(path, x, t[0])  # noqa: E731
    g = torch.Generator().manual_seed(7)
    x = flow.sample(u, (4000, 2), 200, method, seed=7, path=path, sigma=sigma)
    real = mix.sample(4000, generator=g).float()
    assert torch.allclose(x.mean(0).float(), real.mean(0), atol=0.08)
    assert torch.allclose(x.std(0).float(), real.std(0), atol=0.08)


def test_langevin_samples_the_mixture():
    """Langevin dynamics leaves p invariant, and from a wrong start it converges to p (overlapping modes)."""
    mix = GaussianMixture(torch.tensor([[-0.6, 0.0], [0.8, 0.3]], dtype=D64), torch.tensor([0.5, 0.4], dtype=D64),
                          torch.tensor([0.3, 0.7], dtype=D64))
    g = torch.Generator().manual_seed(8)
    start = 3.0 * torch.randn(8000, 2, generator=g, dtype=D64) + 2.0  # far from p
    x = list(flow.langevin(mix.score, start, 800, 0.01, generator=g))[-1].x
    real = mix.sample(8000, generator=g)
    torch.testing.assert_close(x.mean(0), real.mean(0), atol=0.05, rtol=0)
    torch.testing.assert_close(x.std(0), real.std(0), atol=0.05, rtol=0)
    # fraction right of x = 0.1 (mostly the heavier component)
    assert abs((x[:, 0] > 0.1).double().mean() - (real[:, 0] > 0.1).double().mean()) < 0.03


def _tiny_conditional_unet():
    from genlib.unet import UNet

    torch.manual_seed(0)
    model = UNet(in_channels=1, ch=8, ch_mult=[1, 2], num_res_blocks=1, attn_resolutions=[], dropout=0.0,
                 num_classes=10, time_scale=1000.0)
    torch.nn.init.normal_(model.out[-1].weight, std=0.05)
    return model.eval()


@torch.no_grad()
def test_cfg_w1_is_conditional_and_w0_unconditional():
    model = _tiny_conditional_unet()
    x, t, y = torch.randn(3, 1, 28, 28), torch.tensor([0.1, 0.5, 0.9]), torch.tensor([0, 4, 9])
    null = torch.full_like(y, 10)
    torch.testing.assert_close(flow.cfg_field(model, y, 1.0, 10)(x, t), model(x, t, y))
    torch.testing.assert_close(flow.cfg_field(model, y, 0.0, 10)(x, t), model(x, t, null))
    torch.testing.assert_close(model(x, t), model(x, t, null))  # no label means the null label
    w = 3.5  # the batched 2B pass equals the formula applied to two separate passes
    expected = (1 - w) * model(x, t, null) + w * model(x, t, y)
    torch.testing.assert_close(flow.cfg_field(model, y, w, 10)(x, t), expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(model(x, t, y), model(x, t, null))  # the label changes the field


@pytest.mark.parametrize("w", [0.0, 1.0, 4.0])
def test_cfg_is_scaled_classifier_gradient(w):
    """Label y = mixture component. Bayes: grad log p_t(x|y) = grad log p_t(x) + grad log p_t(y|x); guidance
    scales the classifier term by w, and because the field is affine in the score that is (1 - w) u + w u(.|y)."""
    path, mix, t = PATHS["vp-cosine"], _mixture(), torch.tensor(0.6, dtype=D64)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(9), dtype=D64)
    tt = torch.full((6,), 0.6, dtype=D64)
    y = 2
    p_t = mix.marginal(path, t)
    component = GaussianMixture(p_t.means[y : y + 1], p_t.stds[y : y + 1], torch.ones(1, dtype=D64))
    s_uncond, s_cond = p_t.score(x), component.score(x)
    xg = x.clone().requires_grad_(True)  # grad log p_t(y | x) from the posterior responsibilities
    torch.log_softmax(p_t._log_components(xg), dim=1)[:, y].sum().backward()
    torch.testing.assert_close(s_cond, s_uncond + xg.grad)
    u_guided = flow.guided_field(path.field_from_score(s_cond, x, tt), path.field_from_score(s_uncond, x, tt), w)
    torch.testing.assert_close(u_guided, path.field_from_score(s_uncond + w * xg.grad, x, tt))


@pytest.mark.parametrize("method", ["euler", "sde"])
def test_same_seed_same_samples(method):
    torch.manual_seed(0)
    u = flow.MLPField(hidden=16, depth=2).eval()
    with torch.no_grad():
        run = lambda seed: flow.sample(u, (32, 2), 5, method, seed=seed, path=PATHS["condot"], sigma=0.5)  # noqa: E731
        a, b, c = run(3), run(3), run(4)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_cfm_loss_is_the_regression_to_the_target():
    path, z = PATHS["condot"], torch.randn(64, 2)
    field = lambda x, t: torch.zeros_like(x)  # noqa: E731
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    t, eps = torch.rand(64, generator=g2), torch.randn(z.shape, generator=g2)
    torch.testing.assert_close(flow.cfm_loss(field, z, path, generator=g1), path.target(z, t, eps).pow(2).mean())


def test_mixture_score_matches_autograd():
    mix, x = _mixture(), torch.randn(10, 2, dtype=D64).requires_grad_(True)
    mix.log_prob(x).sum().backward()
    torch.testing.assert_close(mix.score(x.detach()), x.grad)
    z = mix.sample(100_000, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(z.mean(0), (mix.weights[:, None] * mix.means).sum(0), atol=0.02, rtol=0)


def test_mlp_field_shapes():
    u = flow.MLPField()
    assert u(torch.randn(7, 2), torch.rand(7)).shape == (7, 2)
