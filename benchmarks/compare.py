"""The Compare board: every generative model the app ships, each sampler setting one row, all measured by the same
evaluator (genlib.compare.score: the project's classifier FID / IS, class coverage) at the same n.
Writes benchmarks/results/compare.json, which the Compare tab reads.

    python benchmarks/compare.py [--n 1000] [--only ddpm,vae32] [--skip "η = 1"] [--keep] [--data-dir ../shared/data]
    python benchmarks/compare.py --retime     # only the time for 16 images, e.g. on a quiet machine

--keep merges with the rows already in compare.json that were measured at the same n (to add a new model without
re-measuring the others). Rows appear in genlib.compare.settings() order: new models join by their registry entry.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
OUT = RESULTS / "compare.json"


def board(n: int, data_dir: str | None, only: list[str], skip: list[str], keep: bool, threads: int) -> dict:
    import torch

    from genlib import compare, data, hub
    from genlib.metrics import classifier_outputs, fid_from_features

    torch.set_num_threads(threads)
    clf = hub.load("cnn")
    x_test, _ = data.load("mnist", "test", data_dir)
    x_train, _ = data.load("mnist", "train", data_dir)
    f_ref, _ = classifier_outputs(clf, x_test)
    pick = torch.randperm(len(x_train), generator=torch.Generator().manual_seed(0))[:n]
    f_train, _ = classifier_outputs(clf, x_train[pick])
    old = json.loads(OUT.read_text()) if keep and OUT.exists() else {}
    kept = {f"{r['model']}:{r['label']}": r for r in old.get("rows", []) if r["n"] == n}
    rows = []
    for s in compare.settings():
        chosen = (not only or any(o == s.model for o in only)) and not any(k in s.key for k in skip)
        if not chosen:
            if s.key in kept:
                rows.append(kept[s.key])
            continue
        t0 = time.perf_counter()
        row = compare.score(s, hub.load(s.model), clf, f_ref, n, metrics=hub.load_metrics(s.model))
        row["wall_s"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    command = "python benchmarks/compare.py " + " ".join(sys.argv[1:])
    if kept and old.get("command"):  # the rows kept were made by the earlier commands: run them in this order
        command = f"{old['command']} && {command}"
    return {
        "command": command,
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {threads} CPU threads, torch {torch.__version__}",
        "n": n,
        "reference": "MNIST test set (10,000 images), classifier features of weights/cnn",
        "real": {"fid_train_vs_test": round(fid_from_features(f_train, f_ref), 3)},
        "rows": rows,
    }


def retime(threads: int) -> dict:
    """Re-measure only the time for 16 images of every row already on the board (e.g. on a quiet machine, after the
    FID/IS rows were measured while other jobs ran); everything else is kept."""
    import torch

    from genlib import compare, hub

    torch.set_num_threads(threads)
    board = json.loads(OUT.read_text())
    by_key = {s.key: s for s in compare.settings()}
    for row in board["rows"]:
        s = by_key[f"{row['model']}:{row['label']}"]
        model = hub.load(s.model)
        fn = s.function()
        with torch.inference_mode():
            row["seconds_16"] = round(compare.seconds_for(lambda: fn(model, 16, 10_000, **s.kwargs), 5), 4)
        print(row["model"], row["label"], row["seconds_16"], flush=True)
    board["timing"] = (f"median of 5 runs after a warm-up, {threads} threads, re-measured {dt.date.today().isoformat()} "
                       "with python benchmarks/compare.py --retime")
    return board


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help="samples per row")
    p.add_argument("--only", default="", help="comma-separated registry names to measure (default: all)")
    p.add_argument("--skip", default="", help="comma-separated substrings of row keys (model:label) to leave out")
    p.add_argument("--keep", action="store_true", help="keep earlier rows at the same n for what is not measured now")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--retime", action="store_true", help="only re-measure the time for 16 images of the rows on the board")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    args = p.parse_args()
    split = lambda s: [x for x in s.split(",") if x]  # noqa: E731
    if args.retime:
        out = retime(args.threads)
    else:
        out = board(args.n, args.data_dir, split(args.only), split(args.skip), args.keep, args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
