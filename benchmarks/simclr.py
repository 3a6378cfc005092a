"""SimCLR tab figures: the linear evaluation of frozen features (h = f(x), z = g(h), and raw pixels) on Fashion-MNIST
at three label budgets (10 and 100 labelled training images per class, and all), k-NN (k = 20, cosine) accuracy,
and the anchor of the same CNN trained supervised end to end. Writes benchmarks/results/simclr.json (the tab plots
it) and weights/simclr/gallery.npz: 2,000 test images (not among the bundled 100 items) that the tab's neighbour
search and 2-D maps use, since the app does not ship the test set.

Protocol (genlib.recipes.simclr.evaluate): features standardised on the fitting rows; multinomial logistic
regression with L2 strength chosen from genlib.simclr.PROBE_LAMBDAS on the last 5,000 training images; test accuracy
on all 10,000 test images. The small budgets are drawn from the first 55,000 training images, per class, with
seeds 0, 1, 2 (mean and each run reported).

    python benchmarks/simclr.py --data-dir ../shared/data [--threads 1] [--sup-epochs 4]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
BUDGETS = (10, 100, None)  # labelled images per class; None = all
SEEDS = (0, 1, 2)
GALLERY = 2000
TARGET = 0.90  # issue 12: linear probe on frozen h, all labels


def per_class_subset(y: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of `per_class` random rows of each class (seeded)."""
    g = torch.Generator().manual_seed(seed)
    idx = [torch.nonzero(y == c).flatten() for c in range(10)]
    return torch.cat([i[torch.randperm(len(i), generator=g)[:per_class]] for i in idx]).sort().values


def anchor_config() -> dict:
    """The supervised anchor's network: genlib.cnn.MNISTClassifier at the SimCLR config's width, its fc layer as wide as
    g's hidden layer (the encoder's trunk, then the layers of a classifier, trained end to end with labels)."""
    from genlib import registry

    cfg = registry.get("simclr").config
    return dict(in_channels=1, width=cfg["width"], feature_dim=cfg["hidden"], num_classes=10, dropout=0.3)


def reusable_anchor(args) -> dict | None:
    """The anchor of the existing results file when it was trained for this network and number of epochs, else None
    (a changed encoder gets a new anchor)."""
    path = RESULTS / "simclr.json"
    old = json.loads(path.read_text(encoding="utf-8")).get("supervised") if path.exists() else None
    if old and old.get("config") == anchor_config() and old.get("epochs") == args.sup_epochs:
        return old
    return None


def supervised_anchor(args) -> dict:
    """The encoder's network trained end to end with all 60,000 labels by the cnn recipe (cross-entropy, small
    shifts, horizontal flips)."""
    from genlib import registry
    from genlib.recipes import cnn as cnn_recipe

    spec = dataclasses.replace(registry.get("cnn_fashion"), config=anchor_config())
    ns = argparse.Namespace(seed=0, epochs=args.sup_epochs, batch_size=128, lr=2e-3, warmup=100, limit=0,
                            dataset="fashion-mnist", data_dir=args.data_dir, model="supervised anchor", amp=True)
    t0 = time.perf_counter()
    result = cnn_recipe.train(ns, spec)
    return {"test_accuracy": round(result.metrics["final"]["test_accuracy"], 4), "epochs": args.sup_epochs,
            "wall_time_s": round(time.perf_counter() - t0, 1), "config": spec.config, "train_images": 60000}


