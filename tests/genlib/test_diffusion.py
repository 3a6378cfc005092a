"""The DDPM equations checked numerically against genlib.diffusion (float64 unless stated)."""
from __future__ import annotations

import math

import pytest
import torch

from genlib.diffusion import GaussianDiffusion, autocast_model

D = GaussianDiffusion()


def _t(i: int, n: int = 1) -> torch.Tensor:
    return torch.full((n,), i, dtype=torch.long)


def test_schedule_matches_definition():
    assert D.beta.shape == (1000,)
    assert D.beta[0].item() == pytest.approx(1e-4) and D.beta[-1].item() == pytest.approx(0.02)
    assert torch.allclose(D.beta.diff(), torch.full((999,), (0.02 - 1e-4) / 999, dtype=torch.float64))
    prod, expected = 1.0, []
    for b in D.beta.tolist():
        prod *= 1.0 - b
        expected.append(prod)
    assert torch.allclose(D.alpha_bar, torch.tensor(expected, dtype=torch.float64), rtol=1e-12)
    assert D.alpha_bar[0].item() == pytest.approx(1 - 1e-4)  # index 0 is the paper's t = 1
    assert D.alpha_bar[-1].item() < 1e-4  # x_T is almost pure noise


@pytest.mark.parametrize("k", [0, 9, 249])
def test_closed_form_matches_iterated_chain(k):
    """Run q(x_t | x_{t-1}) k + 1 times and compare the moments with q(x_t | x_0)."""
    g = torch.Generator().manual_seed(k)
    n = 200_000
    x0 = torch.tensor([-1.0, -0.3, 0.5, 1.0], dtype=torch.float64).view(1, 1, 1, 4).expand(n, 1, 1, 4)
    x = x0
    for i in range(k + 1):
        x = D.q_step(x, _t(i, n), torch.randn(x.shape, generator=g, dtype=torch.float64))
    mean_cf = D.alpha_bar[k].sqrt() * x0[0]
    var_cf = 1.0 - D.alpha_bar[k]
    se_mean = math.sqrt(var_cf / n)
    assert torch.allclose(x.mean(0), mean_cf, atol=6 * se_mean)
    assert torch.allclose(x.var(0), var_cf.expand_as(mean_cf), rtol=6 * math.sqrt(2 / n))
    # and the closed-form sampler itself produces those moments
    xs = D.q_sample(x0, _t(k, n), torch.randn(x0.shape, generator=g, dtype=torch.float64))
    assert torch.allclose(xs.mean(0), mean_cf, atol=6 * se_mean)
    assert torch.allclose(xs.var(0), var_cf.expand_as(mean_cf), rtol=6 * math.sqrt(2 / n))


@pytest.mark.parametrize("i", [1, 10, 300, 999])
def test_posterior_matches_bayes_rule(i):
    """q(x_{t-1} | x_t, x_0) ∝ q(x_t | x_{t-1}) q(x_{t-1} | x_0), normalised on a fine grid."""
    x0, xt = torch.tensor(0.7, dtype=torch.float64), torch.tensor(-0.4, dtype=torch.float64)
    grid = torch.linspace(-6, 6, 400_001, dtype=torch.float64)  # values of x_{t-1}
    a, ab_prev = D.alpha[i], D.alpha_bar[i - 1]
    log_lik = -((xt - a.sqrt() * grid) ** 2) / (2 * D.beta[i])  # q(x_t | x_{t-1})
    log_prior = -((grid - ab_prev.sqrt() * x0) ** 2) / (2 * (1 - ab_prev))  # q(x_{t-1} | x_0)
    w = torch.softmax(log_lik + log_prior, dim=0)
    mean_num = (w * grid).sum()
    var_num = (w * (grid - mean_num) ** 2).sum()
    mean, var = D.q_posterior(x0.view(1, 1, 1, 1), xt.view(1, 1, 1, 1), _t(i))
    assert mean.item() == pytest.approx(mean_num.item(), abs=1e-7)
    assert var.item() == pytest.approx(var_num.item(), rel=1e-5)


def test_posterior_at_first_step_is_the_data():
    x0, xt = torch.randn(3, 1, 2, 2, dtype=torch.float64), torch.randn(3, 1, 2, 2, dtype=torch.float64)
    mean, var = D.q_posterior(x0, xt, _t(0, 3))
    assert torch.allclose(mean, x0) and torch.all(var == 0)


def test_predict_x0_inverts_q_sample():
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(8, 1, 28, 28, generator=g, dtype=torch.float64) * 2 - 1
    eps = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 1, 10, 100, 500, 900, 998, 999])
    xt = D.q_sample(x0, t, eps)
    assert torch.allclose(D.predict_x0(xt, t, eps), x0, atol=1e-10)
    assert torch.allclose(D.predict_eps(xt, t, x0), eps, atol=1e-10)


