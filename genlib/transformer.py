"""The encoder-decoder Transformer of Vaswani et al. (2017, arXiv:1706.03762), built part by part in the order
of the Annotated Transformer (Rush et al.), plus beam search and checkpoint averaging, which the Annotated
Transformer only sketches in its "additional components" and does not use when it trains.

Shapes: B batch, S source length, T target length, D = d_model, H heads, d_k = D / H, V vocabulary.
Masks are boolean and broadcast against attention scores (B, H, T_q, T_k): True = may attend.

Pre-norm vs post-norm. The paper normalises *after* the residual sum, LayerNorm(x + Sublayer(x)) ("post-norm").
The Annotated Transformer's code normalises *before* the sublayer, x + Sublayer(LayerNorm(x)) ("pre-norm"), and
adds a final LayerNorm after each stack. Pre-norm trains more stably without a long warm-up; post-norm is what
the paper's equations say. `norm_first=True` (the default here, as in the Annotated Transformer) selects pre-norm,
`norm_first=False` the paper's post-norm (then the stacks have no final LayerNorm).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlib.sampling import Step


# ---- attention ---------------------------------------------------------------------------------------
def attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None = None,
              dropout: nn.Module | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled dot-product attention: softmax(Q K^T / sqrt(d_k)) V.

    query (..., T_q, d_k), key (..., T_k, d_k), value (..., T_k, d_v); mask broadcastable to (..., T_q, T_k).
    Returns (output (..., T_q, d_v), weights (..., T_q, T_k)).
    """
    d_k = query.size(-1)
    scores = query @ key.transpose(-2, -1) / math.sqrt(d_k)  # (..., T_q, T_k)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    if dropout is not None:
        weights = dropout(weights)
    return weights @ value, weights


def subsequent_mask(size: int) -> torch.Tensor:
    """(1, size, size) boolean: position i may attend to positions j <= i (lower triangle, diagonal included)."""
    return torch.tril(torch.ones(1, size, size, dtype=torch.bool))


def padding_mask(tokens: torch.Tensor, pad: int) -> torch.Tensor:
    """(B, 1, L) boolean: True where the token is not padding (broadcasts over queries)."""
    return (tokens != pad).unsqueeze(-2)


def target_mask(tgt: torch.Tensor, pad: int) -> torch.Tensor:
    """(B, T, T): no padding and no peeking at later positions."""
    return padding_mask(tgt, pad) & subsequent_mask(tgt.size(-1)).to(tgt.device)


class MultiHeadedAttention(nn.Module):
    """MultiHead(Q, K, V) = Concat(head_1, ..., head_h) W^O with head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V).
    The h projections are done as one D x D matrix each and reshaped into heads. The last weights are kept in
    `self.attn` (B, H, T_q, T_k) for the heatmaps."""

    def __init__(self, h: int, d_model: int, dropout: float = 0.1):
        super().__init__()
        assert d_model % h == 0, "d_model must be divisible by the number of heads"
        self.d_k, self.h = d_model // h, h
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)
        self.attn: torch.Tensor | None = None

    def forward(self, query, key, value, mask=None):
        B = query.size(0)
        if mask is not None:
            mask = mask.unsqueeze(1)  # (B, 1, T_q or 1, T_k): the same mask for every head

        def split(x, w):  # (B, L, D) -> (B, H, L, d_k)
            return w(x).view(B, -1, self.h, self.d_k).transpose(1, 2)

        x, self.attn = attention(split(query, self.w_q), split(key, self.w_k), split(value, self.w_v), mask, self.dropout)
        x = x.transpose(1, 2).contiguous().view(B, -1, self.h * self.d_k)  # concatenate the heads: (B, T_q, D)
        return self.w_o(x)


