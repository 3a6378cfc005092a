"""The PixelCNN note's claims checked against genlib.pixelcnn: causality by gradient probes, the blind spot, the
likelihood, temperature, and that the cached sampler draws exactly the naive sampler's images."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from genlib import pixelcnn as px

D64 = torch.float64


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(channels=8, n_blocks=2, n_res=1, n_mix=3, d_k=8, d_v=8) | kw
    return px.PixelSNAIL(**cfg).double().eval()


def _image(n=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, px.H, px.W), generator=g).double() * 2 / 255 - 1


def _influence(f, x, r, c):
    """|d f(x)[0, :, r, c] / d x| summed over output channels, per input pixel: (H, W)."""
    x = x.clone().requires_grad_(True)
    out = f(x)
    proj = torch.randn(out.shape[1], dtype=out.dtype, generator=torch.Generator().manual_seed(1))
    (grad,) = torch.autograd.grad(out[0, :, r, c] @ proj, x)
    return grad[0].abs().sum(0)


def test_shifts_move_rows_and_columns():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    assert px.down_shift(x)[0, 0].tolist() == [[0, 0, 0, 0], [0, 1, 2, 3], [4, 5, 6, 7]]
    assert px.right_shift(x)[0, 0].tolist() == [[0, 0, 1, 2], [0, 4, 5, 6], [0, 8, 9, 10]]
    torch.testing.assert_close(px.concat_elu(torch.tensor([[1.0, -2.0]])), F.elu(torch.tensor([[1.0, -2.0, -1.0, 2.0]])))


@pytest.mark.parametrize("cls,k,rows,cols", [(px.DownShiftedConv2d, (2, 3), (-1, 0), (-1, 1)),
                                             (px.DownRightShiftedConv2d, (2, 2), (-1, 0), (-1, 0)),
                                             (px.DownRightShiftedConv2d, (2, 1), (-1, 0), (0, 0))])
def test_causal_convs_see_only_the_past(cls, k, rows, cols):
    torch.manual_seed(0)
    conv = cls(1, 4, k).double()
    r, c = 10, 12
    infl = _influence(conv, torch.randn(1, 1, px.H, px.W, dtype=D64), r, c)
    seen = {(i - r, j - c) for i, j in (infl > 0).nonzero().tolist()}
    expected = {(dr, dc) for dr in range(rows[0], rows[1] + 1) for dc in range(cols[0], cols[1] + 1)}
    assert seen == expected
    # and the first layer's combination excludes the pixel itself: down_shift(1x3) + right_shift(2x1)
    torch.manual_seed(0)
    up, left = px.DownShiftedConv2d(1, 4, (1, 3)).double(), px.DownRightShiftedConv2d(1, 4, (2, 1)).double()
    infl = _influence(lambda x: px.down_shift(up(x)) + px.right_shift(left(x)), torch.randn(1, 1, px.H, px.W, dtype=D64), r, c)
    assert {(i - r, j - c) for i, j in (infl > 0).nonzero().tolist()} == {(-1, -1), (-1, 0), (-1, 1), (0, -1)}


def test_masked_pixelcnn_has_a_blind_spot():
    torch.manual_seed(0)
    model = px.MaskedPixelCNN(channels=8, layers=6).double()
    r, c = 20, 10
    infl = _influence(model, torch.randn(1, 1, px.H, px.W, dtype=D64), r, c)
    flat, i = infl.flatten(), r * px.W + c
    assert (flat[i:] == 0).all()  # causal
    # the blind spot: pixels above and to the right that are earlier in raster order but never seen
    blind = [(r - 2, c + 5), (r - 1, c + 4), (r - 3, c + 8)]
    assert all(infl[p] == 0 for p in blind)
    assert infl[r - 1, c] > 0 and infl[r, c - 1] > 0 and infl[r - 3, c + 1] > 0


def test_model_is_causal():
    model = _model()
    x = _image(1)
    for r, c in [(0, 0), (0, 5), (7, 0), (13, 14), (27, 27)]:
        flat = _influence(model, x, r, c).flatten()
        i = r * px.W + c
        assert (flat[i:] == 0).all(), f"pixel {(r, c)} sees itself or the future"


def test_attention_reaches_the_whole_past():
    x = _image(1)
    r, c = 20, 3
    with_attn = _influence(_model(attention=True), x, r, c).flatten()[: r * px.W + c]
    assert (with_attn > 0).all()  # every earlier pixel, including far away ones
    without = _influence(_model(attention=False), x, r, c)
    assert without[0, 27] == 0 and without[r - 1, c] > 0  # convolutions alone: a window that grows with depth


def test_gated_resnet_formula():
    torch.manual_seed(0)
    block = px.GatedResNet(4, None).double()  # 1x1 convolutions, no aux
    x = torch.randn(2, 4, 3, 3, dtype=D64)
    h = px.concat_elu(block.conv1(px.concat_elu(x)))
    a, b = block.conv2(h).chunk(2, dim=1)
    torch.testing.assert_close(block(x), x + a * torch.sigmoid(b))


def test_weight_norm_equals_formula():
    torch.manual_seed(0)
    conv = px.nin(3, 5)
    g = conv.parametrizations.weight.original0  # (5, 1, 1, 1)
    v = conv.parametrizations.weight.original1  # (5, 3, 1, 1)
    w = g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)  # w = g v / ||v|| per output channel
    torch.testing.assert_close(conv.weight, w)
    with torch.no_grad():
        v.mul_(3.0)  # rescaling v leaves w unchanged
    torch.testing.assert_close(conv.weight, w.detach())


@pytest.mark.parametrize("d_k, d_v", [(5, 3), (3, 8)])  # the boolean-mask path; the fused sink path (d_k < d_v)
def test_causal_attention_matches_formula(d_k, d_v):
    torch.manual_seed(0)
    attn = px.CausalAttention(4, 6, d_k=d_k, d_v=d_v).double()
    q_src, kv_src = torch.randn(2, 4, 3, 4, dtype=D64), torch.randn(2, 6, 3, 4, dtype=D64)
    out = attn(q_src, kv_src)
    q = attn.q(q_src).flatten(2).transpose(1, 2)
    k = attn.k(kv_src).flatten(2).transpose(1, 2)
    v = attn.v(kv_src).flatten(2).transpose(1, 2)
    scores = q @ k.transpose(1, 2) / math.sqrt(d_k)
    n = 12
    allowed = torch.arange(n)[None, :] < torch.arange(n)[:, None]
    w = scores.masked_fill(~allowed, float("-inf")).softmax(-1).nan_to_num(0.0)  # pixel 0 attends to nothing
    expected = (w @ v).transpose(1, 2).reshape(2, d_v, 3, 4)
    torch.testing.assert_close(out, expected)
    assert (out[:, :, 0, 0] == 0).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_sink_attention_equals_the_masked_softmax_at_full_length(dtype):
    """strictly_causal_attention (the training path) against the boolean mask at the model's sizes, L = 784, with
    scores up to about +-60: the sink takes no weight from any query but the first, which gets exact zeros."""
    g = torch.Generator().manual_seed(0)
    q, k = (torch.randn(2, 784, 16, generator=g).to(dtype).float() * 4 for _ in range(2))  # values bfloat16 can hold
    v = torch.randn(2, 784, 32, generator=g).to(dtype).float()
    allowed = torch.arange(784)[None, :] < torch.arange(784)[:, None]
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
    out = px.strictly_causal_attention(q.to(dtype), k.to(dtype), v.to(dtype)).float()
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == torch.float32 else dict(atol=0.05, rtol=0.05)
    torch.testing.assert_close(out, expected, **tol)
    assert (out[:, 0] == 0).all()


def test_discretized_logistic_sums_to_one():
    g = torch.Generator().manual_seed(0)
    params = torch.randn(4, 3 * 3, generator=g, dtype=D64) * torch.tensor([1.0] * 3 + [0.8] * 3 + [1.5] * 3, dtype=D64)
    values = px.VALUES.view(1, 256, 1, 1)
    for b in range(4):
        p = params[b].view(1, 9, 1, 1).expand(256, 9, 1, 1)
        lp = px.discretized_logistic_log_prob(values.view(256, 1, 1, 1), p, 3)
        assert lp.exp().sum().item() == pytest.approx(1.0, abs=1e-6)
    # a single sharp component puts nearly all mass on the bin of its mean
    sharp = torch.tensor([0.0, 0.0, 0.0, 0.2, 0.2, 0.2, -7.0, -7.0, -7.0], dtype=D64).view(1, 9, 1, 1)
    nearest = px.VALUES[(px.VALUES - 0.2).abs().argmin()]
    assert px.discretized_logistic_log_prob(nearest.view(1, 1, 1, 1), sharp, 3).exp().item() > 0.95  # s = e^-7 vs half-bin 1/255


def test_bits_per_dim_formula():
    uniform = torch.full((3, 28, 28), -math.log(256.0))  # every pixel 1/256
    torch.testing.assert_close(px.bits_per_dim(uniform), torch.full((3,), 8.0))


def test_temperature_to_zero_gives_the_mode():
    g = torch.Generator().manual_seed(0)
    params = torch.randn(6, 9, generator=g, dtype=D64)
    mode = px.VALUES[px.pixel_distribution(params, 3).argmax(-1)]
    cold = px.sample_pixel(params, 3, 1e-3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(cold, mode)
    warm = torch.stack([px.sample_pixel(params, 3, 1.0, torch.Generator().manual_seed(s)) for s in range(20)])
    assert (warm != mode).any()  # at T = 1 other values are drawn too


def test_strip_forward_equals_full_forward():
    model, x = _model(), _image(2)
    with torch.no_grad():
        full = model(x)
        cache, parts = {}, []
        for r0, r1 in [(0, 9), (9, 10), (10, 28)]:
            state = px.StripState(r0, prev=cache)
            parts.append(model(x[:, :, r0:r1], state))
            cache = state.next
    torch.testing.assert_close(torch.cat(parts, 2), full, atol=1e-12, rtol=0)


def test_folded_weight_norm_gives_the_same_outputs_and_leaves_the_model_alone():
    model, x = _model(), _image(2)
    with torch.no_grad():
        before = model(x)
        for _ in range(2):  # twice: the original keeps its weight-norm parametrisation
            folded = px.fold_weight_norm(model)
            assert not any(torch.nn.utils.parametrize.is_parametrized(m) for m in folded.modules())
            assert torch.equal(folded(x), before)
        assert torch.equal(model(x), before)
    assert torch.nn.utils.parametrize.is_parametrized(model.head, "weight")


def _conditional(seed=0, **kw):
    """A class-conditional model whose class vectors are random (a trained one's are not zero)."""
    model = _model(seed, num_classes=10, **kw)
    with torch.no_grad():
        for block in model.modules():
            if isinstance(block, px.GatedResNet):
                block.cond.weight.normal_(0.0, 0.5)
    return model


def test_gated_resnet_adds_the_class_vector_before_the_gate():
    torch.manual_seed(0)
    block = px.GatedResNet(4, None, num_classes=3).double()
    torch.nn.init.normal_(block.cond.weight)
    x, y = torch.randn(2, 4, 3, 3, dtype=D64), torch.tensor([2, 0])
    h = px.concat_elu(block.conv1(px.concat_elu(x)))
    a, b = (block.conv2(h) + block.cond.weight[y][:, :, None, None]).chunk(2, dim=1)
    torch.testing.assert_close(block(x, y=y), x + a * torch.sigmoid(b))


def test_a_fresh_conditional_net_is_the_unconditional_net_it_was_loaded_from():
    """The warm start of the `pixelcnn` recipe: class vectors start at zero, so p(x | y) = p(x) for every y at first."""
    base, x = _model(), _image(2)
    cond = px.PixelSNAIL(**(dict(channels=8, n_blocks=2, n_res=1, n_mix=3, d_k=8, d_v=8, num_classes=10))).double().eval()
    missing, unexpected = cond.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and missing and all(".cond." in k for k in missing)
    with torch.no_grad():
        for y in (torch.tensor([0, 9]), torch.tensor([4, 4])):
            torch.testing.assert_close(cond(x, y=y), base(x), atol=0, rtol=0)


def test_labels_are_checked():
    model, x = _conditional(), _image(2)
    with pytest.raises(ValueError, match="class-conditional"):
        model(x)
    for bad in (torch.tensor([0, 11]), torch.tensor([-1, 2]), torch.tensor([1, 2, 3])):
        with pytest.raises(ValueError, match=r"2 integers in \[0, 10\] \(10: no label\)"):
            model(x, y=bad)
    assert model(x, y=torch.tensor([10, 10])).shape == (2, 9, 28, 28)  # "no label" (label dropout, guidance)
    assert _model()(x, y=torch.tensor([3, 99])).shape == (2, 9, 28, 28)  # an unconditional net ignores labels


def test_conditional_model_is_causal_and_uses_its_label():
    model, x = _conditional(), _image(1)
    for r, c in [(0, 0), (13, 14), (27, 27)]:
        flat = _influence(lambda v: model(v, y=torch.tensor([7])), x, r, c).flatten()
        assert (flat[r * px.W + c:] == 0).all(), f"pixel {(r, c)} sees itself or the future"
    with torch.no_grad():
        assert not torch.allclose(model(x, y=torch.tensor([7])), model(x, y=torch.tensor([2])))


@pytest.mark.parametrize("n_res,conditional", [(1, False), (2, False), (1, True)])
def test_column_cursor_equals_the_full_forward_at_every_pixel(n_res, conditional):
    """The cached sampler's per-pixel step: every layer at one position from the caches = the full forward pass."""
    model = px.fold_weight_norm((_conditional if conditional else _model)(n_blocks=2, n_res=n_res))
    x, lin = _image(2), px.linear_layers(model)
    y = torch.tensor([3, 8]) if conditional else None
    vectors = model.class_vectors(y)
    with torch.no_grad():
        full = model(x, y=y)  # (2, 9, 28, 28)
        cache = {}
        for r in range(px.H):
            x_in = model.background(x[:, :, r:r + 1], r)
            us = model.u_stream(x_in, px.StripState(r, prev=cache), y)
            cursor = px.ColumnCursor(model, lin, x_in, r, cache, us, vectors)
            for c in range(px.W):
                torch.testing.assert_close(cursor.params_at(c), full[:, :, r, c], atol=1e-10, rtol=0)
            state = px.StripState(r, prev=cache)
            model(x[:, :, r:r + 1], state, y=y)
            cache = state.next


def test_conditional_cached_sampling_equals_naive_and_follows_the_label():
    model = _conditional(n_blocks=1, n_res=1)
    y = torch.tensor([1, 6])
    naive = list(px.sample_naive(model, 2, 1.0, seed=3, dtype=D64, y=y))[-1].x
    cached = list(px.sample_cached(model, 2, 1.0, seed=3, dtype=D64, y=y))[-1].x
    assert torch.equal(naive, cached)
    default = list(px.sample_cached(model, 2, 1.0, seed=3, dtype=D64))[-1].x  # no labels given: 0, 1 (0-9 in turn)
    assert torch.equal(default, list(px.sample_cached(model, 2, 1.0, seed=3, dtype=D64, y=torch.tensor([0, 1])))[-1].x)
    assert not torch.equal(default, cached)
    start = _image(2, seed=5)
    kept = list(px.sample_cached(model, 2, 1.0, seed=1, start=start, keep_rows=26, dtype=D64, y=y))[-1].x
    assert torch.equal(kept, list(px.sample_naive(model, 2, 1.0, seed=1, start=start, keep_rows=26, dtype=D64, y=y))[-1].x)


def test_guided_distribution_is_the_cfg_formula():
    """p_u^(1 - w) p_c^w renormalised: w = 1 gives p(. | y), w = 0 the no-label model, w = 2 p_c^2 / p_u."""
    g = torch.Generator().manual_seed(0)
    p_c, p_u = torch.rand(3, 256, generator=g, dtype=D64).softmax(-1), torch.rand(3, 256, generator=g, dtype=D64).softmax(-1)
    both = torch.cat([p_c, p_u])
    torch.testing.assert_close(px.guided_distribution(both, 1.0), p_c)
    torch.testing.assert_close(px.guided_distribution(both, 0.0), p_u)
    sharp = p_c**2 / p_u
    torch.testing.assert_close(px.guided_distribution(both, 2.0), sharp / sharp.sum(-1, keepdim=True))


def test_guided_sampling_is_exact_and_w_0_is_the_no_label_model():
    model = _conditional(n_blocks=1, n_res=1)
    y, start = torch.tensor([1, 6]), _image(2, seed=5)
    for w in (2.5, 0.0):
        cached = list(px.sample_cached(model, 2, 1.0, seed=3, start=start, keep_rows=24, dtype=D64, y=y, w=w))[-1].x
        naive = list(px.sample_naive(model, 2, 1.0, seed=3, start=start, keep_rows=24, dtype=D64, y=y, w=w))[-1].x
        assert torch.equal(cached, naive) and cached.shape == (2, 1, 28, 28)
    null = list(px.sample_cached(model, 2, 1.0, seed=3, start=start, keep_rows=24, dtype=D64, y=torch.tensor([10, 10])))[-1].x
    assert torch.equal(cached, null)  # w = 0: the draws follow p(x | no label)
    for bad in (float("nan"), -1.0, float("inf")):
        with pytest.raises(ValueError, match="guidance scale"):
            next(px.sample_cached(model, 1, 1.0, w=bad))


def test_class_posterior_is_bayes_rule_with_a_uniform_prior():
    model, x = _conditional(), _image(2, seed=4)
    with torch.no_grad():
        log_p = torch.stack([px.discretized_logistic_log_prob(x, model(x, y=torch.full((2,), k)), model.n_mix)
                             for k in range(10)], 1)  # (2, 10, H, W): log p(x_i | x_<i, y = k)
    for rows in (0, 1, 13, 28):
        log_top = log_p[:, :, :rows].flatten(2).sum(2)  # log p(top rows | y)
        expected = torch.exp(log_top - torch.logsumexp(log_top, 1, keepdim=True))  # p(y) = 1/10 cancels
        torch.testing.assert_close(px.class_posterior(model, x, rows), expected, atol=1e-12, rtol=1e-9)
    torch.testing.assert_close(px.class_posterior(model, x, 0), torch.full((2, 10), 0.1, dtype=D64))
    with pytest.raises(ValueError, match="class-conditional"):
        px.class_posterior(_model(), x)


def test_mixture_bits_per_dim_sums_the_label_out():
    """-log2 p(x) / D with p(x) = (1/10) sum_y p(x | y), against scipy's logsumexp over the per-label likelihoods."""
    from scipy.special import logsumexp

    from genlib.recipes.pixelcnn import image_bits_per_dim, image_mixture_bits_per_dim, mixture_bits_per_dim

    model, x = _conditional(), _image(3, seed=6)
    D = 784
    nats = np.stack([image_bits_per_dim(model, x, amp=False, y=torch.full((3,), k)).detach().numpy() * D * math.log(2)
                     for k in range(10)], 1)  # (3, 10): -log p(x | y = k)
    expected = -(logsumexp(-nats, axis=1) - math.log(10)) / (D * math.log(2))
    got = image_mixture_bits_per_dim(model, x, amp=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert (got <= nats.min(1) / (D * math.log(2)) + math.log2(10) / D + 1e-12).all()  # at most log2(10)/D above the best label
    assert mixture_bits_per_dim(model, x, batch=2, amp=False) == pytest.approx(expected.mean(), rel=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_cached_sampling_equals_naive(temperature):
    model = _model(n_blocks=1, n_res=1)
    naive = list(px.sample_naive(model, 2, temperature, seed=3, dtype=D64))
    cached = list(px.sample_cached(model, 2, temperature, seed=3, dtype=D64))
    assert [s.t for s in naive] == [s.t for s in cached] == list(range(28))
    assert [(s.index, s.total) for s in cached] == [(k, 28) for k in range(1, 29)] and cached[-1].last
    assert torch.equal(naive[-1].x, cached[-1].x)
    row_strip = list(px.sample_cached(model, 2, temperature, seed=3, dtype=D64, per_pixel="row"))[-1].x
    assert torch.equal(row_strip, cached[-1].x)
    other = list(px.sample_cached(model, 2, temperature, seed=4, dtype=D64))[-1].x
    assert not torch.equal(other, cached[-1].x)


def test_completion_keeps_the_top_rows():
    model, start = _model(n_blocks=1, n_res=1), _image(2, seed=5)
    naive = list(px.sample_naive(model, 2, 1.0, seed=1, start=start, keep_rows=20, dtype=D64))
    cached = list(px.sample_cached(model, 2, 1.0, seed=1, start=start, keep_rows=20, dtype=D64))
    assert len(cached) == 8 and [s.t for s in cached] == list(range(20, 28)) and cached[-1].last and torch.equal(naive[-1].x, cached[-1].x)
    torch.testing.assert_close(cached[-1].x[:, :, :20], start[:, :, :20])
    with pytest.raises(ValueError):
        next(px.sample_cached(model, 1, 0.0))
    with pytest.raises(ValueError, match="per_pixel"):
        next(px.sample_cached(model, 1, 1.0, per_pixel="diagonal"))
