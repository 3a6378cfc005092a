"""Train a model of the registry and write weights/<model>/ (config.json, model.safetensors, metrics.json, README.md).

    python genlib/train.py --list                       every model: its command, data, and recorded time / metric
    python genlib/train.py ddpm --data-dir ../shared/data [--epochs N] [--out DIR] [--push-to-hub REPO] [--seed S]
    python genlib/train.py flow2d_moons                 (toy and sequence tasks generate their own data)
    python genlib/train.py <model> --help               the model's own flags and defaults
    torchrun --nproc_per_node 2 genlib/train.py <model>  data-parallel: the same run on N processes (gloo on CPU,
                                                        nccl on GPU), each on 1/N of every batch

This file holds only what every model shares: the command line (built from genlib.registry), the fit loop (AdamW,
warm-up + cosine learning rate, gradient clipping, EMA, bfloat16 autocast, tqdm), metrics.json, the model card and
--push-to-hub. A model's data, loss and evaluator live in genlib/recipes/<recipe>.py. Every run is reproducible
from its seed.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as `python genlib/train.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from tqdm import tqdm

from genlib import data, registry
from genlib.diffusion import ema_update

ROOT = Path(__file__).resolve().parents[1]
COMMON = ("epochs", "batch_size", "lr", "warmup")  # every model's defaults have these; other keys become extra flags


class TrainingError(RuntimeError):
    """A problem the user can fix (missing data, no network, a bad flag): main() prints str(err) as one line."""


@dataclass
class RunResult:
    model: torch.nn.Module  # the weights to save (the EMA copy where there is one)
    metrics: dict


# ---- data parallelism (torchrun) -----------------------------------------------------------------------
def world() -> tuple[int, int]:
    """(rank, number of processes): (0, 1) for a plain run; torchrun sets RANK and WORLD_SIZE."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def init_distributed() -> None:
    """Join torchrun's process group once: nccl when this process has a GPU, else gloo (CPU)."""
    import torch.distributed as dist

    if world()[1] > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")


def close_distributed(finished: bool) -> None:
    """Leave the process group. After a run every rank finished, so wait at a barrier first and no rank tears gloo
    down while a peer is still in its last collective; after an error only this rank may be here, so leave at once."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def exit_process(code: int) -> None:
    """End a process that joined a gloo group without the interpreter's finalization: even after a clean
    destroy_process_group, gloo's C++ teardown at exit aborts now and then ("terminate called without an active
    exception", SIGABRT with no Python frame; about 1 run in 50 with torch 2.13 on this CPU). The weights and
    metrics are written and the group is closed by then, so nothing is lost by skipping finalization."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def average_gradients(model: torch.nn.Module, size: int) -> None:
    """All-reduce every gradient and divide by the number of processes: with equal shards, the gradient of the mean
    loss over the whole batch (what DistributedDataParallel's reducer computes, without its bucketing). Done by hand
    because the recipes' loss closures call the module itself, not a DDP wrapper."""
    for p in model.parameters():
        if p.grad is not None:
            all_mean(p.grad, size)


def all_mean(x: torch.Tensor, size: int) -> torch.Tensor:
    """The mean of x over the processes (in place)."""
    import torch.distributed as dist

    dist.all_reduce(x, op=dist.ReduceOp.SUM)
    return x.div_(size)


# ---- the pieces recipes share ------------------------------------------------------------------------
def seeded(seed: int) -> torch.Generator:
    """Seed torch's global generator (weight init, dropout) and return a generator for data order and noise."""
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def autocast(enabled: bool):
    """bfloat16 autocast on the CPU (about 1.5x faster for convolutions here); a no-op when disabled."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


def new_model(spec, **sizes) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(model, its EMA copy) built from the registry config (plus data-dependent sizes, e.g. vocabularies)."""
    model = spec.model_class()(**spec.config, **sizes)
    return model, copy.deepcopy(model).eval().requires_grad_(False)