def test_eps_form_of_the_mean():
    """mu_theta = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_t) equals mu_tilde(x_t, x0_hat)."""
    g = torch.Generator().manual_seed(2)
    xt = torch.randn(6, 1, 4, 4, generator=g, dtype=torch.float64)
    eps = torch.randn(xt.shape, generator=g, dtype=torch.float64)
    t = torch.tensor([1, 5, 50, 400, 800, 999])
    b, a, ab = (v[t].view(-1, 1, 1, 1) for v in (D.beta, D.alpha, D.alpha_bar))
    mu_eps = (xt - b / (1 - ab).sqrt() * eps) / a.sqrt()
    mu_post, _ = D.q_posterior(D.predict_x0(xt, t, eps), xt, t)
    assert torch.allclose(mu_eps, mu_post, atol=1e-10)


def test_prior_term_is_negligible():
    """L_T against torch.distributions' own Gaussian KL; tiny for data in [-1, 1]."""
    x0 = torch.rand(5, 1, 28, 28, dtype=torch.float64) * 2 - 1
    a = D.alpha_bar[-1]
    q = torch.distributions.Normal(a.sqrt() * x0, (1 - a).sqrt().expand_as(x0))
    p = torch.distributions.Normal(torch.zeros_like(x0), torch.ones_like(x0))
    ref = torch.distributions.kl_divergence(q, p).flatten(1).mean(1)
    assert torch.allclose(D.prior_kl(x0), ref, rtol=1e-6, atol=1e-12)
    assert D.prior_kl(torch.ones(1, 1, 28, 28)).item() < 1e-4


