"""Autoencoders and variational autoencoders on 28x28 digits (Kingma & Welling 2014; Rezende et al. 2014).

Both models are two MLPs. The encoder reads a (B, 1, 28, 28) image with pixels in [0, 1]; the decoder maps a code
z (B, d) to the *logits* of 784 independent Bernoulli pixels, p_theta(x|z) = prod_j Bern(x_j; sigmoid(l_j(z))).

- `Autoencoder`: a deterministic code z = f(x); trained by reconstruction only.
- `VAE`: the encoder outputs the mean mu(x) and log-variance log sigma^2(x) of a diagonal Gaussian q_phi(z|x); the
  prior is p(z) = N(0, I). Trained by maximising the evidence lower bound (ELBO)

      log p(x) >= E_q[log p(x|z)] - KL(q(z|x) || p(z))                                  (ELBO, eq. 3 of K&W)

  with the reparameterised sample z = mu + sigma * eps, eps ~ N(0, I), and the Gaussian KL in closed form.
  `beta` weighs the KL term (Higgins et al. 2017); beta = 1 is the ELBO itself.

The importance-weighted bound (Burda et al. 2016) log (1/k) sum_i p(x, z_i) / q(z_i|x), z_i ~ q(z|x), is the
likelihood figure: it is >= the ELBO and tends to log p(x) as k grows.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

LOG_2PI = math.log(2 * math.pi)
D_X = 28 * 28  # pixels per image


def mlp(d_in: int, hidden: int, depth: int, d_out: int) -> nn.Sequential:
    """d_in -> hidden (x depth, ELU) -> d_out."""
    layers, d = [], d_in
    for _ in range(depth):
        layers += [nn.Linear(d, hidden), nn.ELU()]
        d = hidden
    return nn.Sequential(*layers, nn.Linear(d, d_out))


class _Decoder:
    """What the AE and the VAE share: the Bernoulli decoder and its log-likelihood."""

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Bernoulli logits (..., 1, 28, 28) of p_theta(x|z) for codes z (..., d)."""
        return self.decoder(z).unflatten(-1, (1, 28, 28))

    def mean_image(self, z: torch.Tensor) -> torch.Tensor:
        """E[x|z] = sigmoid(logits), (..., 1, 28, 28) in [0, 1]: what the demos draw for a code."""
        return torch.sigmoid(self.decode(z))


class Autoencoder(nn.Module, _Decoder, PyTorchModelHubMixin, library_name="genlib",
                  tags=["autoencoder", "mnist", "genlib"], license="mit"):
    """x (B, 1, 28, 28) in [0, 1] -> z = f(x) (B, latent_dim) -> Bernoulli logits (B, 1, 28, 28)."""

    def __init__(self, latent_dim: int = 2, hidden: int = 512, depth: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = mlp(D_X, hidden, depth, latent_dim)
        self.decoder = mlp(latent_dim, hidden, depth, D_X)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The code z = f(x): (B, 1, 28, 28) -> (B, d)."""
        return self.encoder(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


class VAE(nn.Module, _Decoder, PyTorchModelHubMixin, library_name="genlib",
          tags=["vae", "mnist", "genlib"], license="mit"):
    """x (B, 1, 28, 28) in [0, 1] -> q_phi(z|x) = N(mu, diag sigma^2) (B, latent_dim) -> Bernoulli logits."""

    def __init__(self, latent_dim: int = 32, hidden: int = 512, depth: int = 2):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = mlp(D_X, hidden, depth, 2 * latent_dim)  # [mu, log sigma^2]
        self.decoder = mlp(latent_dim, hidden, depth, D_X)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma^2) of q_phi(z|x), each (B, d)."""
        mu, logvar = self.encoder(x.flatten(1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)  # sigma in [2.5e-3, 55]: keeps exp() finite early in training

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of one reconstruction through a sample z ~ q(z|x)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar))


