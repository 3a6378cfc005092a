"""DDPM on MNIST: the simplified loss L_simple (Ho et al. 2020, eq. 14), bfloat16 autocast, EMA weights.

--schedule linear|cosine, --target eps|x0|v and --weighting uniform|min_snr choose the recipe (genlib.diffusion);
the defaults are the shipped `ddpm`. The choice is saved in metrics.json ("diffusion") so samplers rebuild the same
process with GaussianDiffusion.from_metrics. Two entries share the recipe (genlib/registry.py): `ddpm_base` trains
from scratch; `ddpm` continues it (--init ddpm_base, genlib.train.warm_start) on a fresh, lower learning-rate cycle.
"""
from __future__ import annotations

import torch

from genlib.diffusion import GaussianDiffusion
from genlib.train import RunResult, TrainingError, autocast, ema_hook, fit, load_images, new_model, seeded, warm_start


def process(args) -> GaussianDiffusion:
    """The diffusion process the flags ask for (a bad value is a one-line error)."""
    try:
        return GaussianDiffusion(schedule=args.schedule, target=args.target, weighting=args.weighting)
    except ValueError as err:
        raise TrainingError(str(err)) from None


def train(args, spec) -> RunResult:
    """A class-conditional net when the spec has num_classes: labels are dropped with probability p_uncond, so the
    same network also learns the unconditional prediction (label num_classes) that classifier-free guidance uses."""
    diffusion = process(args)
    g = seeded(args.seed)
    x_train, y_train, x_test, y_test = load_images(args)
    model, ema = new_model(spec)
    start = warm_start(model, ema, getattr(args, "init", ""))  # `ddpm` continues `ddpm_base` (issue 16)
    null = spec.config.get("num_classes", 0)

    def loss_fn(idx):
        y = None
        if null:
            y = y_train[idx].clone()
            y[torch.rand(len(idx), generator=g) < args.p_uncond] = null  # label dropout
        with autocast(args.amp):  # L_simple (eq. 14), or its target / weighting
            return diffusion.loss(lambda x, t: model(x, t, y), x_train[idx], generator=g)

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=ema_hook(ema, model, args.ema_decay))
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "unet": spec.config, "loss_curve": curve,
               "diffusion": diffusion.config,
               "final": {"train_loss_last": curve[-1][1] if curve else None,
                         "test_loss_ema": heldout_loss(diffusion, ema, x_test[:2000], seed=args.seed,
                                                       y=y_test[:2000] if null else None)}}
    if null:
        metrics["p_uncond"] = args.p_uncond
    if start:
        metrics["init"] = start
    return RunResult(ema, metrics)


@torch.no_grad()
def heldout_loss(diffusion: GaussianDiffusion, model, x0: torch.Tensor, seed: int = 0, batch: int = 500,
                 y: torch.Tensor | None = None) -> float:
    """The training loss (L_simple for the default recipe) on held-out images with a fixed draw of (t, eps), given
    their labels y for a conditional net: comparable across checkpoints of one recipe (not across targets or
    weightings)."""
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for i in range(0, len(x0), batch):
        chunk, labels = x0[i : i + batch], None if y is None else y[i : i + batch]
        total += diffusion.loss(lambda x, t: model(x, t, labels), chunk, generator=g).item() * len(chunk)
    return total / max(1, len(x0))
