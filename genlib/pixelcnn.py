"""Autoregressive image models: a PixelSNAIL-lite (Chen et al. 2017, arXiv:1712.09763) built from PixelCNN++'s
shift-based causal convolutions (Salimans et al. 2017, arXiv:1701.05517), and the classic masked-convolution
PixelCNN (van den Oord et al. 2016, arXiv:1601.06759) whose blind spot the causality viewer shows.

p(x) = prod_i p(x_i | x_<i) in raster order (row by row, left to right). Images are (B, 1, 28, 28) in [-1, 1],
8-bit values v in {0..255} mapped to x = 2 v / 255 - 1.

Streams (PixelCNN++): `u` sees the rows strictly above a pixel; `ul` sees the rows above and the pixels to the
left in the same row. Both are built from convolutions whose padding is placed so that no output looks at its own
pixel or later ones; the shifts move a whole row or column so the first layer excludes the pixel itself.

Fast sampling: every layer's output in row r depends on its input in rows r-1 and r only, and the u stream of
row r does not depend on row r at all. So `forward(x, state)` can run on a *strip* of rows given a cache of
the row just above (per layer) and the attention keys/values of all earlier rows. Sampling goes further: within
a row, `ColumnCursor` computes every layer at the one pixel being drawn, from those caches and the row's earlier
positions (in the spirit of Ramachandran et al. 2017, arXiv:1704.06001).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from huggingface_hub import PyTorchModelHubMixin
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from genlib.sampling import Step, class_labels

H = W = 28


# ---- shifts and causal convolutions ------------------------------------------------------------------
def down_shift(x: torch.Tensor) -> torch.Tensor:
    """Move every row down by one (a zero row enters at the top): output row r is input row r - 1."""
    return F.pad(x, (0, 0, 1, 0))[:, :, :-1]


def right_shift(x: torch.Tensor) -> torch.Tensor:
    """Move every column right by one: output column c is input column c - 1."""
    return F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]


def concat_elu(x: torch.Tensor) -> torch.Tensor:
    """ELU of [x, -x] along channels: keeps both signs' information, doubles the width. (B, C) -> (B, 2C)."""
    return F.elu(torch.cat([x, -x], dim=1))


@dataclass
class StripState:
    """Caches for running the network on a strip of rows: `prev` holds what the rows above left behind (each
    layer's last input row, the attention keys/values), `next` collects the same for the rows computed now."""

    row0: int  # first row of the strip
    prev: dict = field(default_factory=dict)
    next: dict = field(default_factory=dict)