# ---- the pieces of the ELBO --------------------------------------------------------------------------------
def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None,
                   n: int | None = None) -> torch.Tensor:
    """z = mu + sigma * eps, eps ~ N(0, I): a sample of N(mu, sigma^2) that is a differentiable function of
    (mu, sigma). With n, n samples stacked in front: (n, *mu.shape)."""
    shape = mu.shape if n is None else (n, *mu.shape)
    eps = torch.randn(shape, generator=generator, dtype=mu.dtype, device=mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor | float = 0.0,
                logvar_p: torch.Tensor | float = 0.0) -> torch.Tensor:
    """KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2)) of diagonal Gaussians, summed over the last axis (nats):
    1/2 sum_j [ log sigma_p^2 / sigma_q^2 + (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2 - 1 ].
    With the defaults (p = N(0, I)): 1/2 sum_j (mu^2 + sigma^2 - 1 - log sigma^2)."""
    mu_p, logvar_p = torch.as_tensor(mu_p, dtype=mu_q.dtype), torch.as_tensor(logvar_p, dtype=mu_q.dtype)
    kl = 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1.0)
    return kl.sum(-1)


def log_normal(z: torch.Tensor, mu: torch.Tensor | float = 0.0, logvar: torch.Tensor | float = 0.0) -> torch.Tensor:
    """log N(z; mu, diag sigma^2), summed over the last axis."""
    logvar = torch.as_tensor(logvar, dtype=z.dtype)
    return (-0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp())).sum(-1)