def ema_hook(ema, model, decay: float):
    """after_step for fit(): EMA with a short warm-up, decay (1 + n) / (10 + n) until it reaches `decay`."""
    return lambda step: ema_update(ema, model, decay=min(decay, (1 + step) / (10 + step)))


def warm_start(model, ema, name: str, new: tuple[str, ...] = ()) -> dict:
    """Copy the weights of the trained model `name` (genlib.hub.load: the Hub snapshot or weights/<name>/) into
    model and its EMA copy (--init). Only parameters whose names contain one of `new` may be missing from it (e.g.
    class vectors that start at zero), so the warm-started network starts as exactly the loaded one. Returns what
    metrics.json records about the start ({} when name is empty): its command, wall time and final metric."""
    if not name:
        return {}
    from genlib import hub

    try:
        source = hub.load(name)
        folder, source_metrics = hub.folder(name), hub.load_metrics(name)
    except (hub.ModelUnavailable, KeyError) as err:
        raise TrainingError(f"--init {name}: {err}. Train it first: python genlib/train.py {name} "
                            "--data-dir ../shared/data") from None
    try:
        missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    except RuntimeError as err:  # same names, other shapes
        raise TrainingError(f"--init {name}: its weights do not fit this network ({str(err).splitlines()[-1].strip()})") from None
    if unexpected or any(not any(part in k for part in new) for k in missing):
        raise TrainingError(f"--init {name}: its weights do not fit this network "
                            f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    ema.load_state_dict(model.state_dict())
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    start = {"from": name, "sha256": digest, "command": source_metrics.get("command"),
             "wall_time_s": source_metrics.get("wall_time_s"), "epochs": source_metrics.get("epochs")}
    metric = registry.MODELS[name].metric
    if metric:
        start[metric] = source_metrics.get("final", {}).get(metric)
    return start


def load_images(args):
    """(x_train, y_train, x_test, y_test) of args.dataset, the first args.limit of each when set."""
    try:
        x_train, y_train = data.load(args.dataset, "train", args.data_dir)
        x_test, y_test = data.load(args.dataset, "test", args.data_dir)
    except data.DataUnavailable as err:
        raise TrainingError(str(err)) from None
    if args.limit:
        x_train, y_train, x_test, y_test = (a[: args.limit] for a in (x_train, y_train, x_test, y_test))
    return x_train, y_train, x_test, y_test


def _batches(n: int, batch_size: int, generator: torch.Generator):
    """Shuffled index batches covering range(n) once (the last partial batch is dropped)."""
    perm = torch.randperm(n, generator=generator)
    for i in range(0, n - batch_size + 1, batch_size):
        yield perm[i : i + batch_size]


def lr_at(step: int, total: int, lr: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to 1% of lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))


def param_groups(model, lr_scales: dict[str, float] | None) -> list[dict]:
    """AdamW parameter groups: parameters whose name contains a key of lr_scales get that multiple of the learning
    rate ("scale"), the rest the rate itself (one group when lr_scales is empty)."""
    groups = {key: [] for key in (lr_scales or {})}
    rest = []
    for name, p in model.named_parameters():
        key = next((k for k in groups if k in name), None)
        (groups[key] if key is not None else rest).append(p)
    return [{"params": rest, "scale": 1.0}] + [{"params": ps, "scale": lr_scales[k]} for k, ps in groups.items() if ps]


