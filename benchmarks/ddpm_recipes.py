"""The DDPM recipe study (issue 16): noise schedule x prediction target x loss weighting, the same U-Net and data,
each variant trained by the registry's recipe (`genlib/train.py ddpm --schedule ... --target ... --weighting ...`) at
one reduced budget, then measured with the project's evaluator (classifier FID against the 10,000 MNIST test images
and Inception Score, genlib.metrics + weights/cnn, as in benchmarks/quality.py) at DDIM-50 and ancestral-1000.
Writes benchmarks/results/ddpm_recipes.json (one variant at a time, so a partial run keeps what it measured) and a
sample grid per variant under docs/ddpm_recipes/.

    python benchmarks/ddpm_recipes.py [--variants linear_eps_uniform,cosine_eps_uniform,...] [--epochs 1]
        [--limit 19200] [--batch-size 64] [--n-ddim 500] [--n-ancestral 100] [--threads 1] [--data-dir ../shared/data]

--n-ancestral 0 skips ancestral-1000 (1000 network calls per sample) for the variants of this call; rows measured
before with the same budget and n are kept.

The weights of each variant go to --out-dir/<variant>/ (default /tmp/ddpm_recipes, not committed); a variant
whose folder already holds weights trained with the same flags is not retrained. The shipped `ddpm` is measured
alongside at the same n as the reference row.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
GRIDS = ROOT / "docs" / "ddpm_recipes"
VARIANTS = {  # name -> (schedule, target, weighting); one factor changes at a time along the list
    "linear_eps_uniform": ("linear", "eps", "uniform"),
    "cosine_eps_uniform": ("cosine", "eps", "uniform"),
    "cosine_v_uniform": ("cosine", "v", "uniform"),
    "cosine_v_min_snr": ("cosine", "v", "min_snr"),
    "linear_eps_min_snr": ("linear", "eps", "min_snr"),
    "cosine_x0_min_snr": ("cosine", "x0", "min_snr"),
}
SEED = 10_000  # the starting noise of the evaluation samples (as benchmarks/quality.py)


def shipped_unet() -> dict:
    """The `ddpm` registry entry's U-Net config: every variant is trained with it."""
    from genlib import registry

    return registry.get("ddpm").config


def train_command(name: str, args) -> list[str]:
    schedule, target, weighting = VARIANTS[name]
    return [sys.executable, str(ROOT / "genlib" / "train.py"), "ddpm", "--schedule", schedule, "--target", target,
            "--weighting", weighting, "--epochs", str(args.epochs), "--limit", str(args.limit), "--batch-size",
            str(args.batch_size), "--warmup", str(args.warmup), "--threads", str(args.threads), "--out",
            str(Path(args.out_dir) / name)] + (["--data-dir", args.data_dir] if args.data_dir else [])


