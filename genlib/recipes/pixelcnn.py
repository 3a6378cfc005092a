"""PixelSNAIL-lite on 8-bit MNIST: minimise bits/dim (the discretised logistic mixture NLL), EMA weights.

Two entries share this recipe (genlib/registry.py):
- `pixelcnn_uncond` learns p(x) from scratch;
- `pixelcnn` learns p(x | y) for the digit's class y (issue 18), warm-started from `pixelcnn_uncond` (--init): its
  class vectors start at zero, so training begins at the unconditional model's likelihood. metrics.json reports the
  likelihood of the class-conditional model both ways: -log p(x | y) for the true label, and -log p(x) with
  p(x) = sum_y p(y) p(x | y), p(y) = 1/10 (mixture_bits_per_dim).
"""
from __future__ import annotations

import math

import torch

from genlib.pixelcnn import bits_per_dim, discretized_logistic_log_prob
from genlib.train import RunResult, autocast, ema_hook, fit, load_images, new_model, seeded, warm_start


def train(args, spec) -> RunResult:
    g = seeded(args.seed)
    x_train, y_train, x_test, y_test = load_images(args)
    model, ema = new_model(spec)
    start = warm_start(model, ema, getattr(args, "init", ""), new=(".cond.",))  # only the class vectors are new
    conditional = bool(spec.config.get("num_classes"))

    def loss_fn(idx):
        y = None
        if conditional:
            y = y_train[idx].clone()
            y[torch.rand(len(idx), generator=g) < args.p_uncond] = model.num_classes  # label dropout: "no label"
        return image_bits_per_dim(model, x_train[idx], args.amp, y=y).mean()

    scales = {".cond.": args.cond_lr_scale} if conditional else None  # the new class vectors learn faster
    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=ema_hook(ema, model, args.ema_decay),
                lr_scales=scales)
    final = {"train_bpd_last": curve[-1][1] if curve else None, "test_images": len(x_test)}
    if conditional:  # the figure comparable with an unconditional model is -log p(x), the label summed out
        final["test_bits_per_dim_ema"] = mixture_bits_per_dim(ema, x_test, amp=args.amp)
        final["test_bits_per_dim_given_label_ema"] = mean_bits_per_dim(ema, x_test, amp=args.amp, y=y_test)
    else:
        final["test_bits_per_dim_ema"] = mean_bits_per_dim(ema, x_test, amp=args.amp)
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "pixelsnail": spec.config, "loss_curve": curve,
               "final": final}
    if conditional:
        metrics["cond_lr_scale"], metrics["p_uncond"] = args.cond_lr_scale, args.p_uncond
        final["test_bits_per_dim_no_label_ema"] = mean_bits_per_dim(
            ema, x_test, amp=args.amp, y=torch.full((len(x_test),), model.num_classes))
    if start:
        metrics["init"] = start
    return RunResult(ema, metrics)


def image_bits_per_dim(model, x: torch.Tensor, amp: bool = True, y: torch.Tensor | None = None) -> torch.Tensor:
    """Bits/dim of each image, -log2 p(x) / 784 (or -log2 p(x | y) / 784 given labels y (B,) for a conditional
    model): x (B, 1, 28, 28) -> (B,). The forward pass under bfloat16 autocast when `amp`, the likelihood in float32
    (the training loss, the test figure and the benchmark's training step)."""
    with autocast(amp):
        params = model(x, y=y)
    return bits_per_dim(discretized_logistic_log_prob(x, params.float(), model.n_mix))


@torch.no_grad()
def mean_bits_per_dim(model, x: torch.Tensor, batch: int = 250, amp: bool = True, y: torch.Tensor | None = None) -> float:
    """Mean bits/dim over all images in x (the full 10,000-image test set in metrics.json), given labels y for a
    conditional model."""
    total = 0.0
    for i in range(0, len(x), batch):
        total += image_bits_per_dim(model, x[i : i + batch], amp, None if y is None else y[i : i + batch]).sum().item()
    return total / max(1, len(x))


@torch.no_grad()
def image_mixture_bits_per_dim(model, x: torch.Tensor, amp: bool = True) -> torch.Tensor:
    """-log2 p(x) / D of a class-conditional model with the label summed out: p(x) = (1/K) sum_y p(x | y), one
    forward pass per class, combined by logsumexp in nats: x (B, 1, 28, 28) -> (B,)."""
    K, D = model.num_classes, x[0].numel()
    nats = torch.stack([image_bits_per_dim(model, x, amp, torch.full((len(x),), k)) for k in range(K)], 1) * (
        D * math.log(2.0))  # (B, K): -log p(x | y = k)
    return -(torch.logsumexp(-nats, 1) - math.log(K)) / (D * math.log(2.0))


@torch.no_grad()
def mixture_bits_per_dim(model, x: torch.Tensor, batch: int = 250, amp: bool = True) -> float:
    """Mean of image_mixture_bits_per_dim over all images in x."""
    total = 0.0
    for i in range(0, len(x), batch):
        total += image_mixture_bits_per_dim(model, x[i : i + batch], amp).sum().item()
    return total / max(1, len(x))
