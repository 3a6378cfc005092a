"""Would batching concurrent sampling requests raise throughput? DDIM-50 on one intra-op thread (as the app samples)
for k requests of 16 images: k separate runs against one batched run of 16k images, interleaved, median of `runs`.
Writes benchmarks/results/batching.json.

    python benchmarks/batching.py [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    import torch

    from genlib import hub
    from genlib.diffusion import GaussianDiffusion, autocast_model

    torch.set_num_threads(1)
    d, eps = GaussianDiffusion(), autocast_model(hub.load("ddpm"), True)
    d.sample(eps, 16, steps=3, seed=0)  # warm-up
    out = {}
    for k in (1, 2, 4):
        separate, batched = [], []
        for r in range(args.runs):  # interleaved, so drift on a shared machine hits both alike
            t0 = time.perf_counter()
            for i in range(k):
                d.sample(eps, 16, steps=50, seed=r * 10 + i)
            separate.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            d.sample(eps, 16 * k, steps=50, seed=r)
            batched.append(time.perf_counter() - t0)
        s, b = statistics.median(separate), statistics.median(batched)
        out[str(k)] = {"separate_s": round(s, 3), "batched_s": round(b, 3), "throughput_gain": round(s / b, 2)}
        print(k, out[str(k)], flush=True)
    result = {"command": "python benchmarks/batching.py " + " ".join(sys.argv[1:]), "n": args.runs,
              "threads": 1, "sampler": "ddim-50, bfloat16, 16 images per request", "requests": out}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batching.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
