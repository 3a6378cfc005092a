"""Autoencoders and VAEs on dynamically binarised MNIST: every training batch is a fresh Bernoulli draw of the
pixels (intensity = probability of a 1). The AE minimises the Bernoulli reconstruction loss at its code; the VAE
minimises -(recon_weight * E_q[log p(x|z)] - beta * KL(q(z|x) || N(0, I))): beta = recon_weight = 1 is the ELBO,
beta = 0 the reconstruction-only ablation, recon_weight = 0 the KL-only one.

Evaluated on the 10,000 test images binarised once with a fixed seed (`test_binarized`): the ELBO and its two
terms, an importance-weighted bound at small k, the reconstruction error at the code (mean), the active latent
units.The tab's latent map reads the test codes of the 2-D models from weights/<name>/test_codes.npz, written by
benchmarks/vae.py (the app does not ship the test set).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from genlib import vae
from genlib.train import RunResult, fit, load_images, seeded

TEST_SEED = 0  # the one binarisation of the test set that every figure is measured on


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """Images in [-1, 1] (genlib.data) -> intensities in [0, 1]."""
    return ((x + 1) / 2).clamp(0, 1)


def test_binarized(x_test: torch.Tensor, seed: int = TEST_SEED) -> torch.Tensor:
    """The test images ([-1, 1]) binarised once, with a fixed seed: the same binary test set for every model."""
    return vae.binarize(to_unit(x_test), torch.Generator().manual_seed(seed))


def train(args, spec) -> RunResult:
    g = seeded(args.seed)
    x_train, y_train, x_test, y_test = load_images(args)
    x01 = to_unit(x_train)
    model = spec.model_class()(**spec.config)
    is_vae = isinstance(model, vae.VAE)
    beta, recon_weight = getattr(args, "beta", 1.0), getattr(args, "recon_weight", 1.0)

    def loss_fn(idx):
        x = vae.binarize(x01[idx], g)  # dynamic binarisation: a new draw every time an image is seen
        if is_vae:
            return vae.vae_loss(model, x, beta=beta, recon_weight=recon_weight, generator=g)
        return vae.ae_loss(model, x)

    curve = fit(model, loss_fn, len(x_train), args, g, log_points=100)
    model.eval()
    final = evaluate(model, test_binarized(x_test), to_unit(x_test))
    metrics = {"loss_curve": curve, "final": final, "beta": beta if is_vae else None,
               "recon_weight": recon_weight if is_vae else None}
    return RunResult(model, metrics)


@torch.no_grad()
def codes(model, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    """The code of each image: f(x) for the AE, the posterior mean mu(x) for the VAE. x (N, 1, 28, 28) -> (N, d)."""
    out = []
    for i in range(0, len(x), batch):
        c = model.encode(x[i : i + batch])
        out.append(c[0] if isinstance(c, tuple) else c)
    return torch.cat(out)


@torch.no_grad()
def evaluate(model, x_bin: torch.Tensor, x_unit: torch.Tensor, batch: int = 500, seed: int = 1,
             iw_k: int = 100, iw_n: int = 1000) -> dict:
    """Test figures in nats per image (lower is better for every one of them):

    - recon_nats: -log p(x|z) at the code (the mean mu for a VAE): the reconstruction error as a likelihood;
    - recon_mse: mean squared error of the decoded mean image against the grey-level test image, per pixel;
    - for a VAE also: neg_elbo = -ELBO with one sample per image, its terms elbo_recon_nats = -E_q[log p(x|z)] and
      kl_nats, active_units (latent dims whose mean moves with x: Cov_x(mu_j) > 0.01, Burda et al. 2016), and
      iw_nll = -L_k with k = iw_k on the first iw_n images (the benchmark runs k = 5000 on all of them).
    """
    g = torch.Generator().manual_seed(seed)
    sums: dict[str, float] = {}

    def add(key, values):
        sums[key] = sums.get(key, 0.0) + values.double().sum().item()

    z_all = codes(model, x_bin)
    for i in range(0, len(x_bin), batch):
        x, xu, z = x_bin[i : i + batch], x_unit[i : i + batch], z_all[i : i + batch]
        logits = model.decode(z)
        add("recon_nats", -vae.bernoulli_log_lik(logits, x))
        add("recon_mse", ((torch.sigmoid(logits) - xu) ** 2).flatten(1).mean(1))
        if isinstance(model, vae.VAE):
            t = vae.elbo_terms(model, x, g)
            add("elbo_recon_nats", -t["recon"])
            add("kl_nats", t["kl"])
            add("neg_elbo", -t["elbo"])
    out = {k: round(v / len(x_bin), 4) for k, v in sums.items()}
    if isinstance(model, vae.VAE):
        out["active_units"] = int((z_all.var(0) > 0.01).sum())
        n = min(iw_n, len(x_bin))
        iw = torch.cat([vae.iw_bound(model, x_bin[i : i + 50], iw_k, g) for i in range(0, n, 50)])
        out[f"iw_nll_k{iw_k}_n{n}"] = round(-iw.mean().item(), 4)
    return out


@torch.no_grad()
def iw_nll(model: vae.VAE, x_bin: torch.Tensor, k: int, seed: int = 0, batch: int = 20, chunk: int = 500,
           progress=None) -> np.ndarray:
    """-L_k(x) for each image (N,), float64 nats, in batches of `batch` images (memory ~ chunk x batch x 784)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(0, len(x_bin), batch):
        out.append(-vae.iw_bound(model, x_bin[i : i + batch], k, g, chunk=chunk).double())
        if progress is not None:
            progress(i + len(out[-1]))
    return torch.cat(out).numpy()


def mean_and_se(values: np.ndarray) -> tuple[float, float]:
    """Mean and its standard error s / sqrt(n)."""
    values = np.asarray(values, dtype=np.float64)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)