class DownShiftedConv2d(nn.Module):
    """A (kh, kw) convolution padded with kh - 1 rows on top and (kw - 1) / 2 columns each side: output (r, c)
    sees input rows r - kh + 1 .. r and columns c - (kw - 1) / 2 .. c + (kw - 1) / 2."""

    def __init__(self, c_in: int, c_out: int, k: tuple[int, int] = (2, 3)):
        super().__init__()
        self.kh, self.kw = k
        self.conv = weight_norm(nn.Conv2d(c_in, c_out, k))

    def pad(self, x):
        return F.pad(x, ((self.kw - 1) // 2, (self.kw - 1) // 2, self.kh - 1, 0))

    def forward(self, x, state: StripState | None = None, key: str = ""):
        return _conv_strip(self, x, state, key)


class DownRightShiftedConv2d(DownShiftedConv2d):
    """A (kh, kw) convolution padded on top and on the left only: output (r, c) sees rows r - kh + 1 .. r and
    columns c - kw + 1 .. c."""

    def pad(self, x):
        return F.pad(x, (self.kw - 1, 0, self.kh - 1, 0))


def _conv_strip(layer: DownShiftedConv2d, x, state, key):
    """Apply a causal conv to a strip: the kh - 1 rows above come from the cache instead of zero padding."""
    if state is None or layer.kh == 1:
        return layer.conv(layer.pad(x))
    prev = state.prev.get(key)
    state.next[key] = x[:, :, -(layer.kh - 1):]
    if prev is None:  # the strip starts at the top of the image: zero padding is right
        return layer.conv(layer.pad(x))
    return layer.conv(layer.pad(torch.cat([prev, x], dim=2)))[:, :, layer.kh - 1:]


def _down_shift_strip(x, state: StripState | None, key: str):
    if state is None:
        return down_shift(x)
    prev = state.prev.get(key, torch.zeros_like(x[:, :, :1]))
    state.next[key] = x[:, :, -1:]
    return torch.cat([prev, x[:, :, :-1]], dim=2)


def nin(c_in: int, c_out: int) -> nn.Module:
    """A 1x1 ("network in network") convolution with weight normalisation."""
    return weight_norm(nn.Conv2d(c_in, c_out, 1))


# ---- gated residual block and causal attention ---------------------------------------------------------
class GatedResNet(nn.Module):
    """x + a * sigmoid(b) with [a, b] = conv(concat_elu(conv(concat_elu(x)) + nin(concat_elu(aux)))).
    `conv` is a causal conv class (or None for 1x1 convolutions)."""

    def __init__(self, c: int, conv=DownShiftedConv2d, k=(2, 3), aux_channels: int = 0, dropout: float = 0.0,
                 num_classes: int = 0):
        super().__init__()
        make = (lambda ci, co: conv(ci, co, k)) if conv is not None else nin
        self.conv1, self.conv2 = make(2 * c, c), make(2 * c, 2 * c)
        self.aux = nin(2 * aux_channels, c) if aux_channels else None
        self.dropout = nn.Dropout(dropout)
        # class conditioning (PixelCNN++'s h): a learned vector per class added to both halves [a, b] before the gate,
        # the same at every pixel; row num_classes is "no label" (trained by label dropout, used by guidance). Zero at
        # the start, so a conditional net warm-started from an unconditional one begins as exactly that net.
        self.cond = nn.Embedding(num_classes + 1, 2 * c) if num_classes else None
        if self.cond is not None:
            nn.init.zeros_(self.cond.weight)

    def forward(self, x, aux=None, state: StripState | None = None, key: str = "", y: torch.Tensor | None = None):
        def conv(layer, h, name):
            return layer(h, state, key + name) if isinstance(layer, DownShiftedConv2d) else layer(h)

        h = conv(self.conv1, concat_elu(x), "c1")
        if self.aux is not None:
            h = h + self.aux(concat_elu(aux))
        h = self.dropout(concat_elu(h))
        ab = conv(self.conv2, h, "c2")  # (B, 2C, h, w)
        if self.cond is not None:
            ab = ab + self.cond(y)[:, :, None, None]  # (B, 2C) -> every pixel
        a, b = ab.chunk(2, dim=1)
        return x + a * torch.sigmoid(b)  # the gate


class CausalAttention(nn.Module):
    """Queries from the stream; keys and values from [image, stream]; position i attends only to positions j < i
    in raster order (strictly earlier: the keys contain the pixel values themselves)."""

    fused = True  # whole images through strictly_causal_attention; False: the boolean mask (benchmarks compare them)

    def __init__(self, c_q: int, c_kv: int, d_k: int = 16, d_v: int = 32):
        super().__init__()
        self.q, self.k, self.v = nin(c_q, d_k), nin(c_kv, d_k), nin(c_kv, d_v)
        self.d_k = d_k

    def forward(self, q_src, kv_src, state: StripState | None = None, key: str = ""):
        B, _, h, w = q_src.shape
        q = self.q(q_src).flatten(2).transpose(1, 2)  # (B, h w, d_k)
        k = self.k(kv_src).flatten(2).transpose(1, 2)
        v = self.v(kv_src).flatten(2).transpose(1, 2)  # (B, h w, d_v)
        row0 = state.row0 if state is not None else 0
        if row0 and key + "k" not in state.prev:
            raise ValueError("a strip below row 0 needs the keys and values of all the rows above it")
        if state is not None:
            if key + "k" in state.prev:
                k, v = torch.cat([state.prev[key + "k"], k], 1), torch.cat([state.prev[key + "v"], v], 1)
            state.next[key + "k"], state.next[key + "v"] = k, v
        if self.fused and state is None and q.shape[-1] < v.shape[-1]:  # a whole image: the fast path (training, naive sampling)
            out = strictly_causal_attention(q, k, v)
        else:
            q_pos = row0 * w + torch.arange(h * w)  # absolute raster positions of the queries
            k_pos = torch.arange(k.shape[1])  # keys start at position 0
            allowed = k_pos[None, :] < q_pos[:, None]  # (h w, n_keys)
            # softmax(q k^T / sqrt(d_k)) v over the allowed keys (a row with no allowed key, pixel 0, gives zeros).
            # tests/genlib/test_pixelcnn.py checks it against the explicit formula.
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)  # (B, h w, d_v)
        return out.transpose(1, 2).reshape(B, -1, h, w)


def strictly_causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d_k)) v where query i sees keys j < i only, and query 0 gets zeros: (B, L, d_k),
    (B, L, d_k), (B, L, d_v) -> (B, L, d_v). The same numbers as the boolean mask, written so that torch's fused
    CPU kernel (flash attention, causal j <= i, equal head sizes, 4-D) applies; it skips the masked half and never
    holds the L x L matrix (forward + backward of the attention alone about 3.5x faster at L = 784 in a probe here;
    a whole training step 1.58x in benchmarks/pixelcnn.py).

    Keys and values move one position right, so "j <= i" over the moved sequence is "j < i" over the original;
    position 0 of the moved sequence is a sink: value 0, and a key that scores -1e4 / sqrt(d_k) against every
    query through an extra dimension where queries hold 1. A query with real keys gives the sink weight
    exp(-2500 - max) = 0; query 0 has only the sink and returns its value, 0. q and k are zero-padded to d_v
    (zeros add nothing to q . k), so needs d_k < d_v."""
    B, L, d_k = q.shape
    d_v = v.shape[-1]
    pad = d_v - d_k - 1  # zero dimensions after the sink dimension
    q_ = torch.cat([q, q.new_ones(B, L, 1), q.new_zeros(B, L, pad)], -1)
    sink = torch.cat([k.new_zeros(B, 1, d_k), k.new_full((B, 1, 1), -1e4), k.new_zeros(B, 1, pad)], -1)
    k_ = torch.cat([sink, F.pad(k[:, :-1], (0, 1 + pad))], 1)  # (B, L, d_v): the sink, then keys 0 .. L - 2
    v_ = torch.cat([v.new_zeros(B, 1, d_v), v[:, :-1]], 1)
    out = F.scaled_dot_product_attention(q_[:, None], k_[:, None], v_[:, None], is_causal=True, scale=d_k ** -0.5)
    return out[:, 0]


# ---- the model ------------------------------------------------------------------------------------------
class PixelSNAIL(nn.Module, PyTorchModelHubMixin, library_name="genlib", tags=["pixelcnn", "pixelsnail", "genlib"],
                 license="mit"):
    """Shift-based causal conv streams (u, ul), gated residual blocks, causal attention after each block, and
    a discretised logistic mixture head with `n_mix` components. `attention=False` gives the plain shift stack.
    `num_classes` > 0: a class-conditional model p(x | y), y a LongTensor (B,) in [0, num_classes] given to every
    forward pass (every gated block adds its class vector); y = num_classes is "no label". p(x) = sum_y p(y) p(x | y)
    with p(y) uniform over the classes."""

    def __init__(self, channels: int = 32, n_blocks: int = 2, n_res: int = 2, n_mix: int = 5, attention: bool = True,
                 d_k: int = 16, d_v: int = 32, dropout: float = 0.0, num_classes: int = 0):
        super().__init__()
        c, self.n_mix, self.attention, self.num_classes = channels, n_mix, attention, num_classes
        k = num_classes
        c_in = 1 + 3  # the pixel, a ones channel (tells zero padding from a pixel whose value is 0) and two position channels
        self.u_init = DownShiftedConv2d(c_in, c, (2, 3))
        self.ul_init_up, self.ul_init_left = DownShiftedConv2d(c_in, c, (1, 3)), DownRightShiftedConv2d(c_in, c, (2, 1))
        self.u_res = nn.ModuleList(GatedResNet(c, DownShiftedConv2d, (2, 3), dropout=dropout, num_classes=k)
                                   for _ in range(n_blocks * n_res))
        self.ul_res = nn.ModuleList(GatedResNet(c, DownRightShiftedConv2d, (2, 2), aux_channels=c, dropout=dropout,
                                                num_classes=k) for _ in range(n_blocks * n_res))
        self.n_res = n_res
        if attention:
            self.attn = nn.ModuleList(CausalAttention(c, c_in + c, d_k, d_v) for _ in range(n_blocks))
            self.attn_res = nn.ModuleList(GatedResNet(c, None, aux_channels=d_v, dropout=dropout, num_classes=k)
                                          for _ in range(n_blocks))
        self.head = nin(c, 3 * n_mix)

    @staticmethod
    def background(x: torch.Tensor, row0: int = 0) -> torch.Tensor:
        """[x, 1, row / H - 0.5, col / W - 0.5] for a strip starting at row0: (B, 1, h, W) -> (B, 4, h, W)."""
        B, _, h, w = x.shape
        rows = ((row0 + torch.arange(h, dtype=x.dtype)) / H - 0.5).view(1, 1, h, 1).expand(B, 1, h, w)
        cols = (torch.arange(w, dtype=x.dtype) / W - 0.5).view(1, 1, 1, w).expand(B, 1, h, w)
        return torch.cat([x, torch.ones_like(x), rows, cols], dim=1)

    def check_labels(self, y: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """y as this model needs it: None for an unconditional model, else a LongTensor (n,) in [0, num_classes]
        (num_classes: no label)."""
        if not self.num_classes:
            return None
        if y is None:
            raise ValueError("this PixelSNAIL is class-conditional: give labels y")
        y = torch.as_tensor(y, dtype=torch.long).reshape(-1)
        if y.shape != (n,) or bool(((y < 0) | (y > self.num_classes)).any()):
            raise ValueError(f"labels must be {n} integers in [0, {self.num_classes}] ({self.num_classes}: no label)")
        return y

    def u_stream(self, x_in, state: StripState | None = None, y: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The stream that sees only the rows above: one activation per residual block."""
        u = _down_shift_strip(self.u_init(x_in, state, "u0"), state, "u0s")
        us = []
        for i, block in enumerate(self.u_res):
            u = block(u, state=state, key=f"u{i}", y=y)
            us.append(u)
        return us

    def forward(self, x: torch.Tensor, state: StripState | None = None, us: list[torch.Tensor] | None = None,
                y: torch.Tensor | None = None):
        """Mixture parameters for every pixel of x (B, 1, h, W): (B, 3 n_mix, h, W) = logits, means, log-scales.
        With `state`, x is a strip of rows starting at state.row0; `us` reuses a u stream computed for it.
        y (B,): the class labels of a class-conditional model (ignored by an unconditional one)."""
        y = self.check_labels(y, x.shape[0])
        x_in = self.background(x, state.row0 if state is not None else 0)
        us = us if us is not None else self.u_stream(x_in, state, y)
        ul = (_down_shift_strip(self.ul_init_up(x_in, state, "l0"), state, "l0s")
              + right_shift(self.ul_init_left(x_in, state, "l1")))
        for i, block in enumerate(self.ul_res):
            ul = block(ul, aux=us[i], state=state, key=f"l{i}", y=y)
            if self.attention and (i + 1) % self.n_res == 0:
                j = i // self.n_res
                a = self.attn[j](ul, torch.cat([x_in, ul], 1), state, f"a{j}")
                ul = self.attn_res[j](ul, aux=a, y=y)
        return self.head(F.elu(ul))

    def class_vectors(self, y: torch.Tensor | None) -> dict:
        """Each gated block's class vector for labels y: module name -> (B, 2C) ({} for an unconditional model);
        the column cursor adds them where forward() does."""
        if y is None:
            return {}
        return {name: mod.cond(y) for name, mod in self.named_modules() if isinstance(mod, GatedResNet)}


