"""Shared layers: the time embedding and the building blocks of the U-Net.

Shapes in comments: B batch, C channels, H x W image size, D embedding width.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """Sinusoidal embedding of integer steps, as in the Transformer's positional encoding.

    emb[:, i] = sin(t * w_i), emb[:, dim/2 + i] = cos(t * w_i), with w_i = max_period^(-i / (dim/2)).
    t: (B,) integers or floats -> (B, dim)
    """
    half = dim // 2
    w = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    angles = t.float()[:, None] * w[None, :]  # (B, half)
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)  # (B, dim)


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 8 groups (the seeds use 32; our nets are narrower)."""
    return nn.GroupNorm(num_groups=min(8, channels), num_channels=channels)


class ResBlock(nn.Module):
    """Two 3x3 convolutions with GroupNorm + SiLU; the time embedding is added between them."""

    def __init__(self, c_in: int, c_out: int, d_time: int, dropout: float = 0.0):
        super().__init__()
        self.norm1 = group_norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time_proj = nn.Linear(d_time, c_out)
        self.norm2 = group_norm(c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        # x: (B, c_in, H, W), temb: (B, d_time) -> (B, c_out, H, W)
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_proj(F.silu(temb))[:, :, None, None]  # broadcast over H, W
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return self.skip(x) + h


class SelfAttention2d(nn.Module):
    """Single-head self-attention over the H*W positions of a feature map, with a residual."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).transpose(2, 3).unbind(1)  # each (B, HW, C)
        h = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(C)) v, (B, HW, C)
        return x + self.proj(h.transpose(1, 2).reshape(B, C, H, W))


class Downsample(nn.Module):
    """Halve H and W with a stride-2 3x3 convolution (28 -> 14 -> 7)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    """Double H and W: nearest-neighbour resize, then a 3x3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
