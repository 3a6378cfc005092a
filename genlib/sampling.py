"""The one record every iterative sampler in genlib yields, so that one streaming helper can show any of them.

    for step in diffusion.sample_loop(eps, x, "ddim", steps=50):   # or flow.integrate, pixelcnn.sample_cached,
        show(step.x, step.pred, f"{step.index}/{step.total}")       # flow.langevin, transformer.decode_steps

`index` counts the steps taken so far (1 after the first), `total` is how many the sampler will take (an upper
bound for decoding, which may stop early at EOS), `t` says where the sampler is in its own terms.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Step:
    index: int  # steps taken so far, 1 ... total
    total: int  # steps this run takes (decoding: at most; it stops at EOS)
    x: torch.Tensor  # the current state: images (B, C, H, W), points (B, D) or tokens (B, L)
    t: float | int  # diffusion: the array index just used; flow: the time reached; PixelCNN: the row just drawn;
    # decoding: the position of the token just written
    pred: torch.Tensor | None = None  # the model's prediction at this step (diffusion: x0_hat), same shape as x
    probs: torch.Tensor | None = None  # decoding: log-probabilities (V,) the token was drawn from

    @property
    def x0_hat(self) -> torch.Tensor | None:
        """Diffusion's name for `pred`: the model's estimate of the clean image."""
        return self.pred

    @property
    def last(self) -> bool:
        return self.index == self.total


def class_labels(n: int, digit: int | None = None) -> torch.Tensor:
    """Labels (n,) for class-conditional sampling: 0, 1, ..., 9, 0, ... (balanced, as the flow tab draws) or all
    `digit`. The DDPM, the flow and the PixelSNAIL draw with these."""
    return torch.full((n,), digit, dtype=torch.long) if digit is not None else torch.arange(n) % 10
