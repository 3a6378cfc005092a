"""Speed figures: cold start, API round trips and sampling time. Writes benchmarks/results/speed.json.

    python benchmarks/speed.py [--runs 5]

Run it on a quiet machine: every figure is a median over repeated runs taken in this one process.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, **env: str) -> tuple[subprocess.Popen, float]:
    """Start `python app.py` (with `env` added to its environment) and return (process, seconds until GET / answers
    200)."""
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", HF_HUB_OFFLINE="1", **env)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as r:
                if r.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)
        if proc.poll() is not None:
            raise RuntimeError("app.py exited")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=20)


def median_ms(xs: list[float]) -> float:
    return round(1000 * statistics.median(xs), 1)


def bench_cold_start(runs: int) -> dict:
    times = []
    for _ in range(runs):
        proc, dt = start_app(free_port())
        times.append(dt)
        stop(proc)
    return {"median_s": round(statistics.median(times), 2), "runs_s": [round(t, 2) for t in times], "n": runs}


def bench_api(runs: int) -> dict:
    from gradio_client import Client

    proc, _ = start_app(port := free_port())
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(10, api_name="/ddpm_forward")  # warm-up
        slider = []
        for i in range(10 * runs):
            t0 = time.perf_counter()
            client.predict((37 * i) % 1001, api_name="/ddpm_forward")
            slider.append(time.perf_counter() - t0)
        client.predict("ddim", 5, 0.0, 16, 0, api_name="/ddpm_sample")  # warm-up
        sample = []
        for i in range(runs):
            t0 = time.perf_counter()
            client.predict("ddim", 50, 0.0, 16, i, api_name="/ddpm_sample")
            sample.append(time.perf_counter() - t0)
        client.predict("moons", 0.5, api_name="/flow2d_field")  # warm-up (simulates the particles once)
        field = []
        for i in range(10 * runs):
            t0 = time.perf_counter()
            client.predict("moons", round((7 * i) % 51 / 50, 2), api_name="/flow2d_field")
            field.append(time.perf_counter() - t0)
        client.predict(3, 2.0, 2, "euler", 0.5, 16, 0, api_name="/flow_sample")  # warm-up (loads the model)
        flow_sample = []
        for i in range(runs):
            t0 = time.perf_counter()
            client.predict(i % 10, 2.0, 10, "euler", 0.5, 16, i, api_name="/flow_sample")
            flow_sample.append(time.perf_counter() - t0)
        client.predict(1.0, 2, 0, api_name="/pixelcnn_sample")  # warm-up (loads the model)
        pixelcnn_sample = []
        for i in range(runs):
            t0 = time.perf_counter()
            client.predict(1.0, 16, i, api_name="/pixelcnn_sample")
            pixelcnn_sample.append(time.perf_counter() - t0)
    finally:
        stop(proc)
    return {
        "slider_round_trip_ms": {"median": median_ms(slider), "p90": round(1000 * sorted(slider)[int(0.9 * len(slider))], 1),
                                 "n": len(slider)},
        "sample_ddim50_16_round_trip_s": {"median": round(statistics.median(sample), 2), "n": len(sample)},
        "flow2d_field_round_trip_ms": {"median": median_ms(field), "p90": round(1000 * sorted(field)[int(0.9 * len(field))], 1),
                                       "n": len(field)},
        "flow_sample_16_guided_10_round_trip_s": {"median": round(statistics.median(flow_sample), 2), "n": len(flow_sample)},
        "pixelcnn_sample_16_round_trip_s": {"median": round(statistics.median(pixelcnn_sample), 2), "n": len(pixelcnn_sample)},
    }


def bench_sampling(runs: int) -> dict:
    """16 samples in-process, the tab's default labels (0-9 in turn, w = 1): float32, bfloat16 autocast as one batch
    on all intra-op threads, and bfloat16 with the batch split over the cores (autocast_model(workers=cores): one
    slice per core, one intra-op thread each, the sampler's loop on one thread). The variants alternate within each repetition, so machine load hits
    them alike; the split's samples are checked against the whole batch's."""
    import torch

    from genlib import hub
    from genlib.diffusion import autocast_model, class_labels, trained_process

    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    model, d = hub.load("ddpm"), trained_process("ddpm")  # the shipped schedule and target
    variants = {"float32": autocast_model(model, False, y=class_labels(16)),
                "bfloat16": autocast_model(model, True, y=class_labels(16))}
    if cores > 1:
        variants["bfloat16_split"] = autocast_model(model, True, y=class_labels(16), workers=cores)
    out = {"cores": cores}
    for name, eps in variants.items():
        torch.set_num_threads(1 if name == "bfloat16_split" else cores)
        d.sample(eps, 16, steps=5, seed=0)  # warm-up
    for sampler, steps in [("ddim", 25), ("ddim", 50), ("ddim", 100), ("ancestral", 1000)]:
        reps = runs if sampler == "ddim" else max(1, runs // 3)
        times = {name: [] for name in variants}
        for r in range(reps):
            for name, eps in variants.items():
                torch.set_num_threads(1 if name == "bfloat16_split" else cores)  # the split's loop: one thread (in_parallel)
                t0 = time.perf_counter()
                x = d.sample(eps, 16, sampler=sampler, steps=steps, seed=r)
                times[name].append(time.perf_counter() - t0)
                if name == "bfloat16":
                    whole = x
                elif name == "bfloat16_split":
                    out.setdefault("split_max_abs_diff", 0.0)
                    out["split_max_abs_diff"] = max(out["split_max_abs_diff"], (x - whole).abs().max().item())
        for name, ts in times.items():
            out[f"{name}/{sampler}-{steps}"] = {"median_s": round(statistics.median(ts), 3), "n": reps}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--skip", default="", help="comma-separated parts to keep from the last run: cold_start, api, sampling_16")
    args = p.parse_args()
    import torch

    path = RESULTS / "speed.json"
    result = json.loads(path.read_text()) if path.exists() else {}
    result.update({"machine": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
                   "command": "python benchmarks/speed.py " + " ".join(sys.argv[1:])})
    skip = set(args.skip.split(","))
    for key, run in (("cold_start", bench_cold_start), ("api", bench_api), ("sampling_16", bench_sampling)):
        if key not in skip:
            result[key] = run(args.runs)
            result.setdefault("commands", {})[key] = result["command"]  # parts can come from different runs
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
