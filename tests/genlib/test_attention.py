"""The equations of the attention-basics note, checked on genlib.transformer.attention and subsequent_mask."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from genlib.transformer import attention, subsequent_mask


def _randn(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_single_query_is_softmax_weighted_average():
    """o = sum_i w_i v_i with w_i = exp(s_i) / sum_j exp(s_j), s_i = q . k_i / sqrt(d_k), written out by hand."""
    d_k, n, d_v = 4, 6, 3
    q, K, V = _randn(d_k, seed=1), _randn(n, d_k, seed=2), _randn(n, d_v, seed=3)
    s = [sum(q[c] * K[i, c] for c in range(d_k)) / math.sqrt(d_k) for i in range(n)]
    e = [math.exp(float(x)) for x in s]
    w = [x / sum(e) for x in e]
    o = [sum(w[i] * float(V[i, c]) for i in range(n)) for c in range(d_v)]
    out, weights = attention(q[None], K, V)
    assert out.shape == (1, d_v) and weights.shape == (1, n)
    assert torch.allclose(weights[0], torch.tensor(w, dtype=torch.float64), atol=1e-12)
    assert torch.allclose(out[0], torch.tensor(o, dtype=torch.float64), atol=1e-12)
    # a convex combination: the output lies inside the box spanned by the values
    assert bool(((out[0] >= V.min(0).values) & (out[0] <= V.max(0).values)).all())


def test_matrix_form_equals_loop_of_single_queries():
    """softmax(Q K^T / sqrt(d_k)) V: row i is the single-query attention of q_i; shapes (T_q, d_v) and (T_q, T_k)."""
    Q, K, V = _randn(4, 3, seed=4), _randn(5, 3, seed=5), _randn(5, 2, seed=6)
    out, w = attention(Q, K, V)
    assert out.shape == (4, 2) and w.shape == (4, 5)
    for i in range(4):
        o_i, w_i = attention(Q[i : i + 1], K, V)
        assert torch.allclose(out[i], o_i[0], atol=1e-12) and torch.allclose(w[i], w_i[0], atol=1e-12)
    # and the batched form (batch, heads, T, d) is the same computation for every slice
    Qb, Kb, Vb = _randn(2, 3, 4, 8, seed=7), _randn(2, 3, 6, 8, seed=8), _randn(2, 3, 6, 5, seed=9)
    ob, _ = attention(Qb, Kb, Vb)
    assert torch.allclose(ob[1, 2], attention(Qb[1, 2], Kb[1, 2], Vb[1, 2])[0], atol=1e-12)


def test_weight_rows_sum_to_one():
    Q, K, V = _randn(2, 7, 16, seed=10), _randn(2, 9, 16, seed=11), _randn(2, 9, 4, seed=12)
    _, w = attention(Q, K, V)
    assert bool((w >= 0).all()) and torch.allclose(w.sum(-1), torch.ones(2, 7, dtype=torch.float64), atol=1e-12)
    mask = torch.rand(7, 9, generator=torch.Generator().manual_seed(0)) > 0.5
    mask[:, 0] = True  # every row keeps at least one key
    _, wm = attention(Q, K, V, mask)
    assert torch.allclose(wm.sum(-1), torch.ones(2, 7, dtype=torch.float64), atol=1e-12)


def test_masked_weights_are_exactly_zero_and_causal_output_ignores_the_future():
    """Scores set to -inf before the softmax give weights exactly 0; with the causal mask the output at position i
    has zero gradient with respect to every key and value after i."""
    T, d = 6, 4
    x = _randn(T, d, seed=13).requires_grad_(True)
    K = _randn(T, d, seed=14).requires_grad_(True)
    V = _randn(T, 3, seed=15).requires_grad_(True)
    mask = subsequent_mask(T)[0]
    out, w = attention(x, K, V, mask)
    assert bool((w[~mask] == 0).all()) and bool((w[mask] > 0).all())
    for i in range(T):
        gK, gV, gx = torch.autograd.grad(out[i].sum(), (K, V, x), retain_graph=True)
        assert bool((gK[i + 1 :] == 0).all()) and bool((gV[i + 1 :] == 0).all())
        assert bool((gx[torch.arange(T) != i] == 0).all())  # a query row only affects its own output
        assert bool(gV[: i + 1].abs().sum(-1).gt(0).all())  # and every visible value does matter


def test_subsequent_mask_is_lower_triangular():
    m = subsequent_mask(5)
    assert m.shape == (1, 5, 5) and m.dtype == torch.bool
    assert all(bool(m[0, i, j]) == (j <= i) for i in range(5) for j in range(5))


def test_padding_mask_equals_dropping_the_keys():
    """Masking the last p keys gives exactly the attention over the first T_k - p keys alone."""
    Q, K, V = _randn(3, 5, seed=16), _randn(7, 5, seed=17), _randn(7, 2, seed=18)
    keep = torch.arange(7) < 5
    out, w = attention(Q, K, V, keep[None].expand(3, 7))
    out2, w2 = attention(Q, K[:5], V[:5])
    assert torch.allclose(out, out2, atol=1e-12) and torch.allclose(w[:, :5], w2, atol=1e-12)
    assert bool((w[:, 5:] == 0).all())


def test_fully_masked_row_is_undefined():
    """A row with every key masked is a softmax over an empty set, 0/0: genlib's attention returns NaN there and
    leaves the other rows untouched. PyTorch's fused function (torch 2.13) returns a zero row instead, by convention."""
    Q, K, V = _randn(3, 4, seed=19), _randn(5, 4, seed=20), _randn(5, 2, seed=21)
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    out, w = attention(Q, K, V, mask)
    assert bool(torch.isnan(w[1]).all()) and bool(torch.isnan(out[1]).all())
    ref, _ = attention(Q[[0, 2]], K, V)
    assert torch.allclose(out[[0, 2]], ref, atol=1e-12)
    sdpa = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    assert torch.allclose(sdpa[[0, 2]], ref, atol=1e-12)
    assert bool((sdpa[1] == 0).all())  # a convention of the library, not a value of the formula


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_temperature_limits_one_hot_and_uniform(seed):
    """softmax(s / tau): one-hot at the largest score as tau -> 0, uniform as tau -> infinity. Dividing the query
    by tau divides every score by tau."""
    q, K = _randn(1, 3, seed=seed), _randn(6, 3, seed=seed + 100)
    eye = torch.eye(6, dtype=torch.float64)
    s = (q @ K.T)[0] / math.sqrt(3)
    best = int(s.argmax())
    for tau in (1.0, 0.3, 0.1):
        _, w = attention(q / tau, K, eye)
        assert torch.allclose(w[0], torch.softmax(s / tau, -1), atol=1e-12)
    _, cold = attention(q / 1e-4, K, eye)
    assert float(cold[0, best]) > 1 - 1e-9
    _, hot = attention(q / 1e6, K, eye)
    assert torch.allclose(hot[0], torch.full((6,), 1 / 6, dtype=torch.float64), atol=1e-5)
    # sharpness grows as tau falls: the largest weight is monotone in 1/tau
    tops = [float(attention(q / tau, K, eye)[1].max()) for tau in (10.0, 3.0, 1.0, 0.3, 0.1)]
    assert tops == sorted(tops)


