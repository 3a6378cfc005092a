"""DDPM on MNIST: the simplified loss L_simple (Ho et al. 2020, eq. 14), bfloat16 autocast, EMA weights.

--schedule linear|cosine, --target eps|x0|v and --weighting uniform|min_snr choose the recipe (genlib.diffusion);
the defaults are the shipped `ddpm`. The choice is saved in metrics.json ("diffusion") so samplers rebuild the same
process with GaussianDiffusion.from_metrics.
"""
from __future__ import annotations

import torch

from genlib.diffusion import GaussianDiffusion
from genlib.train import RunResult, TrainingError, autocast, ema_hook, fit, load_images, new_model, seeded


def process(args) -> GaussianDiffusion:
    """The diffusion process the flags ask for (a bad value is a one-line error)."""
    try:
        return GaussianDiffusion(schedule=args.schedule, target=args.target, weighting=args.weighting)
    except ValueError as err:
        raise TrainingError(str(err)) from None


def train(args, spec) -> RunResult:
    diffusion = process(args)
    g = seeded(args.seed)
    x_train, _, x_test, _ = load_images(args)
    model, ema = new_model(spec)

    def loss_fn(idx):
        with autocast(args.amp):
            return diffusion.loss(model, x_train[idx], generator=g)  # L_simple (eq. 14), or its target / weighting

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=ema_hook(ema, model, args.ema_decay))
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "unet": spec.config, "loss_curve": curve,
               "diffusion": diffusion.config,
               "final": {"train_loss_last": curve[-1][1] if curve else None,
                         "test_loss_ema": heldout_loss(diffusion, ema, x_test[:2000], seed=args.seed)}}
    return RunResult(ema, metrics)


@torch.no_grad()
def heldout_loss(diffusion: GaussianDiffusion, model, x0: torch.Tensor, seed: int = 0, batch: int = 500) -> float:
    """The training loss (L_simple for the default recipe) on held-out images with a fixed draw of (t, eps):
    comparable across checkpoints of one recipe (not across targets or weightings)."""
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for i in range(0, len(x0), batch):
        chunk = x0[i : i + batch]
        total += diffusion.loss(model, chunk, generator=g).item() * len(chunk)
    return total / max(1, len(x0))
