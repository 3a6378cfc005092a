"""genlib.gan: the three losses against their formulas and torch's own BCE, D* = p_data / (p_data + p_g) against a D
trained on two known 1-D densities, V(D*, G) = -log 4 + 2 JSD, the pure seeded step, slerp, the DCGAN's shapes."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlib import gan

@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: one intra-op thread is faster, and never waits on a busy second core."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


LOGITS = torch.tensor([-40.0, -3.0, -0.5, 0.0, 0.7, 2.5, 40.0], dtype=torch.float64)
REAL = torch.tensor([-2.0, 0.3, 1.0, 4.0, 35.0], dtype=torch.float64)


def _log_d(l):  # log sigmoid(l), written out in float64 (exact enough away from the tails used below)
    return -torch.log1p(torch.exp(-l))


def test_losses_equal_their_formulas_on_hand_made_logits():
    fake = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.5], dtype=torch.float64)
    D_real, D_fake = torch.sigmoid(REAL[:4]), torch.sigmoid(fake)
    # minimax / non-saturating D loss: -E log D(x) - E log(1 - D(G(z)))
    expected = -torch.log(D_real).mean() - torch.log(1 - D_fake).mean()
    assert gan.d_loss(REAL[:4], fake, "nonsaturating").item() == pytest.approx(expected.item(), rel=1e-12)
    assert gan.d_loss(REAL[:4], fake, "minimax").item() == pytest.approx(expected.item(), rel=1e-12)
    # generator losses
    assert gan.g_loss(fake, "minimax").item() == pytest.approx(torch.log(1 - D_fake).mean().item(), rel=1e-12)
    assert gan.g_loss(fake, "nonsaturating").item() == pytest.approx(-torch.log(D_fake).mean().item(), rel=1e-12)
    # least squares (a = 0, b = c = 1) on the raw outputs
    ls_d = 0.5 * ((REAL[:4] - 1) ** 2).mean() + 0.5 * (fake**2).mean()
    assert gan.d_loss(REAL[:4], fake, "lsgan").item() == pytest.approx(ls_d.item(), rel=1e-12)
    assert gan.g_loss(fake, "lsgan").item() == pytest.approx((0.5 * (fake - 1) ** 2).mean().item(), rel=1e-12)


def test_losses_match_torch_bce_and_stay_finite_at_extreme_logits():
    """The softplus forms against torch's binary_cross_entropy_with_logits (an independent implementation), in
    float32 at logits of +-40, where the naive log(1 - sigmoid(l)) is -inf."""
    real, fake = REAL.float(), LOGITS.float()
    bce = F.binary_cross_entropy_with_logits
    assert torch.allclose(gan.d_loss(real, fake), bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake)))
    assert torch.allclose(gan.g_loss(fake, "nonsaturating"), bce(fake, torch.ones_like(fake)))
    assert torch.allclose(gan.g_loss(fake, "minimax"), -bce(fake, torch.zeros_like(fake)))
    assert torch.isinf(torch.log(1 - torch.sigmoid(torch.tensor(40.0))))  # the naive form fails ...
    for kind in gan.LOSSES:  # ... the stable ones do not, and neither do their gradients
        x = fake.clone().requires_grad_(True)
        loss = gan.g_loss(x, kind) + gan.d_loss(real, x, kind)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(x.grad).all()


def test_minimax_generator_loss_saturates_and_the_non_saturating_one_does_not():
    """d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0 when D rejects the fake (l << 0); d/dl [-log sigmoid(l)] =
    -(1 - sigmoid(l)) -> -1 there."""
    l = torch.tensor([-8.0], dtype=torch.float64, requires_grad=True)
    (g_mm,) = torch.autograd.grad(gan.g_loss(l, "minimax"), l)
    (g_ns,) = torch.autograd.grad(gan.g_loss(l, "nonsaturating"), l)
    s = torch.sigmoid(torch.tensor(-8.0, dtype=torch.float64)).item()
    assert g_mm.item() == pytest.approx(-s, rel=1e-9) and abs(g_mm.item()) < 1e-3
    assert g_ns.item() == pytest.approx(-(1 - s), rel=1e-9)


def test_optimal_discriminator_matches_a_trained_one_on_two_known_densities():
    """D trained to convergence on samples of p_data = N(0, 1) against p_g = N(1.5, 0.8^2) (G fixed) approaches
    D*(x) = p_data / (p_data + p_g), computed with scipy.stats."""
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    D = gan.seeded_init(gan.mlp(1, 1, 16, 2), g)
    opt = torch.optim.Adam(D.parameters(), lr=1e-2)
    for _ in range(600):
        x = torch.randn(256, 1, generator=g)
        fake = 1.5 + 0.8 * torch.randn(256, 1, generator=g)
        loss = gan.d_loss(D(x), D(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
    grid = np.linspace(-1.5, 2.5, 41)
    p_data, p_g = stats.norm.pdf(grid, 0, 1), stats.norm.pdf(grid, 1.5, 0.8)
    d_star = gan.optimal_discriminator(torch.from_numpy(p_data), torch.from_numpy(p_g)).numpy()
    with torch.no_grad():
        d_trained = torch.sigmoid(D(torch.from_numpy(grid).float()[:, None]))[:, 0].numpy()
    assert np.abs(d_trained - d_star).max() < 0.06
    assert np.abs(d_trained - d_star).mean() < 0.025


def test_value_at_the_optimal_discriminator_is_minus_log4_plus_twice_jsd():
    """V(D*, G) = E_data log D* + E_g log(1 - D*) = -log 4 + 2 JSD(p_data || p_g); JSD checked against scipy's
    jensenshannon (which returns its square root)."""
    spatial = pytest.importorskip("scipy.spatial.distance")
    stats = pytest.importorskip("scipy.stats")
    x = np.linspace(-7, 7, 28001)  # both densities above 1e-30 here; the mass outside is below 1e-11
    dx = x[1] - x[0]
    p, q = stats.norm.pdf(x, 0, 1), stats.norm.pdf(x, 1.5, 0.8)
    d_star = gan.optimal_discriminator(torch.from_numpy(p), torch.from_numpy(q)).numpy()
    V = (p * np.log(d_star)).sum() * dx + (q * np.log1p(-d_star)).sum() * dx
    jsd = gan.js_divergence(torch.from_numpy(p), torch.from_numpy(q), dx)
    assert V == pytest.approx(-math.log(4) + 2 * jsd, abs=1e-6)
    assert jsd == pytest.approx(spatial.jensenshannon(p, q) ** 2, rel=1e-4)
    assert gan.js_divergence(torch.from_numpy(p), torch.from_numpy(p), dx) == pytest.approx(0.0, abs=1e-12)


def _params(state):
    return torch.cat([p.detach().flatten() for net in (state.G, state.D) for p in net.parameters()])


def test_one_training_step_is_deterministic_for_a_seed_and_pure():
    h = gan.Hyper(target="ring8", batch=64, hidden=16, seed=5)
    a, b = gan.new_game(h), gan.new_game(h)
    before = _params(a).clone()
    a1, b1 = gan.train_step(a, steps=3), gan.train_step(b, steps=3)
    assert torch.equal(_params(a1), _params(b1)) and a1.losses == b1.losses and a1.step == 3
    assert torch.equal(_params(a), before) and a.step == 0 and not a.losses  # the input state is unchanged
    assert torch.equal(_params(gan.train_step(a1, steps=2)), _params(gan.train_step(b1, steps=2)))
    other = gan.train_step(gan.new_game(gan.Hyper(target="ring8", batch=64, hidden=16, seed=6)), steps=3)
    assert not torch.equal(_params(other), _params(a1))


def test_new_hyper_parameters_take_effect_without_a_new_game():
    s = gan.new_game(gan.Hyper(batch=32, hidden=8))
    t = gan.train_step(s, gan.Hyper(lr_g=0.05, lr_d=0.02, loss="lsgan", batch=32, hidden=8))
    assert t.hyper.loss == "lsgan" and t.opt_g.lr == 0.05 and t.opt_d.lr == 0.02
    assert s.opt_g.lr == 1e-3  # the old state keeps its own


def test_the_games_adam_takes_torch_adams_steps():
    g = torch.Generator().manual_seed(0)
    a, b = gan.seeded_init(gan.mlp(2, 1, 8, 2), g), gan.seeded_init(gan.mlp(2, 1, 8, 2), g)
    b.load_state_dict(a.state_dict())
    ours, theirs = gan.Adam(a.parameters(), 0.01, (0.5, 0.999)), torch.optim.Adam(b.parameters(), 0.01, betas=(0.5, 0.999))
    x = torch.randn(64, 2, generator=g)
    for _ in range(5):
        for net, opt in ((a, ours), (b, theirs)):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_targets_and_ring_modes():
    for name in gan.TARGETS:
        x = gan.target_points(name, 500, seed=1)
        assert x.shape == (500, 2) and torch.isfinite(x).all() and x.abs().max() < 3.5
        assert torch.equal(x, gan.target_points(name, 500, seed=1))
    ring = gan.target_points("ring8", 4000, seed=0)
    assert gan.modes_covered(ring) == 8
    from genlib.data import mixture_params

    one_mode = mixture_params("ring8")[0][3] + 0.1 * torch.randn(500, 2)
    assert gan.modes_covered(one_mode) == 1
    with pytest.raises(ValueError):
        gan.target_points("nope", 3, 0)


def test_heatmap_orientation_and_generator_arrows_point_uphill_on_d():
    """A D whose logit is the x coordinate: the map grows left to right; G's arrows (-dL_G/dG(z)) point to +x."""
    D = torch.nn.Linear(2, 1)
    with torch.no_grad():
        D.weight.copy_(torch.tensor([[1.0, 0.0]])), D.bias.zero_()
    heat = gan.d_heatmap(D, lim=3.0, n=7)
    assert (np.diff(heat, axis=1) > 0).all() and np.allclose(heat[0], heat[-1])
    s = gan.new_game(gan.Hyper(hidden=8))
    s.D = D
    for kind in gan.LOSSES:
        s.hyper = gan.Hyper(loss=kind, hidden=8)
        pts, push = gan.g_gradients(s, torch.randn(20, 2))
        assert pts.shape == push.shape == (20, 2) and (push[:, 0] > 0).all() and np.allclose(push[:, 1], 0)
    lines = gan.warped_grid(s.G, lines=3, per_line=5)
    assert len(lines) == 6 and lines[0].shape == (5, 2)


