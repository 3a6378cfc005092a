"""Inception Score and Frechet distance against closed forms."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from genlib.metrics import (fid_from_features, frechet_distance, gaussian_stats, inception_score, inception_score_spread,
                            mmd_rbf, sliced_wasserstein)


def test_inception_score_extremes():
    k = 10
    sharp_uniform = torch.eye(k).repeat(50, 1)  # confident and every class equally often
    assert inception_score(sharp_uniform, splits=5)[0] == pytest.approx(k, rel=1e-6)
    collapsed = torch.zeros(500, k)
    collapsed[:, 3] = 1.0
    assert inception_score(collapsed, splits=5)[0] == pytest.approx(1.0)
    blurry = torch.full((500, k), 1.0 / k)
    assert inception_score(blurry, splits=5)[0] == pytest.approx(1.0)


def test_frechet_distance_diagonal_closed_form():
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, 0.0])
    a, b = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((a.sqrt() - b.sqrt()) ** 2).sum()
    assert frechet_distance(mu1, torch.diag(a), mu2, torch.diag(b)) == pytest.approx(expected.item(), rel=1e-9)


def test_frechet_distance_general_matches_eigenvalues_of_product():
    """Tr sqrt(S1 S2) equals the sum of square roots of the (real, positive) eigenvalues of S1 S2."""
    g = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=g, dtype=torch.float64)
    b = torch.randn(6, 6, generator=g, dtype=torch.float64)
    s1, s2 = a @ a.T + 0.1 * torch.eye(6, dtype=torch.float64), b @ b.T + 0.1 * torch.eye(6, dtype=torch.float64)
    mu1, mu2 = torch.randn(6, generator=g, dtype=torch.float64), torch.randn(6, generator=g, dtype=torch.float64)
    tr_sqrt = torch.linalg.eigvals(s1 @ s2).real.clamp_min(0).sqrt().sum()
    expected = ((mu1 - mu2) ** 2).sum() + torch.trace(s1) + torch.trace(s2) - 2 * tr_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected.item(), rel=1e-8)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_shift():
    f = torch.randn(2000, 8, generator=torch.Generator().manual_seed(1))
    assert abs(fid_from_features(f, f)) < 1e-8
    assert fid_from_features(f, f + 1.0) == pytest.approx(8.0, rel=1e-6)  # a pure mean shift adds ||d||^2
    mu, cov = gaussian_stats(f)
    assert mu.shape == (8,) and cov.shape == (8, 8)


def test_sliced_wasserstein_of_a_shift_is_the_projected_shift():
    """Shifting a cloud by d moves every 1-D projection by <d, theta>; E<d, theta>^2 = |d|^2 / D for unit theta."""
    a = torch.randn(5000, 2, generator=torch.Generator().manual_seed(0))
    d = torch.tensor([1.0, -2.0])
    assert sliced_wasserstein(a, a) == 0.0
    assert sliced_wasserstein(a, a + d, projections=4000) == pytest.approx((d.pow(2).sum() / 2).sqrt().item(), rel=0.03)


def test_mmd_is_near_zero_for_the_same_distribution_and_grows_with_a_shift():
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(800, 2, generator=g), torch.randn(800, 2, generator=g)
    same, shifted = mmd_rbf(a, b), mmd_rbf(a, b + 1.0)
    assert abs(same) < 0.003 and shifted > 0.05 and mmd_rbf(a, b + 0.3) < shifted


def test_inception_score_spread_is_the_bootstrap_standard_deviation():
    """The spread equals the population sd of the IS over resamples drawn with replacement (same generator), is 0
    for samples that are all alike, and shrinks roughly as 1/sqrt(n)."""
    g = torch.Generator().manual_seed(1)
    probs = torch.softmax(3 * torch.randn(400, 10, generator=g, dtype=torch.float64), dim=1)
    gen = torch.Generator().manual_seed(7)
    by_hand = [inception_score(probs[torch.randint(400, (400,), generator=gen)], 1)[0] for _ in range(50)]
    assert inception_score_spread(probs, 50, seed=7) == pytest.approx(float(np.std(by_hand)), rel=1e-12)
    assert inception_score_spread(probs[:1].repeat(100, 1), 20) == pytest.approx(0.0, abs=1e-12)
    big = torch.softmax(3 * torch.randn(6400, 10, generator=g, dtype=torch.float64), dim=1)
    assert 2.0 < inception_score_spread(probs, 100) / inception_score_spread(big, 100) < 8.0  # sqrt(16) = 4
