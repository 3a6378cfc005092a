"""Start-up and memory with every tab: cold start, what each tab adds to it, how long the first action of a tab
waits for its weights, and the server's memory after every tab has been used once. Writes
benchmarks/results/startup.json.

    python benchmarks/startup.py [--runs 5]

Targets (issue 9): cold start <= 5 s (median, page served), RSS after every tab used once <= 1.5 GB, the first
action of a tab waits <= 1 s for its weights.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from benchmarks.speed import bench_cold_start, free_port, start_app, stop  # noqa: E402

# In a fresh interpreter: build each tab in a page, seconds per tab (imports are measured by -X importtime).
PER_TAB = r"""
import json, os, time
os.environ["HF_HUB_OFFLINE"] = "1"
import gradio as gr
from demos import TABS
out = []
with gr.Blocks() as page:
    with gr.Tabs():
        for tab in TABS:
            with gr.Tab(tab.TAB_ID):
                t = time.perf_counter(); tab.build(); out.append({"tab": tab.TAB_ID, "models": list(tab.MODELS),
                                                                  "build_s": round(time.perf_counter() - t, 3)})
print(json.dumps(out))
"""


SHARED_IMPORTS = "import gradio, torch, numpy, pandas, PIL.Image, huggingface_hub, safetensors.torch"  # before the tabs


def import_times() -> dict:
    """Cumulative import seconds of gradio, torch and each tab module, by -X importtime. The libraries every tab
    shares are imported first, so a tab's figure is what it adds: its own module and the genlib modules it is the
    first to import (in demos.TABS' import order)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", SHARED_IMPORTS + "; import app"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stderr
    out = {}
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
            if cumulative.isdigit() and (name in ("gradio", "torch", "app") or name.startswith("demos.")):
                out[name] = round(int(cumulative) / 1e6, 3)
    return out


# In a fresh interpreter: read the weights of each tab's models, as its first action does.
FIRST_USE = r"""
import json, os, sys, time
os.environ["HF_HUB_OFFLINE"] = "1"
import torch
from genlib import hub
tab_models = json.loads(sys.argv[1])
out = {}
for tab, models in tab_models.items():
    t = time.perf_counter()
    try:
        for name in models:
            hub.load(name)
        out[tab] = round(time.perf_counter() - t, 3)
    except hub.ModelUnavailable as err:
        out[tab] = None  # weights missing: the tab shows a message instead
print(json.dumps(out))
"""

# One action per tab, the kind a visitor tries first.
USE_EACH_TAB = [
    ("ddpm", "/ddpm_sample", ("ddim", 50, 0.0, 16, 0)),
    ("flow", "/flow_sample", (3, 2.0, 20, "euler", 0.5, 16, 0)),
    ("flow", "/flow2d_field", ("moons", 0.5)),
    ("pixelcnn", "/pixelcnn_sample", (1.0, 16, 0)),
    ("transformer", "/transformer_decode", ("numbers", "three hundred and twelve", "greedy", 4, 1.0, 0, "dec_src")),
    ("attention", "/attention_single", (30, 1.5, 1.0)),
    ("linear", "/linear_regression", (1, 40, 0.5, 0, 0, 0.1, 60, 8)),
    ("evaluation", "/eval_scores", ("mnist_3v5", "logistic", 1.0, 0.5, 1.0)),
]


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmRSS")


def python(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_tabs(runs: int) -> dict:
    samples = [python(PER_TAB) for _ in range(runs)]
    imports = [import_times() for _ in range(runs)]
    tabs = []
    for i, entry in enumerate(samples[0]):
        name = f"demos.{entry['tab']}"
        tabs.append({**entry, "build_s": round(statistics.median(s[i]["build_s"] for s in samples), 3),
                     "import_s": round(statistics.median(imp.get(name, 0.0) for imp in imports), 3)})
    tab_models = {t["tab"]: t["models"] for t in tabs}
    loads = [python(FIRST_USE, json.dumps(tab_models)) for _ in range(runs)]
    for t in tabs:
        times = [load[t["tab"]] for load in loads]
        t["first_use_weights_s"] = None if None in times else round(statistics.median(times), 3)
    shared = {k: round(statistics.median(imp.get(k, 0.0) for imp in imports), 3) for k in ("gradio", "torch", "app")}
    return {"n": runs, "imports_s": shared, "tabs": tabs}


def bench_memory() -> dict:
    from gradio_client import Client

    proc, _ = start_app(port := free_port())
    try:
        served = rss_mb(proc.pid)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        used = []
        for tab, api, args in USE_EACH_TAB:
            t0 = time.perf_counter()
            client.predict(*args, api_name=api)
            used.append({"tab": tab, "api": api, "first_call_s": round(time.perf_counter() - t0, 2)})
        return {"rss_served_mb": served, "rss_after_every_tab_mb": rss_mb(proc.pid), "calls": used}
    finally:
        stop(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    result = {"command": "python benchmarks/startup.py " + " ".join(sys.argv[1:]), "machine": f"{os.cpu_count()} cores",
              "cold_start": bench_cold_start(args.runs), "per_tab": bench_tabs(args.runs), "memory": bench_memory()}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
