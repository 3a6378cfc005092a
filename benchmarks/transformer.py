"""Transformer figures: exact-match accuracy on held-out examples, decode latency for one example (greedy and
beam 4), training wall time. Writes benchmarks/results/transformer.json.

    python benchmarks/transformer.py [--runs 20]

Held-out sets: the 1000 examples train.py excluded from training (seed 12345; for the number task these are
4- to 6-digit numbers, since every smaller number occurs in training), plus 2000 fresh examples from the
training distribution (seed 999; numbers of every size, so it includes numbers the model was trained on).
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
LATENCY_INPUT = {"numbers": "three hundred and twelve thousand and forty five", "copy": "3 1 4 1 5 9 2 6 5 3"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()

    import torch

    from genlib import data, hub
    from genlib.recipes.transformer import HELD_OUT_SEED, exact_match
    from genlib.transformer import beam_search, greedy_decode, padding_mask

    torch.set_num_threads(os.cpu_count() or 1)
    out = {"command": "python benchmarks/transformer.py " + " ".join(sys.argv[1:]), "runs": args.runs,
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}", "tasks": {}}
    for task, spec in data.SEQ_TASKS.items():
        model = hub.load(f"transformer_{task}")
        heldout = data.seq_dataset(task, 1000, seed=HELD_OUT_SEED, heldout=True)
        fresh = data.seq_dataset(task, 2000, seed=999)
        src = torch.tensor([spec.encode_src(LATENCY_INPUT[task])])
        mask = padding_mask(src, data.PAD)
        latency = {}
        for name, fn in (("greedy", lambda: greedy_decode(model, src, mask, spec.max_tgt + 2, data.BOS, data.EOS)),
                         ("beam4", lambda: beam_search(model, src, mask, spec.max_tgt + 2, data.BOS, data.EOS, width=4))):
            fn()  # warm-up
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            latency[name] = {"median_ms": round(1000 * statistics.median(times), 2), "n": args.runs}
        metrics = json.loads((ROOT / "weights" / f"transformer_{task}" / "metrics.json").read_text())
        out["tasks"][task] = {"heldout_exact_match": exact_match(model, task, heldout), "heldout_n": len(heldout),
                              "fresh_exact_match": exact_match(model, task, fresh), "fresh_n": len(fresh),
                              "latency": latency, "latency_input": LATENCY_INPUT[task],
                              "training_wall_s": metrics["wall_time_s"], "training_command": metrics["command"],
                              "train_pairs": metrics["train_pairs"], "steps": metrics["steps"]}
        print(task, out["tasks"][task], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transformer.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
