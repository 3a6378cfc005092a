"""One board for every generative family: which settings are on it, how each draws images, how each is scored.

A model joins the board through its registry entry (genlib/registry.py), with three options:

    draw="genlib.diffusion.draw"            a function (model, n, seed, **setting) -> (n, 1, 28, 28) in [-1, 1]
    board={"DDIM-50": dict(steps=50), ...}  the settings shown, each a label and the keyword arguments of draw
    family="diffusion"                      one of FAMILIES: the road from noise to data it takes
    likelihood=("test_bits_per_dim_ema", "bits/dim")   optional: a metrics.json["final"] key and its unit

`settings()` reads them; `score(...)` computes one board row with the project's classifier (genlib.metrics),
so every row is measured by the same evaluator at the same n. benchmarks/compare.py writes the board,
the Compare tab reads it.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from genlib import registry
from genlib.hub import training_minutes  # the board compares what each model cost in all, warm starts included
from genlib.metrics import classifier_outputs, fid_from_features, inception_score

FAMILIES = ("gan", "vae", "flow", "diffusion", "autoregressive")  # the order of the seed's figure
COVERAGE_SHARE = 0.05  # a class counts as covered when at least 5 % of the samples are classified as it
LIVE_MAX_STEPS = 100  # settings with more sampler steps (e.g. ancestral-1000, when a board lists one) are scored but not drawn live


@dataclass(frozen=True)
class Setting:
    """One row of the board: a model drawn with one choice of its sampler's knobs."""

    model: str  # registry name
    label: str  # e.g. "DDIM-50"
    family: str  # one of FAMILIES
    draw: str  # dotted path of the draw function
    kwargs: dict = field(default_factory=dict)
    likelihood: tuple[str, str] | None = None  # (metrics.json final key, unit)

    @property
    def key(self) -> str:
        return f"{self.model}:{self.label}"

    def function(self) -> Callable[..., torch.Tensor]:
        module, name = self.draw.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)


def settings() -> list[Setting]:
    """Every board row of every registry entry that has a `board` option, in FAMILIES order."""
    rows = []
    for spec in registry.MODELS.values():
        opts = spec.options or {}
        if "board" not in opts:
            continue
        if opts.get("family") not in FAMILIES:
            raise ValueError(f"{spec.name}: board family must be one of {FAMILIES}, not {opts.get('family')!r}")
        for label, kwargs in opts["board"].items():
            rows.append(Setting(spec.name, label, opts["family"], opts["draw"], dict(kwargs), opts.get("likelihood")))
    return sorted(rows, key=lambda s: FAMILIES.index(s.family))


def live(setting: Setting) -> bool:
    """Cheap enough to draw in the page on request (at most LIVE_MAX_STEPS sampler steps)."""
    return int(setting.kwargs.get("steps", 0)) <= LIVE_MAX_STEPS


def draw(setting: Setting, model, n: int, seed: int, batch: int = 250) -> torch.Tensor:
    """n images (n, 1, 28, 28) in [-1, 1], drawn in batches; batch i uses seed + i so n does not change the first ones."""
    fn = setting.function()
    chunks = [fn(model, min(batch, n - i), seed + i, **setting.kwargs) for i in range(0, n, batch)]
    return torch.cat(chunks).clamp(-1, 1)


def classes_covered(probs: torch.Tensor, share: float = COVERAGE_SHARE) -> int:
    """How many of the classes receive at least `share` of the samples (classifier argmax); 10 = all digits."""
    counts = torch.bincount(probs.argmax(1), minlength=probs.shape[1]).float()
    return int((counts / counts.sum() >= share).sum())


def seconds_for(fn: Callable[[], object], runs: int = 3) -> float:
    """Median wall time of fn() over `runs` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def score(setting: Setting, model, classifier, f_ref: torch.Tensor, n: int, seed: int = 10_000,
          metrics: dict | None = None, timing_runs: int = 3, timing_n: int = 16) -> dict:
    """One board row: classifier FID (against the reference features f_ref) and IS of n samples, class coverage,
    the likelihood figure from metrics.json where the family has one, the median time for 16 images (timing_n),
    the parameter count and the training wall time."""
    x = draw(setting, model, n, seed)
    feats, probs = classifier_outputs(classifier, x)
    is_mean, is_std = inception_score(probs, max(1, n // 1000))
    metrics = metrics or {}
    like = None
    if setting.likelihood and setting.likelihood[0] in metrics.get("final", {}):
        like = {"value": round(float(metrics["final"][setting.likelihood[0]]), 4), "unit": setting.likelihood[1]}
    fn = setting.function()
    return {
        "model": setting.model, "label": setting.label, "family": setting.family, "n": n,
        "fid": round(fid_from_features(feats, f_ref), 3), "is": round(is_mean, 3), "is_std": round(is_std, 3),
        "classes_covered": classes_covered(probs),
        "class_histogram": torch.bincount(probs.argmax(1), minlength=10).tolist(),
        "likelihood": like,
        "seconds_16": round(seconds_for(lambda: fn(model, timing_n, seed, **setting.kwargs), timing_runs), 4),
        "parameters": sum(p.numel() for p in model.parameters()),
        "training_minutes": training_minutes(metrics),
    }

