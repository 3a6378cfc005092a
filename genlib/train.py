"""Train a model and write weights/<model>/ (config.json, model.safetensors, metrics.json, README.md).

    python genlib/train.py ddpm [--epochs N] [--data-dir D] [--out DIR] [--push-to-hub REPO] [--seed S]
    python genlib/train.py cnn  [--epochs N] ...
    python genlib/train.py flow [--epochs N] [--p-uncond P] ...     (class-conditional flow matching, MNIST)
    python genlib/train.py flow2d_moons                              (also _circles _checkerboard _ring8 _mixture)
    python genlib/train.py transformer_numbers                       (also transformer_copy)

Every run is reproducible from its seed; metrics.json records the data, epochs, wall time, the loss curve
and the final metrics. --push-to-hub uploads the folder with huggingface_hub's upload API.
"""
from __future__ import annotations

import argparse
import copy
import functools
import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python genlib/train.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from tqdm import tqdm

from genlib import data
from genlib.diffusion import GaussianDiffusion, ema_update

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunResult:
    model: torch.nn.Module  # the weights to save (the EMA copy where there is one)
    metrics: dict


def _batches(n: int, batch_size: int, generator: torch.Generator):
    """Shuffled index batches covering range(n) once (the last partial batch is dropped)."""
    perm = torch.randperm(n, generator=generator)
    for i in range(0, n - batch_size + 1, batch_size):
        yield perm[i : i + batch_size]


def _lr_at(step: int, total: int, lr: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 1% of lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))


def _autocast(enabled: bool):
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def fit(model, loss_fn, n_train: int, args, g: torch.Generator, *, weight_decay: float = 0.0,
        clip: float | None = None, after_step=None, log_points: int = 200, lr_at=None, betas=(0.9, 0.999),
        eps: float = 1e-8) -> list[list[float]]:
    """The loop every model shares: AdamW, warm-up + cosine learning rate (or lr_at(step) -> lr), optional
    gradient clipping, a tqdm bar, and a loss curve of `log_points` running means ([step, loss] pairs).

    loss_fn(idx) -> scalar loss for the training examples at `idx`; after_step(step) runs after each update.
    """
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=weight_decay, betas=betas, eps=eps)
    total = (n_train // args.batch_size) * args.epochs
    curve, running, step = [], [], 0
    log_every = max(1, total // log_points)
    with tqdm(total=total, desc=args.model, unit="step", mininterval=5) as bar:
        for _ in range(args.epochs):
            model.train()
            for idx in _batches(n_train, args.batch_size, g):
                for group in opt.param_groups:
                    group["lr"] = lr_at(step) if lr_at else _lr_at(step, total, args.lr, args.warmup)
                loss = loss_fn(idx)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
                if after_step is not None:
                    after_step(step)
                running.append(loss.item())
                step += 1
                if step % log_every == 0 or step == total:
                    curve.append([step, sum(running) / len(running)])
                    bar.set_postfix(loss=f"{curve[-1][1]:.4f}")
                    running = []
                bar.update(1)
    return curve


def _ema_hook(ema, model, decay: float):
    """after_step for fit(): EMA with a short warm-up, decay (1 + n) / (10 + n) until it reaches `decay`."""
    return lambda step: ema_update(ema, model, decay=min(decay, (1 + step) / (10 + step)))


def _load_data(args):
    x_train, y_train = data.load(args.dataset, "train", args.data_dir)
    x_test, y_test = data.load(args.dataset, "test", args.data_dir)
    if args.limit:
        x_train, y_train, x_test, y_test = x_train[: args.limit], y_train[: args.limit], x_test[: args.limit], y_test[: args.limit]
    return x_train, y_train, x_test, y_test


def train_ddpm(args) -> RunResult:
    from genlib.unet import UNet

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    x_train, _, x_test, _ = _load_data(args)
    model = UNet(**UNET_CONFIG)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    diffusion = GaussianDiffusion()

    def loss_fn(idx):
        with _autocast(args.amp):
            return diffusion.loss(model, x_train[idx], generator=g)  # L_simple (eq. 14)

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=_ema_hook(ema, model, args.ema_decay))
    test_loss = heldout_loss(diffusion, ema, x_test[:2000], seed=args.seed)
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "unet": UNET_CONFIG,
               "loss_curve": curve, "final": {"train_loss_last": curve[-1][1] if curve else None, "test_loss_ema": test_loss}}
    return RunResult(ema, metrics)


