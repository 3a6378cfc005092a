"""The RNN note's equations checked against genlib.rnn, and against torch's own nn.RNN / nn.GRU / nn.LSTM."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from genlib import data
from genlib.recipes import rnn as recipe
from genlib.rnn import (UNK, Cell, CharLM, build_vocab, chunk_loss, detach, encode, generate, nats_per_char,
                        poem_form, quatrain_mask, quatrain_ok, sample, shape_logits, state_gradient_norms, toy_data,
                        train_toy, tracking_units, write_quatrain, hidden_trace)

TORCH_LAYER = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
HAN = "春風花月山水人日夜雲天江秋"
TANG_VOCAB = UNK + "\n，。？" + HAN


def _lm(kind="lstm", vocab="\nabcde .", seed=0, **kw):
    torch.manual_seed(seed)
    return CharLM(kind, vocab, **{"emb": 8, "hidden": 16, "layers": 2, **kw}).eval()


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_manual_cell_equals_torch_layer_with_copied_weights(kind):
    torch.manual_seed(0)
    E, H, B, T = 5, 7, 3, 6
    cell, ref = Cell(kind, E, H), TORCH_LAYER[kind](E, H, batch_first=True)
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(ref, f"{name}_l0"))
    x = torch.randn(B, T, E)
    h0 = torch.randn(1, B, H)
    state = (h0[0], torch.randn(B, H)) if kind == "lstm" else h0[0]
    expected, _ = ref(x, (h0, state[1][None]) if kind == "lstm" else h0)
    outs = []
    for t in range(T):
        state = cell(x[:, t], state)
        outs.append(state[0] if kind == "lstm" else state)
    torch.testing.assert_close(torch.stack(outs, 1), expected, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("kind", ["rnn", "gru", "lstm"])
def test_language_model_manual_path_equals_fused_layer(kind):
    model = _lm(kind)
    ids = torch.randint(0, model.V, (2, 9))
    fused, s1 = model(ids)
    manual, s2 = model(ids, manual=True)
    torch.testing.assert_close(manual, fused, atol=1e-5, rtol=1e-5)
    for a, b in zip(s1 if kind == "lstm" else [s1], s2 if kind == "lstm" else [s2]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_lstm_cell_state_equation_by_hand():
    """c' = f c + i g and h' = o tanh(c') with the gates read off the stacked pre-activations."""
    torch.manual_seed(1)
    cell = Cell("lstm", 3, 4)
    x, h, c = torch.randn(1, 3), torch.randn(1, 4), torch.randn(1, 4)
    a = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = a[0, :4].sigmoid(), a[0, 4:8].sigmoid(), a[0, 8:12].tanh(), a[0, 12:].sigmoid()
    h2, c2 = cell(x, (h, c))
    torch.testing.assert_close(c2[0], f * c[0] + i * g)
    torch.testing.assert_close(h2[0], o * torch.tanh(f * c[0] + i * g))


def test_truncated_bptt_detaches_at_the_chunk_boundary():
    """The loss of chunk 2 has no gradient with respect to what only chunk 1 saw; without the detach it has one."""
    model = _lm("lstm", vocab="abcdefgh", layers=1)
    x1 = torch.tensor([[0, 1, 0, 1]])  # 'a' and 'b' appear only in chunk 1
    x2, y2 = torch.tensor([[2, 3, 4, 5]]), torch.tensor([[3, 4, 5, 6]])
    _, carried = chunk_loss(model, x1, torch.tensor([[1, 0, 1, 2]]), None)
    loss2, _ = chunk_loss(model, x2, y2, carried)
    loss2.backward()
    assert model.embed.weight.grad[:2].abs().max() == 0  # truncated: chunk 1's inputs get nothing
    model.zero_grad()
    _, full = model(x1)  # the same state, graph kept
    logits, _ = model(x2, full)
    F.cross_entropy(logits.flatten(0, 1), y2.flatten()).backward()
    assert model.embed.weight.grad[:2].abs().max() > 0  # full BPTT reaches them
    assert not any(s.requires_grad for s in carried) and detach(full)[0].requires_grad is False


def test_recipe_streams_are_consecutive_text():
    ids = torch.arange(103)
    rows = recipe.streams(ids, 4, offset=3)
    assert rows.shape == (4, 25) and rows[1, 0] == 28 and (rows[:, 1:] - rows[:, :-1] == 1).all()


def test_nats_per_char_is_the_mean_cross_entropy_and_perplexity_its_exp():
    model = _lm("gru", layers=1)
    ids = torch.randint(0, model.V, (33,))
    logits, _ = model(ids[:32].view(1, 32))
    expected = F.cross_entropy(logits[0], ids[1:33]).item()
    assert nats_per_char(model, ids, streams=1, chunk=5) == pytest.approx(expected, rel=1e-5)
    uniform = CharLM("rnn", "abcd", emb=2, hidden=2)
    with torch.no_grad():
        for p in uniform.parameters():
            p.zero_()
    assert math.exp(nats_per_char(uniform, torch.tensor([0, 1, 2, 3, 0]), streams=1)) == pytest.approx(4.0)


def test_temperature_zero_is_greedy_and_top_k_leaves_k():
    z = torch.tensor([0.3, 2.0, -1.0, 1.5, 0.1])
    greedy = F.softmax(shape_logits(z, 0.0), -1)
    assert greedy.tolist() == [0, 1, 0, 0, 0]
    for k in (1, 2, 4):
        p = F.softmax(shape_logits(z, 0.7, k), -1)
        assert int((p > 0).sum()) == k
    torch.testing.assert_close(F.softmax(shape_logits(z, 0.5), -1), F.softmax(z / 0.5, -1))
    # low temperature sharpens, high flattens: entropy increases with T
    ent = [-(F.softmax(z / t, -1) * F.log_softmax(z / t, -1)).sum() for t in (0.2, 1.0, 5.0)]
    assert ent[0] < ent[1] < ent[2] < math.log(5)


def test_sampling_at_temperature_near_zero_matches_greedy_and_is_reproducible():
    model = _lm("lstm")
    greedy = generate(model, "abc", 20, temperature=0.0)
    cold = generate(model, "abc", 20, temperature=1e-4, generator=torch.Generator().manual_seed(3))
    assert greedy == cold
    a = generate(model, "abc", 30, temperature=1.0, generator=torch.Generator().manual_seed(7))
    b = generate(model, "abc", 30, temperature=1.0, generator=torch.Generator().manual_seed(7))
    c = generate(model, "abc", 30, temperature=1.0, generator=torch.Generator().manual_seed(8))
    assert a == b and a != c and len(a) == 30


def test_sample_steps_carry_both_distributions():
    model = _lm("rnn")
    steps = list(sample(model, "ab", 3, temperature=2.0, top_k=3, generator=torch.Generator().manual_seed(0)))
    assert [s.index for s in steps] == [1, 2, 3] and steps[-1].last and steps[-1].x.shape == (1, 5)
    for s in steps:
        assert s.pred.exp().sum() == pytest.approx(1.0, abs=1e-5) and int((s.probs.exp() > 0).sum()) == 3
        assert s.probs.exp()[int(s.x[0, -1])] > 0  # drawn from the shaped distribution


def test_unknown_characters_become_unk_or_are_dropped_as_the_note_says():
    tang = build_vocab("春風春風春風花", min_count=2)
    assert tang[0] == UNK and "花" not in tang
    e = encode(tang, "春花😀風")
    assert e.ids == [tang.index("春"), 0, 0, tang.index("風")] and e.unknown == 2 and not e.dropped
    shakespeare = build_vocab("to be or not", min_count=1)
    assert UNK not in shakespeare
    e = encode(shakespeare, "to bé😀")
    assert e.unknown == 2 and e.dropped and "".join(shakespeare[i] for i in e.ids) == "to b"
    model = _lm("gru", vocab=TANG_VOCAB, layers=1)
    for step in sample(model, UNK * 3, 40, temperature=5.0, generator=torch.Generator().manual_seed(0)):
        pass
    assert 0 not in step.x[0, 3:].tolist()  # UNK is never written


@pytest.mark.parametrize("line_len", [5, 7])
def test_quatrain_mask_never_produces_an_off_form_poem(line_len):
    model = _lm("lstm", vocab=TANG_VOCAB, layers=1)
    heads = "春山"
    for seed in range(12):
        steps = list(write_quatrain(model, line_len, heads, temperature=3.0, generator=torch.Generator().manual_seed(seed)))
        poem = "".join(model.vocab[i] for i in steps[-1].x[0, 1:].tolist())
        assert quatrain_ok(poem, line_len), poem
        lines = [poem[i * (line_len + 1)] for i in range(4)]
        assert lines[:2] == list(heads)


def test_form_checks():
    five = "春風花月山，水人日夜雲。天江秋春風，花月山水人。"
    assert quatrain_ok(five, 5) and not quatrain_ok(five, 7) and poem_form(five) == "5x4"
    assert poem_form(five + five) == "5x8" and poem_form(five[:-1]) is None
    assert not quatrain_ok(five.replace("，", "。", 1), 5)
    mask = quatrain_mask(TANG_VOCAB, 5)
    assert mask(5, []).sum() == 1 and TANG_VOCAB[int(mask(5, []).nonzero())] == "，"
    assert mask(24, []).sum() == 1 and TANG_VOCAB[int(mask(24, []).nonzero())] == "\n"


def test_vanilla_rnn_state_jacobian_is_the_product_of_diag_tanh_prime_w():
    """dh_T/dh_t = prod_k diag(1 - h_k^2) W_hh: the vanishing-gradient product, for a one-layer vanilla RNN."""
    model = _lm("rnn", vocab="abcd", layers=1, hidden=6, emb=3)
    text = "abcdabca"
    norms = state_gradient_norms(model, text)
    states = hidden_trace(model, text)  # h_1 ... h_T
    w_hh = model.rnn.weight_hh_l0
    J = torch.eye(6)
    expected = []
    for t in range(len(text) - 1, 0, -1):  # ds_{t+1}/ds_t = diag(1 - h_{t+1}^2) W_hh
        J = J @ (torch.diag(1 - states[t] ** 2) @ w_hh)
        expected.append(torch.linalg.matrix_norm(J).item())
    torch.testing.assert_close(norms, torch.tensor(expected), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_state_gradient_norms_agree_with_autograd(kind):
    model = _lm(kind, vocab="abcd", layers=2, hidden=5, emb=3)
    text = "abcab"
    norms = state_gradient_norms(model, text)
    ids = torch.tensor([[model.vocab.index(c) for c in text]])
    # autograd: the state after 2 characters as a leaf, then run the remaining 3 and differentiate h_T (top layer)
    with torch.no_grad():
        _, s2 = model(ids[:, :2])
    leaf = tuple(s.clone().requires_grad_() for s in s2) if kind == "lstm" else s2.clone().requires_grad_()
    _, sT = model(ids[:, 2:], leaf, manual=True)
    hT = (sT[0] if kind == "lstm" else sT)[-1, 0]
    rows = [torch.autograd.grad(hT[i], leaf, retain_graph=True) for i in range(5)]
    jac = torch.stack([torch.cat([g.flatten() for g in r]) for r in rows])
    assert norms[2].item() == pytest.approx(torch.linalg.matrix_norm(jac).item(), rel=1e-4)  # T - t = 3


def test_tracking_units_finds_a_planted_unit():
    signal = torch.arange(40.0) % 6
    states = torch.randn(40, 8) * 0.1
    states[:, 5] = -signal + 0.01 * torch.randn(40)
    (unit, r), *_ = tracking_units(states, signal)
    assert unit == 5 and r < -0.99


def test_toy_model_learns_the_four_sentences_in_seconds():
    model, losses = train_toy("rnn", steps=120)
    vocab, x, _ = toy_data()
    assert losses[-1] < 0.35 * losses[0]
    assert generate(model, "hey how", 8, temperature=0.0) == " are you"


def test_text_split_keeps_the_usual_shares():
    text = "".join(chr(97 + i % 26) for i in range(1000))
    train, val = data.text_split("shakespeare", text)
    assert train + val == text and len(train) == 900
    poems = "\n".join(f"p{i}" for i in range(20)) + "\n"
    train, val = data.text_split("tang", poems)
    assert val.split() == ["p9", "p19"] and "p9" not in train.split()