# ---- the other sublayers ---------------------------------------------------------------------------------
class PositionwiseFeedForward(nn.Module):
    """FFN(x) = max(0, x W_1 + b_1) W_2 + b_2, applied to every position alone."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.1):
        super().__init__()
        self.w_1, self.w_2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.w_2(self.dropout(self.w_1(x).relu()))


class Embeddings(nn.Module):
    """Token embedding multiplied by sqrt(d_model) (Section 3.4 of the paper)."""

    def __init__(self, vocab: int, d_model: int):
        super().__init__()
        self.lut, self.d_model = nn.Embedding(vocab, d_model), d_model

    def forward(self, tokens):
        return self.lut(tokens) * math.sqrt(self.d_model)


def positional_encoding(max_len: int, d_model: int) -> torch.Tensor:
    """PE[pos, 2i] = sin(pos / 10000^(2i / D)), PE[pos, 2i + 1] = cos(pos / 10000^(2i / D)); (max_len, D)."""
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class PositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal encoding to the embeddings, then dropout."""

    def __init__(self, d_model: int, dropout: float, max_len: int = 512):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", positional_encoding(max_len, d_model)[None], persistent=False)

    def forward(self, x):
        return self.dropout(x + self.pe[:, : x.size(1)])


class SublayerConnection(nn.Module):
    """A residual connection around a sublayer with layer norm: pre-norm x + Dropout(Sublayer(LN(x))), or the
    paper's post-norm LN(x + Dropout(Sublayer(x)))."""

    def __init__(self, d_model: int, dropout: float, norm_first: bool = True):
        super().__init__()
        self.norm, self.dropout, self.norm_first = nn.LayerNorm(d_model), nn.Dropout(dropout), norm_first

    def forward(self, x, sublayer):
        if self.norm_first:
            return x + self.dropout(sublayer(self.norm(x)))
        return self.norm(x + self.dropout(sublayer(x)))


def clones(module: nn.Module, n: int) -> nn.ModuleList:
    return nn.ModuleList(copy.deepcopy(module) for _ in range(n))


# ---- encoder and decoder -----------------------------------------------------------------------------
class EncoderLayer(nn.Module):
    """Self-attention, then the feed-forward network; each wrapped in a SublayerConnection."""

    def __init__(self, d_model, self_attn, feed_forward, dropout, norm_first=True):
        super().__init__()
        self.self_attn, self.feed_forward = self_attn, feed_forward
        self.sublayer = clones(SublayerConnection(d_model, dropout, norm_first), 2)

    def forward(self, x, mask):
        x = self.sublayer[0](x, lambda x: self.self_attn(x, x, x, mask))
        return self.sublayer[1](x, self.feed_forward)


class DecoderLayer(nn.Module):
    """Masked self-attention, attention over the encoder output ("memory"), then the feed-forward network."""

    def __init__(self, d_model, self_attn, src_attn, feed_forward, dropout, norm_first=True):
        super().__init__()
        self.self_attn, self.src_attn, self.feed_forward = self_attn, src_attn, feed_forward
        self.sublayer = clones(SublayerConnection(d_model, dropout, norm_first), 3)

    def forward(self, x, memory, src_mask, tgt_mask):
        x = self.sublayer[0](x, lambda x: self.self_attn(x, x, x, tgt_mask))
        x = self.sublayer[1](x, lambda x: self.src_attn(x, memory, memory, src_mask))  # queries from the decoder
        return self.sublayer[2](x, self.feed_forward)


class Stack(nn.Module):
    """N identical layers; with pre-norm a final LayerNorm (the last residual sum is otherwise unnormalised)."""

    def __init__(self, layer: nn.Module, n: int, d_model: int, norm_first: bool):
        super().__init__()
        self.layers = clones(layer, n)
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, x, *args):
        for layer in self.layers:
            x = layer(x, *args)
        return self.norm(x)