@torch.no_grad()
def heldout_loss(diffusion: GaussianDiffusion, model, x0: torch.Tensor, seed: int = 0, batch: int = 500) -> float:
    """L_simple on held-out images with a fixed draw of (t, eps): comparable across checkpoints."""
    g = torch.Generator().manual_seed(seed)
    total = 0.0
    for i in range(0, len(x0), batch):
        chunk = x0[i : i + batch]
        total += diffusion.loss(model, chunk, generator=g).item() * len(chunk)
    return total / max(1, len(x0))


def train_cnn(args) -> RunResult:
    from genlib.cnn import MNISTClassifier

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = _load_data(args)
    model = MNISTClassifier()

    def loss_fn(idx):
        # small random shifts (up to 2 px) so the features do not depend on exact centring
        dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
        x = torch.roll(x_train[idx], shifts=(dy, dx), dims=(2, 3))
        return torch.nn.functional.cross_entropy(model(x), y_train[idx])

    curve = fit(model, loss_fn, len(x_train), args, g, weight_decay=1e-4, log_points=100)
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x_test[i : i + 1000]).argmax(1) for i in range(0, len(x_test), 1000)])
    accuracy = (pred == y_test).float().mean().item()
    return RunResult(model, {"loss_curve": curve, "final": {"test_accuracy": accuracy}})


def train_flow(args) -> RunResult:
    """Class-conditional CFM on MNIST with the CondOT path; labels are dropped with probability p_uncond
    so the same network also learns the unconditional field u_t(x | empty) used by classifier-free guidance."""
    from genlib.flow import PATHS, cfm_loss
    from genlib.unet import UNet

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = _load_data(args)
    model = UNet(**FLOW_UNET_CONFIG)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    null = FLOW_UNET_CONFIG["num_classes"]

    def loss_fn(idx):
        y = y_train[idx].clone()
        y[torch.rand(len(idx), generator=g) < args.p_uncond] = null  # label dropout
        with _autocast(args.amp):
            return cfm_loss(lambda x, t: model(x, t, y), x_train[idx], PATHS["condot"], generator=g)

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=_ema_hook(ema, model, args.ema_decay))
    with torch.no_grad():
        gt = torch.Generator().manual_seed(args.seed)
        n = min(2000, len(x_test))
        test_loss = sum(cfm_loss(lambda x, t: ema(x, t, y_test[i : i + 500]), x_test[i : i + 500], generator=gt).item()
                        * len(x_test[i : i + 500]) for i in range(0, n, 500)) / max(1, n)
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "p_uncond": args.p_uncond, "path": "condot",
               "unet": FLOW_UNET_CONFIG, "loss_curve": curve,
               "final": {"train_loss_last": curve[-1][1] if curve else None, "test_cfm_loss_ema": test_loss}}
    return RunResult(ema, metrics)


def train_flow2d(args, toy: str) -> RunResult:
    """CFM with the CondOT path on a 2-D toy set: a fresh seeded set of 50k points, an MLP field."""
    from genlib.flow import PATHS, MLPField, cfm_loss

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    n = args.limit or 50_000
    z_train, z_test = data.toy_2d(toy, n, seed=args.seed), data.toy_2d(toy, 5000, seed=args.seed + 1)
    model = MLPField(**MLP_CONFIG)
    ema = copy.deepcopy(model).eval().requires_grad_(False)

    def loss_fn(idx):
        return cfm_loss(model, z_train[idx], PATHS["condot"], generator=g)

    curve = fit(model, loss_fn, n, args, g, after_step=_ema_hook(ema, model, args.ema_decay))
    with torch.no_grad():
        test_loss = cfm_loss(ema, z_test, generator=torch.Generator().manual_seed(args.seed)).item()
    metrics = {"dataset": f"toy-{toy}", "train_points": n, "ema_decay": args.ema_decay, "path": "condot", "mlp": MLP_CONFIG,
               "loss_curve": curve, "final": {"train_loss_last": curve[-1][1] if curve else None, "test_cfm_loss_ema": test_loss}}
    return RunResult(ema, metrics)


