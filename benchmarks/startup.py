"""Start-up and memory with every tab: cold start, what each tab adds to it, how long the first action of a tab
waits for its weights, and the server's memory after every tab has been used once. Writes
benchmarks/results/startup.json.

    python benchmarks/startup.py [--runs 5] [--page-runs 3] [--skip cold,tabs,memory,page]

Page: headless Chromium opens the page (en-US and zh-CN, a fresh context each run) with the app's page-load figures
merged into one event (ui.pageload.merge, the default) and without (GENLIB_MERGE_PAGE_LOAD=0, as before): seconds until
the DDPM note's math is typeset, seconds until the notes are in the page's language, requests that joined Gradio's
queue, and the browser main thread's busy time over the first 20 s (CPU profile, idle samples left out).

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


ZH_NOTE = "去噪扩散模型"  # in the zh DDPM note's title


def _page_view(browser, url: str, locale: str, watch_s: float) -> dict:
    ctx = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    joins = []
    page.on("request", lambda r: joins.append(r.url) if "/queue/join" in r.url else None)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.start")
    t0 = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("#ddpm-note .katex", timeout=120_000)
    math_s = time.perf_counter() - t0
    if locale.startswith("zh"):
        page.wait_for_function(f"() => document.querySelector('#ddpm-note').innerText.includes('{ZH_NOTE}')",
                               timeout=120_000)
    language_s = time.perf_counter() - t0
    page.wait_for_timeout(max(0.0, watch_s - (time.perf_counter() - t0)) * 1000)
    profile = cdp.send("Profiler.stop")["profile"]
    idle = {n["id"] for n in profile["nodes"] if n["callFrame"]["functionName"] == "(idle)"}
    busy = sum(d for sid, d in zip(profile["samples"], profile["timeDeltas"]) if sid not in idle) / 1e6
    ctx.close()
    return {"math_s": math_s, "language_s": language_s, "joins": len(joins), "main_thread_busy_s": busy}


def bench_page(runs: int, watch_s: float = 20.0) -> dict:
    from benchmarks.screenshots import served_browser

    out = {"n": runs, "watch_s": watch_s}
    for merged in (True, False):
        with served_browser(GENLIB_MERGE_PAGE_LOAD="1" if merged else "0") as (browser, port):
            for locale in ("en-US", "zh-CN"):
                views = [_page_view(browser, f"http://127.0.0.1:{port}/", locale, watch_s) for _ in range(runs)]
                out[f"{'merged' if merged else 'separate'}_{locale}"] = {
                    k: round(statistics.median(v[k] for v in views), 2) for k in views[0]}
    print("page", out, flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--page-runs", type=int, default=3)
    p.add_argument("--skip", default="", help="comma-separated parts to skip: cold, tabs, memory, page")
    args = p.parse_args()
    path = RESULTS / "startup.json"
    result = json.loads(path.read_text()) if path.exists() else {}  # a skipped part keeps its last figures
    result |= {"command": "python benchmarks/startup.py " + " ".join(sys.argv[1:]), "machine": f"{os.cpu_count()} cores"}
    skip = set(args.skip.split(","))
    for part, key, run in (("cold", "cold_start", lambda: bench_cold_start(args.runs)),
                           ("tabs", "per_tab", lambda: bench_tabs(args.runs)), ("memory", "memory", bench_memory),
                           ("page", "page", lambda: bench_page(args.page_runs))):
        if part not in skip:
            result[key] = run()
            result.setdefault("commands", {})[key] = result["command"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
