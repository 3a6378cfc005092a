"""Many visitors at once: N gradio_client clients call a mix of cheap events (sliders, plots), quick model calls
(a Transformer decode) and image samplers for a fixed time. Writes benchmarks/results/load.json: per endpoint the
p50/p95 latency and the errors, the throughput, and the server's memory before and after.

    python benchmarks/load.py [--clients 20] [--seconds 120]

Targets (issue 9), 20 clients for 2 minutes: 0 errors, cheap events p95 <= 0.5 s, decode p95 <= 1 s, RSS growth
<= 10 % after a warm-up pass. The clients run in this process (threads), on the same 2 cores as the server: the
figures include that contention, as a Space with many visitors would not.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from benchmarks.speed import free_port, start_app, stop  # noqa: E402
from benchmarks.startup import rss_mb  # noqa: E402

# (endpoint, kind, weight, arguments from a random generator): what a class of visitors clicks
MIX = [
    ("/ddpm_forward", "cheap", 30, lambda r: (r.randrange(0, 1001),)),
    ("/attention_single", "cheap", 15, lambda r: (r.randrange(-180, 181), 1.5, 1.0)),
    ("/transformer_mask", "cheap", 10, lambda r: (r.randrange(1, 33),)),
    ("/flow2d_field", "cheap", 15, lambda r: ("moons", round(r.random(), 2))),
    ("/transformer_decode", "quick_model", 15,
     lambda r: ("numbers", r.choice(["three hundred and twelve", "fourteen thousand and seven", "seventeen"]), "greedy",
                4, 1.0, 0, "dec_src")),
    ("/ddpm_sample", "sampler", 5, lambda r: ("ddim", 50, 0.0, 16, r.randrange(1000))),
    ("/flow_sample", "sampler", 5, lambda r: (r.randrange(10), 2.0, 20, "euler", 0.5, 16, r.randrange(1000))),
    ("/pixelcnn_sample", "sampler", 5, lambda r: (1.0, 16, r.randrange(1000))),
]


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def warm_up(client) -> None:
    """One call of every endpoint in the mix: the models are loaded, the caches filled."""
    rng = random.Random(0)
    for api, _, _, make in MIX:
        client.predict(*make(rng), api_name=api)


def run_clients(url: str, clients: int, seconds: float) -> list[dict]:
    from gradio_client import Client

    records, lock = [], threading.Lock()
    deadline = time.monotonic() + seconds
    weights = [w for _, _, w, _ in MIX]

    def visitor(k: int) -> None:
        rng = random.Random(k)
        client = Client(url, verbose=False)
        while time.monotonic() < deadline:
            api, kind, _, make = rng.choices(MIX, weights)[0]
            t0 = time.perf_counter()
            error = None
            try:
                client.predict(*make(rng), api_name=api)
            except Exception as err:  # counted, reported by type
                error = type(err).__name__
            with lock:
                records.append({"api": api, "kind": kind, "s": time.perf_counter() - t0, "error": error})

    threads = [threading.Thread(target=visitor, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records


def summarise(records: list[dict], seconds: float) -> dict:
    out = {}
    for key in sorted({r["api"] for r in records}):
        rs = [r for r in records if r["api"] == key]
        ok = [r["s"] for r in rs if r["error"] is None]
        out[key] = {"kind": rs[0]["kind"], "n": len(rs), "errors": len(rs) - len(ok),
                    "p50_s": round(statistics.median(ok), 3) if ok else None,
                    "p95_s": round(percentile(ok, 0.95), 3) if ok else None}
    by_kind = {}
    for kind in ("cheap", "quick_model", "sampler"):
        ok = [r["s"] for r in records if r["kind"] == kind and r["error"] is None]
        by_kind[kind] = {"n": len(ok), "p50_s": round(statistics.median(ok), 3) if ok else None,
                         "p95_s": round(percentile(ok, 0.95), 3) if ok else None}
    return {"endpoints": out, "by_kind": by_kind, "errors": sum(r["error"] is not None for r in records),
            "error_types": sorted({r["error"] for r in records if r["error"]}),
            "requests_per_s": round(len(records) / seconds, 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--kinds", default="cheap,quick_model,sampler", help="which kinds of events the clients send")
    p.add_argument("--out", default="load.json", help="file name under benchmarks/results/")
    args = p.parse_args()
    MIX[:] = [m for m in MIX if m[1] in args.kinds.split(",")]
    from gradio_client import Client

    proc, _ = start_app(port := free_port())
    url = f"http://127.0.0.1:{port}/"
    try:
        rss = {"served_mb": rss_mb(proc.pid)}
        warm_up(Client(url, verbose=False))
        rss["after_warm_up_mb"] = rss_mb(proc.pid)
        records = run_clients(url, args.clients, args.seconds)
        rss["after_load_mb"] = rss_mb(proc.pid)
    finally:
        stop(proc)
    rss["growth_after_warm_up_pct"] = round(100 * (rss["after_load_mb"] / rss["after_warm_up_mb"] - 1), 1)
    result = {"command": "python benchmarks/load.py " + " ".join(sys.argv[1:]), "clients": args.clients,
              "seconds": args.seconds, "machine": f"{os.cpu_count()} cores", "rss": rss,
              "mix": {api: {"kind": kind, "weight": w} for api, kind, w, _ in MIX}, **summarise(records, args.seconds)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