def train_transformer(args, task: str) -> RunResult:
    """The Annotated Transformer's recipe on a generated task: Adam (0.9, 0.98, 1e-9), the Noam schedule, label
    smoothing, and the average of the last checkpoints. A fixed held-out set is excluded from training."""
    from genlib.transformer import LabelSmoothing, Transformer, average_checkpoints, rate, target_mask, padding_mask

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    spec = data.SEQ_TASKS[task]
    test = data.seq_dataset(task, 1000, seed=HELD_OUT_SEED, heldout=True)
    train = data.seq_dataset(task, args.limit or TRANSFORMER_TRAIN_SIZE[task], seed=args.seed, exclude={s for s, _ in test})
    src, tgt = data.seq_batch(task, train)
    config = dict(src_vocab=len(spec.src_vocab), tgt_vocab=len(spec.tgt_vocab), **TRANSFORMER_CONFIG)
    model = Transformer(**config)
    criterion = LabelSmoothing(len(spec.tgt_vocab), data.PAD, smoothing=args.smoothing)

    def loss_fn(idx):
        s, t = src[idx], tgt[idx]
        t_in, t_out = t[:, :-1], t[:, 1:]
        out = model(s, t_in, padding_mask(s, data.PAD), target_mask(t_in, data.PAD))
        n_tokens = (t_out != data.PAD).sum()
        return criterion(model.log_probs(out).flatten(0, 1), t_out.flatten()) / n_tokens

    total = (len(train) // args.batch_size) * args.epochs
    keep, snapshots = 5, []  # average the last `keep` checkpoints, taken every `every` steps at the end

    def after_step(step):
        every = max(1, total // 50)
        if step >= total - keep * every and (total - 1 - step) % every == 0:
            snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    curve = fit(model, loss_fn, len(train), args, g, after_step=after_step, betas=(0.9, 0.98), eps=1e-9,
                lr_at=lambda step: rate(step + 1, config["d_model"], args.lr, args.warmup))
    model.eval()
    last_acc = exact_match(model, task, test)
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(average_checkpoints(snapshots))
    averaged.eval()
    avg_acc = exact_match(averaged, task, test)
    best = averaged if avg_acc >= last_acc else model
    metrics = {"dataset": f"generated-{task}", "train_pairs": len(train), "heldout_pairs": len(test),
               "transformer": TRANSFORMER_CONFIG, "label_smoothing": args.smoothing, "noam_factor": args.lr,
               "warmup": args.warmup, "checkpoints_averaged": len(snapshots), "loss_curve": curve,
               "final": {"train_loss_last": curve[-1][1] if curve else None, "heldout_exact_match_last": last_acc,
                         "heldout_exact_match_averaged": avg_acc,
                         "kept": "averaged" if best is averaged else "last"}}
    return RunResult(best, metrics)


@torch.no_grad()
def exact_match(model, task: str, pairs: list[tuple[str, str]], batch: int = 250) -> float:
    """Fraction of held-out pairs whose greedy output equals the target exactly (batched greedy decoding)."""
    from genlib.transformer import padding_mask, subsequent_mask

    spec, correct = data.SEQ_TASKS[task], 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        src, _ = data.seq_batch(task, chunk)
        src_mask = padding_mask(src, data.PAD)
        memory = model.encode(src, src_mask)
        ys = torch.full((len(chunk), 1), data.BOS)
        for _ in range(spec.max_tgt):
            out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)))
            ys = torch.cat([ys, model.log_probs(out[:, -1]).argmax(-1, keepdim=True)], dim=1)
        correct += sum(spec.decode_tgt(row[1:].tolist()) == t for row, (_, t) in zip(ys, chunk))
    return correct / max(1, len(pairs))


def train_pixelcnn(args) -> RunResult:
    """PixelSNAIL-lite on 8-bit MNIST: minimise bits/dim (the discretised logistic mixture NLL), EMA weights."""
    from genlib.pixelcnn import PixelSNAIL, bits_per_dim, discretized_logistic_log_prob

    g = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    x_train, _, x_test, _ = _load_data(args)
    model = PixelSNAIL(**PIXELCNN_CONFIG)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    n_mix = PIXELCNN_CONFIG["n_mix"]

    def loss_fn(idx):
        x = x_train[idx]
        with _autocast(args.amp):
            params = model(x)
        return bits_per_dim(discretized_logistic_log_prob(x, params.float(), n_mix)).mean()

    curve = fit(model, loss_fn, len(x_train), args, g, clip=1.0, after_step=_ema_hook(ema, model, args.ema_decay))
    test_bpd = test_bits_per_dim(ema, x_test, amp=args.amp)
    metrics = {"amp_bfloat16": args.amp, "ema_decay": args.ema_decay, "pixelsnail": PIXELCNN_CONFIG, "loss_curve": curve,
               "final": {"train_bpd_last": curve[-1][1] if curve else None, "test_bits_per_dim_ema": test_bpd,
                         "test_images": len(x_test)}}
    return RunResult(ema, metrics)


@torch.no_grad()
def test_bits_per_dim(model, x: torch.Tensor, batch: int = 250, amp: bool = True) -> float:
    """Mean bits/dim over all images in x (the full 10,000-image test set in metrics.json)."""
    from genlib.pixelcnn import bits_per_dim, discretized_logistic_log_prob

    total = 0.0
    for i in range(0, len(x), batch):
        chunk = x[i : i + batch]
        with _autocast(amp):
            params = model(chunk)
        total += bits_per_dim(discretized_logistic_log_prob(chunk, params.float(), model.n_mix)).sum().item()
    return total / max(1, len(x))


