"""Autoencoder / VAE tab figures, written to benchmarks/results/vae.json (each part updates its own key):

    python benchmarks/vae.py --data-dir ../shared/data                  every part below
    python benchmarks/vae.py --data-dir ../shared/data --codes          weights/{ae2,vae2}/test_codes.npz (the tab's map)
    python benchmarks/vae.py --data-dir ../shared/data --recon          reconstruction error and ELBO terms, every model
    python benchmarks/vae.py --data-dir ../shared/data --few-labels     classifier on frozen codes vs pixels
    python benchmarks/vae.py --data-dir ../shared/data --iw [--k 5000] [--n 10000]
                                                                        the importance-weighted bound of vae32

The likelihood figure: -L_k, the importance-weighted bound (Burda et al. 2016) with k = 5000 samples, on the test set
binarised once with seed 0 (genlib.recipes.vae.test_binarized), images taken in a seeded random order so that a run
stopped early (or --n below 10,000) is an unbiased estimate; the mean, its standard error and the ELBO of the same
images are saved every --save-every images. Anchors (IWAE paper, table 1, one stochastic layer): VAE 86.76 nats,
IWAE 84.78 nats; goal <= 88 nats.

The few-labels table: multinomial logistic regression (scikit-learn, standardised features) trained on 10, 100, 1000
or all 60,000 labelled training images (class-balanced draws, repeated over seeds for the small counts) on raw pixels
or on the frozen codes of AE-32, VAE-32 (mu), AE-2 and VAE-2; test accuracy on the 10,000 test images.
"""
from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "results" / "vae.json"
GOAL_NATS = 88.0  # issue 10
ANCHORS = {"VAE, IWAE paper table 1 (k = 5000)": 86.76, "IWAE k = 50, same table": 84.78}
RECON_MODELS = ("ae2", "ae32", "vae2", "vae32", "vae32_recon", "vae32_kl", "vae32_beta05", "vae32_beta4")
FEATURES = {"pixels": None, "AE-32 codes": "ae32", "VAE-32 μ": "vae32", "VAE-32 μ, active units": "vae32:active",
            "AE-2 codes": "ae2", "VAE-2 μ": "vae2"}
LABEL_COUNTS = (10, 100, 1000, 60000)
REPEATS = {10: 10, 100: 5, 1000: 3}  # draws of the labelled set (other counts: one)


def _merge(key: str, value) -> dict:
    """Update one key of vae.json (the other parts are kept)."""
    out = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
    out[key] = value
    out["date"] = datetime.date.today().isoformat()
    out["machine"] = f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return out


def _test_set(data_dir):
    from genlib import data
    from genlib.recipes.vae import test_binarized, to_unit

    x, y = data.load("mnist", "test", data_dir)
    return test_binarized(x), to_unit(x), y


def codes_part(data_dir) -> None:
    """The 2-D codes of the 10,000 test digits for the tab's latent map (float16, ~60 kB per model)."""
    from genlib import hub
    from genlib.recipes.vae import codes

    x_bin, _, y = _test_set(data_dir)
    for name in ("ae2", "vae2"):
        z = codes(hub.load(name), x_bin).numpy()
        np.savez_compressed(hub.folder(name) / "test_codes.npz", codes=z.astype(np.float16),
                            labels=y.numpy().astype(np.uint8))
        inside = {f"{w:g}": float((np.abs(z) <= w).all(1).mean()) for w in (3, 4, 6, 8, 12, 16, 24)}
        print(f"{name}: codes written; share inside [-w, w]^2: {inside}")


def recon_part(data_dir) -> None:
    """Reconstruction error of every model (at its code) and the VAEs' ELBO terms, re-measured on the test set."""
    from genlib import hub
    from genlib.recipes.vae import evaluate

    x_bin, x_unit, _ = _test_set(data_dir)
    rows = []
    for name in RECON_MODELS:
        r = evaluate(hub.load(name), x_bin, x_unit)
        m = hub.load_metrics(name)
        rows.append({"model": name, **r, "train_wall_time_s": m.get("wall_time_s"), "train_cpu_time_s": m.get("cpu_time_s"),
                     "epochs": m.get("epochs"), "command": m.get("command")})
        print(name, r)
    _merge("reconstruction", {"rows": rows, "n_test": len(x_bin)})


