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
    """Worker threads that run torch with one intra-op thread each, set once when a thread starts: changing the
    count of a thread on every pass cost more than the split saved (1.46 s against 0.93 s for 16 DDIM-50 samples)."""
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="genlib-batch",
                              initializer=torch.set_num_threads, initargs=(1,))


def in_parallel(jobs: list[Callable[[], torch.Tensor]]) -> list[torch.Tensor]:
    """Run the jobs at once, each in a worker thread with one intra-op thread, and return their results in order
    (a single job runs in the calling thread). For a small network on a few cores this beats splitting every
    operator over the cores: 16 DDIM-50 samples of the DDPM U-Net took 0.93 s as two halves against 1.07 s as one
    batch on two intra-op threads (median of 11, same outputs; benchmarks/speed.py measures it). Call it from a
    thread with one intra-op thread: a caller with more keeps an OpenMP team that spins between passes and takes
    the cores from the workers (1.32 s)."""
    if len(jobs) == 1:
        return [jobs[0]()]
    return [f.result() for f in [_pool().submit(job) for job in jobs]]
