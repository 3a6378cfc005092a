"""The one record every iterative sampler in genlib yields, so that one streaming helper can show any of them.

    for step in diffusion.sample_loop(eps, x, "ddim", steps=50):   # or flow.integrate, pixelcnn.sample_cached,
        show(step.x, step.pred, f"{step.index}/{step.total}")       # flow.langevin, transformer.decode_steps

`index` counts the steps taken so far (1 after the first), `total` is how many the sampler will take (an upper
bound for decoding, which may stop early at EOS), `t` says where the sampler is in its own terms.
"""
from __future__ import annotations

import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


# ---- one network pass over a batch, split across the cores ------------------------------------------------
def batch_slices(n: int, parts: int) -> list[slice]:
    """Up to `parts` contiguous, non-empty slices that cover range(n), sizes differing by at most one."""
    parts = max(1, min(parts, n))
    bounds = [round(i * n / parts) for i in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 1) - 1), thread_name_prefix="genlib-batch")


def _single_threaded(job: Callable[[], torch.Tensor]) -> torch.Tensor:
    """job() with one torch intra-op thread in this thread (the count is per thread; restored after)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return job()
    finally:
        torch.set_num_threads(before)


def in_parallel(jobs: list[Callable[[], torch.Tensor]]) -> list[torch.Tensor]:
    """Run the jobs at once, each in its own thread with one intra-op thread (the first in the calling thread), and
    return their results in order. For a small network on a few cores this beats splitting every operator over the
    cores: 16 DDIM-50 samples of the DDPM U-Net took 0.91 s as two halves against 1.04 s as one batch on two
    intra-op threads (median of 5, same outputs; benchmarks/speed.py measures it)."""
    if len(jobs) == 1:
        return [jobs[0]()]
    futures = [_pool().submit(_single_threaded, job) for job in jobs[1:]]
    first = _single_threaded(jobs[0])
    return [first] + [f.result() for f in futures]