PIXELCNN_CONFIG = dict(channels=32, n_blocks=1, n_res=3, n_mix=5, attention=True, d_k=16, d_v=32, dropout=0.0)
HELD_OUT_SEED = 12345
TRANSFORMER_CONFIG = dict(N=2, d_model=64, d_ff=256, h=4, dropout=0.1, norm_first=True, max_len=64)
TRANSFORMER_TRAIN_SIZE = {"copy": 20_000, "numbers": 50_000}

UNET_CONFIG = dict(in_channels=1, ch=16, ch_mult=[1, 4, 4], num_res_blocks=1, attn_resolutions=[7], dropout=0.0, img_size=28)
# The flow net is narrower at 14x14 than the DDPM's ([1, 2, 4] vs [1, 4, 4]): 1.6x faster per evaluation,
# chosen for the 16-samples-in-0.5-s target (measured in the issue-3 closing note).
FLOW_UNET_CONFIG = dict(in_channels=1, ch=16, ch_mult=[1, 2, 4], num_res_blocks=1, attn_resolutions=[7], dropout=0.0,
                        img_size=28, num_classes=10, time_scale=1000.0)
MLP_CONFIG = dict(dim=2, hidden=256, depth=4, t_dim=32)

TRAINERS = {"ddpm": train_ddpm, "cnn": train_cnn, "flow": train_flow}
TRAINERS.update({f"flow2d_{toy}": functools.partial(train_flow2d, toy=toy) for toy in data.TOY_SETS})
DEFAULTS = {  # per-model defaults: chosen so a run fits ~30 minutes on 2 CPU cores
    "ddpm": dict(epochs=12, batch_size=128, lr=1e-3, warmup=200, ema_decay=0.999),
    "cnn": dict(epochs=3, batch_size=128, lr=2e-3, warmup=100, ema_decay=None),
    "flow": dict(epochs=6, batch_size=128, lr=1e-3, warmup=200, ema_decay=0.999, p_uncond=0.1),
}
TRAINERS["pixelcnn"] = train_pixelcnn
DEFAULTS["pixelcnn"] = dict(epochs=2, batch_size=64, lr=2e-3, warmup=200, ema_decay=0.998)
TRAINERS.update({f"transformer_{task}": functools.partial(train_transformer, task=task) for task in data.SEQ_TASKS})
DEFAULTS.update({"transformer_copy": dict(epochs=4, batch_size=80, lr=1.0, warmup=400, ema_decay=None, smoothing=0.0),
                 "transformer_numbers": dict(epochs=8, batch_size=100, lr=1.0, warmup=400, ema_decay=None, smoothing=0.1)})
DEFAULTS.update({f"flow2d_{toy}": dict(epochs=40, batch_size=512, lr=2e-3, warmup=100, ema_decay=0.998)
                 for toy in data.TOY_SETS})


def write_model_card(out: Path, name: str, metrics: dict, repo_id: str | None) -> None:
    final = "\n".join(f"| {k} | {v} |" for k, v in _flatten(metrics["final"]).items())
    repo_line = f"Hub repository: `{repo_id}`\n\n" if repo_id else ""
    hub_data = HUB_DATASET_IDS.get(metrics["dataset"])  # synthetic 2-D sets have no Hub dataset
    datasets_line = f"datasets: [{hub_data}]\n" if hub_data else ""
    card = f"""---
license: mit
library_name: genlib
tags: [genlib, {name}, {metrics['dataset']}]
{datasets_line}---
# genlib `{name}` — {metrics['dataset']}

{MODEL_DESCRIPTIONS[name]}

{repo_line}Trained by `{metrics['command']}` on {metrics['hardware']} in {metrics['wall_time_s'] / 60:.1f} minutes
({metrics['epochs']} epochs, {metrics['steps']} steps of batch {metrics['batch_size']}, seed {metrics['seed']}).
The weights are an EMA copy where the model has one; `metrics.json` holds the loss curve.

| metric | value |
|---|---|
{final}

## Use

```python
from genlib import hub
model = hub.load("{name}")  # Hub at a pinned revision, else the local weights/{name}/ copy
```

## Data

{DATA_ATTRIBUTION.get(metrics['dataset'], SYNTHETIC)}
"""
    (out / "README.md").write_text(card, encoding="utf-8")


