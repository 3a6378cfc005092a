"""genlib.simclr: NT-Xent against a double loop and F.cross_entropy, hand-computed cases, its symmetries and the
tau -> 0 limit; each augmentation does what it says (and keeps shape, range, dtype, and its seed); the linear probe
against scikit-learn, k-NN and PCA against scikit-learn, the network's shapes, and a few training steps."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlib import simclr


def _views(n=6, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(n, d, generator=g, dtype=torch.float64)


def _images(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.full((n, 1, 28, 28), -1.0)
    x[:, :, 6:22, 9:19] = torch.rand(n, 1, 16, 10, generator=g) * 2 - 1  # a garment-like patch on background
    return x


# ---- NT-Xent ----------------------------------------------------------------------------------------------
def nt_xent_double_loop(z_a, z_b, tau):
    """Eq. 1 with plain Python loops over the 2N anchors and their 2N - 1 partners."""
    z = [v / math.sqrt(sum(float(c) ** 2 for c in v)) for v in list(z_a) + list(z_b)]
    n2 = len(z)
    total = 0.0
    for i in range(n2):
        j = (i + n2 // 2) % n2
        s = [float(sum(a * b for a, b in zip(z[i], z[k]))) for k in range(n2)]
        denom = sum(math.exp(s[k] / tau) for k in range(n2) if k != i)
        total += -math.log(math.exp(s[j] / tau) / denom)
    return total / n2


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
def test_nt_xent_equals_a_double_loop(tau):
    z_a, z_b = _views()
    assert simclr.nt_xent(z_a, z_b, tau).item() == pytest.approx(nt_xent_double_loop(z_a, z_b, tau), rel=1e-10)


def test_nt_xent_equals_cross_entropy_on_the_masked_similarity_logits():
    z_a, z_b = _views(n=8, d=16, seed=1)
    z = torch.cat([z_a, z_b])
    cos = F.cosine_similarity(z[:, None], z[None], dim=-1)  # (2N, 2N), another route to s_ik
    logits = (cos / 0.3) - 1e9 * torch.eye(16, dtype=torch.float64)  # k = i never counts
    target = torch.tensor([i + 8 for i in range(8)] + list(range(8)))
    assert simclr.nt_xent(z_a, z_b, 0.3).item() == pytest.approx(F.cross_entropy(logits, target).item(), rel=1e-10)


def test_nt_xent_by_hand_for_two_images():
    # two images, 2-D projections: a = (1, 0), a' = (0, 1), b = (-1, 0), b' = (0, -1); at tau = 1 anchor a sees
    # a' (s = 0, its positive), b (s = -1), b' (s = 0): l = -0 + log(e^0 + e^-1 + e^0) = log(2 + 1/e), and by
    # symmetry every anchor has the same term
    z_a = torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64)
    z_b = torch.tensor([[0.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
    assert simclr.nt_xent(z_a, z_b, 1.0).item() == pytest.approx(math.log(2 + math.exp(-1)), rel=1e-12)
    # identical views: each positive has s = 1, the negatives s = -1 (twice): l = -1/tau + log(e^{1/tau} + 2 e^{-1/tau})
    tau = 0.5
    same = simclr.nt_xent(z_a, z_a.clone(), tau).item()
    assert same == pytest.approx(-1 / tau + math.log(math.exp(1 / tau) + 2 * math.exp(-1 / tau)), rel=1e-12)


def test_nt_xent_is_symmetric_in_the_two_views_and_in_the_order_of_images():
    z_a, z_b = _views(seed=2)
    torch.testing.assert_close(simclr.nt_xent(z_a, z_b, 0.5), simclr.nt_xent(z_b, z_a, 0.5))
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    torch.testing.assert_close(simclr.nt_xent(z_a[perm], z_b[perm], 0.5), simclr.nt_xent(z_a, z_b, 0.5))


def test_nt_xent_is_invariant_to_rescaling_the_features():
    z_a, z_b = _views(seed=3)
    scale = torch.linspace(0.01, 100.0, 6, dtype=torch.float64)[:, None]
    torch.testing.assert_close(simclr.nt_xent(7.5 * z_a, scale * z_b, 0.2), simclr.nt_xent(z_a, z_b, 0.2))


def test_small_tau_tends_to_the_hardest_negative_margin():
    z_a, z_b = _views(n=5, d=4, seed=4)
    margin = simclr.hardest_negative_margin(z_a, z_b).item()
    assert margin > 0  # random views: some negative beats its positive
    gaps = [abs(tau * simclr.nt_xent(z_a, z_b, tau).item() - margin) for tau in (0.1, 0.01, 0.001)]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 5e-3
    # views that already agree: the margin is 0 and tau * l -> 0
    z = torch.eye(4, dtype=torch.float64)
    assert simclr.hardest_negative_margin(z, z).item() == 0.0
    assert 1e-3 * simclr.nt_xent(z, z, 1e-3).item() < 1e-6


def test_anchor_softmax_gives_the_loss_term_and_the_rank():
    z_a, z_b = _views(n=4, d=3, seed=5)
    s = simclr.similarity(z_a, z_b)
    terms = simclr.nt_xent(z_a, z_b, 0.7, reduction="none")
    for i in range(8):
        p, loss, rank = simclr.anchor_softmax(s, i, 0.7)
        j = (i + 4) % 8
        assert p[i] == 0 and p.sum().item() == pytest.approx(1.0)
        assert loss == pytest.approx(terms[i].item(), rel=1e-10) == pytest.approx(-math.log(p[j].item()), rel=1e-10)
        others = [k for k in range(8) if k != i]
        assert rank == 1 + sum(s[i, k] > s[i, j] for k in others)
    p_cold, _, _ = simclr.anchor_softmax(s, 0, 0.01)
    p_hot, _, _ = simclr.anchor_softmax(s, 0, 100.0)
    assert p_cold.max() > 0.99 and p_hot.max() < 1 / 7 + 0.01  # tau sharpens or flattens


def test_loss_at_chance_is_log_of_2n_minus_1():
    # all projections equal: every view is as similar as any other, so l = log(2N - 1) whatever tau
    z = torch.ones(5, 3)
    for tau in (0.1, 1.0):
        assert simclr.nt_xent(z, z, tau).item() == pytest.approx(math.log(9), rel=1e-6)


# ---- augmentations ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(simclr.AUGMENTATIONS))
def test_every_augmentation_keeps_shape_range_dtype_and_follows_its_seed(name):
    x = _images()
    op = simclr.AUGMENTATIONS[name]
    a = op(x, torch.Generator().manual_seed(3))
    b = op(x, torch.Generator().manual_seed(3))
    c = op(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and a.dtype == x.dtype and a.min() >= -1 - 1e-6 and a.max() <= 1 + 1e-6
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_pipeline_is_reproducible_and_the_two_views_differ():
    x = _images()
    a1, b1 = simclr.two_views(x, 7)
    a2, b2 = simclr.two_views(x, 7)
    assert torch.equal(a1, a2) and torch.equal(b1, b2) and not torch.equal(a1, b1)
    assert torch.equal(simclr.augment(x, torch.Generator(), ops=()), x)  # every toggle off: the image itself
    with pytest.raises(ValueError, match="unknown augmentations"):
        simclr.augment(x, torch.Generator(), ops=("crop", "solarize"))


def test_warp_identity_and_quarter_turn():
    x = _images(2)
    torch.testing.assert_close(simclr.warp(x, simclr.rotation(torch.zeros(2))), x)
    # a rotation by 90 degrees counter-clockwise on screen is torch.rot90 (pixel centres map onto pixel centres)
    torch.testing.assert_close(simclr.warp(x, simclr.rotation(torch.full((2,), 90.0))), torch.rot90(x, 1, (2, 3)),
                               atol=1e-5, rtol=0)


def test_crop_of_the_whole_image_is_the_image_and_a_small_crop_enlarges():
    x = _images(3)
    same = simclr.random_resized_crop(x, torch.Generator().manual_seed(0), scale=(1.0, 1.0), ratio=(1.0, 1.0))
    torch.testing.assert_close(same, x)
    # a crop of a quarter of the area shows fewer background pixels of the border than the original has
    bars = torch.full((1, 1, 28, 28), -1.0)
    bars[..., :, ::4] = 1.0  # a vertical stripe every 4 pixels
    zoom = simclr.random_resized_crop(bars, torch.Generator().manual_seed(1), scale=(0.25, 0.25), ratio=(1.0, 1.0))
    bright = lambda im: (im[0, 0, 14] > 0).float()  # noqa: E731  stripes crossing the middle row
    assert bright(zoom).sum() < bright(bars).sum()  # half the width: stripes twice as wide, half as many crossings


def test_affine_without_motion_is_identity_and_fills_background():
    x = _images(2)
    same = simclr.random_affine(x, torch.Generator(), degrees=0.0, translate=0.0, scale=(1.0, 1.0))
    torch.testing.assert_close(same, x)
    full = torch.ones(1, 1, 28, 28)
    turned = simclr.warp(full, simclr.rotation(torch.tensor([45.0])))
    assert turned[0, 0, 0, 0] == pytest.approx(-1.0) and turned[0, 0, 14, 14] == pytest.approx(1.0)  # corners empty


def test_flip_mirrors_exactly_the_chosen_images():
    x = _images(8)
    torch.testing.assert_close(simclr.random_hflip(x, torch.Generator(), p=1.0), x.flip(3))
    torch.testing.assert_close(simclr.random_hflip(x, torch.Generator(), p=0.0), x)
    mixed = simclr.random_hflip(x, torch.Generator().manual_seed(0), p=0.5)
    flipped = [torch.equal(m, xi.flip(2)) for m, xi in zip(mixed, x)]
    assert 0 < sum(flipped) < 8 and all(f or torch.equal(m, xi) for f, m, xi in zip(flipped, mixed, x))


def test_jitter_keeps_order_and_constant_images():
    x = torch.linspace(-0.5, 0.5, 28).expand(1, 1, 28, 28).clone()
    y = simclr.random_jitter(x, torch.Generator().manual_seed(1), p=1.0, contrast=(0.5, 0.5), brightness=0.0)
    torch.testing.assert_close(y, x * 0.5)  # contrast 0.5 about the mean 0: half the spread
    flat = torch.full((2, 1, 28, 28), 0.2)
    out = simclr.random_jitter(flat, torch.Generator().manual_seed(2), p=1.0, brightness=0.0)
    torch.testing.assert_close(out, flat)


def test_blur_is_a_normalised_gaussian_convolution():
    k = simclr.gaussian_kernel(torch.tensor([0.8]), 5)[0]
    torch.testing.assert_close(k.sum(), torch.tensor(1.0))
    ref = torch.exp(-torch.arange(-2.0, 3.0) ** 2 / (2 * 0.8 ** 2))
    torch.testing.assert_close(k, ref / ref.sum())
    x = _images(2)
    y = simclr.blur(x, torch.tensor([0.8, 0.8]))
    ref2d = F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), (k[:, None] * k[None])[None, None])
    torch.testing.assert_close(y, ref2d, atol=1e-6, rtol=0)
    tv = lambda im: (im[..., 1:] - im[..., :-1]).abs().sum()  # noqa: E731
    assert tv(y) < tv(x)  # smoother
    flat = torch.full((1, 1, 28, 28), 0.3)
    torch.testing.assert_close(simclr.blur(flat, torch.tensor([1.0])), flat)


def test_noise_has_the_drawn_spread():
    x = torch.zeros(1, 1, 28, 28)
    y = simclr.random_noise(x, torch.Generator().manual_seed(0), p=1.0, std=(0.1, 0.1))
    assert (y - x).std().item() == pytest.approx(0.1, rel=0.1)
    assert torch.equal(simclr.random_noise(x, torch.Generator(), p=0.0), x)


def test_erasing_paints_one_box_of_the_given_area():
    x = torch.ones(20, 1, 28, 28)
    y = simclr.random_erasing(x, torch.Generator().manual_seed(0), p=1.0, area=(0.05, 0.1), value=0.0)
    for im in y[:, 0]:
        rows, cols = torch.nonzero(im == 0, as_tuple=True)
        n = len(rows)
        assert n == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # one filled rectangle
        assert 0.03 * 784 <= n <= 0.13 * 784  # the drawn area, up to rounding of the sides


# ---- network, probe, neighbours, PCA --------------------------------------------------------------------
def test_network_shapes_and_the_folded_probe():
    torch.manual_seed(0)
    model = simclr.SimCLR(width=2, hidden=32, z_dim=8).eval()
    x = _images(5)
    h, z = model(x)
    assert model.h_dim == 2 * 2 * 7 * 7  # the flattened (2w, 7, 7) map of the trunk
    assert h.shape == (5, 196) and z.shape == (5, 8) and (h >= 0).all()  # after ReLU and max-pooling
    assert simclr.head_singular_values(model).shape == (32,)  # W1 is (hidden, h_dim) = (32, 196)
    g = torch.Generator().manual_seed(0)
    W, b = torch.randn(10, 196, generator=g, dtype=torch.float64), torch.randn(10, generator=g, dtype=torch.float64)
    mu, sd = torch.rand(196, dtype=torch.float64), torch.rand(196, dtype=torch.float64) + 0.5
    simclr.install_probe(model, {"W": W, "b": b, "mean": mu, "std": sd})
    with torch.no_grad():
        torch.testing.assert_close(model.classify(x).double(), ((h.double() - mu) / sd) @ W.T + b, atol=1e-4, rtol=1e-4)


def test_linear_probe_matches_scikit_learn():
    sklearn = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8).astype(int)  # three classes
    lam = 1e-2
    W, b = simclr.linear_probe(torch.as_tensor(X), torch.as_tensor(y), lam=lam, num_classes=3, iters=500)
    # scikit-learn minimises C * sum_i CE_i + |W|^2 / 2: the same optimum as mean CE + lam / 2 |W|^2 when C = 1 / (n lam)
    ref = sklearn.LogisticRegression(C=1 / (len(X) * lam), tol=1e-10, max_iter=5000).fit(X, y)
    ours = torch.softmax(torch.as_tensor(X) @ W.T + b, 1).numpy()
    np.testing.assert_allclose(ours, ref.predict_proba(X), atol=1e-5)


def test_knn_and_nearest_match_scikit_learn():
    neighbors = pytest.importorskip("sklearn.neighbors")
    rng = np.random.default_rng(1)
    bank, labels, query = rng.normal(size=(200, 8)), rng.integers(0, 4, 200), rng.normal(size=(30, 8))
    ours = simclr.knn_predict(torch.as_tensor(bank), torch.as_tensor(labels), torch.as_tensor(query), k=7, num_classes=4)
    ref = neighbors.KNeighborsClassifier(7, metric="cosine", algorithm="brute").fit(bank, labels).predict(query)
    np.testing.assert_array_equal(ours.numpy(), ref)
    idx, dist = simclr.nearest(torch.as_tensor(query), torch.as_tensor(bank), 5, metric="euclidean")
    ref_d, ref_i = neighbors.NearestNeighbors(n_neighbors=5).fit(bank).kneighbors(query)
    np.testing.assert_array_equal(idx.numpy(), ref_i)
    np.testing.assert_allclose(dist.numpy(), ref_d, atol=1e-10)


def test_pca_matches_scikit_learn_up_to_sign():
    decomposition = pytest.importorskip("sklearn.decomposition")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(100, 5)) @ rng.normal(size=(5, 5))
    ours = simclr.pca_2d(torch.as_tensor(X)).numpy()
    ref = decomposition.PCA(2).fit_transform(X)
    np.testing.assert_allclose(np.abs(ours), np.abs(ref), atol=1e-8)


def test_a_few_training_steps_lower_the_loss_on_fixed_views():
    torch.manual_seed(0)
    model = simclr.SimCLR(width=2, hidden=32, z_dim=16)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    a, b = simclr.two_views(_images(8, seed=1), 0)
    losses = []
    for _ in range(6):
        _, z = model(torch.cat([a, b]))
        loss = simclr.nt_xent(z[:8], z[8:], 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.2
