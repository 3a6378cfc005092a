"""PixelCNN figures: test-set bits/dim on 8-bit MNIST (all 10,000 images), time for 16 samples with the naive loop
and with the strip cache in the same run (and whether they drew the same images), the cached sampler's
per-pixel step as one position per layer vs a whole 1-row strip (interleaved runs), training wall time; one
training step with the fused causal attention vs the boolean mask (interleaved); sample quality at T = 1, 0.9, 0.8
(the project classifier's IS on n samples with a bootstrap spread, FID against the 10,000 test images). The shipped
model is class-conditional (issue 18): its bits/dim is -log2 p(x) / 784 with the label summed out (and, beside it,
given the true label); its samples are drawn with labels 0-9 in turn, and the unconditional model it was warm-started
from (`pixelcnn_uncond`) is sampled in the same run at T = 1 for comparison.
Writes benchmarks/results/pixelcnn.json.

    python benchmarks/pixelcnn.py [--runs 3] [--n 1000] [--data-dir ../shared/data]
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


def training_step_times(config: dict, x, runs: int) -> dict:
    """Seconds per training step (forward, backward, AdamW; bfloat16 autocast as in train.py) of a fresh model of the
    shipped size on the batch x, with the attention through the fused causal kernel and through the boolean mask:
    interleaved, 3 steps per timing, the median of `runs` timings each."""
    import torch

    from genlib import pixelcnn as px
    from genlib.recipes.pixelcnn import image_bits_per_dim

    torch.manual_seed(0)
    model = px.PixelSNAIL(**config)
    y = torch.arange(len(x)) % 10 if model.num_classes else None  # a conditional net's step sees labels
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def steps(fused: bool, k: int = 3) -> float:
        for attn in model.attn:
            attn.fused = fused
        t0 = time.perf_counter()
        for _ in range(k):
            loss = image_bits_per_dim(model, x, y=y).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return (time.perf_counter() - t0) / k

    steps(True, 2), steps(False, 2)  # warm-up
    times = {"fused": [], "mask": []}
    for _ in range(runs):
        times["fused"].append(steps(True))
        times["mask"].append(steps(False))
    fused, mask = statistics.median(times["fused"]), statistics.median(times["mask"])
    return {"batch": len(x), "runs": runs, "fused_s": round(fused, 3), "mask_s": round(mask, 3),
            "speed_up": round(mask / fused, 2)}


def sample_quality(model, clf, f_test, n: int, temperatures, batch: int = 250, boot: int = 200, w: float = 1.0,
                   key: str = "T") -> dict:
    """Per temperature (or per guidance scale with key="w": `temperatures` then holds (T, w) pairs): n samples from
    the exact cached sampler (seeds 10,000 + i per batch), the classifier IS on all n (one split, as
    benchmarks/quality.py at n < 2000) with the standard deviation over `boot` bootstrap resamples of the n samples,
    FID against the test set, the histogram of predicted classes."""
    import torch

    from genlib import pixelcnn as px
    from genlib.metrics import classifier_outputs, fid_from_features, inception_score, inception_score_spread

    from genlib.sampling import class_labels

    out = {}
    for item in temperatures:
        T, w_i = item if key == "w" else (item, w)
        name = f"w={w_i}" if key == "w" else f"T={T}"
        t0 = time.perf_counter()
        x = torch.cat([px.draw(model, min(batch, n - i), seed=10_000 + i, temperature=T, w=w_i)
                       for i in range(0, n, batch)])
        wall = time.perf_counter() - t0
        y = torch.cat([class_labels(min(batch, n - i)) for i in range(0, n, batch)])  # the labels draw() used
        f, probs = classifier_outputs(clf, x)
        out[name] = {"is": round(inception_score(probs, 1)[0], 3),
                     "is_bootstrap_std": round(inception_score_spread(probs, boot, seed=0), 3),
                     "fid": round(fid_from_features(f, f_test), 2), "sampling_wall_s": round(wall, 1),
                     "class_histogram": torch.bincount(probs.argmax(1), minlength=10).tolist()}
        if model.num_classes:  # how often the classifier reads the digit the sample was drawn for
            out[name]["label_agreement"] = round((probs.argmax(1) == y).float().mean().item(), 4)
        print(name, T, w_i, out[name], flush=True)
    res = {"n": n, "bootstrap_resamples": boot, "reference": "MNIST test set (10,000 images)"}
    return res | ({"guidance": out, "temperature": temperatures[0][0]} if key == "w" else {"temperatures": out, "w": w})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3, help="repetitions of the cached sampler (the naive one runs once)")
    p.add_argument("--n", type=int, default=1000, help="samples per temperature for IS / FID")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    p.add_argument("--w", type=float, default=1.0, help="guidance scale of the temperature rows (the tab's default)")
    p.add_argument("--w-sweep", default="1,2,3", help="guidance scales measured at T = 1")
    args = p.parse_args()

    import torch

    from genlib import data, hub, registry
    from genlib import pixelcnn as px
    from genlib.metrics import classifier_outputs
    from genlib.recipes.pixelcnn import mean_bits_per_dim, mixture_bits_per_dim

    torch.set_num_threads(os.cpu_count() or 1)
    model = hub.load("pixelcnn")
    x_test, y_test = data.load("mnist", "test", args.data_dir)
    if model.num_classes:  # -log2 p(x) / D, p(x) = (1/10) sum_y p(x | y): one pass per class. The bfloat16 figure
        # is train.py's (the same function under autocast), not recomputed here
        final = hub.load_metrics("pixelcnn")["final"]
        bpd = {"float32": mixture_bits_per_dim(model, x_test, amp=False),
               "bfloat16": round(final["test_bits_per_dim_ema"], 4),
               "given_label_float32": mean_bits_per_dim(model, x_test, amp=False, y=y_test),
               "no_label_float32": mean_bits_per_dim(model, x_test, amp=False,
                                                     y=torch.full((len(x_test),), model.num_classes))}
    else:
        bpd = {"float32": mean_bits_per_dim(model, x_test, amp=False), "bfloat16": mean_bits_per_dim(model, x_test, amp=True)}
    print("bits/dim", bpd, flush=True)

    def last(gen):  # the final image of a sampler's steps
        for step in gen:
            pass
        return step.x.clone()

    list(px.sample_cached(model, 2, 1.0, 0))  # warm-up
    cached_times, row_strip_times, guided_times = [], [], []
    guided = model.num_classes and args.w != 1.0
    for r in range(args.runs):  # interleaved: the cached sampler, then the same with a whole 1-row strip per pixel
        dt, cached = _timed(lambda: last(px.sample_cached(model, 16, 1.0, seed=0)))
        cached_times.append(dt)
        dt, row_strip = _timed(lambda: last(px.sample_cached(model, 16, 1.0, seed=0, per_pixel="row")))
        row_strip_times.append(dt)
        if guided:  # the tab's default: guidance runs a batch of 32 (each image with its label and with none)
            guided_times.append(_timed(lambda: last(px.sample_cached(model, 16, 1.0, seed=0, w=args.w)))[0])
    naive_time, naive = _timed(lambda: last(px.sample_naive(model, 16, 1.0, seed=0)))
    same = bool(torch.equal(naive, cached))
    mismatch = int((naive != cached).sum())
    print("naive", naive_time, "cached", cached_times, "same", same, mismatch, flush=True)
    train_step = training_step_times(registry.MODELS["pixelcnn"].config, x_test[:64], args.runs)
    print("training step", train_step, flush=True)
    clf = hub.load("cnn")
    f_test, _ = classifier_outputs(clf, x_test)
    quality = sample_quality(model, clf, f_test, args.n, (1.0, 0.9, 0.8), w=args.w)
    baseline, sweep = {}, {}
    if model.num_classes:  # guidance scales at T = 1; the unconditional start, same seeds, same run
        sweep = sample_quality(model, clf, f_test, args.n, [(1.0, float(v)) for v in args.w_sweep.split(",")
                                                            if float(v) != args.w], key="w")
        baseline = sample_quality(hub.load("pixelcnn_uncond"), clf, f_test, args.n, (1.0,))
        baseline["model"] = "pixelcnn_uncond"
    metrics = hub.load_metrics("pixelcnn")
    init = metrics.get("init", {})
    out = {"command": "python benchmarks/pixelcnn.py " + " ".join(sys.argv[1:]),
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}",
           "test_images": len(x_test), "test_bits_per_dim": {k: round(v, 4) for k, v in bpd.items()},
           "sampling_16": {"naive_s": round(naive_time, 2), "naive_runs": 1,
                           "cached_median_s": round(statistics.median(cached_times), 3), "cached_runs": args.runs,
                           "speed_up": round(naive_time / statistics.median(cached_times), 1),
                           "identical_float32": same, "differing_pixels_float32": mismatch,
                           "row_strip_median_s": round(statistics.median(row_strip_times), 3),
                           "cursor_speed_up": round(statistics.median(row_strip_times) / statistics.median(cached_times), 2),
                           "row_strip_identical": bool(torch.equal(row_strip, cached)),
                           **({"guided_w": args.w, "guided_median_s": round(statistics.median(guided_times), 3)}
                              if guided else {})},
           "training_wall_s": metrics["wall_time_s"], "training_command": metrics["command"], "epochs": metrics["epochs"],
           "steps": metrics["steps"], "final_train_bpd": metrics["final"]["train_bpd_last"],
           "training_step": train_step, "samples": quality}
    if init:  # the warm start: the run before, and the two together
        out["init"] = {"from": init["from"], "command": init["command"], "wall_time_s": init["wall_time_s"],
                       "epochs": init["epochs"], "total_wall_s": round(init["wall_time_s"] + metrics["wall_time_s"], 1)}
    if baseline:
        out["samples_uncond"], out["samples_guidance"] = baseline, sweep
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pixelcnn.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