MODEL_DESCRIPTIONS = {
    "ddpm": "A small U-Net eps_theta(x_t, t) trained with the DDPM simplified loss (Ho et al. 2020) on a linear "
    "beta schedule from 1e-4 to 0.02 over T = 1000 steps. Input (B, 1, 28, 28) in [-1, 1], t a LongTensor in [0, 1000).",
    "cnn": "A small convolutional MNIST classifier; its penultimate features are used for the classifier FID and "
    "Inception Score in genlib.metrics.",
    "flow": "A class-conditional U-Net vector field u_theta(x, t, y) trained by conditional flow matching on the CondOT "
    "path x_t = t z + (1 - t) eps (t = 0 noise, t = 1 data), labels dropped with probability p_uncond so y = 10 gives the "
    "unconditional field for classifier-free guidance. Input (B, 1, 28, 28), t a float tensor in [0, 1], y a LongTensor in [0, 10].",
    **{f"flow2d_{toy}": f"An MLP vector field u_theta(x, t) on the 2-D toy set `{toy}` (genlib.data.toy_2d), trained by "
       "conditional flow matching on the CondOT path. Input (B, 2), t a float tensor in [0, 1]." for toy in data.TOY_SETS},
    "pixelcnn": "A PixelSNAIL-lite: PixelCNN++ shift-based causal convolutions (u and ul streams, gated residual blocks, "
    "weight normalisation), causal self-attention over all earlier pixels, background position channels and a mixture "
    "of 5 discretised logistics per pixel, trained by maximum likelihood on 8-bit MNIST. Input (B, 1, 28, 28) in [-1, 1].",
    "transformer_copy": "A small encoder-decoder Transformer (pre-norm, 2 layers, d_model 64, 4 heads) trained to copy "
    "sequences of up to 10 digits, the first task of the Annotated Transformer.",
    "transformer_numbers": "A small encoder-decoder Transformer (pre-norm, 2 layers, d_model 64, 4 heads) trained to turn "
    "British English number words ('three hundred and twelve thousand and five') into digits, for 0 to 999999.",
}
SYNTHETIC = "Synthetic data generated by `genlib.data` (toy_2d / seq_dataset) from the run's seed; no external data."
HUB_DATASET_IDS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
DATA_ATTRIBUTION = {
    "mnist": "MNIST, copyright Yann LeCun and Corinna Cortes, a derivative of the NIST datasets, "
    "available under Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0).",
    "fashion-mnist": "Fashion-MNIST, MIT License, Copyright (c) 2017 Zalando SE (Xiao, Rasul & Vollgraf, arXiv:1708.07747).",
}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = round(v, 5) if isinstance(v, float) else v
    return out


def push_to_hub(folder: Path, repo_id: str, token: str | None = None) -> str:
    """Upload the weights folder to a Hub model repo (created if missing); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                             commit_message=f"genlib: upload {folder.name}")
    return str(getattr(info, "commit_url", info))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=sorted(TRAINERS))
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--data-dir", help="folder with <dataset>/*.gz IDX files (default: $GENLIB_DATA, else download)")
    p.add_argument("--dataset", default="mnist", choices=data.DATASETS)
    p.add_argument("--out", help="output folder (default: weights/<model>)")
    p.add_argument("--push-to-hub", metavar="REPO", help="also upload the folder to this Hub model repo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N images (smoke tests)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.add_argument("--p-uncond", type=float, help="flow: probability of dropping the label (classifier-free guidance)")
    p.add_argument("--smoothing", type=float, help="transformer: label smoothing epsilon")
    p.add_argument("--no-amp", dest="amp", action="store_false", help="train in float32 instead of bfloat16 autocast")
    args = p.parse_args(argv)
    for k, v in DEFAULTS[args.model].items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    return args


def main(argv=None) -> Path:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else ROOT / "weights" / args.model
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = TRAINERS[args.model](args)
    wall = time.perf_counter() - start
    steps = result.metrics["loss_curve"][-1][0] if result.metrics.get("loss_curve") else 0
    metrics = {
        "model": args.model,
        "dataset": args.dataset,
        "train_images": args.limit or None,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "steps": steps,
        "seed": args.seed,
        "lr": args.lr,
        "wall_time_s": round(wall, 1),
        "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "command": "python genlib/train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        **result.metrics,
    }
    result.model.save_pretrained(out)  # config.json + model.safetensors (PyTorchModelHubMixin)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    write_model_card(out, args.model, metrics, args.push_to_hub)
    print(f"wrote {out} in {wall / 60:.1f} min: {json.dumps(metrics['final'])}")
    if args.push_to_hub:
        print("pushed:", push_to_hub(out, args.push_to_hub))
    return out


if __name__ == "__main__":
    main()