def main(argv=None) -> dict:
    from genlib import data, hub, simclr
    from genlib.recipes.simclr import evaluate, split

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--sup-epochs", type=int, default=4, help="epochs of the supervised anchor (0: skip it)")
    p.add_argument("--limit", type=int, default=0, help="only the first N training and test images (a smoke run)")
    p.add_argument("--reuse-supervised", action="store_true",
                   help="keep the supervised anchor of the existing results file instead of training it again, "
                        "when it was trained for the same network and epochs")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = hub.load("simclr").eval()
    x_train, y_train = data.load("fashion-mnist", "train", args.data_dir)
    x_test, y_test = data.load("fashion-mnist", "test", args.data_dir)
    if args.limit:
        x_train, y_train, x_test, y_test = (a[: args.limit] for a in (x_train, y_train, x_test, y_test))
    t0 = time.perf_counter()
    h_train, z_train = simclr.embed(model, x_train)
    h_test, z_test = simclr.embed(model, x_test)
    embed_s = time.perf_counter() - t0
    features = {"h": (h_train, h_test), "z": (z_train, z_test), "pixels": (x_train.flatten(1), x_test.flatten(1))}
    y_fit = split(h_train, y_train)[1]
    probe, knn = {}, {}
    for name, (F_train, F_test) in features.items():
        probe[name] = {}
        for budget in BUDGETS:
            runs = []
            for seed in (SEEDS if budget else (0,)):
                idx = per_class_subset(y_fit, budget, seed) if budget else None
                r = evaluate(F_train, y_train, F_test, y_test, fit_idx=idx)
                runs.append({"seed": seed, "accuracy": round(r["probe_accuracy"], 4), "lambda": r["probe_lambda"],
                             "knn20": round(r["knn20_accuracy"], 4)})
            key = str(budget) if budget else "all"
            probe[name][key] = {"mean": round(float(np.mean([r["accuracy"] for r in runs])), 4), "runs": runs}
            if budget is None:
                knn[name] = runs[0]["knn20"]
            print(f"{name:7} {key:>4} per class: probe {probe[name][key]['mean']:.4f}  ({runs})", flush=True)
    anchor = reusable_anchor(args) if args.reuse_supervised else None
    if anchor is None and args.sup_epochs:
        anchor = supervised_anchor(args)
    if anchor:
        print(f"supervised anchor: {anchor}", flush=True)
    keys = [str(b) if b else "all" for b in BUDGETS]
    metrics = hub.load_metrics("simclr")
    out = {
        "command": "python benchmarks/simclr.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "budgets": keys, "probe": probe, "knn20": knn, "supervised": anchor,
        "lambdas": list(simclr.PROBE_LAMBDAS), "n_test": len(y_test), "val_images": 5000,
        "target": TARGET, "met": probe["h"]["all"]["mean"] >= TARGET,
        "h_beats_z": all(probe["h"][k]["mean"] > probe["z"][k]["mean"] for k in keys),
        "h_beats_pixels": all(probe["h"][k]["mean"] > probe["pixels"][k]["mean"] for k in keys),
        "singular_values_g_W1": [round(v, 5) for v in simclr.head_singular_values(model).tolist()],
        "embed_train_test_s": round(embed_s, 1), "wall_time_s": round(time.perf_counter() - start, 1),
        "train": {k: metrics.get(k) for k in ("command", "wall_time_s", "cpu_time_s", "hardware", "batch_size", "tau",
                                              "minutes_budget")}
                 | {"final": metrics.get("final")},
    }
    write_gallery(x_test, y_test)
    RESULTS.mkdir(exist_ok=True)
    if args.limit:  # a smoke run writes nothing into the results
        return out
    (RESULTS / "simclr.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


def write_gallery(x_test: torch.Tensor, y_test: torch.Tensor) -> Path:
    """weights/simclr/gallery.npz: the first GALLERY test images that are not among the bundled Fashion-MNIST items."""
    from genlib import data

    with np.load(data.FASHION_SAMPLE_PATH) as f:
        bundled = set(f["test_index"].tolist()) if "test_index" in f.files else set()
    keep = np.array([i for i in range(len(y_test)) if i not in bundled][:GALLERY])
    from genlib import hub

    path = hub.folder("simclr") / "gallery.npz"
    np.savez_compressed(path, images=data.to_uint8(x_test[keep, 0]), labels=y_test[keep].numpy().astype(np.uint8),
                        test_index=keep)
    return path


if __name__ == "__main__":
    main()
