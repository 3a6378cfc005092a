"""Class-conditional flow matching on MNIST (CondOT path) with label dropout for classifier-free guidance."""
from __future__ import annotations

import torch

from genlib.flow import PATHS, cfm_loss
from genlib.train import RunResult, autocast, ema_hook, fit, load_images, new_model, seeded


def train(args, spec) -> RunResult:
    """Labels are dropped with probability p_uncond, so the same network also learns the unconditional field
    u_t(x | empty) used by classifier-free guidance."""
    g = seeded(args.seed)
    x_train, y_train, x_test, y_test = load_images(args)
    model, ema = new_model(spec)
    null = spec.config["num_classes"]

    def loss_fn(idx):
        y = y_train[idx].clone()
        y[torch.rand(len(idx), generator=g) < args.p_uncond] = null  # label dropout
        with autocast(args.amp):
            return cfm_loss(lambda x, t: model(x, t, y), x_train[idx], PATHS["condot"], generator=g)

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=ema_hook(ema, model, args.ema_decay))
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "p_uncond": args.p_uncond, "path": "condot",
               "unet": spec.config, "loss_curve": curve,
               "final": {"train_loss_last": curve[-1][1] if curve else None,
                         "test_cfm_loss_ema": heldout_cfm_loss(ema, x_test[:2000], y_test[:2000], seed=args.seed)}}
    return RunResult(ema, metrics)


@torch.no_grad()
def heldout_cfm_loss(model, x: torch.Tensor, y: torch.Tensor, seed: int = 0, batch: int = 500) -> float:
    """The conditional flow-matching loss on held-out images with their labels, a fixed draw of (t, eps)."""
    g = torch.Generator().manual_seed(seed)
    total = sum(cfm_loss(lambda xt, t: model(xt, t, y[i : i + batch]), x[i : i + batch], generator=g).item()
                * len(x[i : i + batch]) for i in range(0, len(x), batch))
    return total / max(1, len(x))
