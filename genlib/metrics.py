"""Sample-quality metrics computed with a trained classifier (genlib.cnn) instead of ImageNet Inception.

- Inception Score (Salimans et al. 2016, arXiv:1606.03498): IS = exp( E_x KL(p(y|x) || p(y)) ).
  Sharp, confident predictions with a uniform marginal over classes give IS = number of classes.
- Frechet distance (Heusel et al. 2017, arXiv:1706.08500) between Gaussians fitted to features:
  FID = ||mu_1 - mu_2||^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2}).
Both depend on the feature network, so figures are comparable only within this project.

For point clouds (the 2-D flow-matching sets): the sliced Wasserstein-2 distance and the RBF-kernel MMD.
"""
from __future__ import annotations

import torch


@torch.no_grad()
def classifier_outputs(classifier, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, D) float64, class probabilities (N, K) float64) for images (N, 1, 28, 28) in [-1, 1]."""
    feats, probs = [], []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].float()
        f = classifier.features(x)
        feats.append(f.double())
        probs.append(torch.softmax(classifier.head(f), dim=1).double())
    return torch.cat(feats), torch.cat(probs)


def inception_score(probs: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """Mean and standard deviation over `splits` equal parts of exp(E_x KL(p(y|x) || p(y)))."""
    scores = []
    for part in torch.chunk(probs.double(), splits):
        p_y = part.mean(dim=0, keepdim=True)  # marginal p(y) over the part
        kl = (part * (torch.log(part.clamp_min(1e-12)) - torch.log(p_y.clamp_min(1e-12)))).sum(dim=1)
        scores.append(torch.exp(kl.mean()))
    s = torch.stack(scores)
    return float(s.mean()), float(s.std(unbiased=False)) if len(s) > 1 else 0.0


def inception_score_spread(probs: torch.Tensor, resamples: int = 200, seed: int = 0) -> float:
    """The standard deviation of the one-split IS over `resamples` bootstrap resamples of the N samples (drawn
    with replacement, N each): how far the IS of n samples could move on another draw of n, when n is too small to
    split (IS needs about 1000 samples per split to estimate p(y))."""
    g = torch.Generator().manual_seed(seed)
    n = len(probs)
    scores = torch.tensor([inception_score(probs[torch.randint(n, (n,), generator=g)], 1)[0] for _ in range(resamples)],
                          dtype=torch.float64)
    return float(scores.std(unbiased=False))


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D) of features (N, D), in float64."""
    f = features.double()
    return f.mean(dim=0), torch.cov(f.T)


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    """Symmetric square root of a positive semi-definite matrix via its eigendecomposition."""
    w, v = torch.linalg.eigh((m + m.T) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def frechet_distance(mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}).

    Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}: the inner matrix is symmetric PSD, so this needs
    only symmetric eigendecompositions (no complex sqrtm).
    """
    s1_half = _sqrt_psd(sigma1.double())
    inner = s1_half @ sigma2.double() @ s1_half
    tr_sqrt = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp_min(0).sqrt().sum()
    diff = (mu1.double() - mu2.double()).pow(2).sum()
    return float(diff + torch.trace(sigma1.double()) + torch.trace(sigma2.double()) - 2 * tr_sqrt)


def fid_from_features(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two feature sets (N1, D), (N2, D)."""
    return frechet_distance(*gaussian_stats(f1), *gaussian_stats(f2))


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 256, seed: int = 0) -> float:
    """Sliced W2 between two equal-size point clouds (N, D): the root mean over random unit directions of the
    1-D W2^2 between the projections, which for sorted samples is the mean squared gap between order statistics."""
    if a.shape != b.shape:
        raise ValueError("sliced_wasserstein needs two clouds of the same shape")
    g = torch.Generator().manual_seed(seed)
    dirs = torch.randn(a.shape[1], projections, generator=g, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)  # (D, P) unit vectors
    pa, _ = (a.double() @ dirs).sort(dim=0)
    pb, _ = (b.double() @ dirs).sort(dim=0)
    return (pa - pb).pow(2).mean().sqrt().item()


def mmd_rbf(a: torch.Tensor, b: torch.Tensor, bandwidth: float = 0.5) -> float:
    """Unbiased MMD^2 with the kernel k(x, y) = exp(-||x - y||^2 / (2 h^2)) between clouds (N, D) and (M, D)."""
    def k(x, y):
        return torch.exp(-torch.cdist(x.double(), y.double()).pow(2) / (2 * bandwidth**2))

    n, m = len(a), len(b)
    kaa, kbb = k(a, a), k(b, b)
    term_a = (kaa.sum() - kaa.diagonal().sum()) / (n * (n - 1))
    term_b = (kbb.sum() - kbb.diagonal().sum()) / (m * (m - 1))
    return (term_a + term_b - 2 * k(a, b).mean()).item()
