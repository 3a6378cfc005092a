"""PixelSNAIL-lite on 8-bit MNIST: minimise bits/dim (the discretised logistic mixture NLL), EMA weights."""
from __future__ import annotations

import torch

from genlib.pixelcnn import bits_per_dim, discretized_logistic_log_prob
from genlib.train import RunResult, autocast, ema_hook, fit, load_images, new_model, seeded


def train(args, spec) -> RunResult:
    g = seeded(args.seed)
    x_train, _, x_test, _ = load_images(args)
    model, ema = new_model(spec)

    def loss_fn(idx):
        return image_bits_per_dim(model, x_train[idx], args.amp).mean()

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=ema_hook(ema, model, args.ema_decay))
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "pixelsnail": spec.config, "loss_curve": curve,
               "final": {"train_bpd_last": curve[-1][1] if curve else None,
                         "test_bits_per_dim_ema": mean_bits_per_dim(ema, x_test, amp=args.amp),
                         "test_images": len(x_test)}}
    return RunResult(ema, metrics)


def image_bits_per_dim(model, x: torch.Tensor, amp: bool = True) -> torch.Tensor:
    """Bits/dim of each image: x (B, 1, 28, 28) -> (B,). The forward pass under bfloat16 autocast when `amp`, the
    likelihood in float32 (the training loss, the test figure and the benchmark's training step)."""
    with autocast(amp):
        params = model(x)
    return bits_per_dim(discretized_logistic_log_prob(x, params.float(), model.n_mix))


@torch.no_grad()
def mean_bits_per_dim(model, x: torch.Tensor, batch: int = 250, amp: bool = True) -> float:
    """Mean bits/dim over all images in x (the full 10,000-image test set in metrics.json)."""
    total = 0.0
    for i in range(0, len(x), batch):
        total += image_bits_per_dim(model, x[i : i + batch], amp).sum().item()
    return total / max(1, len(x))
