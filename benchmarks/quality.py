"""Sample quality: classifier Inception Score and FID (genlib.cnn features). Writes benchmarks/results/quality.json.

    python benchmarks/quality.py [--n 1000] [--data-dir ../shared/data]

References: the 10,000 MNIST test images. The floor is the FID between n training images and the test set
(what a perfect model drawing n samples would score); real-data IS is the IS of n test images. IS uses
splits of 1000 samples (one split when n < 2000), so real and generated figures are computed alike; with one
split, the spread is the bootstrap standard deviation over 200 resamples of the n samples.

A configuration is sampler-steps:precision[:field=value...], the fields w (guidance scale, default 1; 0 = no
label), eta (DDIM's noise, default 0) and model (a registry entry, default the shipped `ddpm`), e.g.
ddim-50:bfloat16:eta=1 or ddim-50:bfloat16:model=ddpm_base. Every row starts from the same noise (seed 10,000).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"


def generate(model, bf16: bool, d, n: int, sampler: str, steps: int, seed: int, batch: int = 500, w: float = 1.0,
             eta: float = 0.0):
    """n samples in chunks of `batch` (genlib.diffusion.draw: a class-conditional net gets labels 0-9 in turn and
    guidance scale w; w = 0 is its unconditional prediction)."""
    import torch

    from genlib.diffusion import draw

    chunks = [draw(model, min(batch, n - i), seed + i, sampler, steps, eta=eta, bfloat16=bf16, process=d, w=w)
              for i in range(0, n, batch)]
    return torch.cat(chunks)


def parse_config(config: str) -> dict:
    """"ddim-50:bfloat16:w=1.25:model=ddpm_base" -> sampler, steps, bf16, w, eta, model (see the module doc)."""
    name, precision, *extra = config.split(":")
    sampler, steps = name.split("-")
    fields = dict(item.split("=", 1) for item in extra)
    unknown = set(fields) - {"w", "eta", "model"}
    if unknown or precision not in ("bfloat16", "float32"):
        raise SystemExit(f"bad configuration {config!r}: fields w, eta, model; precision bfloat16 or float32")
    return dict(sampler=sampler, steps=int(steps), bf16=precision == "bfloat16", w=float(fields.get("w", 1.0)),
                eta=float(fields.get("eta", 0.0)), model=fields.get("model", "ddpm"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=500, help="samples per configuration")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    p.add_argument("--configs", default="ddim-50:bfloat16,ddim-50:float32,ancestral-1000:bfloat16")
    args = p.parse_args()

    import torch

    from genlib import data, hub
    from genlib.images import image_grid
    from genlib.diffusion import trained_process
    from genlib.metrics import classifier_outputs, fid_from_features, inception_score, inception_score_spread

    torch.set_num_threads(os.cpu_count() or 1)
    clf = hub.load("cnn")
    x_test, _ = data.load("mnist", "test", args.data_dir)
    x_train, _ = data.load("mnist", "train", args.data_dir)
    f_test, p_test = classifier_outputs(clf, x_test)
    g = torch.Generator().manual_seed(0)
    f_train, _ = classifier_outputs(clf, x_train[torch.randperm(len(x_train), generator=g)[: args.n]])
    splits = max(1, args.n // 1000)  # IS needs enough samples per split to estimate p(y); 1000 each
    out = {
        "splits": splits,
        "command": "python benchmarks/quality.py " + " ".join(sys.argv[1:]),
        "n": args.n,
        "is_spread": "std over splits" if splits > 1 else "bootstrap std, 200 resamples",
        "reference": "MNIST test set (10,000 images)",
        "real": {"fid_train_vs_test": round(fid_from_features(f_train, f_test), 3),
                 "is_test": round(inception_score(p_test[: args.n], splits)[0], 3),
                 "is_test_all_10000": round(inception_score(p_test, 10)[0], 3)},
        "models": {},
    }
    for config in args.configs.split(","):
        c = parse_config(config)  # e.g. ddim-50:bfloat16, or ddim-50:bfloat16:w=0 (no label)
        model, d = hub.load(c["model"]), trained_process(c["model"])
        t0 = time.perf_counter()
        x = generate(model, c["bf16"], d, args.n, c["sampler"], c["steps"], seed=10_000, w=c["w"], eta=c["eta"])
        wall = time.perf_counter() - t0
        f, probs = classifier_outputs(clf, x)
        is_mean, is_std = inception_score(probs, splits)
        if splits == 1:
            is_std = inception_score_spread(probs, 200)
        out["models"][config] = {"fid": round(fid_from_features(f, f_test), 3), "is": round(is_mean, 3),
                                 "is_std": round(is_std, 3), "sampling_wall_s": round(wall, 1),
                                 "class_histogram": torch.bincount(probs.argmax(1), minlength=10).tolist()}
        print(config, out["models"][config], flush=True)
        if config == "ddim-50:bfloat16":
            from PIL import Image

            (ROOT / "docs").mkdir(exist_ok=True)
            Image.fromarray(image_grid(x[:64], 8)).resize((8 * 30 * 3 + 6, 8 * 30 * 3 + 6), Image.NEAREST).save(
                ROOT / "docs" / "samples_ddim50.png")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