class Transformer(nn.Module, PyTorchModelHubMixin, library_name="genlib", tags=["transformer", "genlib"], license="mit"):
    """The encoder-decoder: encode(src) -> memory; decode(memory, tgt) -> states; generator -> log-probabilities."""

    def __init__(self, src_vocab: int, tgt_vocab: int, N: int = 6, d_model: int = 512, d_ff: int = 2048, h: int = 8,
                 dropout: float = 0.1, norm_first: bool = True, max_len: int = 512):
        super().__init__()
        attn = MultiHeadedAttention(h, d_model, dropout)
        ff = PositionwiseFeedForward(d_model, d_ff, dropout)
        c = copy.deepcopy
        self.encoder = Stack(EncoderLayer(d_model, c(attn), c(ff), dropout, norm_first), N, d_model, norm_first)
        self.decoder = Stack(DecoderLayer(d_model, c(attn), c(attn), c(ff), dropout, norm_first), N, d_model, norm_first)
        self.src_embed = nn.Sequential(Embeddings(src_vocab, d_model), PositionalEncoding(d_model, dropout, max_len))
        self.tgt_embed = nn.Sequential(Embeddings(tgt_vocab, d_model), PositionalEncoding(d_model, dropout, max_len))
        self.generator = nn.Linear(d_model, tgt_vocab)  # followed by log_softmax in `log_probs`
        for p in self.parameters():  # Glorot / fan_avg initialisation, as in the paper's reference code
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)

    def encode(self, src, src_mask):  # (B, S), (B, 1, S) -> (B, S, D)
        return self.encoder(self.src_embed(src), src_mask)

    def decode(self, memory, src_mask, tgt, tgt_mask):  # -> (B, T, D)
        return self.decoder(self.tgt_embed(tgt), memory, src_mask, tgt_mask)

    def forward(self, src, tgt, src_mask, tgt_mask):
        return self.decode(self.encode(src, src_mask), src_mask, tgt, tgt_mask)

    def log_probs(self, states):  # (B, T, D) -> (B, T, V)
        return F.log_softmax(self.generator(states), dim=-1)

    def attention_maps(self) -> dict[str, list[torch.Tensor]]:
        """The weights of the last forward pass, per layer: enc_self, dec_self, dec_src, each (B, H, T_q, T_k)."""
        return {"enc_self": [layer.self_attn.attn for layer in self.encoder.layers],
                "dec_self": [layer.self_attn.attn for layer in self.decoder.layers],
                "dec_src": [layer.src_attn.attn for layer in self.decoder.layers]}


# ---- training ------------------------------------------------------------------------------------------
class LabelSmoothing(nn.Module):
    """KL(q || p_model) summed over tokens, where the target q puts 1 - eps on the true token and spreads eps over
    the V - 2 other tokens that are neither the truth nor padding; padding positions are ignored."""

    def __init__(self, size: int, padding_idx: int, smoothing: float = 0.0):
        super().__init__()
        self.size, self.padding_idx, self.smoothing = size, padding_idx, smoothing

    def target_distribution(self, target: torch.Tensor) -> torch.Tensor:
        """q for each target token: (N,) -> (N, V); rows of padding targets are all zero."""
        q = torch.full((target.size(0), self.size), self.smoothing / (self.size - 2))
        q.scatter_(1, target[:, None], 1.0 - self.smoothing)
        q[:, self.padding_idx] = 0
        q[target == self.padding_idx] = 0
        return q

    def forward(self, log_probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # log_probs (N, V), target (N,) -> scalar
        return F.kl_div(log_probs, self.target_distribution(target).to(log_probs), reduction="sum")


def rate(step: int, d_model: int, factor: float, warmup: int) -> float:
    """The "Noam" schedule: lr = factor * d_model^-0.5 * min(step^-0.5, step * warmup^-1.5), step counted from 1."""
    step = max(step, 1)
    return factor * d_model ** -0.5 * min(step ** -0.5, step * warmup ** -1.5)


def average_checkpoints(state_dicts: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several checkpoints' parameters (the paper averages the last 5 or 20)."""
    keys = state_dicts[0].keys()
    return {k: torch.stack([sd[k].float() for sd in state_dicts]).mean(0).to(state_dicts[0][k].dtype) for k in keys}


# ---- decoding ------------------------------------------------------------------------------------------
@dataclass
class Decoded:
    tokens: list[int]  # the generated target tokens after BOS (EOS included when produced)
    step_log_probs: list[torch.Tensor]  # per generated token: log p over the vocabulary (V,) that the token was
    # drawn from (for sampling: the temperature-adjusted distribution)
    score: float  # sum of the chosen tokens' log-probabilities under the model itself (temperature 1)


@torch.no_grad()
def _next_log_probs(model: Transformer, memory, src_mask, ys) -> torch.Tensor:
    out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)).to(ys.device))
    return model.log_probs(out[:, -1])  # (B, V)


