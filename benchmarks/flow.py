"""Flow-matching figures: 2-D distribution distances against steps (ODE vs SDE), MNIST classifier IS/FID against
the guidance scale w and the number of steps, and the time for 16 MNIST samples. Writes benchmarks/results/flow.json.

    python benchmarks/flow.py [--n 500] [--n2d 2000] [--runs 5] [--data-dir ../shared/data]

2-D: sliced W2 (256 projections) and RBF-MMD^2 (h = 0.5) between n2d samples and n2d fresh data points; the floor
is the same distance between two independent data draws. MNIST: n samples per configuration, an equal number of
each class (labels 0..9 in turn), Euler steps unless stated; FID against the 10,000 test images with the DDPM tab's
classifier features, IS from its softmax (one split when n < 2000).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
STEPS_2D = [1, 2, 4, 10, 50]
SIGMA_2D = 1.0  # SDE noise, vanishing schedule sigma (1 - t)
W_GRID = [0.0, 1.0, 1.5, 2.0, 3.0, 5.0, 7.0]
STEP_GRID = [5, 10, 20, 50]
STEP_SWEEP_W = [1.0, 2.0]


def bench_2d(n: int) -> dict:
    import torch

    from genlib import data, hub
    from genlib.flow import PATHS, sample
    from genlib.metrics import mmd_rbf, sliced_wasserstein

    out = {}
    for toy in data.TOY_SETS:
        model = hub.load(f"flow2d_{toy}")
        ref, ref2 = data.toy_2d(toy, n, seed=777), data.toy_2d(toy, n, seed=778)
        row = {"floor": {"sw2": round(sliced_wasserstein(ref2, ref), 4), "mmd": round(mmd_rbf(ref2, ref), 5)}}
        with torch.no_grad():
            for steps in STEPS_2D:
                for method, sigma in (("ode", 0.0), ("sde", SIGMA_2D)):
                    x = sample(model, (n, 2), steps, "euler" if method == "ode" else "sde", seed=5,
                               path=PATHS["condot"], sigma=sigma)
                    row[f"{method}-{steps}"] = {"sw2": round(sliced_wasserstein(x, ref), 4), "mmd": round(mmd_rbf(x, ref), 5)}
        out[toy] = row
        print(toy, row, flush=True)
    return out


def _generate(model, n: int, w: float, steps: int, method: str = "euler", seed: int = 10_000, batch: int = 250):
    import torch

    from genlib.flow import PATHS, cfg_field, integrate

    chunks = []
    for i in range(0, n, batch):
        m = min(batch, n - i)
        g = torch.Generator().manual_seed(seed + i)
        x = torch.randn(m, 1, 28, 28, generator=g)
        y = torch.arange(i, i + m) % 10
        with torch.no_grad():
            for s in integrate(cfg_field(model, y, w, model.num_classes, bfloat16=True), x, steps, method, path=PATHS["condot"], sigma=0.5, generator=g):
                x = s.x
        chunks.append(x.clamp(-1, 1))
    return torch.cat(chunks)


def bench_mnist(n: int, data_dir: str | None) -> dict:
    import torch

    from genlib import data, hub
    from genlib.metrics import classifier_outputs, fid_from_features, inception_score

    clf, model = hub.load("cnn"), hub.load("flow")
    x_test, _ = data.load("mnist", "test", data_dir)
    f_test, _ = classifier_outputs(clf, x_test)
    splits = max(1, n // 1000)

    def score(x):
        f, probs = classifier_outputs(clf, x)
        labels = torch.arange(len(x)) % 10
        return {"fid": round(fid_from_features(f, f_test), 3), "is": round(inception_score(probs, splits)[0], 3),
                "class_accuracy": round((probs.argmax(1) == labels).float().mean().item(), 4)}

    out = {"vs_w": {}, "vs_steps": {}}
    for w in W_GRID:
        t0 = time.perf_counter()
        out["vs_w"][str(w)] = {**score(_generate(model, n, w, 20)), "wall_s": round(time.perf_counter() - t0, 1)}
        print("w", w, out["vs_w"][str(w)], flush=True)
    best_w = float(max(out["vs_w"], key=lambda k: out["vs_w"][k]["is"]))
    out["best_w_by_is"] = best_w
    for w in STEP_SWEEP_W:  # the step sweep at a plain conditional and at a guided setting
        out["vs_steps"][str(w)] = {str(steps): score(_generate(model, n, w, steps)) for steps in STEP_GRID}
        out["vs_steps"][str(w)]["midpoint-10"] = score(_generate(model, n, w, 10, "midpoint"))
        out["vs_steps"][str(w)]["sde-20"] = score(_generate(model, n, w, 20, "sde"))
        print("steps at w", w, out["vs_steps"][str(w)], flush=True)
    return out


def bench_speed(runs: int) -> dict:
    from genlib import hub

    model = hub.load("flow")
    out = {}
    for w, label in ((2.0, "guided"), (1.0, "conditional")):
        for nfe in (10, 20, 50):
            _generate(model, 16, w, nfe, batch=16)  # warm-up
            times = []
            for r in range(runs):
                t0 = time.perf_counter()
                _generate(model, 16, w, nfe, seed=r, batch=16)
                times.append(time.perf_counter() - t0)
            out[f"{label}/{nfe}"] = {"median_s": round(statistics.median(times), 3), "n": runs,
                                     "network_passes_per_evaluation": 2 if label == "guided" else 1}
            print(label, nfe, out[f"{label}/{nfe}"], flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=500, help="MNIST samples per configuration")
    p.add_argument("--n2d", type=int, default=2000, help="2-D samples per configuration")
    p.add_argument("--runs", type=int, default=5, help="timing repetitions")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    p.add_argument("--skip", default="", help="comma-separated parts to skip: 2d, mnist, speed")
    args = p.parse_args()

    import platform

    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    path = RESULTS / "flow.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    out.update({"n": args.n, "n2d": args.n2d, "sigma_2d": SIGMA_2D,
                "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}"})
    command = "python benchmarks/flow.py " + " ".join(sys.argv[1:])
    skip = set(args.skip.split(","))
    for part, key, run in (("2d", "toy", lambda: bench_2d(args.n2d)), ("speed", "speed_16", lambda: bench_speed(args.runs)),
                           ("mnist", "mnist", lambda: bench_mnist(args.n, args.data_dir))):
        if part not in skip:
            out[key] = run()
            out.setdefault("commands", {})[key] = command  # parts can be refreshed separately with --skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