def few_labels_part(data_dir, counts=LABEL_COUNTS, only: list[str] | None = None) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from genlib import data, hub
    from genlib.recipes.vae import codes, test_binarized, to_unit

    x_tr, y_tr = data.load("mnist", "train", data_dir)
    x_te, y_te = data.load("mnist", "test", data_dir)
    x_tr, x_te = to_unit(x_tr), to_unit(x_te)
    y_tr, y_te = y_tr.numpy(), y_te.numpy()
    old = json.loads(OUT.read_text(encoding="utf-8")).get("few_labels", {}).get("rows", []) if OUT.exists() else []
    rows = [r for r in old if only and r["features"] not in only]  # --features: redo those, keep the others
    for feature, name in FEATURES.items():
        if only and feature not in only:
            continue
        if name is None:
            f_tr, f_te = x_tr.flatten(1).numpy(), x_te.flatten(1).numpy()
        else:  # the encoder reads grey levels here (a fixed input, no binarisation noise in the features)
            model = hub.load(name.split(":")[0])
            f_tr, f_te = codes(model, x_tr).numpy(), codes(model, x_te).numpy()
            if name.endswith(":active"):  # inactive units (Cov_x mu_j <= 0.01) would be standardised into pure noise
                keep = f_tr.var(0) > 0.01
                f_tr, f_te = f_tr[:, keep], f_te[:, keep]
        for count in counts:
            accs = []
            for rep in range(REPEATS.get(count, 1)):
                idx = _balanced(y_tr, count, seed=rep)
                scaler = StandardScaler().fit(f_tr[idx])
                clf = LogisticRegression(max_iter=300, C=1.0)
                clf.fit(scaler.transform(f_tr[idx]), y_tr[idx])
                accs.append(float((clf.predict(scaler.transform(f_te)) == y_te).mean()))
            rows.append({"features": feature, "labels": count, "accuracy": round(float(np.mean(accs)), 4),
                         "sd": round(float(np.std(accs, ddof=1)), 4) if len(accs) > 1 else None, "repeats": len(accs)})
            print(rows[-1], flush=True)
    _merge("few_labels", {"rows": rows, "classifier": "multinomial logistic regression (scikit-learn lbfgs, C = 1, "
                          "standardised features)", "n_test": len(y_te)})


def _balanced(y: np.ndarray, count: int, seed: int) -> np.ndarray:
    """`count` training indices, count/10 per class (all of them when count is the whole set)."""
    if count >= len(y):
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.nonzero(y == c)[0], count // 10, replace=False) for c in range(10)])