@torch.no_grad()
def decode_steps(model: Transformer, src, src_mask, max_len: int, bos: int, eos: int, choose) -> Iterator[Step]:
    """Append one token at a time until EOS or max_len; choose(log p (V,)) -> (token, the distribution it came from).
    Yields a Step per token: x = the tokens so far (1, L) after BOS, t = the position written, probs = that
    distribution, pred = log p of the chosen token under the model itself (temperature 1)."""
    memory = model.encode(src, src_mask)
    ys = torch.tensor([[bos]])
    for k in range(1, max_len + 1):
        lp = _next_log_probs(model, memory, src_mask, ys)[0]
        nxt, drawn_from = choose(lp)
        ys = torch.cat([ys, torch.tensor([[nxt]])], dim=1)
        yield Step(k, max_len, ys, k - 1, pred=lp[nxt], probs=drawn_from)
        if nxt == eos:
            break


def _decode_loop(model: Transformer, src, src_mask, max_len: int, bos: int, eos: int, choose) -> Decoded:
    """Run decode_steps to the end and collect the tokens, the per-step distributions and the total score."""
    steps = list(decode_steps(model, src, src_mask, max_len, bos, eos, choose))
    tokens = steps[-1].x[0, 1:].tolist() if steps else []
    return Decoded(tokens, [s.probs for s in steps], sum(float(s.pred) for s in steps))


def greedy_decode(model: Transformer, src: torch.Tensor, src_mask: torch.Tensor, max_len: int, bos: int, eos: int) -> Decoded:
    """Always take the most likely next token, until EOS or max_len tokens. src (1, S)."""
    return _decode_loop(model, src, src_mask, max_len, bos, eos, lambda lp: (int(lp.argmax()), lp))


def sample_decode(model: Transformer, src, src_mask, max_len: int, bos: int, eos: int, temperature: float = 1.0,
                  seed: int = 0) -> Decoded:
    """Draw each next token from softmax(logits / temperature), from a seeded generator."""
    if temperature <= 0:
        raise ValueError("temperature must be positive (use greedy decoding for the limit T -> 0)")
    g = torch.Generator().manual_seed(seed)

    def draw(lp):
        tempered = F.log_softmax(lp / temperature, dim=-1)
        return int(torch.multinomial(tempered.exp(), 1, generator=g)), tempered

    return _decode_loop(model, src, src_mask, max_len, bos, eos, draw)


@torch.no_grad()
def beam_search(model: Transformer, src, src_mask, max_len: int, bos: int, eos: int, width: int = 4,
                length_penalty: float = 0.0) -> Decoded:
    """Keep the `width` best partial outputs by total log-probability; a finished hypothesis (ending in EOS)
    leaves the beam (so fewer than `width` may stay live). The winner maximises score / len^length_penalty, len
    counting EOS (0 = no normalisation); `Decoded.score` is the raw sum. Width 1 is greedy decoding. src (1, S)."""
    memory = model.encode(src, src_mask)
    beams = [([bos], 0.0, [])]  # (tokens, score, per-step log-prob vectors)
    finished = []
    for _ in range(max_len):
        ys = torch.tensor([b[0] for b in beams])
        lp = _next_log_probs(model, memory.expand(len(beams), -1, -1), src_mask.expand(len(beams), -1, -1), ys)  # (K, V)
        total = torch.tensor([b[1] for b in beams])[:, None] + lp  # (K, V)
        top = total.flatten().topk(min(width, total.numel()))
        candidates = []
        for value, flat in zip(top.values.tolist(), top.indices.tolist()):
            k, tok = divmod(flat, lp.size(1))
            candidates.append((beams[k][0] + [tok], value, beams[k][2] + [lp[k]]))
        beams = []
        for cand in candidates:
            (finished if cand[0][-1] == eos else beams).append(cand)
        if not beams or len(finished) >= width:
            break
    pool = finished or beams

    def normalised(b):
        return b[1] / (len(b[0]) - 1) ** length_penalty

    best = max(pool, key=normalised)
    return Decoded(best[0][1:], best[2], best[1])
