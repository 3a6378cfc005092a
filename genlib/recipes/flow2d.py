"""Flow matching on a 2-D toy set: a fresh seeded set of points, an MLP field, the CondOT path."""
from __future__ import annotations

import torch

from genlib import data
from genlib.flow import PATHS, cfm_loss
from genlib.train import RunResult, ema_hook, fit, new_model, seeded


def train(args, spec) -> RunResult:
    toy = spec.options["toy"]
    g = seeded(args.seed)
    n = args.limit or 50_000
    z_train, z_test = data.toy_2d(toy, n, seed=args.seed), data.toy_2d(toy, 5000, seed=args.seed + 1)
    model, ema = new_model(spec)

    def loss_fn(idx):
        return cfm_loss(model, z_train[idx], PATHS["condot"], generator=g)

    curve = fit(model, loss_fn, n, args, g, after_step=ema_hook(ema, model, args.ema_decay))
    metrics = {"train_points": n, "ema_decay": args.ema_decay, "path": "condot", "mlp": spec.config,
               "loss_curve": curve, "final": {"train_loss_last": curve[-1][1] if curve else None,
                                              "test_cfm_loss_ema": heldout_cfm_loss(ema, z_test, seed=args.seed)}}
    return RunResult(ema, metrics)


@torch.no_grad()
def heldout_cfm_loss(model, z: torch.Tensor, seed: int = 0) -> float:
    """The conditional flow-matching loss on held-out points with a fixed draw of (t, eps)."""
    return cfm_loss(model, z, generator=torch.Generator().manual_seed(seed)).item()
