"""The Transformer note's equations checked against genlib.transformer, and against torch's own attention."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from genlib import data
from genlib.transformer import (Embeddings, LabelSmoothing, MultiHeadedAttention, SublayerConnection, Transformer,
                                attention, average_checkpoints, beam_search, greedy_decode, padding_mask,
                                positional_encoding, rate, sample_decode, subsequent_mask, target_mask)

TINY = dict(N=2, d_model=32, d_ff=64, h=4, dropout=0.0)


def _model(seed=0, src_vocab=13, tgt_vocab=13, **kw):
    torch.manual_seed(seed)
    return Transformer(src_vocab, tgt_vocab, **{**TINY, **kw}).eval()


def test_embeddings_are_scaled_by_sqrt_d_model():
    emb = Embeddings(10, 16)
    tokens = torch.tensor([[1, 5, 9]])
    torch.testing.assert_close(emb(tokens), emb.lut.weight[tokens] * 4.0)


def test_positional_encoding_formula():
    pe = positional_encoding(50, 16)
    for pos in (0, 7, 49):
        for i in range(8):
            angle = pos / 10000 ** (2 * i / 16)
            assert pe[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert pe[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)
    # a fixed offset k acts on each (sin, cos) pair as a rotation: PE[pos + k] is a linear map of PE[pos]
    k, i = 5, 3
    w = 1 / 10000 ** (2 * i / 16)
    rot = torch.tensor([[math.cos(k * w), -math.sin(k * w)], [math.sin(k * w), math.cos(k * w)]])
    torch.testing.assert_close(pe[10, 2 * i : 2 * i + 2] @ rot, pe[10 + k, 2 * i : 2 * i + 2], atol=1e-5, rtol=0)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_matches_torch_sdpa(masked):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 8, generator=g) for _ in range(3))
    mask = subsequent_mask(5)[None] if masked else None  # (1, 1, 5, 5)
    out, weights = attention(q, k, v, mask)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))
    if masked:
        assert (weights[..., ~subsequent_mask(5)[0]] == 0).all()
    # padding mask: the last two keys are hidden from every query
    keep = torch.tensor([True, True, True, False, False])
    out, weights = attention(q, k, v, keep.view(1, 1, 1, 5))
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=keep.view(1, 1, 1, 5)), atol=1e-5, rtol=1e-5)
    assert (weights[..., 3:] == 0).all()


def test_subsequent_mask():
    m = subsequent_mask(4)
    assert m.shape == (1, 4, 4) and m.dtype == torch.bool
    assert m[0].tolist() == [[True, False, False, False], [True, True, False, False], [True, True, True, False],
                             [True, True, True, True]]
    tgt = torch.tensor([[1, 5, 6, 0]])
    tm = target_mask(tgt, pad=0)
    assert tm.shape == (1, 4, 4) and not tm[0, :, 3].any() and tm[0, 2, :3].all()


def test_multihead_attention_matches_torch():
    torch.manual_seed(0)
    d, h = 16, 4
    ours = MultiHeadedAttention(h, d, dropout=0.0).eval()
    ref = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        ref.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        ref.out_proj.weight.copy_(ours.w_o.weight)
        ref.out_proj.bias.copy_(ours.w_o.bias)
    x, mem = torch.randn(2, 5, d), torch.randn(2, 7, d)
    expected, w_ref = ref(x, mem, mem, average_attn_weights=False)
    torch.testing.assert_close(ours(x, mem, mem), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ours.attn, w_ref, atol=1e-6, rtol=1e-5)
    causal = subsequent_mask(5)  # torch's attn_mask uses True = "may NOT attend"
    expected, _ = ref(x, x, x, attn_mask=~causal[0])
    torch.testing.assert_close(ours(x, x, x, causal), expected, atol=1e-5, rtol=1e-5)


def test_pre_norm_and_post_norm_sublayers():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 8)
    f = torch.nn.Linear(8, 8)
    pre, post = SublayerConnection(8, 0.0, norm_first=True), SublayerConnection(8, 0.0, norm_first=False)
    ln = torch.nn.functional.layer_norm
    torch.testing.assert_close(pre(x, f), x + f(ln(x, (8,))))  # x + Sublayer(LN(x))   (Annotated Transformer code)
    torch.testing.assert_close(post(x, f), ln(x + f(x), (8,)))  # LN(x + Sublayer(x))  (the paper, Section 3.1)
    # both kinds of model build and run; post-norm stacks have no final LayerNorm
    pre_m, post_m = _model(norm_first=True), _model(norm_first=False)
    assert isinstance(pre_m.encoder.norm, torch.nn.LayerNorm) and isinstance(post_m.encoder.norm, torch.nn.Identity)


def _decode_states(model, src, tgt):
    return model(src, tgt, padding_mask(src, 0), target_mask(tgt, 0))


def test_decoder_is_causal():
    """The output at position i has exactly zero gradient with respect to target embeddings after i."""
    model = _model()
    src, tgt = torch.tensor([[4, 5, 6, 7, 2]]), torch.tensor([[1, 8, 9, 10, 11, 12]])
    memory = model.encode(src, padding_mask(src, 0))
    emb = model.tgt_embed(tgt).detach().requires_grad_(True)  # (1, T, D): differentiate w.r.t. each position's input
    states = model.decoder(emb, memory, padding_mask(src, 0), subsequent_mask(tgt.size(1)))
    T = tgt.size(1)
    r = torch.randn(states.size(-1))  # a random projection: the plain sum of a LayerNorm output is constant
    for i in range(T):
        (grad,) = torch.autograd.grad(states[0, i] @ r, emb, retain_graph=True)
        per_pos = grad[0].abs().sum(-1)  # (T,)
        assert (per_pos[i + 1 :] == 0).all(), f"position {i} sees the future"
        assert (per_pos[: i + 1] > 0).all()


def test_padding_is_ignored():
    model = _model()
    src_a = torch.tensor([[4, 5, 6, 2, 0, 0]])
    src_b = torch.tensor([[4, 5, 6, 2, 9, 11]])  # the same tokens, different content where src_a has padding
    tgt = torch.tensor([[1, 7, 8]])
    mask = padding_mask(src_a, 0)  # hide positions 4 and 5 in both
    with torch.no_grad():
        a = model(src_a, tgt, mask, target_mask(tgt, 0))
        b = model(src_b, tgt, mask, target_mask(tgt, 0))
    torch.testing.assert_close(a, b)


def test_label_smoothing_distribution():
    V, eps = 7, 0.3
    crit = LabelSmoothing(V, padding_idx=0, smoothing=eps)
    target = torch.tensor([3, 5, 0])
    q = crit.target_distribution(target)
    torch.testing.assert_close(q[:2].sum(1), torch.ones(2))
    assert q[0, 3] == pytest.approx(1 - eps) and q[0, 1] == pytest.approx(eps / (V - 2)) and q[0, 0] == 0
    assert (q[2] == 0).all()  # a padding target contributes nothing
    logp = torch.log_softmax(torch.randn(3, V), -1)
    kl = (q[:2] * (q[:2].clamp_min(1e-30).log() - logp[:2])).sum()
    torch.testing.assert_close(crit(logp, target), kl)


def test_noam_schedule_formula():
    d, warm, factor = 512, 4000, 1.0
    for step in (1, 100, 4000, 20000):
        assert rate(step, d, factor, warm) == pytest.approx(d**-0.5 * min(step**-0.5, step * warm**-1.5))
    lrs = [rate(s, d, factor, warm) for s in range(1, 20001)]
    assert max(range(len(lrs)), key=lrs.__getitem__) + 1 == warm  # the peak is at step = warmup
    assert rate(0, d, factor, warm) == rate(1, d, factor, warm)  # step 0 is treated as step 1


def test_checkpoint_averaging():
    sds = [_model(seed=s).state_dict() for s in range(3)]
    avg = average_checkpoints(sds)
    for k in ("encoder.layers.0.self_attn.w_q.weight", "generator.bias"):
        torch.testing.assert_close(avg[k], (sds[0][k] + sds[1][k] + sds[2][k]) / 3)
    model = _model()
    model.load_state_dict(avg)  # loads strictly


def _example(model):
    src = torch.tensor([[4, 5, 6, 7, 2]])
    return model, src, padding_mask(src, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_width_1_equals_greedy(seed):
    model, src, mask = _example(_model(seed))
    g = greedy_decode(model, src, mask, 8, bos=1, eos=2)
    b = beam_search(model, src, mask, 8, bos=1, eos=2, width=1)
    assert g.tokens == b.tokens and g.score == pytest.approx(b.score, abs=1e-4)
    wide = beam_search(model, src, mask, 8, bos=1, eos=2, width=4)
    assert wide.score >= g.score - 1e-4 or wide.tokens[-1] == 2  # a wider beam never finds a worse finished path


def test_sampling_is_seeded():
    model, src, mask = _example(_model(3))
    a, b = (sample_decode(model, src, mask, 8, 1, 2, temperature=1.0, seed=5) for _ in range(2))
    assert a.tokens == b.tokens
    others = {tuple(sample_decode(model, src, mask, 8, 1, 2, temperature=2.0, seed=s).tokens) for s in range(8)}
    assert len(others) > 1
    cold = sample_decode(model, src, mask, 8, 1, 2, temperature=1e-4, seed=9)
    assert cold.tokens == greedy_decode(model, src, mask, 8, 1, 2).tokens  # T -> 0 is greedy
    with pytest.raises(ValueError):
        sample_decode(model, src, mask, 8, 1, 2, temperature=0.0)


def test_number_words():
    cases = {0: "zero", 13: "thirteen", 40: "forty", 101: "one hundred and one", 999: "nine hundred and ninety nine",
             1000: "one thousand", 1005: "one thousand and five", 2300: "two thousand three hundred",
             312045: "three hundred and twelve thousand and forty five"}
    for n, words in cases.items():
        assert data.number_to_words(n) == words
    spec = data.SEQ_TASKS["numbers"]
    assert spec.encode_src("Three-hundred and twelve")[:-1] == [spec.src_vocab.index(w) for w in ("three", "hundred", "and", "twelve")]
    assert max(len(data.number_to_words(n).split()) for n in range(0, 1_000_000, 997)) <= spec.max_src
    with pytest.raises(ValueError, match="unknown token 'dozen'"):
        spec.encode_src("a dozen")
    with pytest.raises(ValueError, match="empty"):
        spec.encode_src("   ")
    test = data.seq_dataset("numbers", 200, seed=1, heldout=True)
    train = data.seq_dataset("numbers", 2000, seed=2, exclude={t for _, t in test})
    assert len({t for _, t in test}) == 200 and not {t for _, t in test} & {t for _, t in train}


def test_seq_batch_layout():
    src, tgt = data.seq_batch("copy", [("1 2 3", "1 2 3"), ("9", "9")])
    assert src.tolist() == [[4, 5, 6, 2], [12, 2, 0, 0]]
    assert tgt.tolist() == [[1, 4, 5, 6, 2], [1, 12, 2, 0, 0]]
    assert data.SEQ_TASKS["copy"].decode_tgt([4, 5, 6, 2, 7]) == "1 2 3"


def test_decode_steps_stream_the_greedy_decoding_one_token_at_a_time():
    """decode_steps yields the shared sampling.Step: the tokens so far, the position, the distribution drawn from."""
    from genlib.transformer import decode_steps

    model, src, mask = _example(_model(1))
    g = greedy_decode(model, src, mask, 8, bos=1, eos=2)
    steps = list(decode_steps(model, src, mask, 8, 1, 2, lambda lp: (int(lp.argmax()), lp)))
    assert [s.index for s in steps] == list(range(1, len(g.tokens) + 1)) and all(s.total == 8 for s in steps)
    assert steps[-1].x[0, 1:].tolist() == g.tokens and [s.t for s in steps] == list(range(len(g.tokens)))
    assert all(torch.equal(s.probs, lp) for s, lp in zip(steps, g.step_log_probs))
    assert sum(float(s.pred) for s in steps) == pytest.approx(g.score)