def test_slerp_and_lerp():
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(64, generator=g), torch.randn(64, generator=g)
    t = torch.linspace(0, 1, 5)
    for f in (gan.lerp, gan.slerp):
        path = f(z0, z1, t)
        assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(path[-1], z1, atol=1e-5)
    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])  # orthogonal, same norm
    assert torch.allclose(gan.slerp(a, b, t).norm(dim=1), torch.full((5,), 3.0), atol=1e-5)
    assert gan.lerp(a, b, torch.tensor([0.5])).norm().item() == pytest.approx(3 / math.sqrt(2))
    assert torch.allclose(gan.slerp(a, a, t), a.expand(5, 2))  # equal ends: no division by sin 0


def test_dcgan_shapes_and_snapshot_packing():
    G, D = gan.DCGANGenerator(z_dim=8, ch=4), gan.DCGANDiscriminator(ch=4)
    gan.init_dcgan(G)
    x = gan.sample(G, 6, seed=3)
    assert x.shape == (6, 1, 28, 28) and x.abs().max() <= 1
    assert torch.equal(x, gan.sample(G, 6, seed=3))
    assert D(x, torch.arange(6)).shape == (6,)
    u8 = gan.unpack_images(gan.pack_images(x), 6)
    assert u8.dtype == np.uint8 and np.abs(u8.astype(float) / 127.5 - 1 - x[:, 0].numpy()).max() <= 0.5 / 127.5 + 1e-6


DATA = Path(os.environ.get("GENLIB_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


@pytest.mark.skipif(not (DATA / "mnist").is_dir(), reason="MNIST IDX files not found")
def test_recipe_trains_and_records_a_snapshot_per_epoch(tmp_path):
    import json

    from genlib.train import main

    out = main(["gan", "--data-dir", str(DATA), "--limit", "128", "--epochs", "2", "--out", str(tmp_path / "g"),
                "--threads", "1"])
    m = json.loads((out / "metrics.json").read_text())
    assert [e["epoch"] for e in m["epochs_record"]] == [1, 2] and m["steps"] == 4
    assert len(m["epochs_record"][0]["images"]) < 16_000  # a few KB per snapshot
    assert gan.unpack_images(m["epochs_record"][1]["images"], m["snapshot"]["n"]).shape == (16, 28, 28)
    assert len(m["loss_curve"]) == len(m["loss_curve_d"]) >= 1
