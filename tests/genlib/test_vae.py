"""genlib.vae: every equation of the VAE note checked numerically, against torch.distributions and against
quadrature on a model with a 1-D latent (where log p(x) itself can be computed)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from genlib import vae


def _tiny_vae(d: int = 1, seed: int = 0) -> vae.VAE:
    torch.manual_seed(seed)
    return vae.VAE(latent_dim=d, hidden=16, depth=1).double().eval()


def _binary_image(seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.full((1, 1, 28, 28), 0.3, dtype=torch.float64), generator=g)


def _quadrature(model: vae.VAE, x: torch.Tensor, lim: float = 12.0, n: int = 8001):
    """log p(x) = log int p(x|z) p(z) dz, and the exact ELBO terms, on a grid over a 1-D latent."""
    z = torch.linspace(-lim, lim, n, dtype=torch.float64)[:, None]
    dz = z[1, 0] - z[0, 0]
    with torch.no_grad():
        log_lik = vae.bernoulli_log_lik(model.decode(z), x[0])  # (n,)
        log_joint = log_lik + vae.log_normal(z)
        log_px = torch.logsumexp(log_joint, 0) + torch.log(dz)
        mu, logvar = model.encode(x)
        log_q = vae.log_normal(z, mu[0], logvar[0])
        q = log_q.exp() * dz
        recon = (q * log_lik).sum()  # E_q[log p(x|z)]
        log_post = log_joint - log_px  # log p(z|x)
        kl_post = (q * (log_q - log_post)).sum()  # KL(q(z|x) || p(z|x))
    return log_px.item(), recon.item(), kl_post.item(), mu, logvar


def test_gaussian_kl_matches_torch_distributions():
    g = torch.Generator().manual_seed(0)
    mu_q, lv_q, mu_p, lv_p = (torch.randn(5, 7, generator=g, dtype=torch.float64) for _ in range(4))
    ref = kl_divergence(Normal(mu_q, (0.5 * lv_q).exp()), Normal(mu_p, (0.5 * lv_p).exp())).sum(-1)
    torch.testing.assert_close(vae.gaussian_kl(mu_q, lv_q, mu_p, lv_p), ref)
    ref_prior = kl_divergence(Normal(mu_q, (0.5 * lv_q).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(vae.gaussian_kl(mu_q, lv_q), ref_prior)  # against N(0, I): the training loss's KL
    torch.testing.assert_close(vae.kl_per_dim(mu_q, lv_q).sum(-1), ref_prior)
    assert vae.gaussian_kl(torch.zeros(3), torch.zeros(3)).item() == 0.0  # q = p


def test_reparameterized_sample_has_the_right_mean_and_variance():
    mu = torch.tensor([1.5, -2.0, 0.0], dtype=torch.float64)
    logvar = torch.tensor([0.0, math.log(0.25), math.log(9.0)], dtype=torch.float64)
    n = 200_000
    z = vae.reparameterize(mu, logvar, torch.Generator().manual_seed(0), n=n)  # (n, 3)
    var = logvar.exp()
    assert ((z.mean(0) - mu).abs() < 4 * (var / n).sqrt()).all()  # within 4 standard errors of the mean
    assert ((z.var(0) / var - 1).abs() < 4 * math.sqrt(2 / (n - 1))).all()  # the sample variance's relative SE
    torch.testing.assert_close(torch.tensor(0.0, dtype=torch.float64),  # Gaussian: no skew
                               (((z - mu) / var.sqrt()) ** 3).mean(0).abs().max(), atol=0.03, rtol=0)


def test_reparameterization_gradient_matches_the_closed_form_and_beats_the_score_function():
    mu, sigma, n = 0.7, 1.3, 100_000
    exact = torch.tensor([2 * mu, 2 * sigma], dtype=torch.float64)  # d/d(mu, sigma) of E[z^2] = mu^2 + sigma^2
    rep = vae.reparam_gradient(mu, sigma, n, torch.Generator().manual_seed(0))
    sf = vae.score_function_gradient(mu, sigma, n, torch.Generator().manual_seed(1))
    for est in (rep, sf):  # both unbiased: each mean within 4 of its own standard errors of the exact gradient
        se = est.std(0) / math.sqrt(n)
        assert ((est.mean(0) - exact).abs() < 4 * se).all()
    assert (sf.var(0) > 3 * rep.var(0)).all()  # the score-function estimator is much noisier, per sample


def test_bernoulli_log_likelihood_is_minus_the_binary_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 1, 28, 28, generator=g, dtype=torch.float64)
    x = torch.bernoulli(torch.full_like(logits, 0.4), generator=g)
    ref = Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    torch.testing.assert_close(vae.bernoulli_log_lik(logits, x), ref)
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / 4
    torch.testing.assert_close(-vae.bernoulli_log_lik(logits, x).mean(), bce)


def test_elbo_is_log_likelihood_minus_the_kl_to_the_posterior():
    """log p(x) = ELBO + KL(q(z|x) || p(z|x)) >= ELBO, all three computed by quadrature over a 1-D latent."""
    model, x = _tiny_vae(), _binary_image()
    log_px, recon, kl_post, mu, logvar = _quadrature(model, x)
    elbo = recon - vae.gaussian_kl(mu, logvar).item()
    assert kl_post > 0 and elbo < log_px
    assert abs(log_px - (elbo + kl_post)) < 1e-6


def test_one_sample_elbo_terms_are_unbiased():
    model, x = _tiny_vae(), _binary_image()
    _, recon, _, mu, logvar = _quadrature(model, x)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        t = vae.elbo_terms(model, x.expand(20_000, -1, -1, -1), g)
    torch.testing.assert_close(t["kl"], vae.gaussian_kl(mu, logvar).expand(20_000))  # closed form: no noise
    assert abs(t["recon"].mean().item() - recon) < 4 * t["recon"].std().item() / math.sqrt(20_000)
    torch.testing.assert_close(t["elbo"], t["recon"] - t["kl"])


def test_iw_bound_is_above_the_elbo_grows_with_k_and_tends_to_log_px():
    model, x = _tiny_vae(), _binary_image()
    log_px, recon, _, mu, logvar = _quadrature(model, x)
    elbo = recon - vae.gaussian_kl(mu, logvar).item()
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        runs = {k: vae.iw_bound(model, x.expand(400, -1, -1, -1), k, g) for k in (1, 10, 100)}  # 400 draws of L_k
        big = vae.iw_bound(model, x, 20_000, g, chunk=999)[0].item()
    means = {k: v.mean().item() for k, v in runs.items()}
    assert abs(means[1] - elbo) < 4 * runs[1].std().item() / 20  # L_1 is a one-sample ELBO: within 4 SE
    assert elbo < means[10] < means[100] < log_px + 1e-3  # E[L_k] increases with k, bounded by log p(x)
    assert abs(big - log_px) < 0.05 < log_px - elbo


def test_iw_bound_chunks_combine_exactly():
    """With q(z|x) = p(z) and a decoder that ignores z, every weight equals p(x): L_k = log p(x) for any k and any
    chunking (the running log-sum-exp of the chunks is exact, even when the weights underflow exp())."""
    model = _tiny_vae(d=3)
    with torch.no_grad():
        for layer in (model.encoder[-1], model.decoder[-1]):
            layer.weight.zero_()
        model.encoder[-1].bias.zero_()  # mu = 0, log sigma^2 = 0: q = N(0, I)
        model.decoder[-1].bias.copy_(torch.linspace(-4, 4, 784, dtype=torch.float64))
    x = torch.cat([_binary_image(0), _binary_image(1)])
    with torch.no_grad():
        log_px = vae.bernoulli_log_lik(model.decode(torch.zeros(2, 3, dtype=torch.float64)), x)
        for k, chunk in ((1, 1), (10, 3), (1000, 7), (1000, 1000)):
            torch.testing.assert_close(vae.iw_bound(model, x, k, chunk=chunk), log_px)
    assert log_px.max() < -500  # exp(log w) would underflow to 0 in float64 were it not done in log space


def test_training_losses_and_the_ablations():
    model, x = _tiny_vae(d=2), _binary_image()
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731  the same noise for every loss
    t = vae.elbo_terms(model, x, g())
    torch.testing.assert_close(vae.vae_loss(model, x, generator=g()), -t["elbo"].mean())
    torch.testing.assert_close(vae.vae_loss(model, x, beta=0.0, generator=g()), -t["recon"].mean())
    torch.testing.assert_close(vae.vae_loss(model, x, beta=4.0, generator=g()), -(t["recon"] - 4 * t["kl"]).mean())
    kl_only = vae.vae_loss(model, x, recon_weight=0.0, generator=g())
    torch.testing.assert_close(kl_only, t["kl"].mean())
    kl_only.backward()
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in model.decoder.parameters())  # no signal to the decoder
    assert model.encoder[-1].weight.grad.abs().max() > 0


def test_autoencoder_loss_and_codes():
    torch.manual_seed(0)
    ae = vae.Autoencoder(latent_dim=2, hidden=16, depth=1).double()
    x = _binary_image()
    torch.testing.assert_close(vae.ae_loss(ae, x), -vae.bernoulli_log_lik(ae.decode(ae.encode(x)), x).mean())
    torch.testing.assert_close(vae.code(ae, x), ae.encode(x))
    model = _tiny_vae(d=2)
    torch.testing.assert_close(vae.code(model, x), model.encode(x)[0])  # the VAE's code is the posterior mean


def test_lerp_and_traversal():
    a, b = torch.tensor([0.0, 2.0]), torch.tensor([4.0, -2.0])
    line = vae.lerp(a, b, 5)
    torch.testing.assert_close(line[0], a)
    torch.testing.assert_close(line[-1], b)
    torch.testing.assert_close(line[2], (a + b) / 2)
    grid = vae.traversal(torch.tensor([1.0, 2.0, 3.0]), [2, 0], torch.tensor([-1.0, 0.0, 1.0]))
    assert grid.shape == (2, 3, 3)
    torch.testing.assert_close(grid[0, :, 2], torch.tensor([-1.0, 0.0, 1.0]))
    torch.testing.assert_close(grid[0, :, :2], torch.tensor([[1.0, 2.0]] * 3))
    torch.testing.assert_close(grid[1, :, 0], torch.tensor([-1.0, 0.0, 1.0]))


def test_prior_sample_and_draw_are_seeded():
    model = _tiny_vae(d=4).float()
    a, b = vae.prior_sample(model, 3, seed=5), vae.prior_sample(model, 3, seed=5)
    assert a.shape == (3, 1, 28, 28) and torch.equal(a, b) and 0 <= a.min() and a.max() <= 1
    torch.testing.assert_close(vae.draw(model, 3, seed=5), a * 2 - 1)


def test_digit_bounds():
    model, x = _tiny_vae(d=2).float(), _binary_image().float()
    b = vae.digit_bounds(model, x, 500, torch.Generator().manual_seed(0))
    assert b["z"].shape == (500, 2) and b["iw"] > b["elbo"]
    assert abs(b["elbo"] - (b["recon"] - b["kl"])) < 1e-4


@pytest.mark.parametrize("name", ["vae2", "vae32"])
def test_trained_vae_beats_its_elbo_with_importance_weights(name):
    """The committed model on a few test-like digits: L_k >= ELBO on average, and both are sensible nats."""
    from genlib import data, hub
    from genlib.recipes.vae import test_binarized

    digits, _ = data.load_sample()
    x = test_binarized(data.to_model_range(digits[:20]))
    model = hub.load(name)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        elbo = torch.stack([vae.elbo_terms(model, x, g)["elbo"] for _ in range(20)]).mean(0)
        iw = vae.iw_bound(model, x, 200, g)
    assert (iw.mean() > elbo.mean()) and -iw.mean() < 200
