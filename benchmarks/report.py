"""Assemble BENCHMARKS.md from benchmarks/results/*.json and weights/*/metrics.json.

    python benchmarks/report.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> None:
    speed, quality = _load(RESULTS / "speed.json"), _load(RESULTS / "quality.json")
    ddpm, cnn = _load(ROOT / "weights" / "ddpm" / "metrics.json"), _load(ROOT / "weights" / "cnn" / "metrics.json")
    lines = ["# Benchmarks", "", "Figures measured on this project's reference machine (2 CPU cores, no GPU). Each section "
             "names the command that produced it; rerun it to refresh the JSON in `benchmarks/results/`, then "
             "`python benchmarks/report.py`.", ""]
    rows = []
    if speed:
        s, a, sm = speed["cold_start"], speed["api"], speed["sampling_16"]
        lines += [f"## Speed (`{speed['command']}`)", "", f"Machine: {speed['machine']}.", "",
                  "| figure | median | n | target |", "|---|---:|---:|---|",
                  f"| cold start of `python app.py` until the page is served (weights loaded) | {s['median_s']} s | {s['n']} | ≤ 5 s: {verdict(s['median_s'] <= 5)} |",
                  f"| noise slider round trip via gradio_client | {a['slider_round_trip_ms']['median']} ms (p90 {a['slider_round_trip_ms']['p90']} ms) | {a['slider_round_trip_ms']['n']} | ≤ 120 ms: {verdict(a['slider_round_trip_ms']['median'] <= 120)} |",
                  f"| 16 samples, DDIM-50, via gradio_client (streams ~20 frames) | {a['sample_ddim50_16_round_trip_s']['median']} s | {a['sample_ddim50_16_round_trip_s']['n']} | |",
                  ""]
        lines += ["Time for 16 samples in-process (`GaussianDiffusion.sample`):", "",
                  "| sampler | float32 | bfloat16 autocast (the app's setting) | n |", "|---|---:|---:|---:|"]
        for cfg in ("ddim-25", "ddim-50", "ddim-100", "ancestral-1000"):
            f32, b16 = sm[f"float32/{cfg}"], sm[f"bfloat16/{cfg}"]
            lines.append(f"| {cfg} | {f32['median_s']} s | {b16['median_s']} s | {b16['n']} |")
        b50 = sm["bfloat16/ddim-50"]["median_s"]
        lines += ["", f"Target: 16 samples with DDIM-50 ≤ 1 s — {verdict(b50 <= 1.0)} ({b50} s with bfloat16, "
                  f"{sm['float32/ddim-50']['median_s']} s in float32).", ""]
    if quality:
        r = quality["real"]
        lines += [f"## Sample quality (`{quality['command']}`)", "",
                  f"Classifier features from `weights/cnn` (test accuracy {cnn.get('final', {}).get('test_accuracy', float('nan')):.4f}); "
                  f"FID against {quality['reference']}; n = {quality['n']} samples per row; IS over {quality['splits']} split(s) of {quality['n'] // quality['splits']} (all 10,000 test images: 10 splits).", "",
                  "| samples | FID ↓ | IS ↑ | sampling time |", "|---|---:|---:|---:|",
                  f"| real: {quality['n']} MNIST training images (the floor) | {r['fid_train_vs_test']} | {r['is_test']} (test set, n = {quality['n']}; all 10,000: {r['is_test_all_10000']}) | |"]
        for cfg, m in quality["models"].items():
            lines.append(f"| DDPM {cfg} | {m['fid']} | {m['is']} ± {m['is_std']} | {m['sampling_wall_s']} s |")
        models = quality["models"]
        if "ddim-50:bfloat16" in models and "ancestral-1000:bfloat16" in models:
            ratio = models["ddim-50:bfloat16"]["fid"] / models["ancestral-1000:bfloat16"]["fid"]
            rows.append(f"- DDIM-50 FID / ancestral-1000 FID = {ratio:.2f} (target ≤ 1.5: {verdict(ratio <= 1.5)})")
        best_is = max(m["is"] for m in models.values())
        rows.append(f"- best IS {best_is:.2f} (target ≥ 9.3: {verdict(best_is >= 9.3)}; real data {r['is_test_all_10000']})")
        lines += [""] + rows + [""]
    if ddpm:
        lines += ["## Training", "", "| model | command | data | epochs | steps | wall time | final |", "|---|---|---|---:|---:|---:|---|"]
        for m in (ddpm, cnn):
            if m:
                lines.append(f"| {m['model']} | `{m['command']}` | {m['dataset']} | {m['epochs']} | {m['steps']} | "
                             f"{m['wall_time_s'] / 60:.1f} min | {json.dumps(m['final'])} |")
        lines += ["", f"Target: DDPM training ≤ 30 minutes — {verdict(ddpm['wall_time_s'] <= 1800)}.", ""]
    analysis = ROOT / "benchmarks" / "ANALYSIS.md"  # hand-written reading of the figures above
    if analysis.exists():
        lines += [analysis.read_text().rstrip(), ""]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