class MaskedConv2d(nn.Conv2d):
    """The original PixelCNN convolution: the kernel is multiplied by a mask that zeroes the centre's right and
    everything below; mask 'A' (first layer) also zeroes the centre itself, mask 'B' keeps it."""

    def __init__(self, c_in: int, c_out: int, k: int, mask_type: str):
        super().__init__(c_in, c_out, k, padding=k // 2)
        mask = torch.ones(k, k)
        mask[k // 2, k // 2 + (mask_type == "B"):] = 0
        mask[k // 2 + 1:] = 0
        self.register_buffer("mask", mask[None, None], persistent=False)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class MaskedPixelCNN(nn.Module):
    """A stack of masked convolutions (one 7x7 mask A, then 3x3 mask B): its receptive field has a blind spot
    above-right of each pixel that grows with depth. Used to show that blind spot, not trained here."""

    def __init__(self, channels: int = 16, layers: int = 6):
        super().__init__()
        mods = [MaskedConv2d(1, channels, 7, "A")]
        for _ in range(layers - 1):
            mods += [nn.ReLU(), MaskedConv2d(channels, channels, 3, "B")]
        self.net = nn.Sequential(*mods, nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def forward(self, x):
        return self.net(x)


# ---- the discretised logistic mixture -------------------------------------------------------------------
def split_params(params: torch.Tensor, n_mix: int):
    """(B, 3K, h, w) -> logits, means, log_scales each (B, K, h, w); log-scales clamped at -7 as in PixelCNN++."""
    logits, means, log_scales = params.split(n_mix, dim=1)
    return logits, means, log_scales.clamp(min=-7.0)


def discretized_logistic_log_prob(x: torch.Tensor, params: torch.Tensor, n_mix: int) -> torch.Tensor:
    """log p(x) per pixel for 8-bit values x in [-1, 1] (B, 1, h, w) -> (B, h, w).

    Each component is a logistic with mean mu and scale s, integrated over the bin [x - 1/255, x + 1/255]; the
    first and last bins take all the mass below / above them, so the 256 probabilities sum to one."""
    logits, means, log_scales = split_params(params, n_mix)
    centred = x - means  # (B, K, h, w)
    inv_s = torch.exp(-log_scales)
    cdf_plus = torch.sigmoid(inv_s * (centred + 1.0 / 255))
    cdf_min = torch.sigmoid(inv_s * (centred - 1.0 / 255))
    log_cdf_plus = (inv_s * (centred + 1.0 / 255)) - F.softplus(inv_s * (centred + 1.0 / 255))  # log sigmoid, x = 0
    log_one_minus_cdf_min = -F.softplus(inv_s * (centred - 1.0 / 255))  # x = 255
    mid = inv_s * centred
    log_pdf_mid = mid - log_scales - 2.0 * F.softplus(mid)  # the density times the bin width when the bin is tiny
    log_bin = torch.where(cdf_plus - cdf_min > 1e-5, torch.log((cdf_plus - cdf_min).clamp_min(1e-12)),
                          log_pdf_mid - math.log(127.5))
    log_probs = torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, log_bin))
    return torch.logsumexp(log_probs + F.log_softmax(logits, dim=1), dim=1)


def bits_per_dim(log_prob: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood in bits per pixel from per-pixel log p (B, h, w) -> (B,)."""
    return -log_prob.flatten(1).mean(1) / math.log(2.0)


VALUES = torch.arange(256, dtype=torch.float64) * 2 / 255 - 1  # the 256 possible pixel values in [-1, 1]


def pixel_distribution(params: torch.Tensor, n_mix: int) -> torch.Tensor:
    """The 256 probabilities of one pixel for each image: params (B, 3K) -> (B, 256). The likelihood above, with
    the 256 values laid along the width of a 1 x 256 "image" that broadcasts against each image's parameters."""
    x = VALUES.to(params.dtype).view(1, 1, 1, 256)  # every value
    lp = discretized_logistic_log_prob(x, params.view(params.shape[0], -1, 1, 1), n_mix)  # (B, 1, 256)
    return lp.view(-1, 256).softmax(-1)  # renormalise away rounding


def guided_distribution(p: torch.Tensor, w: float) -> torch.Tensor:
    """Classifier-free guidance of one pixel: p (2B, 256) holds B images given their labels, then the same B
    images with no label; returns p_u^(1 - w) p_c^w renormalised (B, 256), i.e. log p_u + w (log p_c - log p_u) -
    w = 1: the conditional, w = 0: no label, w > 1: towards what the label adds."""
    log_p = torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))
    log_c, log_u = log_p.chunk(2)
    return torch.softmax(log_u + w * (log_c - log_u), dim=-1)


def sample_pixel(params: torch.Tensor, n_mix: int, temperature: float, generator: torch.Generator | None,
                 w: float | None = None) -> torch.Tensor:
    """Draw one 8-bit value per image from p^(1/T) over the 256 values (T = 1: the model; T -> 0: the mode).
    params (B, 3K) -> values in [-1, 1] (B,). With guidance scale w: params (2B, 3K) as in guided_distribution,
    and the B values are drawn from the guided distribution (then sharpened by T)."""
    p = pixel_distribution(params, n_mix)
    if w is not None:
        p = guided_distribution(p, w)
    if temperature != 1.0:
        p = torch.softmax(torch.log(p.clamp_min(torch.finfo(p.dtype).tiny)) / temperature, dim=-1)
    idx = torch.multinomial(p, 1, generator=generator)[:, 0]
    return VALUES.to(params.dtype)[idx]


@torch.no_grad()
def class_posterior(model: PixelSNAIL, x: torch.Tensor, rows: int = H) -> torch.Tensor:
    """p(y | the top `rows` rows of x) for a class-conditional model by Bayes' rule with the uniform prior p(y):
    softmax over y of log p(x_top | y) = sum of log p(x_i | x_<i, y) over the pixels i in those rows (the causal
    model needs nothing below them). x (B, 1, H, W) -> (B, K); rows = 0 gives the prior."""
    K, B = model.num_classes, x.shape[0]
    if not K:
        raise ValueError("class_posterior needs a class-conditional model")
    if rows <= 0:  # nothing kept: the prior, without ten passes of the network
        return x.new_full((B, K), 1.0 / K)
    y = torch.arange(K).repeat_interleave(B)  # (K B,): every image with every label
    xs = x.repeat(K, 1, 1, 1)
    log_px = discretized_logistic_log_prob(xs, model(xs, y=y), model.n_mix)  # (K B, H, W)
    log_top = log_px[:, :rows].flatten(1).sum(1).view(K, B).t()  # (B, K): log p(x_top | y)
    return torch.softmax(log_top, dim=1)


# ---- sampling ------------------------------------------------------------------------------------------
def _validate(model: PixelSNAIL, temperature: float, n: int, y) -> torch.Tensor | None:
    """Check the temperature; the labels to draw with: y, or 0-9 in turn (class_labels) for a conditional model
    given none, None for an unconditional one."""
    if not temperature > 0:
        raise ValueError("temperature must be positive")
    if model.num_classes and y is None:
        y = class_labels(n)
    return model.check_labels(y, n)


def _guidance(model: PixelSNAIL, y, w: float):
    """(labels the network runs with, w for sample_pixel): unguided (y, None) when w = 1 or the model has no labels;
    else the labels followed by n "no label"s, so one batch of 2n gives both distributions of every pixel."""
    if not math.isfinite(w) or w < 0:
        raise ValueError("the guidance scale w must be a finite number >= 0")
    if y is None or w == 1.0:
        return y, None
    return torch.cat([y, torch.full_like(y, model.num_classes)]), w


@torch.no_grad()
def sample_naive(model: PixelSNAIL, n: int, temperature: float = 1.0, seed: int = 0, start: torch.Tensor | None = None,
                 keep_rows: int = 0, dtype=torch.float32, y: torch.Tensor | None = None, w: float = 1.0):
    """Pixel by pixel, running the whole network on the whole image each time (784 full passes). Yields (row, image)
    after each completed row as a genlib.sampling.Step (t = the row; x is the same tensor each time, filled in place: clone it to keep a frame). `start` (n, 1, H, W) with `keep_rows` > 0: keep its top rows and complete the rest.
    y (n,): the labels of a class-conditional model (default 0-9 in turn): x ~ p(x | y); w: the guidance scale
    (guided_distribution; 1 = plain p(x | y))."""
    y = _validate(model, temperature, n, y)
    y, gw = _guidance(model, y, w)
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, H, W, dtype=dtype) if start is None else start.to(dtype).clone()
    x[:, :, keep_rows:] = 0
    xs = x.repeat(2, 1, 1, 1) if gw is not None else x  # the network's batch: with guidance, each image twice
    for r in range(keep_rows, H):
        for c in range(W):
            params = model(xs, y=y)[:, :, r, c]
            value = sample_pixel(params, model.n_mix, temperature, g, gw)
            xs[:, 0, r, c] = value.repeat(len(xs) // n)
        yield Step(r - keep_rows + 1, H - keep_rows, xs[:n], r)


def fold_weight_norm(model: nn.Module) -> nn.Module:
    """A copy whose weight-normalised layers hold w = g v / ||v|| as a plain weight, computed once instead of at
    every forward (the same numbers, so the same samples). Not torch's remove_parametrizations: it deletes the
    `weight` property from the parametrised class, which the original model shares with its deep copy."""
    from torch.nn.utils import parametrize

    folded = copy.deepcopy(model)
    for module in [m for m in folded.modules() if parametrize.is_parametrized(m, "weight")]:
        weight = module.weight.detach().clone()  # g v / ||v||
        del module._modules["parametrizations"]
        module.__class__ = type(module).__bases__[0]  # ParametrizedConv2d -> Conv2d
        module.weight = nn.Parameter(weight, requires_grad=False)
    return folded


# ---- one position per layer: the column cursor ---------------------------------------------------------------
def linear_layers(model: nn.Module) -> dict:
    """Every (folded) conv as a matrix product: name -> (weight (C_in kh kw, C_out), bias), for torch.addmm on
    patches flattened like the kernel."""
    return {name: (mod.weight.flatten(1).t().contiguous(), mod.bias)
            for name, mod in model.named_modules() if isinstance(mod, nn.Conv2d)}


class ColumnCursor:
    """Row r of the image, one pixel at a time: every layer of the ul stream, the attention and the head computed at
    the single position (r, c), from the rows above (the strip caches of the last full-row pass) and the positions
    (r, c' < c) this cursor has already computed. A (2, 2) down-right-shifted conv at (r, c) is one matrix product
    over its 2 x 2 input patch: rows r - 1 and r, columns c - 1 and c. Expects a model with folded weight norm."""

    def __init__(self, model: "PixelSNAIL", lin: dict, x_in: torch.Tensor, r: int, cache: dict, us: list[torch.Tensor],
                 class_vectors: dict | None = None):
        self.m, self.lin, self.x_in, self.r, self.us = model, lin, x_in, r, us  # x_in (B, 4, 1, W): channel 0 filled as we go
        self.cond = class_vectors or {}  # PixelSNAIL.class_vectors(y)
        B = x_in.shape[0]
        if (model.ul_init_left.kh, model.ul_init_left.kw) != (2, 1) or any((b.conv1.kh, b.conv1.kw) != (2, 2) for b in model.ul_res):
            raise ValueError("ColumnCursor expects the ul stream's (2, 1) and (2, 2) down-right-shifted kernels")

        def padded_row(t, channels):  # (B, C, 1, W) or None -> (B, C, W + 1), a zero column in front
            out = x_in.new_zeros(B, channels, W + 1)
            if t is not None:
                out[:, :, 1:] = t[:, :, -1]
            return out

        self.prev, self.cur = {}, {}
        self.prev["l1"] = padded_row(cache.get("l1"), model.ul_init_left.conv.in_channels)  # x_in of row r - 1
        up = cache.get("l0s")  # ul_init_up's output on row r - 1 (the down shift brings it to row r)
        self.up = up[:, :, 0] if up is not None else x_in.new_zeros(B, model.ul_init_up.conv.out_channels, W)
        for i, block in enumerate(model.ul_res):
            for name, conv in (("c1", block.conv1), ("c2", block.conv2)):
                key, ch = f"l{i}{name}", conv.conv.in_channels
                self.prev[key], self.cur[key] = padded_row(cache.get(key), ch), padded_row(None, ch)
        if model.attention:  # keys/values: the rows above from the cache, this row's filled in as pixels are drawn
            self.k, self.v, self.ul_at = {}, {}, {}
            for j, attn in enumerate(model.attn):
                n_prev = r * W
                self.k[j] = x_in.new_zeros(B, n_prev + W, attn.d_k)
                self.v[j] = x_in.new_zeros(B, n_prev + W, attn.v.out_channels)
                if n_prev:
                    self.k[j][:, :n_prev], self.v[j][:, :n_prev] = cache[f"a{j}k"], cache[f"a{j}v"]
                self.ul_at[j] = x_in.new_zeros(B, attn.q.in_channels, W)

    def _mm(self, name: str, inp: torch.Tensor) -> torch.Tensor:
        w, b = self.lin[name]
        return torch.addmm(b, inp, w)

    def _patch(self, key: str, c: int, x_c: torch.Tensor) -> torch.Tensor:
        """Store this layer's input at column c, return its 2 x 2 patch flattened like the conv weight: (B, C*4)."""
        cur, prev = self.cur[key], self.prev[key]
        cur[:, :, c + 1] = x_c
        return torch.stack([prev[:, :, c:c + 2], cur[:, :, c:c + 2]], dim=2).flatten(1)

    def _gated(self, prefix: str, i_key: str | None, c: int, x: torch.Tensor, aux: torch.Tensor) -> torch.Tensor:
        """GatedResNet at one position. i_key: the cache key of a (2, 2) block; None for a 1x1 block."""
        h_in = concat_elu(x)
        h = (self._mm(prefix + ".conv1.conv", self._patch(i_key + "c1", c, h_in)) if i_key
             else self._mm(prefix + ".conv1", h_in))
        h = h + self._mm(prefix + ".aux", concat_elu(aux))
        h2 = concat_elu(h)
        ab = (self._mm(prefix + ".conv2.conv", self._patch(i_key + "c2", c, h2)) if i_key
              else self._mm(prefix + ".conv2", h2))
        if prefix in self.cond:
            ab = ab + self.cond[prefix]
        a, b = ab.chunk(2, dim=1)
        return x + a * torch.sigmoid(b)

    def params_at(self, c: int) -> torch.Tensor:
        """Mixture parameters (B, 3K) for pixel (r, c); pixels (r, < c) must already be in x_in."""
        m, x_in = self.m, self.x_in[:, :, 0]  # (B, 4, W)
        n_prev = self.r * W
        if m.attention and c > 0:  # pixel c - 1 is known now: its keys and values join the past
            for j, attn in enumerate(m.attn):
                src = torch.cat([x_in[:, :, c - 1], self.ul_at[j][:, :, c - 1]], 1)
                self.k[j][:, n_prev + c - 1] = self._mm(f"attn.{j}.k", src)
                self.v[j][:, n_prev + c - 1] = self._mm(f"attn.{j}.v", src)
        # ul_init_left is a (2, 1) conv read one column to the left (the right shift): rows r - 1 and r at column c - 1
        left = (self._mm("ul_init_left.conv", torch.stack([self.prev["l1"][:, :, c], x_in[:, :, c - 1]], 2).flatten(1))
                if c > 0 else 0.0)
        ul = self.up[:, :, c] + left
        for i, _ in enumerate(m.ul_res):
            ul = self._gated(f"ul_res.{i}", f"l{i}", c, ul, self.us[i][:, :, 0, c])
            if m.attention and (i + 1) % m.n_res == 0:
                j = i // m.n_res
                self.ul_at[j][:, :, c] = ul
                n_keys = n_prev + c
                if n_keys:
                    q = self._mm(f"attn.{j}.q", ul)[:, None]  # (B, 1, d_k)
                    a = F.scaled_dot_product_attention(q, self.k[j][:, :n_keys], self.v[j][:, :n_keys])[:, 0]
                else:  # the first pixel has nothing to attend to
                    a = ul.new_zeros(ul.shape[0], self.v[j].shape[-1])
                ul = self._gated(f"attn_res.{j}", None, c, ul, a)
        return self._mm("head", F.elu(ul))


@torch.no_grad()
def sample_cached(model: PixelSNAIL, n: int, temperature: float = 1.0, seed: int = 0, start: torch.Tensor | None = None,
                  keep_rows: int = 0, dtype=torch.float32, per_pixel: str = "column", y: torch.Tensor | None = None,
                  w: float = 1.0):
    """The same samples as `sample_naive` (same seed, same random draws in the same order), computed with caches.
    Per row: the u stream runs once (it does not depend on the row's own pixels); then per pixel (r, c) the
    `ColumnCursor` computes every layer at that one position from the caches; each finished row is run once
    more as a strip to fill the caches for the next. per_pixel="row": run the whole 1-row strip through the
    network for every pixel instead (the first version; simpler, about 4x slower in benchmarks/pixelcnn.py)."""
    y = _validate(model, temperature, n, y)
    y, gw = _guidance(model, y, w)
    if per_pixel not in ("column", "row"):
        raise ValueError("per_pixel must be 'column' or 'row'")
    model = fold_weight_norm(model)
    lin = linear_layers(model)
    class_vectors = model.class_vectors(y)  # each gated block's vector for these labels, once per request
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, H, W, dtype=dtype) if start is None else start.to(dtype).clone()
    x[:, :, keep_rows:] = 0
    x = x.repeat(2, 1, 1, 1) if gw is not None else x  # the network's batch: with guidance, each image twice
    cache: dict = {}
    if keep_rows:  # the kept rows, as one strip, fill the caches
        state = StripState(0)
        model(x[:, :, :keep_rows], state, y=y)
        cache = state.next
    for r in range(keep_rows, H):
        row = x[:, :, r : r + 1]
        x_in = model.background(row, r)  # (n, 4, 1, W); its channel 0 is the row, filled in below
        us = model.u_stream(x_in, StripState(r, prev=cache), y)  # independent of row r's pixels
        cursor = ColumnCursor(model, lin, x_in, r, cache, us, class_vectors) if per_pixel == "column" else None
        for c in range(W):
            if cursor is not None:
                params = cursor.params_at(c)
            else:
                params = model(row, StripState(r, prev=cache), us=us, y=y)[:, :, 0, c]
            value = sample_pixel(params, model.n_mix, temperature, g, gw).repeat(len(x) // n)
            row[:, 0, 0, c] = value
            x_in[:, 0, 0, c] = value
        state = StripState(r, prev=cache)
        model(row, state, y=y)  # the finished row: its last inputs and keys/values become the cache
        cache = state.next
        yield Step(r - keep_rows + 1, H - keep_rows, x[:n], r)


def draw(model: PixelSNAIL, n: int, seed: int, temperature: float = 1.0, w: float = 1.0) -> torch.Tensor:
    """The Compare board's entry (genlib.compare): n images (n, 1, 28, 28) in [-1, 1] by the exact cached sampler;
    a class-conditional model draws labels 0-9 in turn with guidance scale w, as the DDPM's and the flow's draws do."""
    for step in sample_cached(model, n, temperature, seed, w=w):
        pass
    return step.x