def ensure_trained(name: str, args) -> dict:
    """Train the variant unless its folder holds weights from the same flags; returns its metrics.json."""
    folder = Path(args.out_dir) / name
    metrics = folder / "metrics.json"
    cmd = train_command(name, args)
    wanted = " ".join(cmd[2:])
    if metrics.exists():
        m = json.loads(metrics.read_text())
        same_net = m.get("unet") == shipped_unet()  # a variant of an older network is retrained
        if m.get("command", "").endswith(wanted.split("ddpm ", 1)[1]) and same_net:
            return m
    print("training:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT)
    return json.loads(metrics.read_text())


def evaluate(model, process, clf, f_test, n: int, sampler: str, steps: int) -> tuple[dict, "torch.Tensor"]:
    import torch

    from genlib.diffusion import draw
    from genlib.metrics import classifier_outputs, fid_from_features, inception_score

    t0 = time.perf_counter()
    chunks = [draw(model, min(250, n - i), SEED + i, sampler, steps, process=process) for i in range(0, n, 250)]
    x = torch.cat(chunks)
    wall = time.perf_counter() - t0
    f, probs = classifier_outputs(clf, x)
    return {"fid": round(fid_from_features(f, f_test), 2), "is": round(inception_score(probs, max(1, n // 1000))[0], 3),
            "n": n, "sampling_wall_s": round(wall, 1)}, x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", default="linear_eps_uniform,cosine_eps_uniform,cosine_v_uniform,cosine_v_min_snr")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--limit", type=int, default=19_200, help="training images (the first N of MNIST's training set)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--n-ddim", type=int, default=500)
    p.add_argument("--n-ancestral", type=int, default=100)
    p.add_argument("--out-dir", default="/tmp/ddpm_recipes")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    p.add_argument("--no-shipped", action="store_true", help="skip the shipped ddpm's reference row")
    args = p.parse_args()
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")

    import torch
    from PIL import Image

    from genlib import data, hub
    from genlib.diffusion import GaussianDiffusion, trained_process
    from genlib.images import image_grid
    from genlib.metrics import classifier_outputs

    out_file = RESULTS / "ddpm_recipes.json"
    res = json.loads(out_file.read_text()) if out_file.exists() else {}
    unet = shipped_unet()
    net = f"U-Net ch {unet['ch']} x {unet['ch_mult']}"  # the shipped network: rows of another one are dropped
    threads = "one thread" if args.threads == 1 else f"{args.threads} threads"
    budget = (f"{args.epochs} epoch(s) over the first {args.limit} training images, batch {args.batch_size} "
              f"({args.epochs * (args.limit // args.batch_size)} steps), warm-up {args.warmup}, {net}, {threads} on "
              "the 2-core CPU")
    if res.get("budget") != budget or res.get("n") != args.n_ddim:
        res = {}
    n_ancestral = res.get("n_ancestral", args.n_ancestral) if args.n_ancestral < 1 else args.n_ancestral
    this = "python benchmarks/ddpm_recipes.py " + " ".join(sys.argv[1:])
    res["commands"] = [c for c in res.get("commands", []) if c != this] + [this]  # the calls that made the rows
    res.update({"command": " && ".join(res["commands"]), "n": args.n_ddim,
                "n_ancestral": n_ancestral, "budget": budget, "batch_size": args.batch_size, "threads": args.threads,
                "train_steps": args.epochs * (args.limit // args.batch_size),
                "reference": "MNIST test set (10,000 images), classifier features of weights/cnn",
                "date": time.strftime("%Y-%m-%d")})
    res.setdefault("variants", {})

    def save():
        RESULTS.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(res, indent=1) + "\n")

    torch.set_num_threads(args.threads)
    clf = hub.load("cnn")
    x_test, _ = data.load("mnist", "test", args.data_dir)
    f_test, _ = classifier_outputs(clf, x_test)
    GRIDS.mkdir(parents=True, exist_ok=True)

    def measure(name, model, process, extra):
        row = dict(extra)
        row["quality"] = {}
        for key, sampler, steps, n in (("ddim-50", "ddim", 50, args.n_ddim),
                                        ("ancestral-1000", "ancestral", 1000, args.n_ancestral)):
            if n < 1:  # --n-ancestral 0: not measured this time (its cell stays empty)
                continue
            q, x = evaluate(model, process, clf, f_test, n, sampler, steps)
            row["quality"][key] = q
            print(name, key, q, flush=True)
            if key == "ddim-50":
                grid = GRIDS / f"{name}.png"
                Image.fromarray(image_grid(x[:16], 4)).save(grid)
                row["grid"] = grid.relative_to(ROOT).as_posix()
            res["variants"][name] = row
            save()

    for name in names:
        m = ensure_trained(name, args)
        schedule, target, weighting = VARIANTS[name]
        model = hub.load_from(Path(args.out_dir) / name, "ddpm")
        measure(name, model, GaussianDiffusion.from_metrics(m),
                {"schedule": schedule, "target": target, "weighting": weighting, "steps": m["steps"],
                 "train_minutes": round(m["wall_time_s"] / 60, 1), "cpu_minutes": round(m.get("cpu_time_s", 0) / 60, 1),
                 "heldout_loss": round(m["final"]["test_loss_ema"], 5), "train_command": m["command"]})
    if not args.no_shipped:
        m = hub.load_metrics("ddpm")
        d = trained_process("ddpm")
        measure("shipped_ddpm", hub.load("ddpm"), d,
                {"schedule": d.schedule, "target": d.target, "weighting": d.weighting, "steps": m["steps"],
                 "train_minutes": round(m["wall_time_s"] / 60, 1), "cpu_minutes": None,
                 "heldout_loss": round(m["final"]["test_loss_ema"], 5), "train_command": m["command"]})
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