def test_loss_is_l_simple():
    """The loss draws t ~ U{0..T-1} and eps ~ N(0, I) and returns the mean squared error of the prediction."""
    model = lambda x, t: 0.5 * x + t.view(-1, 1, 1, 1).float() / 1000.0  # noqa: E731
    x0 = torch.rand(16, 1, 28, 28) * 2 - 1
    loss = D.loss(model, x0, generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    t = torch.randint(0, 1000, (16,), generator=g)
    eps = torch.randn(x0.shape, generator=g)
    xt = D.alpha_bar[t].sqrt().float().view(-1, 1, 1, 1) * x0 + (1 - D.alpha_bar[t]).sqrt().float().view(-1, 1, 1, 1) * eps
    expected = ((eps - model(xt, t)) ** 2).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def _toy_eps(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A fixed, smooth stand-in for eps_theta (depends on x and t)."""
    return torch.tanh(x) * (0.3 + t.view(-1, 1, 1, 1).to(x.dtype) / 2000.0)


@pytest.mark.parametrize("clip", [False, True])
def test_ddim_eta1_all_steps_equals_ancestral(clip):
    """DDIM with eta = 1 over every step is ancestral sampling with sigma_t^2 = beta_tilde_t."""
    x_T = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64) * 1.5
    anc = list(D.p_sample_loop(_toy_eps, x_T, generator=torch.Generator().manual_seed(5), variance="beta_tilde", clip=clip))
    ddim = list(D.ddim_sample_loop(_toy_eps, x_T, steps=1000, eta=1.0, generator=torch.Generator().manual_seed(5), clip=clip))
    assert len(anc) == len(ddim) == 1000
    for k in (0, 1, 500, 999):
        assert anc[k].t == ddim[k].t
        assert torch.allclose(anc[k].x, ddim[k].x, atol=1e-9), k


def test_ddim_single_step_matches_equation_12():
    xt = torch.randn(1, 1, 2, 2, dtype=torch.float64)
    eps = torch.randn_like(xt)
    z = torch.randn_like(xt)
    t, s, eta = 700, 400, 0.6
    x0 = D.predict_x0(xt, _t(t), eps)
    a_t, a_s = D.alpha_bar[t], D.alpha_bar[s]
    sigma = eta * ((1 - a_s) / (1 - a_t)).sqrt() * (1 - a_t / a_s).sqrt()
    expected = a_s.sqrt() * x0 + (1 - a_s - sigma**2).sqrt() * eps + sigma * z
    assert torch.allclose(D.ddim_step(xt, t, s, eps, x0, eta, z), expected, atol=1e-12)


def test_ddim_timesteps():
    ts = D.ddim_timesteps(999, 50)
    assert len(ts) == 50 and ts[0] == 999 and ts[-1] == 0 and ts == sorted(ts, reverse=True)
    assert D.ddim_timesteps(999, 5000) == list(range(999, -1, -1))  # clamped to every step
    assert D.ddim_timesteps(10, 1) == [0]
    assert D.ddim_timesteps(0, 50) == [0]


def test_same_seed_same_samples():
    from tests.conftest import make_tiny_unet

    model = make_tiny_unet()
    small = GaussianDiffusion(T=20)
    for sampler, kw in (("ddim", dict(steps=5, eta=0.5)), ("ancestral", {})):
        a = small.sample(model, 3, sampler=sampler, seed=7, **kw)
        b = small.sample(model, 3, sampler=sampler, seed=7, **kw)
        c = small.sample(model, 3, sampler=sampler, seed=8, **kw)
        assert a.shape == (3, 1, 28, 28)
        assert torch.equal(a, b) and not torch.allclose(a, c)
    # the bfloat16 wrapper is deterministic too
    eps = autocast_model(model)
    x = torch.randn(2, 1, 28, 28)
    assert torch.equal(eps(x, _t(3, 2)), eps(x, _t(3, 2)))


def test_ddim_eta0_ignores_the_generator():
    from tests.conftest import make_tiny_unet

    model, small = make_tiny_unet(), GaussianDiffusion(T=50)
    x = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    outs = [list(small.ddim_sample_loop(model, x, steps=10, eta=0.0, generator=torch.Generator().manual_seed(s)))[-1].x
            for s in (1, 2)]
    assert torch.equal(outs[0], outs[1])


def test_denoise_from_intermediate_step_runs_t_plus_one_steps():
    from tests.conftest import make_tiny_unet

    steps = list(D.p_sample_loop(make_tiny_unet(), torch.randn(1, 1, 28, 28), t_start=4))
    assert [s.t for s in steps] == [4, 3, 2, 1, 0] and [s.index for s in steps] == [1, 2, 3, 4, 5] and steps[-1].last
    with pytest.raises(ValueError):
        next(D.p_sample_loop(_toy_eps, torch.randn(1, 1, 2, 2), variance="learned"))


@pytest.mark.parametrize("sampler", ["ddim", "ancestral", "ancestral_tilde"])
def test_sample_loop_names_every_sampler_in_one_vocabulary(sampler):
    """GaussianDiffusion.sample_loop is the one place where "ddim" / "ancestral" / "ancestral_tilde" is decided:
    it runs the same steps as the sampler it names, and yields Steps with index/total/pred."""
    x_T = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    got = list(D.sample_loop(_toy_eps, x_T, sampler, steps=20, eta=0.5, t_start=99, generator=torch.Generator().manual_seed(1)))
    if sampler == "ddim":
        ref = D.ddim_sample_loop(_toy_eps, x_T, steps=20, eta=0.5, t_start=99, generator=torch.Generator().manual_seed(1))
    else:
        variance = "beta_tilde" if sampler == "ancestral_tilde" else "beta"
        ref = D.p_sample_loop(_toy_eps, x_T, t_start=99, generator=torch.Generator().manual_seed(1), variance=variance)
    ref = list(ref)
    assert len(got) == len(ref) == got[-1].total == (20 if sampler == "ddim" else 100)
    assert all(torch.equal(a.x, b.x) and torch.equal(a.x0_hat, b.pred) for a, b in zip(got, ref))
    with pytest.raises(ValueError, match="unknown sampler"):
        D.sample_loop(_toy_eps, x_T, "euler")


def test_bfloat16_weights_compute_what_autocast_computes():
    """autocast_model runs a copy with Conv2d/Linear parameters rounded to bfloat16 once; under autocast it gives
    the same outputs, bit for bit, as the float32 model whose parameters autocast rounds on every call."""
    from tests.conftest import make_tiny_unet

    from genlib.diffusion import bfloat16_weights

    model = make_tiny_unet().eval()
    with torch.no_grad():  # non-zero output layer, so the comparison is not of zeros
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    x, t = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(1)), _t(7, 3)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        reference = model(x, t).float()
    assert torch.equal(autocast_model(model)(x, t), reference)
    copy_ = bfloat16_weights(model)
    dtypes = {}  # parameter dtypes of every module type, over all modules of that type
    for m in copy_.modules():
        dtypes.setdefault(type(m).__name__, set()).update(p.dtype for p in m.parameters(recurse=False))
    assert dtypes["Conv2d"] == {torch.bfloat16} and dtypes["Linear"] == {torch.bfloat16}
    assert dtypes["GroupNorm"] == {torch.float32}
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the original is untouched


def test_class_conditional_wrapper_is_classifier_free_guidance():
    """autocast_model(y, w) of a class-conditional net is (1 - w) net(x, t, null) + w net(x, t, y); without labels it
    is the net's null-label (unconditional) prediction; an unconditional net ignores labels."""
    from tests.conftest import make_tiny_unet

    from genlib.diffusion import class_labels

    model = make_tiny_unet(num_classes=10)
    with torch.no_grad():
        model.label_emb.weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(3))  # labels that matter
    x, t, y = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(2)), _t(9, 4), class_labels(4)
    with torch.no_grad():
        cond, uncond = model(x, t, y), model(x, t, torch.full((4,), 10))
    assert not torch.allclose(cond, uncond, atol=1e-3)
    for w in (0.0, 1.0, 2.5):
        guided = autocast_model(model, bfloat16=False, y=y, w=w)(x, t)
        torch.testing.assert_close(guided, (1 - w) * uncond + w * cond, rtol=1e-5, atol=1e-5)
    assert torch.equal(autocast_model(model, bfloat16=False)(x, t), uncond)
    plain = make_tiny_unet()
    with torch.no_grad():
        assert torch.equal(autocast_model(plain, bfloat16=False, y=y, w=3.0)(x, t), plain(x, t))
    assert class_labels(12).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    assert class_labels(3, 7).tolist() == [7, 7, 7]


