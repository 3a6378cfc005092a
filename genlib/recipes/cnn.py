"""The small CNN classifier (MNIST, Fashion-MNIST): cross-entropy with small random shifts (and horizontal flips
when the spec asks for them); evaluated by test accuracy."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from genlib.train import RunResult, fit, load_images, seeded


def train(args, spec) -> RunResult:
    g = seeded(args.seed)
    x_train, y_train, x_test, y_test = load_images(args)
    model = spec.model_class()(**spec.config)
    hflip = spec.options.get("hflip", False)

    def loss_fn(idx):
        # small random shifts (up to 2 px) so the features do not depend on exact centring
        dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
        x = torch.roll(x_train[idx], shifts=(dy, dx), dims=(2, 3))
        if hflip and torch.rand((), generator=g) < 0.5:  # clothes look the same mirrored; digits do not
            x = x.flip(3)
        return F.cross_entropy(model(x), y_train[idx])

    curve = fit(model, loss_fn, len(x_train), args, g, weight_decay=1e-4, log_points=100)
    return RunResult(model.eval(), {"loss_curve": curve, "final": {"test_accuracy": accuracy(model, x_test, y_test)}})


@torch.no_grad()
def accuracy(model, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> float:
    """Share of images whose arg-max class is the label."""
    pred = torch.cat([model(x[i : i + batch]).argmax(1) for i in range(0, len(x), batch)])
    return (pred == y).float().mean().item()
