"""PixelCNN figures: test-set bits/dim on 8-bit MNIST (all 10,000 images), time for 16 samples with the naive loop
and with the strip cache in the same run (and whether they drew the same images), the cached sampler's
per-pixel step as one position per layer vs a whole 1-row strip (interleaved runs), training wall time.
Writes benchmarks/results/pixelcnn.json.

    python benchmarks/pixelcnn.py [--runs 3] [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def _timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="repetitions of the cached sampler (the naive one runs once)")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    args = p.parse_args()

    import torch

    from genlib import data, hub
    from genlib import pixelcnn as px
    from genlib.recipes.pixelcnn import mean_bits_per_dim

    torch.set_num_threads(os.cpu_count() or 1)
    model = hub.load("pixelcnn")
    x_test, _ = data.load("mnist", "test", args.data_dir)
    bpd = {"float32": mean_bits_per_dim(model, x_test, amp=False), "bfloat16": mean_bits_per_dim(model, x_test, amp=True)}
    print("bits/dim", bpd, flush=True)

    def last(gen):
        for _, x in gen:
            pass
        return x.clone()

    list(px.sample_cached(model, 2, 1.0, 0))  # warm-up
    cached_times, row_strip_times = [], []
    for r in range(args.runs):  # interleaved: the cached sampler, then the same with a whole 1-row strip per pixel
        dt, cached = _timed(lambda: last(px.sample_cached(model, 16, 1.0, seed=0)))
        cached_times.append(dt)
        dt, row_strip = _timed(lambda: last(px.sample_cached(model, 16, 1.0, seed=0, per_pixel="row")))
        row_strip_times.append(dt)
    naive_time, naive = _timed(lambda: last(px.sample_naive(model, 16, 1.0, seed=0)))
    same = bool(torch.equal(naive, cached))
    mismatch = int((naive != cached).sum())
    print("naive", naive_time, "cached", cached_times, "same", same, mismatch, flush=True)
    metrics = json.loads((ROOT / "weights" / "pixelcnn" / "metrics.json").read_text())
    out = {"command": "python benchmarks/pixelcnn.py " + " ".join(sys.argv[1:]),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}",
           "test_images": len(x_test), "test_bits_per_dim": {k: round(v, 4) for k, v in bpd.items()},
           "sampling_16": {"naive_s": round(naive_time, 2), "naive_runs": 1,
                           "cached_median_s": round(statistics.median(cached_times), 3), "cached_runs": args.runs,
                           "speed_up": round(naive_time / statistics.median(cached_times), 1),
                           "identical_float32": same, "differing_pixels_float32": mismatch,
                           "row_strip_median_s": round(statistics.median(row_strip_times), 3),
                           "cursor_speed_up": round(statistics.median(row_strip_times) / statistics.median(cached_times), 2),
                           "row_strip_identical": bool(torch.equal(row_strip, cached))},
           "training_wall_s": metrics["wall_time_s"], "training_command": metrics["command"], "epochs": metrics["epochs"],
           "steps": metrics["steps"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pixelcnn.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
