"""Data-parallel training on this machine: the same training command as one process (1 and 2 threads) and as
`torchrun --nproc_per_node 2` (1 thread each). Writes benchmarks/results/distributed.json.

    python benchmarks/distributed.py [--data-dir ../shared/data] [--limit 8192]

On 2 cores two processes compete for the same cores that one process with two threads already uses, and every step
adds an all-reduce of the gradients: a speed-up of about 1 or less is expected here. The point of the feature is the
same command on a machine with more cores, GPUs or nodes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"

from benchmarks.speed import free_port  # noqa: E402


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--limit", type=int, default=8192)
    args = p.parse_args()
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model, extra in (("cnn", ["--data-dir", args.data_dir, "--limit", str(args.limit), "--epochs", "1"]),
                             ("flow2d_moons", ["--limit", "51200", "--epochs", "2"])):
            train = [str(ROOT / "genlib" / "train.py"), model, *extra, "--out", f"{tmp}/{model}"]
            runs = {
                "1 process, 1 thread": [sys.executable, *train, "--threads", "1"],
                "1 process, 2 threads": [sys.executable, *train, "--threads", "2"],
                "torchrun, 2 processes x 1 thread": [torchrun, "--nproc_per_node", "2", "--master_port",
                                                     str(free_port()), *train, "--threads", "1"],
            }
            out[model] = {name: round(timed(cmd), 1) for name, cmd in runs.items()}
            out[model]["speed_up_2_processes_vs_2_threads"] = round(
                out[model]["1 process, 2 threads"] / out[model]["torchrun, 2 processes x 1 thread"], 2)
            print(model, out[model], flush=True)
    result = {"command": "python benchmarks/distributed.py " + " ".join(sys.argv[1:]), "machine": f"{os.cpu_count()} cores",
              "note": "wall time of the whole command (start-up, data, training, evaluation, writing)", "runs": out}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