@pytest.mark.parametrize("d_k", [4, 64, 512])
def test_dot_product_variance_is_d_k(d_k):
    """For independent components of mean 0 and variance 1, Var(q . k) = d_k; divided by sqrt(d_k) it is 1."""
    g = torch.Generator().manual_seed(d_k)
    q = torch.randn(20000, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(20000, d_k, generator=g, dtype=torch.float64)
    dots = (q * k).sum(-1)
    assert abs(float(dots.var()) / d_k - 1) < 0.05
    assert abs(float((dots / math.sqrt(d_k)).var()) - 1) < 0.05
    # without the scaling, the softmax over a handful of such scores is nearly one-hot for large d_k
    eye = torch.eye(8, dtype=torch.float64)
    _, scaled = attention(q[:200, None], k[:8].expand(200, 8, d_k), eye.expand(200, 8, 8))
    _, raw = attention(q[:200, None] * math.sqrt(d_k), k[:8].expand(200, 8, d_k), eye.expand(200, 8, 8))
    if d_k == 512:
        assert float(raw.max(-1).values.mean()) > 0.9 > float(scaled.max(-1).values.mean())


def test_self_attention_is_permutation_equivariant():
    """Without positions, permuting the tokens of X permutes the rows of Attn(X W_q, X W_k, X W_v) the same way."""
    X = _randn(7, 5, seed=22)
    Wq, Wk, Wv = _randn(5, 4, seed=23), _randn(5, 4, seed=24), _randn(5, 3, seed=25)
    perm = torch.randperm(7, generator=torch.Generator().manual_seed(0))

    def self_attention(x):
        return attention(x @ Wq, x @ Wk, x @ Wv)

    out, w = self_attention(X)
    out_p, w_p = self_attention(X[perm])
    assert torch.allclose(out_p, out[perm], atol=1e-12)
    assert torch.allclose(w_p, w[perm][:, perm], atol=1e-12)
    # adding a different vector to each position (a positional encoding) breaks the symmetry
    P = _randn(7, 5, seed=26)
    out_pe, _ = self_attention(X + P)
    out_pe_p, _ = self_attention(X[perm] + P)
    assert not torch.allclose(out_pe_p, out_pe[perm], atol=1e-6)


def test_cross_attention_output_length_follows_the_queries():
    """Cross-attention: T_q queries over T_k keys give T_q outputs; the weights are a (T_q, T_k) matrix,
    T_q * T_k scores in all (the quadratic cost when both are n)."""
    Q, K, V = _randn(2, 3, 6, seed=27), _randn(2, 11, 6, seed=28), _randn(2, 11, 4, seed=29)
    out, w = attention(Q, K, V)
    assert out.shape == (2, 3, 4) and w.shape == (2, 3, 11) and w[0].numel() == 3 * 11


@pytest.mark.parametrize("masked", [False, True])
def test_matches_torch_scaled_dot_product_attention(masked):
    """genlib's attention equals torch.nn.functional.scaled_dot_product_attention (True = may attend, both)."""
    Q, K, V = _randn(2, 4, 5, 8, seed=30), _randn(2, 4, 7, 8, seed=31), _randn(2, 4, 7, 3, seed=32)
    mask = None
    if masked:
        mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(1)) > 0.4
        mask[:, 0] = True
    out, _ = attention(Q, K, V, mask)
    ref = F.scaled_dot_product_attention(Q, K, V, attn_mask=mask)
    assert torch.allclose(out, ref, atol=1e-12)
    T = 7
    out_c, _ = attention(K, K, V, subsequent_mask(T))
    assert torch.allclose(out_c, F.scaled_dot_product_attention(K, K, V, is_causal=True), atol=1e-12)