def test_shared_wrapper_makes_one_bfloat16_copy_per_model():
    from tests.conftest import make_tiny_unet

    from genlib.diffusion import cached_autocast_model, class_labels, shared_bfloat16_weights

    model = make_tiny_unet(num_classes=10)
    x, t = torch.randn(2, 1, 28, 28), _t(5, 2)
    a, b = cached_autocast_model(model, True, class_labels(2)), cached_autocast_model(model, True, class_labels(2, 4))
    assert shared_bfloat16_weights(model) is shared_bfloat16_weights(model)
    assert torch.equal(a(x, t), autocast_model(model, True, class_labels(2))(x, t))
    assert not torch.equal(a(x, t), b(x, t))  # the labels reach the shared copy


def test_a_batch_split_over_threads_gives_the_same_outputs():
    """autocast_model(workers=k) runs each pass as k slices of the batch at once (genlib.sampling.in_parallel), each
    slice with its own labels: the outputs equal the one-batch pass, with and without guidance, and a whole DDIM
    run draws the same images (up to float rounding: the convolution may pick another algorithm for another batch
    size). The calling thread keeps its intra-op thread count."""
    from tests.conftest import make_tiny_unet

    from genlib.diffusion import class_labels
    from genlib.sampling import batch_slices, in_parallel

    assert batch_slices(16, 2) == [slice(0, 8), slice(8, 16)]
    assert batch_slices(5, 3) == [slice(0, 2), slice(2, 3), slice(3, 5)] and batch_slices(1, 4) == [slice(0, 1)]
    assert in_parallel([lambda k=k: torch.full((1,), k) for k in range(5)]) == [torch.full((1,), k) for k in range(5)]
    model = make_tiny_unet(num_classes=10)
    with torch.no_grad():
        model.label_emb.weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(3))
    x, t, y = torch.randn(5, 1, 28, 28, generator=torch.Generator().manual_seed(2)), _t(9, 5), class_labels(5)
    before = torch.get_num_threads()
    for bf16 in (False, True):
        for w in (1.0, 2.0):
            whole = autocast_model(model, bf16, y=y, w=w)(x, t)
            for k in (2, 3):
                torch.testing.assert_close(autocast_model(model, bf16, y=y, w=w, workers=k)(x, t), whole,
                                           rtol=0, atol=1e-5 if not bf16 else 1e-2)
    assert torch.get_num_threads() == before
    runs = [D.sample(autocast_model(model, False, y=class_labels(4), workers=k), 4, steps=5, seed=1) for k in (1, 2)]
    torch.testing.assert_close(runs[1], runs[0], rtol=0, atol=1e-4)


def test_guidance_commutes_with_the_target_conversion():
    """Guiding the v output and converting equals guiding the converted eps (and x0_hat): at fixed (x_t, t) the
    conversion is affine and the guidance weights (1 - w) + w sum to 1, so the sampler may guide whatever the net
    predicts."""
    D = GaussianDiffusion(schedule="cosine", target="v")
    g = torch.Generator().manual_seed(4)
    xt, v_cond, v_uncond = torch.randn(3, 5, 1, 28, 28, generator=g, dtype=torch.float64)
    t, w = torch.tensor([0, 200, 500, 800, 999]), 2.5
    eps_g, x0_g = D.to_eps_x0(xt, t, (1 - w) * v_uncond + w * v_cond)
    (eps_c, x0_c), (eps_u, x0_u) = D.to_eps_x0(xt, t, v_cond), D.to_eps_x0(xt, t, v_uncond)
    torch.testing.assert_close(eps_g, (1 - w) * eps_u + w * eps_c)
    torch.testing.assert_close(x0_g, (1 - w) * x0_u + w * x0_c)