def fit(model, loss_fn, n_train: int, args, g: torch.Generator, *, weight_decay: float = 0.0,
        clip: float | None = None, after_step=None, log_points: int = 200, schedule=None, betas=(0.9, 0.999),
        eps: float = 1e-8, lr_scales: dict[str, float] | None = None) -> list[list[float]]:
    """The loop every model shares: AdamW, warm-up + cosine learning rate (or schedule(step) -> lr), optional
    gradient clipping, a tqdm bar, and a loss curve of `log_points` running means ([step, loss] pairs).

    loss_fn(idx) -> scalar loss for the training examples at `idx`; after_step(step) runs after each update.
    lr_scales: {name part: multiple of the learning rate} for some parameters (param_groups), e.g. new embeddings in
    a warm-started network.

    Under torchrun with N processes, every process draws the same shuffled batch (a permutation generator seeded
    alike on all ranks: the DistributedSampler of this index-based loop) and takes every N-th example of it; the
    gradients are averaged before each step, so the N processes take the same steps as one process on the whole
    batch. Their noise and augmentation generator `g` is reseeded per rank. Only rank 0 shows progress.
    """
    rank, size = world()
    if args.batch_size % size:
        raise TrainingError(f"--batch-size {args.batch_size} must be divisible by the {size} processes")
    order = g
    if size > 1:
        order = torch.Generator().manual_seed(args.seed)  # the same permutation on every rank
        g.manual_seed(args.seed + 1 + rank)  # different noise / augmentation per rank
    opt = torch.optim.AdamW(param_groups(model, lr_scales), lr=args.lr, weight_decay=weight_decay, betas=betas, eps=eps)
    total = (n_train // args.batch_size) * args.epochs
    curve, running, step = [], [], 0
    log_every = max(1, total // log_points)
    with tqdm(total=total, desc=args.model, unit="step", mininterval=5, disable=rank > 0) as bar:
        for _ in range(args.epochs):
            model.train()
            for idx in _batches(n_train, args.batch_size, order):
                rate = schedule(step) if schedule else lr_at(step, total, args.lr, args.warmup)
                for group in opt.param_groups:
                    group["lr"] = rate * group["scale"]
                loss = loss_fn(idx[rank::size])  # this process's 1/size of the batch
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if size > 1:
                    average_gradients(model, size)
                    loss = all_mean(loss.detach().clone(), size)  # the logged loss is the whole batch's
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


def steps_taken(metrics: dict) -> int:
    """The optimiser steps a run took: the recipe's own count when it keeps one (final["steps"]: a run stopped by a
    time budget, whose loss curve is logged every few steps), else the last logged step of the loss curve."""
    if "steps" in metrics.get("final", {}):
        return metrics["final"]["steps"]
    return metrics["loss_curve"][-1][0] if metrics.get("loss_curve") else 0


def _run_length(metrics: dict) -> str:
    """The card's run length, as "E epochs, S steps". A run stopped by a time budget (its final metrics hold
    epochs_done and steps) says how far it got against the epoch cap, not the cap alone."""
    final = metrics["final"]
    if "epochs_done" in final:
        return f"{final['epochs_done']} epochs (time budget; cap {metrics['epochs']}), {final.get('steps', metrics['steps'])} steps"
    return f"{metrics['epochs']} epochs, {metrics['steps']} steps"


def _warm_start_line(metrics: dict) -> str:
    """The card's line for a run that started from another trained model (metrics["init"], e.g. `pixelcnn`)."""
    from genlib.hub import training_minutes

    init = metrics.get("init")
    if not init:
        return ""
    return (f"It started from the weights of `{init['from']}` (sha256 {init['sha256'][:12]}…), trained by "
            f"`{init['command']}` in {(init.get('wall_time_s') or 0) / 60:.1f} minutes: "
            f"{training_minutes(metrics):.1f} minutes in all.\n")


def write_model_card(out: Path, spec: registry.ModelSpec, metrics: dict, repo_id: str | None) -> None:
    name = spec.name
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

{spec.description}

{repo_line}Trained by `{metrics['command']}` on {metrics['hardware']} in {metrics['wall_time_s'] / 60:.1f} minutes
({_run_length(metrics)} of batch {metrics['batch_size']}, seed {metrics['seed']}).
{_warm_start_line(metrics)}The weights are an EMA copy where the model has one; `metrics.json` holds the loss curve.

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


SYNTHETIC = "Synthetic data generated by `genlib.data` (toy_2d / seq_dataset) from the run's seed; no external data."
HUB_DATASET_IDS = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
DATA_ATTRIBUTION = {
    "mnist": "MNIST, copyright Yann LeCun and Corinna Cortes, a derivative of the NIST datasets, "
    "available under Creative Commons Attribution-Share Alike 3.0 (CC BY-SA 3.0).",
    "fashion-mnist": "Fashion-MNIST, MIT License, Copyright (c) 2017 Zalando SE (Xiao, Rasul & Vollgraf, arXiv:1708.07747).",
    "text-shakespeare": "Tiny Shakespeare (github.com/karpathy/char-rnn, data/tinyshakespeare/input.txt): Shakespeare's "
    "text, in the public domain; the char-rnn repository is MIT-licensed. Only the vocabulary ships with the weights.",
    "text-tang": "Tang poems from github.com/chinese-poetry/chinese-poetry (全唐诗), MIT License, Copyright (c) 2016 "
    "JackeyGao. Only the vocabulary (characters seen at least 10 times) ships with the weights.",
}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = round(v, 5) if isinstance(v, float) else v
    return out


def upload_plan(folder: Path, repo_id: str) -> str:
    """What push_to_hub would upload: every file of the folder with its size (--dry-run)."""
    files = sorted(p for p in folder.iterdir() if p.is_file())
    rows = "\n".join(f"  {p.name:20} {p.stat().st_size:>10,} bytes" for p in files)
    return (f"dry run: would create (if missing) the model repo {repo_id} and upload {len(files)} files from {folder}:\n"
            f"{rows}\nnothing was uploaded; after a real upload, pin the printed commit in genlib/registry.py (revision).")


def push_to_hub(folder: Path, repo_id: str, token: str | None = None) -> str:
    """Upload the weights folder to a Hub model repo (created if missing); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", exist_ok=True)
        info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                 commit_message=f"genlib: upload {folder.name}")
    except Exception as err:  # no network, no token, no rights: the weights are written either way
        raise TrainingError(f"the upload to {repo_id} failed ({type(err).__name__}); the weights are in {folder}. "
                            "Check the network and `hf auth login`, then run the command again.") from None
    return str(getattr(info, "commit_url", info))


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def parse_args(argv=None):
    """The command line, derived from the registry: the model's defaults fill every flag left unset."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="one of: " + ", ".join(registry.MODELS) + " (see --list)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak learning rate (the Noam factor for the Transformer)")
    p.add_argument("--warmup", type=int, help="learning-rate warm-up steps")
    p.add_argument("--data-dir", help="folder with <dataset>/*.gz IDX files (default: $GENLIB_DATA, else download)")
    p.add_argument("--dataset", choices=data.DATASETS, help="image data set (default: the registry entry's dataset)")
    p.add_argument("--out", help="output folder (default: weights/<model>)")
    p.add_argument("--push-to-hub", metavar="REPO", help="also upload the folder to this Hub model repo")
    p.add_argument("--dry-run", action="store_true", help="with --push-to-hub: list what would be uploaded, upload nothing")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=0, help="use only the first N examples (smoke tests)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    p.add_argument("--no-amp", dest="amp", action="store_false", help="train in float32 instead of bfloat16 autocast")
    extra = sorted({k for s in registry.MODELS.values() for k in s.defaults} - set(COMMON))
    for key in extra:
        users = [s.name for s in registry.MODELS.values() if key in s.defaults]
        kind = type(next(s.defaults[key] for s in registry.MODELS.values() if key in s.defaults))
        p.add_argument(_flag(key), type=kind, help=f"{', '.join(sorted({u.split('_')[0] for u in users}))} models only")
    named = next((a for a in argv if a in registry.MODELS), None)
    if named:  # `train.py <model> --help` ends with that model's command, data and defaults
        spec = registry.MODELS[named]
        p.epilog = (f"{named}: {spec.description}\n\n  {spec.command}\n  data: {spec.dataset}\n  defaults: "
                    + ", ".join(f"{_flag(k)} {v}" for k, v in spec.defaults.items()))
    if "--list" in argv:
        print(list_models())
        raise SystemExit(0)
    args = p.parse_args(argv)
    if args.model not in registry.MODELS:
        p.exit(2, f"train.py: unknown model {args.model!r}. Known: {', '.join(registry.MODELS)} "
                  "(`python genlib/train.py --list` shows each with its command).\n")
    spec = registry.MODELS[args.model]
    wrong = [_flag(k) for k in extra if getattr(args, k) is not None and k not in spec.defaults]
    if wrong:
        p.exit(2, f"train.py: {', '.join(wrong)} does not apply to {spec.name}; its flags: "
                  f"{', '.join(_flag(k) for k in spec.defaults)}.\n")
    for k, v in spec.defaults.items():
        if getattr(args, k, None) is None:
            setattr(args, k, v)
    if args.dataset is None:  # the spec says what it is trained on (cnn_fashion: fashion-mnist)
        args.dataset = spec.dataset if spec.dataset in data.DATASETS else "mnist"
    return args


def list_models(weights_dir: Path | None = None) -> str:
    """One block per registered model: its default command, data, and what its metrics.json recorded."""
    lines = []
    for spec in registry.MODELS.values():
        path = (weights_dir or ROOT / "weights") / spec.name / "metrics.json"
        if path.exists():
            m = json.loads(path.read_text(encoding="utf-8"))
            value = m.get("final", {}).get(spec.metric)
            shown = f"{value:.4g}" if isinstance(value, float) else value
            record = f"trained in {m['wall_time_s'] / 60:.1f} min on {m.get('hardware', '?')}, {spec.metric} = {shown}"
        else:
            record = "not trained yet (no metrics.json)"
        hp = ", ".join(f"{k}={v}" for k, v in spec.defaults.items())
        lines.append(f"{spec.name:22} {spec.command}\n{'':22} data: {spec.dataset}; {hp}\n{'':22} {record}")
    return "\n".join(lines)


def main(argv=None) -> Path:
    args = parse_args(argv)
    spec = registry.MODELS[args.model]
    init_distributed()
    rank, size = world()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out) if args.out else ROOT / "weights" / args.model
    start, cpu_start = time.perf_counter(), time.process_time()
    result = spec.recipe_module().train(args, spec)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    steps = steps_taken(result.metrics)
    metrics = {
        "model": args.model,
        "dataset": args.dataset if spec.dataset in data.DATASETS else spec.dataset,
        "train_images": args.limit or None,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "steps": steps,
        "seed": args.seed,
        "lr": args.lr,
        "wall_time_s": round(wall, 1),
        "cpu_time_s": round(cpu, 1),  # CPU seconds of this process: with --threads 1, the wall time on an idle core
        "hardware": f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
                    + (f" x {size} processes (torchrun)" if size > 1 else ""),
        "torch": torch.__version__,
        "command": "python genlib/train.py " + " ".join(sys.argv[1:] if argv is None else argv),
        **result.metrics,
    }
    if rank > 0:  # rank 0 writes the folder, the card and the upload; the others hold the same weights
        return out
    out.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(out)  # config.json + model.safetensors (PyTorchModelHubMixin)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
    write_model_card(out, spec, metrics, args.push_to_hub)
    print(f"wrote {out} in {wall / 60:.1f} min: {json.dumps(metrics['final'])}")
    if args.push_to_hub:
        print(upload_plan(out, args.push_to_hub) if args.dry_run else f"pushed: {push_to_hub(out, args.push_to_hub)}")
    return out


def cli(argv=None) -> int:
    """main() for the shell: a problem the user can fix ends in one line on stderr and exit status 2."""
    finished = False
    try:
        main(argv)
        finished = True
    except TrainingError as err:
        print(f"train.py: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("train.py: interrupted; nothing was written.", file=sys.stderr)
        return 130
    finally:
        close_distributed(finished)
    return 0


if __name__ == "__main__":
    # the recipes import genlib.train, so run that module, not __main__'s copy
    from genlib.train import cli as _cli, exit_process as _exit_process, world as _world

    _code = _cli()
    if _world()[1] > 1:  # a torchrun process: leave without gloo's exit-time teardown (see exit_process)
        _exit_process(_code)
    sys.exit(_code)