def bernoulli_log_lik(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = sum_j [x_j log s_j + (1 - x_j) log(1 - s_j)], s = sigmoid(logits), over the last three axes
    (1, 28, 28): minus the binary cross-entropy, in nats per image."""
    return -F.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction="none").flatten(-3).sum(-1)


def binarize(x01: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Dynamic binarisation: each pixel is 1 with probability equal to its intensity (a fresh draw each time)."""
    return torch.bernoulli(x01, generator=generator)


def elbo_terms(model: VAE, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """One-sample estimates per image (B,): recon = log p(x|z) at z = mu + sigma eps, kl = KL(q(z|x) || N(0, I)) in
    closed form, elbo = recon - kl. x (B, 1, 28, 28) binary."""
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator)
    recon = bernoulli_log_lik(model.decode(z), x)
    kl = gaussian_kl(mu, logvar)
    return {"recon": recon, "kl": kl, "elbo": recon - kl}


def vae_loss(model: VAE, x: torch.Tensor, beta: float = 1.0, recon_weight: float = 1.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """The training loss, mean over the batch: -(recon_weight * E_q[log p(x|z)] - beta * KL). recon_weight = 1,
    beta = 1 is the negative ELBO; beta = 0 the reconstruction-only ablation; recon_weight = 0 the KL-only one."""
    t = elbo_terms(model, x, generator)
    return -(recon_weight * t["recon"] - beta * t["kl"]).mean()


def ae_loss(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """The autoencoder's loss: the Bernoulli negative log-likelihood of x at its own code, mean over the batch."""
    return -bernoulli_log_lik(model(x), x).mean()


def iw_bound(model: VAE, x: torch.Tensor, k: int, generator: torch.Generator | None = None,
             chunk: int = 500) -> torch.Tensor:
    """The importance-weighted bound per image (B,) (Burda et al. 2016, eq. 8):

        L_k(x) = log (1/k) sum_{i=1..k} w_i,   w_i = p(x|z_i) p(z_i) / q(z_i|x),   z_i ~ q(z|x)

    computed in log space (log-mean-exp) over chunks of `chunk` samples, so memory stays (chunk, B, 784) however
    large k is: the running log-sum-exp of the chunks is exact. L_1 is the one-sample ELBO; E[L_k] <= E[L_{k+1}]."""
    mu, logvar = model.encode(x)
    total = torch.full(mu.shape[:1], -math.inf, dtype=mu.dtype, device=mu.device)
    done = 0
    while done < k:
        n = min(chunk, k - done)
        z = reparameterize(mu, logvar, generator, n=n)  # (n, B, d)
        log_w = bernoulli_log_lik(model.decode(z), x) + log_normal(z) - log_normal(z, mu, logvar)  # (n, B)
        total = torch.logaddexp(total, torch.logsumexp(log_w, dim=0))
        done += n
    return total - math.log(k)


# ---- the gradient estimators the note compares (a toy expectation E_{z ~ N(mu, sigma^2)}[z^2]) --------------
def toy_objective(z: torch.Tensor) -> torch.Tensor:
    """f(z) = z^2, so E[f] = mu^2 + sigma^2 and its gradient is (2 mu, 2 sigma) in closed form."""
    return z**2


def reparam_gradient(mu: float, sigma: float, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Monte Carlo gradient of E[f(z)] w.r.t. (mu, sigma) through z = mu + sigma eps: mean of f'(z) (1, eps).
    Returns (n, 2): one estimate per sample (their mean is the estimator, their spread its noise)."""
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    m = torch.full((n,), float(mu), dtype=torch.float64, requires_grad=True)  # one copy per sample: per-sample grads
    s = torch.full((n,), float(sigma), dtype=torch.float64, requires_grad=True)
    toy_objective(m + s * eps).sum().backward()  # autograd through z = mu + sigma eps
    return torch.stack([m.grad, s.grad], dim=1)


def score_function_gradient(mu: float, sigma: float, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The score-function (REINFORCE) estimate f(z) grad log N(z; mu, sigma^2) with
    d/dmu log N = (z - mu) / sigma^2 and d/dsigma log N = ((z - mu)^2 - sigma^2) / sigma^3. (n, 2) per sample."""
    eps = torch.randn(n, generator=generator, dtype=torch.float64)
    z = mu + sigma * eps
    f = toy_objective(z)
    return torch.stack([f * (z - mu) / sigma**2, f * ((z - mu) ** 2 - sigma**2) / sigma**3], dim=1)


# ---- what the tab shows: codes, paths through code space, one digit's posterior ---------------------------
def code(model, x: torch.Tensor) -> torch.Tensor:
    """The code of each image: f(x) for the AE, the posterior mean mu(x) for the VAE. (B, 1, 28, 28) -> (B, d)."""
    c = model.encode(x)
    return c[0] if isinstance(c, tuple) else c


def lerp(z_a: torch.Tensor, z_b: torch.Tensor, steps: int) -> torch.Tensor:
    """The straight line z_t = (1 - t) z_a + t z_b at `steps` evenly spaced t in [0, 1]: (steps, d)."""
    t = torch.linspace(0, 1, steps, dtype=z_a.dtype)[:, None]
    return (1 - t) * z_a + t * z_b


def traversal(z: torch.Tensor, dims: list[int], values: torch.Tensor) -> torch.Tensor:
    """Latent traversal: copies of z (d,) with one coordinate dims[i] set to each of `values`: (len(dims), m, d)."""
    out = z.expand(len(dims), len(values), -1).clone()
    for i, j in enumerate(dims):
        out[i, :, j] = values
    return out


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The closed-form KL(q || N(0, 1)) of each latent coordinate, (..., d): the terms gaussian_kl sums."""
    return 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar)


@torch.no_grad()
def digit_bounds(model: VAE, x: torch.Tensor, k: int, generator: torch.Generator | None = None) -> dict:
    """One binary image x (1, 1, 28, 28) and k samples z_i ~ q(z|x): the ELBO's terms (recon averaged over the k
    samples, KL in closed form) and the importance-weighted bound L_k from the same samples, in nats; and the
    samples z (k, d). By Jensen, L_k >= the mean of the log-weights log w_i, the ELBO estimated on these samples."""
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator, n=k)  # (k, 1, d)
    recon = bernoulli_log_lik(model.decode(z), x)  # (k, 1)
    log_w = recon + log_normal(z) - log_normal(z, mu, logvar)
    kl = gaussian_kl(mu[0], logvar[0])
    iw = torch.logsumexp(log_w[:, 0], 0) - math.log(k)
    return {"recon": recon.mean().item(), "kl": kl.item(), "elbo": (recon.mean() - kl).item(), "iw": iw.item(),
            "z": z[:, 0], "mu": mu[0], "sigma": torch.exp(0.5 * logvar[0])}


@torch.no_grad()
def prior_sample(model, n: int, seed: int) -> torch.Tensor:
    """n codes z ~ N(0, I) decoded to their mean images E[x|z]: (n, 1, 28, 28) in [0, 1]. For an AE, whose codes were
    never asked to look like N(0, I), this shows what lives where the prior puts its mass."""
    z = torch.randn((n, model.latent_dim), generator=torch.Generator().manual_seed(seed))
    return model.mean_image(z)


def draw(model, n: int, seed: int) -> torch.Tensor:
    """The Compare board's entry (genlib.compare): n prior samples (n, 1, 28, 28) in [-1, 1] (mean images)."""
    return prior_sample(model, n, seed) * 2 - 1
