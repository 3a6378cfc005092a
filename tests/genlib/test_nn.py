"""Layers of the U-Net against independent computations."""
from __future__ import annotations

import math

import torch

from genlib.nn import SelfAttention2d, timestep_embedding
from genlib.unet import UNet


def test_timestep_embedding_formula():
    t = torch.tensor([0, 1, 17, 999])
    dim = 16
    emb = timestep_embedding(t, dim)
    assert emb.shape == (4, dim)
    for r, step in enumerate(t.tolist()):
        for i in range(dim // 2):
            w = 10_000 ** (-i / (dim // 2))
            assert math.isclose(emb[r, i].item(), math.sin(step * w), abs_tol=1e-4)
            assert math.isclose(emb[r, dim // 2 + i].item(), math.cos(step * w), abs_tol=1e-4)


def test_self_attention_matches_manual_softmax():
    torch.manual_seed(0)
    attn = SelfAttention2d(8).eval()
    x = torch.randn(2, 8, 5, 5)
    h = attn.norm(x)
    q, k, v = attn.qkv(h).reshape(2, 3, 8, 25).unbind(1)  # each (B, C, HW)
    weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(8), dim=-1)  # (B, HW, HW)
    out = (weights @ v.transpose(1, 2)).transpose(1, 2).reshape(2, 8, 5, 5)
    assert torch.allclose(attn(x), x + attn.proj(out), atol=1e-5)


def test_unet_shapes_and_time_dependence():
    torch.manual_seed(0)
    model = UNet(ch=8, ch_mult=[1, 2, 2], num_res_blocks=1, attn_resolutions=[7])
    torch.nn.init.normal_(model.out[-1].weight, std=0.1)
    x = torch.randn(3, 1, 28, 28)
    out = model(x, torch.tensor([0, 500, 999]))
    assert out.shape == x.shape
    assert not torch.allclose(model(x, torch.tensor([0, 0, 0])), model(x, torch.tensor([999, 999, 999])))


def test_unet_output_starts_at_zero():
    """The last convolution is zero-initialised: an untrained model predicts eps = 0."""
    out = UNet(ch=8, ch_mult=[1, 2], attn_resolutions=[]) (torch.randn(2, 1, 28, 28), torch.tensor([3, 4]))
    assert torch.count_nonzero(out) == 0
