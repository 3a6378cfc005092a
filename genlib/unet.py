"""The noise-prediction network eps_theta(x_t, t): a small U-Net in the style of Ho et al. (2020).

Encoder: ResBlocks at each resolution, then a stride-2 downsample (28 -> 14 -> 7).
Middle:  ResBlock, self-attention, ResBlock at the lowest resolution.
Decoder: mirror of the encoder; each ResBlock takes the matching encoder activation (skip connection).
The step t enters every ResBlock through a sinusoidal embedding and a small MLP.
"""
from __future__ import annotations

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from genlib.nn import Downsample, ResBlock, SelfAttention2d, Upsample, group_norm, timestep_embedding


class UNet(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="genlib",
    tags=["unet", "genlib"],
    license="mit",
):
    """eps_theta(x_t, t) (or a vector field u_theta(x, t, y)) for (B, in_channels, H, W) images; H and W divisible by 2**(len(ch_mult)-1)."""

    def __init__(
        self,
        in_channels: int = 1,
        ch: int = 32,  # width at full resolution
        ch_mult: list[int] = (1, 2, 2),  # width multiplier per resolution; one downsample between each
        num_res_blocks: int = 2,  # ResBlocks per resolution in the encoder (decoder has one more)
        attn_resolutions: list[int] = (7,),  # feature-map sizes that get self-attention
        dropout: float = 0.1,
        img_size: int = 28,
        num_classes: int = 0,  # > 0: condition on a label y in [0, num_classes]; y = num_classes means "no label"
        time_scale: float = 1.0,  # t is multiplied by this before the embedding (1000 for flow time in [0, 1])
    ):
        super().__init__()
        ch_mult, attn_resolutions = list(ch_mult), list(attn_resolutions)
        self.ch, self.num_classes, self.time_scale = ch, num_classes, time_scale
        d_time = 4 * ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, d_time), nn.SiLU(), nn.Linear(d_time, d_time))
        if num_classes:  # one learned vector per class plus the null label, added to the time embedding
            self.label_emb = nn.Embedding(num_classes + 1, d_time)
        self.conv_in = nn.Conv2d(in_channels, ch, 3, padding=1)

        # Encoder. `skip_ch` records the width of every activation we keep for the decoder.
        self.down = nn.ModuleList()
        skip_ch, c, res = [ch], ch, img_size
        for level, mult in enumerate(ch_mult):
            for _ in range(num_res_blocks):
                blocks = [ResBlock(c, ch * mult, d_time, dropout)]
                c = ch * mult
                if res in attn_resolutions:
                    blocks.append(SelfAttention2d(c))
                self.down.append(nn.ModuleList(blocks))
                skip_ch.append(c)
            if level != len(ch_mult) - 1:
                self.down.append(nn.ModuleList([Downsample(c)]))
                skip_ch.append(c)
                res //= 2

        self.mid = nn.ModuleList([ResBlock(c, c, d_time, dropout), SelfAttention2d(c), ResBlock(c, c, d_time, dropout)])

        # Decoder: num_res_blocks + 1 blocks per level, each eating one skip activation.
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(ch_mult))):
            for _ in range(num_res_blocks + 1):
                blocks = [ResBlock(c + skip_ch.pop(), ch * mult, d_time, dropout)]
                c = ch * mult
                if res in attn_resolutions:
                    blocks.append(SelfAttention2d(c))
                self.up.append(nn.ModuleList(blocks))
            if level != 0:
                self.up.append(nn.ModuleList([Upsample(c)]))
                res *= 2

        self.out = nn.Sequential(group_norm(c), nn.SiLU(), nn.Conv2d(c, in_channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)  # start as "predict zero noise": a stable first step
        nn.init.zeros_(self.out[-1].bias)

    @staticmethod
    def _run(blocks: nn.ModuleList, h: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        for block in blocks:
            h = block(h, temb) if isinstance(block, ResBlock) else block(h)
        return h

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        # x: (B, C, H, W); t: (B,) step index in [0, T) (DDPM) or time in [0, 1] (flow, time_scale 1000);
        # y: (B,) long labels, num_classes = none (conditional nets only) -> (B, C, H, W)
        temb = self.time_mlp(timestep_embedding(t * self.time_scale, self.ch))  # (B, 4ch)
        if self.num_classes:
            if y is None:
                y = torch.full((x.shape[0],), self.num_classes, dtype=torch.long, device=x.device)
            temb = temb + self.label_emb(y)
        h = self.conv_in(x)
        skips = [h]
        for blocks in self.down:
            h = self._run(blocks, h, temb)
            skips.append(h)
        h = self._run(self.mid, h, temb)
        for blocks in self.up:
            if isinstance(blocks[0], ResBlock):
                h = torch.cat([h, skips.pop()], dim=1)  # skip connection: (B, c + c_skip, H, W)
            h = self._run(blocks, h, temb)
        return self.out(h)
