"""CNN tab figures: test accuracy, per-class accuracy and the confusion matrix of the `cnn` (MNIST) and
`cnn_fashion` (Fashion-MNIST) classifiers on the full 10,000-image test sets, with the training wall time from
metrics.json. Writes benchmarks/results/cnn.json and, for the tab (which must not need the data sets at run time),
weights/<name>/test_errors.npz: the confusion matrix and every misclassified test image with its label, prediction
and confidence.

    python benchmarks/cnn.py --data-dir ../shared/data
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
MODELS = {"cnn": "mnist", "cnn_fashion": "fashion-mnist"}
TARGETS = {"cnn": 0.994, "cnn_fashion": 0.925}  # issue 14


def main(argv=None) -> dict:
    from genlib import cnn, data, hub

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    out = {}
    for name, dataset in MODELS.items():
        try:
            model = hub.load(name).eval()
        except hub.ModelUnavailable as err:
            print(f"{name}: {err}")
            continue
        x, y = data.load(dataset, "test", args.data_dir)
        r = cnn.evaluate(model, x, y)
        metrics = hub.load_metrics(name)
        out[name] = {"dataset": dataset, "n_test": len(y), "test_accuracy": r["accuracy"], "target": TARGETS[name],
                     "met": r["accuracy"] >= TARGETS[name], "per_class": [round(v, 4) for v in r["per_class"].tolist()],
                     "confusion": r["confusion"].tolist(), "train_wall_time_s": metrics.get("wall_time_s"),
                     "train_command": metrics.get("command"), "hardware": metrics.get("hardware")}
        images = ((x[r["wrong"]] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)[:, 0].numpy()
        np.savez_compressed(ROOT / "weights" / name / "test_errors.npz", confusion=r["confusion"].numpy(),
                            index=r["wrong"].numpy(), label=r["wrong_label"].numpy(), pred=r["wrong_pred"].numpy(),
                            conf=r["wrong_conf"].numpy(), images=images)
        print(f"{name}: test accuracy {r['accuracy']:.4f} (target {TARGETS[name]}), {len(r['wrong'])} mistakes")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cnn.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