def iw_part(data_dir, k: int, n: int, save_every: int, batch: int, chunk: int, start: int = 0) -> None:
    from genlib import hub, vae
    from genlib.recipes.vae import mean_and_se

    model = hub.load("vae32")
    x_bin, _, _ = _test_set(data_dir)
    order = torch.randperm(len(x_bin), generator=torch.Generator().manual_seed(0))[: min(n, len(x_bin))][start:]
    g = torch.Generator().manual_seed(1 + start)  # a second worker (--start) draws its own samples
    iw, elbo, t0 = [], [], time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(order), batch):
            x = x_bin[order[i : i + batch]]
            iw.append((-vae.iw_bound(model, x, k, g, chunk=chunk)).double().numpy())
            elbo.append((-vae.elbo_terms(model, x, g)["elbo"]).double().numpy())
            done = i + len(x)
            if done % save_every < batch or done == len(order):
                a, e = np.concatenate(iw), np.concatenate(elbo)
                (m, se), (me, see) = mean_and_se(a), mean_and_se(e)
                _merge("iw", {"model": "vae32", "k": k, "n": int(done), "n_target": len(order), "start": start,
                              "iw_nll": round(m, 3), "iw_se": round(se, 3), "neg_elbo": round(me, 3),
                              "neg_elbo_se": round(see, 3), "gap": round(me - m, 3), "goal": GOAL_NATS,
                              "met": m <= GOAL_NATS, "anchors": ANCHORS, "seconds": round(time.perf_counter() - t0, 1),
                              "order": "test images in a random order (torch.randperm, seed 0)",
                              "command": f"python benchmarks/vae.py --data-dir ../shared/data --iw --k {k} --n {n}"})
                print(f"{done}/{len(order)} images: -L_{k} = {m:.3f} ± {se:.3f}, -ELBO = {me:.3f} ± {see:.3f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)


def combine_iw(paths: list[str]) -> dict:
    """Pool the "iw" records of workers that measured disjoint parts of the random order (--start): the mean over all
    their images and its standard error, from each part's n, mean and standard error."""
    parts = [json.loads(Path(p).read_text(encoding="utf-8"))["iw"] for p in paths]
    n = sum(p["n"] for p in parts)
    out = dict(parts[0], n=n, start=0, workers=len(parts), seconds=max(p["seconds"] for p in parts))
    for mean_key, se_key in (("iw_nll", "iw_se"), ("neg_elbo", "neg_elbo_se")):
        m = sum(p["n"] * p[mean_key] for p in parts) / n
        ss = sum((p["n"] - 1) * p["n"] * p[se_key] ** 2 + p["n"] * (p[mean_key] - m) ** 2 for p in parts)
        out[mean_key], out[se_key] = round(m, 3), round(float(np.sqrt(ss / (n - 1) / n)), 3)
    out["gap"] = round(out["neg_elbo"] - out["iw_nll"], 3)
    out["met"] = out["iw_nll"] <= GOAL_NATS
    return out


def report_section(res: dict) -> list[str]:
    """The VAE tab's section of BENCHMARKS.md (benchmarks/report.py calls this with benchmarks/results/vae.json)."""
    if not res:
        return []
    out = ["## Autoencoder / VAE (`python benchmarks/vae.py --data-dir ../shared/data`)", ""]
    iw = res.get("iw")
    if iw:
        full = iw["n"] >= 10_000
        where = "all 10,000 test images" if full else (f"{iw['n']} of the 10,000 test images (a random subset, seed 0; "
                                                        f"the full run is `{iw['command']}`)")
        out += [f"Test log-likelihood bound of `vae32` on dynamically binarised MNIST (the test set binarised once, seed 0), "
                f"{where}, measured {res.get('date', '?')} on {res.get('machine', '?')} in {iw['seconds'] / 60:.0f} min:", "",
                "| figure | nats ↓ | ± standard error |", "|---|---:|---:|",
                f"| −ℒ_{iw['k']} (importance-weighted bound, k = {iw['k']}) | {iw['iw_nll']:.2f} | {iw['iw_se']:.2f} |",
                f"| −ELBO (one sample per image, same images) | {iw['neg_elbo']:.2f} | {iw['neg_elbo_se']:.2f} |"]
        out += [f"| anchor: {k} | {v} | |" for k, v in iw["anchors"].items()]
        partial = "" if full else f" ± {iw['iw_se']:.2f} at n = {iw['n']}"
        out += ["", f"Goal ≤ {iw['goal']:g} nats: {'met' if iw['met'] else '**missed**'} ({iw['iw_nll']:.2f}{partial}); "
                f"the bound is {iw['gap']:.2f} nats tighter than the ELBO.", ""]
    rec = res.get("reconstruction")
    if rec:
        out += ["Every model on the 10,000 test images (nats per image; `recon` is −log p(x | code) at the AE's code or "
                "the VAE's mean μ(x); MSE of the decoded mean image against the grey-level image, per pixel):", "",
                "| model | recon at the code | MSE | −E_q log p(x∣z) | KL | −ELBO | active units | epochs | training wall "
                "(CPU) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rec["rows"]:
            g = lambda k: f"{r[k]:.2f}" if k in r else "–"  # noqa: E731
            cpu = f" ({r['train_cpu_time_s'] / 60:.1f})" if r.get("train_cpu_time_s") else ""
            wall = f"{r['train_wall_time_s'] / 60:.1f}{cpu} min" if r.get("train_wall_time_s") else "–"
            out.append(f"| {r['model']} | {g('recon_nats')} | {r['recon_mse']:.4f} | {g('elbo_recon_nats')} | {g('kl_nats')} | "
                       f"{g('neg_elbo')} | {r.get('active_units', '–')} | {r.get('epochs', '–')} | {wall} |")
        total = sum(r.get("train_wall_time_s") or 0 for r in rec["rows"]) / 60
        cpu = sum(r.get("train_cpu_time_s") or 0 for r in rec["rows"]) / 60
        big = next((r for r in rec["rows"] if r["model"] == "vae32"), {})
        big_wall, big_cpu = (big.get("train_wall_time_s") or 0) / 60, (big.get("train_cpu_time_s") or 0) / 60
        verdict = lambda ok: "met" if ok else "**missed**"  # noqa: E731
        out += ["", f"Training, all eight models: {cpu:.0f} min of CPU, {total:.0f} min wall (one thread each, two at a "
                f"time, on the 2-core machine shared with other sessions' jobs: each run got ~15 % of a core). With one "
                f"thread on an idle core the CPU time is the wall time. Targets: all eight ≤ 45 min — {verdict(cpu <= 45)} "
                f"in CPU time, {verdict(total <= 45)} as wall time on the loaded machine; the big VAE ≤ 15 min — "
                f"{verdict(big_cpu <= 15)} in CPU time ({big_cpu:.1f} min), {verdict(big_wall <= 15)} as wall time "
                f"({big_wall:.1f} min).", ""]
    few = res.get("few_labels")
    if few:
        counts = sorted({r["labels"] for r in few["rows"]})
        feats = list(dict.fromkeys(r["features"] for r in few["rows"]))
        acc = {(r["features"], r["labels"]): r for r in few["rows"]}
        cell = lambda r: f"{r['accuracy']:.3f}" + (f" ± {r['sd']:.3f}" if r.get("sd") else "")  # noqa: E731
        out += [f"Few labels: {few['classifier']}, trained on class-balanced labelled subsets of the training set "
                "(mean ± sd over repeated draws), test accuracy on all 10,000 test images:", "",
                "| features | " + " | ".join(f"{k:,} labels" for k in counts) + " |", "|---|" + "---:|" * len(counts)]
        out += [f"| {f} | " + " | ".join(cell(acc[(f, k)]) if (f, k) in acc else "–" for k in counts) + " |" for f in feats]
        out += [""]
    return out


def main(argv=None) -> None:
    global OUT
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--codes", action="store_true")
    p.add_argument("--recon", action="store_true")
    p.add_argument("--few-labels", action="store_true")
    p.add_argument("--iw", action="store_true")
    p.add_argument("--k", type=int, default=5000)
    p.add_argument("--n", type=int, default=10_000, help="test images for the IW bound (a random subset below 10,000)")
    p.add_argument("--save-every", type=int, default=200)
    p.add_argument("--start", type=int, default=0, help="begin at this position of the random order (a second worker)")
    p.add_argument("--combine", nargs="+", metavar="JSON", help="pool the IW records of these files into --out")
    p.add_argument("--batch", type=int, default=20, help="images per IW batch")
    p.add_argument("--chunk", type=int, default=500, help="samples per IW chunk (memory ~ chunk x batch x 784 floats)")
    p.add_argument("--labels", type=int, nargs="+", default=list(LABEL_COUNTS), help="label counts (few labels)")
    p.add_argument("--features", nargs="+", choices=list(FEATURES), help="few labels: only these rows (the rest kept)")
    p.add_argument("--out", default=None, help="the results file (default benchmarks/results/vae.json)")
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args(argv)
    OUT = Path(args.out) if args.out else OUT
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.combine:
        _merge("iw", combine_iw(args.combine))
        return
    every = not (args.codes or args.recon or args.few_labels or args.iw)
    if args.codes or every:
        codes_part(args.data_dir)
    if args.recon or every:
        recon_part(args.data_dir)
    if args.few_labels or every:
        few_labels_part(args.data_dir, tuple(args.labels), args.features)
    if args.iw or every:
        iw_part(args.data_dir, args.k, args.n, args.save_every, args.batch, args.chunk, args.start)


if __name__ == "__main__":
    main()
