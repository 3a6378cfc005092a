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


def platform_section(startup: dict, load: dict, cheap_only: dict) -> list[str]:
    """Start-up, memory and latency under many clients: what every tab costs the app (issue 9)."""
    out = []
    if startup:
        c, m, pt = startup["cold_start"], startup["memory"], startup["per_tab"]
        out += [f"## Start-up and memory with every tab (`{startup['command']}`)", "",
                "| figure | value | n | target |", "|---|---:|---:|---|",
                f"| cold start of `python app.py` until the page is served | {c['median_s']} s (runs {', '.join(map(str, c['runs_s']))}) | {c['n']} | ≤ 5 s: {verdict(c['median_s'] <= 5)} |",
                f"| server RSS when the page is served | {m['rss_served_mb']} MB | 1 | |",
                f"| server RSS after every tab was used once ({len(m['calls'])} calls) | {m['rss_after_every_tab_mb']} MB | 1 | ≤ 1.5 GB: {verdict(m['rss_after_every_tab_mb'] <= 1536)} |",
                f"| import of gradio / torch / the whole app | {pt['imports_s']['gradio']} s / {pt['imports_s']['torch']} s / {pt['imports_s']['app']} s | {pt['n']} | |",
                "", "What each tab adds (medians; import = its module and the genlib modules it is first to import, after "
                "gradio and torch; build = `build()` inside a page; first use = reading the weights of all its models "
                "in a fresh process, which its first action waits for):", "",
                "| tab | import | build | first use: weights | models |", "|---|---:|---:|---:|---|"]
        for t in pt["tabs"]:
            first = "missing" if t["first_use_weights_s"] is None else f"{t['first_use_weights_s']} s"
            out.append(f"| {t['tab']} | {t['import_s'] * 1000:.0f} ms | {t['build_s'] * 1000:.0f} ms | {first} | {', '.join(t['models']) or '—'} |")
        worst = max((t["first_use_weights_s"] or 0) for t in pt["tabs"])
        out += ["", f"Target: the first action of a tab waits ≤ 1 s for its weights — {verdict(worst <= 1)} (worst {worst} s).", ""]
    if startup and "page" in startup:
        pg = startup["page"]
        out += [f"### The page in a browser (`{startup.get('commands', {}).get('page', startup['command'])}`)", "",
                f"Headless Chromium on the same 2 cores as the server, a fresh context per view, medians of {pg['n']} "
                "views. *Merged*: every tab's page-load figures come from one event (`ui.pageload.merge`, the app's "
                "default); *separate*: one load event per figure (`GENLIB_MERGE_PAGE_LOAD=0`, as before). Busy = the "
                f"browser main thread's CPU profile over the first {pg['watch_s']:g} s, idle samples left out.", "",
                "| page-load events | locale | DDPM note's math typeset | notes in the page's language | queue joins | "
                "main thread busy |", "|---|---|---:|---:|---:|---:|"]
        for key in ("merged_en-US", "merged_zh-CN", "separate_en-US", "separate_zh-CN"):
            v = pg.get(key)
            if v:
                kind, locale = key.split("_")
                out.append(f"| {kind} | {locale} | {v['math_s']} s | {v['language_s']} s | {v['joins']} | "
                           f"{v['main_thread_busy_s']} s |")
        out.append("")
    for res, title in ((load, "mixed load"), (cheap_only, "cheap events and decodes only")):
        if not res:
            continue
        k = res["by_kind"]
        out += [f"## Latency with {res['clients']} clients, {title} (`{res['command']}`)", "",
                f"{res['clients']} gradio_client clients without think time for {res['seconds']:g} s, in the benchmark's "
                "process on the same 2 cores as the server. Mix (weights): "
                + ", ".join(f"`{api}` {v['weight']}" for api, v in res["mix"].items()) + ".", "",
                "| endpoint | kind | n | errors | p50 | p95 |", "|---|---|---:|---:|---:|---:|"]
        for api, e in res["endpoints"].items():
            out.append(f"| `{api}` | {e['kind']} | {e['n']} | {e['errors']} | {e['p50_s']} s | {e['p95_s']} s |")
        cheap, quick = k["cheap"], k["quick_model"]
        out += ["", f"Requests per second: {res['requests_per_s']}. Errors: {res['errors']} {res['error_types'] or ''}. "
                f"RSS {res['rss']['served_mb']} MB served, {res['rss']['after_warm_up_mb']} MB after a warm-up pass, "
                f"{res['rss']['after_load_mb']} MB after the load ({res['rss']['growth_after_warm_up_pct']} %).", "",
                f"Targets: 0 errors — {verdict(res['errors'] == 0)}; cheap-event p95 ≤ 0.5 s — {verdict(cheap['p95_s'] <= 0.5)} "
                f"({cheap['p95_s']} s); decode p95 ≤ 1 s — {verdict(quick['p95_s'] is not None and quick['p95_s'] <= 1)} "
                f"({quick['p95_s']} s); RSS growth ≤ 10 % — {verdict(res['rss']['growth_after_warm_up_pct'] <= 10)}.", ""]
    return out


def batching_section(b: dict) -> list[str]:
    """Whether one batched pass for several users' sampling requests would raise throughput."""
    if not b:
        return []
    out = [f"## Batching concurrent sampling requests (`{b['command']}`)", "",
           f"{b['sampler']}, {b['threads']} intra-op thread (as the app samples), median of {b['n']}, interleaved:", "",
           "| requests | one after another | one batched run | throughput gain |", "|---:|---:|---:|---:|"]
    for k, r in b["requests"].items():
        out.append(f"| {k} | {r['separate_s']} s | {r['batched_s']} s | {r['throughput_gain']}× |")
    gains = [r["throughput_gain"] for r in b["requests"].values()]
    out += ["", f"On this CPU a convolution over 16 images already keeps the core busy, so batching gains "
            f"{min(gains)}–{max(gains)}×, while every user in a batch would wait for the slowest and no frame could "
            "be streamed per user (Gradio's `batch=True` does not take generators). Not adopted.", ""]
    return out


def distributed_section(d: dict) -> list[str]:
    """Data-parallel training (torchrun) against one process, on this machine."""
    if not d:
        return []
    names = [k for k in next(iter(d["runs"].values())) if not k.startswith("speed_up")]
    out = [f"## Data-parallel training (`{d['command']}`)", "", f"{d['note'].capitalize()}, {d['machine']}, one run each:", "",
           "| model | " + " | ".join(names) + " | 2 processes vs 1 process × 2 threads |", "|---|" + "---:|" * (len(names) + 1)]
    for model, r in d["runs"].items():
        out.append(f"| {model} | " + " | ".join(f"{r[n]} s" for n in names) + f" | {r['speed_up_2_processes_vs_2_threads']}× |")
    out += ["", "On 2 cores, two processes use the cores that one process with two threads already uses and add an "
            "all-reduce of the gradients every step, so no speed-up is expected here; the same command scales on a "
            "machine with more cores, GPUs (nccl) or nodes (README, \"Training beyond one process\").", ""]
    return out


def registry_section() -> list[str]:
    """Every model of genlib.registry with the run its metrics.json recorded (`python genlib/train.py --list`)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from genlib import registry

    out = ["## Trained models (`python genlib/train.py --list`)", "",
           "| model | command | data | wall time | hardware | final metric |", "|---|---|---|---:|---|---|"]
    for spec in registry.MODELS.values():
        m = _load(ROOT / "weights" / spec.name / "metrics.json")
        value = m.get("final", {}).get(spec.metric)
        shown = f"{value:.4g}" if isinstance(value, float) else value
        wall = f"{m['wall_time_s'] / 60:.1f} min" if m else "not trained"
        out.append(f"| {spec.name} | `{spec.command}` | {spec.dataset} | {wall} | {m.get('hardware', '')} | {spec.metric} = {shown} |")
    return out + [""]


def ddpm_recipes_section(res: dict) -> list[str]:
    """The DDPM recipe study (issue 16): schedule x target x weighting at one reduced budget, FID / IS at DDIM-50 and
    ancestral-1000 with the project's classifier."""
    if not res:
        return []
    out = [f"## DDPM recipe study (`{res['command']}`)", "",
           f"Each variant: the `ddpm` U-Net and recipe with `--schedule/--target/--weighting`, trained for {res['budget']}. "
           f"FID against {res['reference']}; DDIM-50 on n = {res['n']}, ancestral-1000 on n = {res['n_ancestral']} "
           f"samples (small n: FID is biased upwards and only comparable within a column); measured {res['date']}.", "",
           "| variant | schedule | target | weighting | steps | training | DDIM-50 FID ↓ | DDIM-50 IS ↑ | ancestral-1000 FID ↓ | ancestral-1000 IS ↑ |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, v in res["variants"].items():
        q = v.get("quality", {})
        d, a = q.get("ddim-50", {}), q.get("ancestral-1000", {})
        out.append(f"| {name} | {v['schedule']} | {v['target']} | {v['weighting']} | {v['steps']} | {v['train_minutes']} min | "
                   f"{d.get('fid', '—')} | {d.get('is', '—')} | {a.get('fid', '—')} | {a.get('is', '—')} |")
    out += ["", f"The variants' wall times were measured with {res.get('threads', 1)} thread(s); the shipped model's is "
            "its own metrics.json record.", ""]
    return out


def vae_section(res: dict) -> list[str]:
    """The autoencoder / VAE tab (benchmarks/vae.py renders its own section)."""
    import sys

    sys.path.insert(0, str(ROOT))
    from benchmarks.vae import report_section

    return report_section(res)


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> None:
    speed, quality = _load(RESULTS / "speed.json"), _load(RESULTS / "quality.json")
    ddpm, cnn = _load(ROOT / "weights" / "ddpm" / "metrics.json"), _load(ROOT / "weights" / "cnn" / "metrics.json")
    ddpm_base = _load(ROOT / "weights" / "ddpm_base" / "metrics.json")
    lines = ["# Benchmarks", "", "Figures measured on this project's reference machine (2 CPU cores, no GPU). Each section "
             "names the command that produced it; rerun it to refresh the JSON in `benchmarks/results/`, then "
             "`python benchmarks/report.py`.", ""]
    rows = []
    lines += platform_section(_load(RESULTS / "startup.json"), _load(RESULTS / "load.json"), _load(RESULTS / "load_cheap_only.json"))
    lines += batching_section(_load(RESULTS / "batching.json"))
    lines += distributed_section(_load(RESULTS / "distributed.json"))
    lines += registry_section()
    if speed:
        s, a, sm = speed["cold_start"], speed["api"], speed["sampling_16"]
        cmds = speed.get("commands", {})
        lines += [f"## Speed (`{cmds.get('cold_start', speed['command'])}`)", "", f"Machine: {speed['machine']}.", "",
                  "| figure | median | n | target |", "|---|---:|---:|---|",
                  f"| cold start of `python app.py` until the page is served (weights loaded) | {s['median_s']} s | {s['n']} | ≤ 5 s: {verdict(s['median_s'] <= 5)} |",
                  f"| noise slider round trip via gradio_client | {a['slider_round_trip_ms']['median']} ms (p90 {a['slider_round_trip_ms']['p90']} ms) | {a['slider_round_trip_ms']['n']} | ≤ 120 ms: {verdict(a['slider_round_trip_ms']['median'] <= 120)} |",
                  f"| 16 samples, DDIM-50, via gradio_client (streams ~20 frames) | {a['sample_ddim50_16_round_trip_s']['median']} s | {a['sample_ddim50_16_round_trip_s']['n']} | |"]
        if "flow2d_field_round_trip_ms" in a:
            fr, fs = a["flow2d_field_round_trip_ms"], a["flow_sample_16_guided_10_round_trip_s"]
            lines += [f"| flow tab: time slider (density + quiver SVG) via gradio_client | {fr['median']} ms (p90 {fr['p90']} ms) | {fr['n']} | |",
                      f"| flow tab: 16 MNIST samples, w = 2, 10 Euler steps, via gradio_client (streams 10 frames) | {fs['median']} s | {fs['n']} | |"]
        if "pixelcnn_sample_16_round_trip_s" in a:
            ps = a["pixelcnn_sample_16_round_trip_s"]
            lines += [f"| PixelCNN tab: 16 samples at T = 1 via gradio_client (streams 28 frames, one per row) | {ps['median']} s | {ps['n']} | |"]
        lines += [""]
        lines += [f"Time for 16 samples in-process (`GaussianDiffusion.sample`; `{cmds.get('sampling_16', speed['command'])}`):", "",
                  "| sampler | float32 | bfloat16 autocast (the app's setting), one batch | bfloat16, the batch split over the cores | n |",
                  "|---|---:|---:|---:|---:|"]
        split = "bfloat16_split/ddim-50" in sm
        for cfg in ("ddim-25", "ddim-50", "ddim-100", "ancestral-1000"):
            f32, b16 = sm[f"float32/{cfg}"], sm[f"bfloat16/{cfg}"]
            cut = f"{sm[f'bfloat16_split/{cfg}']['median_s']} s" if split else "–"
            lines.append(f"| {cfg} | {f32['median_s']} s | {b16['median_s']} s | {cut} | {b16['n']} |")
        b50 = sm["bfloat16/ddim-50"]["median_s"]
        best = min(b50, sm["bfloat16_split/ddim-50"]["median_s"]) if split else b50
        how = (f"{sm['bfloat16_split/ddim-50']['median_s']} s with the batch split over {sm['cores']} cores, "
               f"one intra-op thread each (largest difference from the one-batch samples: {sm['split_max_abs_diff']:.2g}); "
               if split else "")
        lines += ["", f"Target: 16 samples with DDIM-50 ≤ 1 s — {verdict(best <= 1.0)} ({how}{b50} s as one batch with "
                  f"bfloat16, {sm['float32/ddim-50']['median_s']} s in float32). The tab runs each request on "
                  "GENLIB_SAMPLER_THREADS cores (default one; the split applies from two).", ""]
    if quality:
        r = quality["real"]
        lines += [f"## Sample quality (`{quality['command']}`)", "",
                  f"Classifier features from `weights/cnn` (test accuracy {cnn.get('final', {}).get('test_accuracy', float('nan')):.4f}); "
                  f"FID against {quality['reference']}; n = {quality['n']} samples per row; IS over {quality['splits']} split(s) of {quality['n'] // quality['splits']} (all 10,000 test images: 10 splits), ± its {quality.get('is_spread', 'std over splits')}. "
                  "Rows name the sampler, the precision and what differs from the shipped `ddpm` at w = 1, η = 0 (`model=ddpm_base`: the 18-epoch run it continues).", "",
                  "| samples | FID ↓ | IS ↑ | sampling time |", "|---|---:|---:|---:|",
                  f"| real: {quality['n']} MNIST training images (the floor) | {r['fid_train_vs_test']} | {r['is_test']} (test set, n = {quality['n']}; all 10,000: {r['is_test_all_10000']}) | |"]
        for cfg, m in quality["models"].items():
            lines.append(f"| DDPM {cfg} | {m['fid']} | {m['is']} ± {m['is_std']} | {m['sampling_wall_s']} s |")
        models = quality["models"]
        if "ddim-50:bfloat16" in models and "ancestral-1000:bfloat16" in models:
            ratio = models["ddim-50:bfloat16"]["fid"] / models["ancestral-1000:bfloat16"]["fid"]
            big = quality["n"] >= 1000
            rows.append(f"- DDIM-50 FID / ancestral-1000 FID = {ratio:.2f} (issue 2's target ≤ 1.5: {verdict(ratio <= 1.5)}; "
                        f"issue 16's ≤ 1.3 at n ≥ 1000: {verdict(big and ratio <= 1.3)})")
            is50 = models["ddim-50:bfloat16"]["is"]
            rows.append(f"- DDIM-50 IS {is50:.2f} at w = 1 (issue 16's target ≥ 9.5 at n ≥ 1000: {verdict(big and is50 >= 9.5)})")
            if "ddim-50:bfloat16:eta=1" in models:  # the stochastic DDIM: same cost, one network pass per step
                m = models["ddim-50:bfloat16:eta=1"]
                rows.append(f"- DDIM-50 with η = 1: IS {m['is']:.2f}, FID {m['fid']:.1f} (FID / ancestral-1000 FID "
                            f"= {m['fid'] / models['ancestral-1000:bfloat16']['fid']:.2f}; one network pass per step)")
            for cfg, m in models.items():  # guided DDIM-50 rows (ddim-50:bfloat16:w=1.25): a second pass per step
                if cfg.startswith("ddim-50:bfloat16:w=") and float(cfg.rsplit("=", 1)[1]) > 1:
                    rows.append(f"- DDIM-50 IS {m['is']:.2f} / FID {m['fid']:.1f} with guidance {cfg.rsplit(':', 1)[1]} "
                                f"(≥ 9.5: {verdict(big and m['is'] >= 9.5)}; two network passes per step)")
        best_is = max(m["is"] for c, m in models.items() if "model=" not in c)
        rows.append(f"- best IS {best_is:.2f} (target ≥ 9.3: {verdict(best_is >= 9.3)}; real data {r['is_test_all_10000']})")
        lines += [""] + rows + [""]
    if ddpm:
        lines += ["## Training", "", "| model | command | data | epochs | steps | wall time | final |", "|---|---|---|---:|---:|---:|---|"]
        for m in (ddpm_base, ddpm, cnn):
            if m:
                lines.append(f"| {m['model']} | `{m['command']}` | {m['dataset']} | {m['epochs']} | {m['steps']} | "
                             f"{m['wall_time_s'] / 60:.1f} min | {json.dumps(m['final'])} |")
        import sys

        sys.path.insert(0, str(ROOT))
        from genlib.hub import training_minutes

        total = training_minutes(ddpm)
        start = f"`{ddpm['init']['from']}` and then `ddpm`, which continues it: " if ddpm.get("init") else ""
        lines += ["", f"DDPM training, {start}{total:.1f} min. Targets: ≤ 30 minutes (issue 2) — "
                  f"{verdict(total <= 30)}; ≤ 60 minutes for the recipe at full budget (issue 16) — "
                  f"{verdict(total <= 60)}{', a longer background run the issue allows when reported' if total > 60 else ''}.", ""]
    lines += ddpm_recipes_section(_load(RESULTS / "ddpm_recipes.json"))
    lines += flow_section(_load(RESULTS / "flow.json"))
    lines += pixelcnn_section(_load(RESULTS / "pixelcnn.json"))
    lines += transformer_section(_load(RESULTS / "transformer.json"))
    lines += cnn_section(_load(RESULTS / "cnn.json"))
    lines += vae_section(_load(RESULTS / "vae.json"))
    lines += compare_section(_load(RESULTS / "compare.json"))
    lines += gan_section(_load(RESULTS / "gan.json"), quality)
    lines += simclr_section(_load(RESULTS / "simclr.json"))
    lines += rnn_section(_load(RESULTS / "rnn.json"))
    analysis = ROOT / "benchmarks" / "ANALYSIS.md"  # hand-written reading of the figures above
    if analysis.exists():
        lines += [analysis.read_text().rstrip(), ""]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))


def cnn_section(res: dict) -> list[str]:
    """The CNN tab's classifiers on the full test sets (benchmarks/cnn.py)."""
    if not res:
        return []
    lines = ["## CNN classifiers (`python benchmarks/cnn.py --data-dir ../shared/data`)", "",
             "| model | data | test accuracy | target | training | wall time | per-class accuracy |",
             "|---|---|---:|---|---|---:|---|"]
    for name, r in res.items():
        wall = f"{r['train_wall_time_s'] / 60:.1f} min" if r.get("train_wall_time_s") else "?"
        lines.append(f"| {name} | {r['dataset']} (n = {r['n_test']}) | {r['test_accuracy']:.4f} | ≥ {r['target']}: "
                     f"{verdict(r['met'])} | `{r['train_command']}` ({r['hardware']}) | {wall} (≤ 10 min: "
                     f"{verdict(bool(r.get('train_wall_time_s')) and r['train_wall_time_s'] <= 600)}) | "
                     f"{', '.join(f'{v:.3f}' for v in r['per_class'])} |")
    return lines + [""]


def _minutes(v) -> str:
    return f"{v:.1f} min" if isinstance(v, (int, float)) else "not recorded"


def rnn_section(r: dict) -> list[str]:
    """The RNN tab's character models (benchmarks/rnn.py): three cells at equal training time, the Tang poems."""
    if not r:
        return []
    lines = ["## Character-level RNNs (`python benchmarks/rnn.py --data-dir ../shared/data`)", "",
             "Tiny Shakespeare, validation = the last 10% (111,540 characters), nats per character. Each cell had the "
             "same budget of training time, counted as the CPU time its one training thread got (`--minutes`, "
             "time.process_time): on the shared 2-core machine other jobs took part of the core, so the wall time "
             "was longer and varied with the load, while the computation each cell got is equal.", "",
             "| cell | validation nats/char | perplexity | last training loss | training CPU | wall (steps / run) | "
             "steps (epochs) | parameters | ‖∂h_T/∂s_t‖ at T − t = 1 / 10 / 20 / 40 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, m in r.get("shakespeare", {}).items():
        g = " / ".join(f"{m['grad_norm'][d]:.1e}" for d in ("1", "10", "20", "40") if d in m["grad_norm"])
        lines.append(f"| {m['cell'].upper()} (`{name}`) | {m['val_nats_per_char']:.4f} | {m['val_perplexity']:.2f} | "
                     f"{m['train_loss_last']:.4f} | {_minutes(m.get('training_cpu_minutes'))} | "
                     f"{m['training_minutes']:.1f} / {m['wall_time_s'] / 60:.1f} min | "
                     f"{m['steps']} ({m['epochs_done']}) | {m['parameters']:,} | {g} |")
    early = [m["cell"].upper() for m in r.get("shakespeare", {}).values() if m.get("training_cpu_minutes") is None]
    if early:
        lines += ["", f"{', '.join(early)}: trained before the budget counted CPU time, with 12 minutes of wall time; "
                      "its CPU time was not recorded (its steps at the per-step CPU cost measured separately, 0.145 s "
                      "for the vanilla RNN, come to about 3.4 CPU-minutes: less than the others had)."]
    if "best" in r:
        b = r["best"]
        lines += ["", f"Goal: the best cell ≤ {r['goal_nats_per_char']:.2f} nats/char — {b['cell'].upper()} "
                      f"{b['val_nats_per_char']:.4f}: {verdict(b['met'])}."]
    if "tang" in r:
        t = r["tang"]
        f = t["free_form_shares"]
        lines += ["", f"Tang poems (`rnn_tang_lstm`, every tenth poem held out): validation {t['val_nats_per_char']:.4f} "
                      f"nats/char (perplexity {t['val_perplexity']:.1f}) over {t['vocab_size']:,} symbols (characters seen "
                      f"≥ {t['min_count']} times, the rest one unknown symbol), {t['parameters']:,} parameters, "
                      f"{_minutes(t.get('training_cpu_minutes'))} of training CPU time ({t['wall_time_s'] / 60:.1f} min wall "
                      f"for the run), {t['steps']} steps.",
                  "", f"Of {t['poems']} unconstrained poems (T = 0.8, from a line break to the next): "
                      f"{t['free_regular_share']:.1%} have one of the corpus's four regular forms (5×4 {f['5x4']:.1%}, "
                      f"7×4 {f['7x4']:.1%}, 5×8 {f['5x8']:.1%}, 7×8 {f['7x8']:.1%}; in the corpus 9.5 / 28.4 / 40.1 / "
                      f"22.0%), and {t['free_quatrain_share']:.1%} are quatrains. With the form mask: "
                      f"{t['masked_form_share']:.0%} of {t['poems']} quatrains meet the form."]
    return lines + [""]


def pixelcnn_section(pc: dict) -> list[str]:
    """The PixelCNN tab's figures (benchmarks/pixelcnn.py)."""
    if not pc:
        return []
    s, bpd = pc["sampling_16"], pc["test_bits_per_dim"]
    return [f"## PixelCNN / PixelSNAIL (`{pc['command']}`)", "", f"Machine: {pc['machine']}.", "",
            "| figure | measured | target |", "|---|---:|---|",
            f"| test bits/dim, all {pc['test_images']} MNIST test images, 8-bit (float32 / bfloat16 autocast)"
            + (", −log₂ p(x) / 784 with p(x) = (1/10) Σ_y p(x | y)" if "given_label_float32" in bpd else "") + " | "
            f"{bpd['float32']} / {bpd['bfloat16']} | ≤ 1.05 (issue 18): {verdict(bpd['float32'] <= 1.05)} "
            "(RealNVP 1.06, Glow 1.05, FFJORD 0.99) |",
            *([f"| test bits/dim given the true label, −log₂ p(x | y) / 784 (float32) | {bpd['given_label_float32']} | |",
               f"| test bits/dim with no label, −log₂ p(x | ∅) / 784 (float32; the net behind guidance) | "
               f"{bpd['no_label_float32']} | |"] if "given_label_float32" in bpd else []),
            *_pixelcnn_quality_rows(pc),
            f"| 16 samples, naive loop (784 full passes; {s['naive_runs']} run) | {s['naive_s']} s | |",
            *([f"| 16 samples, cached sampler: strip caches + column cursor (median of {s['cached_runs']}) | {s['cached_median_s']} s | ≤ 2 s: {verdict(s['cached_median_s'] <= 2.0)} |"]
              if "guided_median_s" not in s else
              [f"| 16 samples, cached sampler: strip caches + column cursor, w = 1 (median of {s['cached_runs']}) | {s['cached_median_s']} s | |",
               f"| 16 samples as the tab draws them by default: guidance w = {s['guided_w']:g}, a batch of 32 (median of {s['cached_runs']}, interleaved) | "
               f"{s['guided_median_s']} s | ≤ 2 s: {verdict(s['guided_median_s'] <= 2.0)} |"]),
            f"| speed-up, same run | {s['speed_up']}× | ≥ 10×: {verdict(s['speed_up'] >= 10)} |",
            *([f"| per-pixel step: one position per layer (`ColumnCursor`) vs the whole 1-row strip (`per_pixel=\"row\"`), "
               f"interleaved, median of {s['cached_runs']} each | {s['cursor_speed_up']}× ({s['row_strip_median_s']} s → "
               f"{s['cached_median_s']} s; same images: {'yes' if s['row_strip_identical'] else 'no'}) | |"]
              if "cursor_speed_up" in s else []),
            f"| same images from both samplers (seed 0, float32) | {'yes' if s['identical_float32'] else 'no'} "
            f"({s['differing_pixels_float32']} of {16 * 784} pixels differ) | exact in float64: tests/genlib/test_pixelcnn.py |",
            *([f"| one training step, batch {t['batch']} (forward, backward, AdamW; bfloat16): attention through the fused "
               f"causal kernel (shift + sink) vs the boolean mask, interleaved, median of {t['runs']} | {t['fused_s']} s vs "
               f"{t['mask_s']} s ({t['speed_up']}×) | |"] if (t := pc.get("training_step")) else []),
            *_pixelcnn_training_rows(pc), ""]


def _pixelcnn_training_rows(pc: dict) -> list[str]:
    """The training run, and for a warm-started model the run it started from and the two together (issue 18's
    budget, 2.5 h, covers the whole chain)."""
    run = f"| training (`{pc['training_command']}`, {pc['epochs']} epochs, {pc['steps']} steps) | {pc['training_wall_s'] / 60:.1f} min |"
    if "init" not in pc:
        return [f"{run} ≤ 150 min (issue 18): {verdict(pc['training_wall_s'] <= 9000)} |"]
    i = pc["init"]
    return [f"| its start, `{i['from']}` (`{i['command']}`, {i['epochs']} epochs) | {i['wall_time_s'] / 60:.1f} min | |",
            f"{run} |",
            f"| training in all (both runs) | {i['total_wall_s'] / 60:.1f} min | ≤ 150 min (issue 18): "
            f"{verdict(i['total_wall_s'] <= 9000)} |"]


def _pixelcnn_quality_rows(pc: dict) -> list[str]:
    """IS / FID of the samples at each temperature (issue 18: IS ≥ 8.5 at T = 1, n ≥ 500)."""
    if "samples" not in pc:
        return []
    q, rows = pc["samples"], []
    labels = (f", labels 0–9 in turn, w = {q.get('w', 1.0):g}" if any("label_agreement" in r for r in q["temperatures"].values())
              else "")
    for name, r in q["temperatures"].items():
        target = (f"≥ 8.5 (issue 18): {verdict(r['is'] >= 8.5 and q['n'] >= 500)}" if name == "T=1.0" else "reported")
        agree = f"; read as their label: {r['label_agreement']:.1%}" if "label_agreement" in r else ""
        rows.append(f"| samples at {name.replace('=', ' = ')}, n = {q['n']} (exact cached sampler{labels}): classifier IS ± "
                    f"bootstrap sd ({q['bootstrap_resamples']} resamples), FID vs test | {r['is']} ± "
                    f"{r['is_bootstrap_std']}, FID {r['fid']}{agree} | {target} |")
    for name, r in pc.get("samples_guidance", {}).get("guidance", {}).items():
        agree = f"; read as their label: {r['label_agreement']:.1%}" if "label_agreement" in r else ""
        rows.append(f"| samples at T = 1, guidance {name.replace('=', ' = ')}, n = {pc['samples_guidance']['n']}: IS ± "
                    f"bootstrap sd, FID | {r['is']} ± {r['is_bootstrap_std']}, FID {r['fid']}{agree} | reported |")
    if "samples_uncond" in pc:
        b = pc["samples_uncond"]
        r = b["temperatures"]["T=1.0"]
        rows.append(f"| the same, unconditional `{b['model']}` (its start), T = 1, n = {b['n']}, same seeds and run | "
                    f"{r['is']} ± {r['is_bootstrap_std']}, FID {r['fid']} | before |")
    return rows


def transformer_section(tf: dict) -> list[str]:
    """The Transformer tab's figures (benchmarks/transformer.py): overall, then per shape and form for the number tasks."""
    if not tf:
        return []
    lines = [f"## Transformer (`{tf['command']}`)", "", f"Machine: {tf['machine']}. Exact match = the greedy output equals the "
             "target string. Held-out: the examples `train.py` set aside (copy: 1000 excluded from training; number "
             "tasks: 10,000 numbers stratified by shape, each in a random accepted form — see below which shapes are "
             "also in training); fresh: new draws from the training distribution.", "",
             "| task | held-out exact match | fresh exact match | greedy latency (1 example) | beam-4 latency | training |",
             "|---|---:|---:|---:|---:|---:|"]
    for task, m in tf["tasks"].items():
        lines.append(f"| {task} | {m['heldout_exact_match']:.2%} (n = {m['heldout_n']}) | {m['fresh_exact_match']:.2%} "
                     f"(n = {m['fresh_n']}) | {m['latency']['greedy']['median_ms']} ms | {m['latency']['beam4']['median_ms']} ms | "
                     f"{m['training_wall_s'] / 60:.1f} min (`{m['training_command']}`, {m['steps']} steps) |")
    t = tf["tasks"]
    lines += ["", f"Latency: median of {tf['runs']} runs on the inputs " + ", ".join(f"`{m['latency_input']}`" for m in t.values()) + ".",
              "", f"Targets: copy 100% — {verdict(t['copy']['heldout_exact_match'] == 1.0)}; training ≤ 10 minutes per number "
              f"task — {verdict(max(m['training_wall_s'] for k, m in t.items() if 'shapes' in m) <= 600)}."]
    for task, m in t.items():
        if "shapes" in m:
            lines += [""] + shape_table(task, m)
    return lines + [""]


SHAPE_TITLES = {
    "numbers": ("English number words", "thousands group (— = below 1000)", "last three digits",
                "Digits per group: hundreds, tens, units; `0` zero, `x` non-zero, `1?` a tens digit of 1 (a teen "
                "word, any unit). (`x00`, `01?`) is 100 010 – 900 019, e.g. 'one hundred thousand and thirteen'."),
    "zh_numbers": ("Chinese numerals", "count of 万 (— = below 10000)", "last four digits (千百十个)",
                   "`0` zero, `x` non-zero. (`x0`, `000x`) is 100 001 – 900 009, e.g. 三十万零五."),
}


def shape_table(task: str, m: dict) -> list[str]:
    """Exact match per shape as a matrix (rows: the high digits, columns: the low ones), and per written form."""
    title, row_name, col_name, legend = SHAPE_TITLES[task]
    cells = {tuple(k.split("|")): v for k, v in m["shapes"].items()}
    rows, cols = list(dict.fromkeys(r for r, _ in cells)), list(dict.fromkeys(c for _, c in cells))
    perfect = sum(v["exact_match"] == 1.0 for v in cells.values())
    overall = m["heldout_exact_match"]
    out = [f"### {title}: exact match per shape ({m['heldout_n']} held-out phrases)", "", legend + " Each cell: exact match "
           "(number of held-out phrases); † = the shape is too small to hold a quarter of it out, so its held-out numbers "
           "are training numbers too.", "",
           f"Goal: 100% on every shape — {perfect} of {len(cells)} shapes, {verdict(perfect == len(cells))}; ≥ 99.9% overall — "
           f"{overall:.2%}, {verdict(overall >= 0.999)}. Held-out numbers that the training set never drew (train.py's "
           f"draws recomputed): {m['unseen']['exact_match']:.2%} (n = {m['unseen']['n']}, from {m['unseen']['shapes']} "
           f"of {len(cells)} shapes).", "",
           f"| {row_name} ↓ / {col_name} → | " + " | ".join(f"`{c}`" for c in cols) + " |", "|---|" + "---:|" * len(cols)]
    for r in rows:
        vals = []
        for c in cols:
            v = cells.get((r, c))
            vals.append("" if v is None else f"{v['exact_match']:.0%}{'' if v['excluded_from_training'] else '†'} ({v['n']})"
                        if v["exact_match"] == 1.0 else f"**{v['exact_match']:.1%}**{'' if v['excluded_from_training'] else '†'} ({v['n']})")
        lines_r = f"| `{r}` | " + " | ".join(vals) + " |"
        out.append(lines_r)
    out += ["", "| written form | exact match | n |", "|---|---:|---:|"]
    out += [f"| {f} | {v['exact_match']:.2%} | {v['n']} |" for f, v in m["forms"].items()]
    if m.get("failures"):
        out += ["", "Failures (up to 10): " + "; ".join(f"{x['phrase']} → {x['target']}" for x in m["failures"][:10]) + "."]
    return out


def flow_section(flow: dict) -> list[str]:
    """The flow-matching tab's figures (benchmarks/flow.py) and its training runs."""
    if not flow:
        return []
    cmds = sorted(set(flow.get("commands", {}).values()))
    lines = ["## Flow matching", "", f"Commands: {', '.join(f'`{c}`' for c in cmds)}. Machine: {flow.get('machine', '?')}.", ""]
    toy = flow.get("toy", {})
    if toy:
        steps = sorted({int(k.split("-")[1]) for row in toy.values() for k in row if "-" in k})
        lines += [f"### 2-D: sliced W2 to fresh data (n = {flow['n2d']} per cloud, 256 projections; lower is better)", "",
                  f"ODE = Euler; SDE = Euler–Maruyama with σ_t = {flow['sigma_2d']}·(1 − t), the score read off the learned field. "
                  "The floor is the distance between two independent data draws of the same size.", "",
                  "| data set | floor | " + " | ".join(f"ODE-{k} | SDE-{k}" for k in steps) + " |",
                  "|---|---:|" + "---:|---:|" * len(steps)]
        for name, row in toy.items():
            cells = " | ".join(f"{row[f'ode-{k}']['sw2']} | {row[f'sde-{k}']['sw2']}" for k in steps)
            lines.append(f"| {name} | {row['floor']['sw2']} | {cells} |")
        lines += ["", "RBF-MMD² (h = 0.5) for the same clouds, ODE / SDE:", "",
                  "| data set | floor | " + " | ".join(f"{k} steps" for k in steps) + " |", "|---|---:|" + "---:|" * len(steps)]
        for name, row in toy.items():
            cells = " | ".join(f"{row[f'ode-{k}']['mmd']:.4f} / {row[f'sde-{k}']['mmd']:.4f}" for k in steps)
            lines.append(f"| {name} | {row['floor']['mmd']:.4f} | {cells} |")
        lines.append("")
    speed = flow.get("speed_16", {})
    if speed:
        lines += ["### MNIST: time for 16 samples (Euler, bfloat16 autocast)", "",
                  "An evaluation is one call of the guided field ũ; with guidance (w ∉ {0, 1}) it is one batched U-Net pass "
                  "over 2 × 16 images (conditional and unconditional halves), without it one pass over 16.", "",
                  "| evaluations | guided (w = 2) | conditional only (w = 1) | runs |", "|---:|---:|---:|---:|"]
        for nfe in (10, 20, 50):
            g, c = speed[f"guided/{nfe}"], speed[f"conditional/{nfe}"]
            lines.append(f"| {nfe} | {g['median_s']} s | {c['median_s']} s | {g['n']} (median) |")
        ok = [nfe for nfe in (10, 20) if speed[f"guided/{nfe}"]["median_s"] <= 0.5]
        lines += ["", f"Target: 16 samples at ≤ 20 evaluations in ≤ 0.5 s — with guidance {verdict(bool(ok))}"
                  + (f" at {', '.join(map(str, ok))} evaluations" if ok else "")
                  + f" (20 guided evaluations: {speed['guided/20']['median_s']} s; 20 unguided: {speed['conditional/20']['median_s']} s).", ""]
    mnist = flow.get("mnist", {})
    if mnist:
        lines += [f"### MNIST: classifier FID / IS against the guidance scale (Euler, 20 steps, n = {flow['n']}, equal classes)", "",
                  "Class accuracy: how often the classifier reads a sample as the class it was asked for.", "",
                  "| w | FID ↓ | IS ↑ | class accuracy | sampling time |", "|---:|---:|---:|---:|---:|"]
        for w, m in mnist["vs_w"].items():
            lines.append(f"| {w} | {m['fid']} | {m['is']} | {m['class_accuracy']} | {m['wall_s']} s |")
        bw = mnist["best_w_by_is"]
        lines += ["", "Against the sampler and the number of steps, at w = 1 (no guidance) and w = 2:", "",
                  "| sampler | evaluations | " + " | ".join(f"w = {w}: FID / IS / accuracy" for w in mnist["vs_steps"]) + " |",
                  "|---|---:|" + "---|" * len(mnist["vs_steps"])]
        keys = list(next(iter(mnist["vs_steps"].values())))
        for k in keys:
            label, nfe = (("midpoint, 10 steps", 20) if k == "midpoint-10" else ("SDE (σ = 0.5, vanishing), 20 steps", 20)
                          if k == "sde-20" else (f"Euler, {k} steps", int(k)))
            cells = " | ".join(f"{v[k]['fid']} / {v[k]['is']} / {v[k]['class_accuracy']}" for v in mnist["vs_steps"].values())
            lines.append(f"| {label} | {nfe} | {cells} |")
        best_is = max(m["is"] for m in mnist["vs_w"].values())
        lines += ["", f"Target: IS ≥ 9.5 at the best w — {verdict(best_is >= 9.5)} ({best_is:.3f} at w = {bw:g}; "
                  f"{mnist['vs_w']['1.0']['is']} already at w = 1, where the FID is lowest).", ""]
    runs = [_load(p / "metrics.json") for p in sorted((ROOT / "weights").glob("flow*"))]
    runs = [m for m in runs if m]
    if runs:
        lines += ["### Training", "", "| model | command | epochs | steps | wall time | held-out CFM loss |",
                  "|---|---|---:|---:|---:|---:|"]
        for m in runs:
            lines.append(f"| {m['model']} | `{m['command']}` | {m['epochs']} | {m['steps']} | {m['wall_time_s'] / 60:.2f} min | "
                         f"{m['final']['test_cfm_loss_ema']:.4f} |")
        mn = next((m for m in runs if m["model"] == "flow"), None)
        toys = [m for m in runs if m["model"].startswith("flow2d_")]
        if mn:
            lines.append(f"\nTarget: MNIST training ≤ 20 minutes — {verdict(mn['wall_time_s'] <= 1200)} ({mn['wall_time_s'] / 60:.1f} min).")
        if toys:
            worst = max(m["wall_time_s"] for m in toys)
            lines.append(f"Target: each 2-D set ≤ 1 minute — {verdict(worst <= 60)} (slowest {worst:.0f} s).")
        lines.append("")
    return lines


def compare_section(board: dict) -> list[str]:
    """The Compare tab's board (issue 17): every generative model and sampler setting, one evaluator, one n."""
    if not board:
        return []
    out = [f"## The Compare board (`{board['command']}`)", "",
           f"Measured {board['date']} on {board['machine']}; n = {board['n']} samples per row; classifier FID / IS "
           f"against {board['reference']}; the floor (n real training images) is FID {board['real']['fid_train_vs_test']}. "
           "Classes covered: digits that ≥ 5 % of the samples are classified as. Time for 16 images: "
           f"{board.get('timing', 'median of 3 runs after a warm-up, measured with the rows')}. Likelihoods are on "
           "different data (8-bit vs binarised) and not comparable across families.", "",
           "| family | model | setting | FID ↓ | IS ↑ | classes covered | likelihood | 16 images | parameters | training |",
           "|---|---|---|---:|---:|---:|---|---:|---:|---:|"]
    for r in board["rows"]:
        like = f"{r['likelihood']['value']} {r['likelihood']['unit']}" if r.get("likelihood") else "–"
        train = f"{r['training_minutes']} min" if r.get("training_minutes") is not None else "–"
        out.append(f"| {r['family']} | {r['model']} | {r['label']} | {r['fid']} | {r['is']} | {r['classes_covered']} / 10 | "
                   f"{like} | {r['seconds_16']} s | {r['parameters']:,} | {train} |")
    return out + [""]

def simclr_section(res: dict) -> list[str]:
    """The SimCLR tab (issue 12): linear probe on frozen h, z and pixels at three label budgets, k-NN, the anchor."""
    if not res:
        return []
    names = {"h": "h = f(x) (SimCLR)", "z": "z = g(h) (SimCLR)", "pixels": "raw pixels"}
    cols = [f"{k} per class" if k != "all" else "all labels" for k in res["budgets"]]
    t = res["train"]
    cpu = t.get("cpu_time_s") or _load(ROOT / "weights" / "simclr" / "metrics.json").get("cpu_time_s", float("nan"))
    out = [f"## SimCLR on Fashion-MNIST (`{res['command']}`)", "",
           f"Measured {res['date']} on {res['machine']}. Linear probe: multinomial logistic regression on standardised "
           f"frozen features, L2 strength chosen from {res['lambdas']} on {res['val_images']} held-out training images, "
           f"test accuracy on all {res['n_test']} test images; the 10- and 100-per-class budgets are the mean of three "
           "seeded draws. k-NN: k = 20, cosine, all labels. Weights: "
           f"`{t['command']}` ({t['wall_time_s'] / 60:.1f} min on {t['hardware']}, batch {t['batch_size']}, τ = {t['tau']}).", "",
           "| features | " + " | ".join(cols) + " | k-NN (k = 20) |", "|---|" + "---:|" * (len(cols) + 1)]
    for f, label in names.items():
        out.append(f"| {label} | " + " | ".join(f"{res['probe'][f][k]['mean']:.4f}" for k in res["budgets"])
                   + f" | {res['knn20'][f]:.4f} |")
    if res.get("supervised"):
        sup = res["supervised"]
        out.append(f"| the same CNN trained supervised end to end ({sup['epochs']} epochs, {sup['train_images']} labels, "
                   f"{sup['wall_time_s'] / 60:.1f} min) | | | {sup['test_accuracy']:.4f} | |")
    h_all = res["probe"]["h"]["all"]["mean"]
    out += ["", f"- Linear probe on h, all labels: {h_all:.4f} (goal ≥ {res['target']}: {verdict(res['met'])})",
            f"- h beats z at every label budget: {verdict(res['h_beats_z'])}; h beats raw pixels at every label budget: "
            f"{verdict(res['h_beats_pixels'])}",
            f"- Training ≤ 30 min on the reference 2-core CPU: {verdict(t['wall_time_s'] <= 1800)} "
            f"({t['wall_time_s'] / 60:.1f} min of wall time on {t['hardware']}; the process got {cpu / 60:.1f} min of "
            f"CPU, and the run stops training after --minutes of CPU time, {t.get('minutes_budget', '?')} here)", ""]
    return out


def gan_section(r: dict, quality: dict) -> list[str]:
    """The GAN tab (benchmarks/gan.py): the live 2-D game and its presets, the MNIST DCGAN's quality and speed."""
    if not r:
        return []
    cmds = r.get("commands", {})
    lines = ["## GAN (`python benchmarks/gan.py --data-dir ../shared/data`)", "", f"Machine: {r['machine']}.", ""]
    if "game" in r:
        lines += [f"Live 2-D game, one thread, the tab's own frame function in-process (`{cmds.get('game', '')}`); measured "
                  "while other jobs loaded the shared 2-core machine (1-minute load average in the table):", "",
                  "| frame | median | p90 | frames/s | updates per frame | n | load | target ≥ 5 frames/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---|"]
        for name, g in r["game"].items():
            lines.append(f"| {name} | {g['median_frame_s'] * 1000:.0f} ms | {g['p90_frame_s'] * 1000:.0f} ms | "
                         f"{g['frames_per_s']} | {g['updates_per_frame']} | {g['n']} | {g['load_avg_1min']} | "
                         f"{verdict(g['frames_per_s'] >= 5)} |")
        lines.append("")
    if "browser" in r:
        b = r["browser"]
        lines += [f"The same game in the page (`{cmds.get('browser', '')}`): `python app.py` and headless Chromium on this "
                  f"machine, the tab opened at `?tab=gan`, ▶ pressed; play streams frames from one event (at most one "
                  f"per {b.get('frame_s', 0.14)} s). **{b['fps']} frames/s** ({b['frames']} frames in {b['seconds']} s, median "
                  f"gap {b['median_gap_ms']} ms; target ≥ 5: {verdict(b['fps'] >= 5)}); frames still shown after "
                  f"pause was clicked: {b['frames_after_pause_click']}.", ""]
    if "presets" in r:
        lines += [f"Presets, 3000 steps each from their seed, run twice (`{cmds.get('presets', '')}`): ring modes covered "
                  "(≥ 2 % of 300 fixed-z samples within 3σ of a mode) and the distance of the generated mean to the "
                  "target mean, every 250 steps.", "",
                  "| preset | target, loss, lr G / lr D | modes covered (every 250 steps) | mean distance, last 1500 steps "
                  "(mean / max) | replays from its seed |", "|---|---|---|---|---|"]
        for name, p in r["presets"].items():
            c = p["controls"]
            modes = " ".join(map(str, p["modes_covered"])) if "modes_covered" in p else "—"
            lines.append(f"| {name} | {c['target']}, {c['loss']}, {c['lr_g']:g} / {c['lr_d']:g} | {modes} | "
                         f"{p['late_mean_distance']} / {p['late_max_distance']} | {'yes' if p['reproducible'] else '**no**'} |")
        lines.append("")
    ddim = quality.get("models", {}).get("ddim-50:bfloat16", {}).get("fid") if quality else None
    if "mnist" in r:
        m = r["mnist"]
        lines += [f"MNIST DCGAN (`weights/gan`), n = {m['n']} samples per row, labels 0–9 in turn; FID against "
                  f"{m['reference']} on the `cnn` classifier's features, IS over {m['splits']} split(s) "
                  f"(`{cmds.get('mnist', '')}`):", "",
                  "| samples | FID ↓ | FID, first 500 | IS ↑ | classifier agrees with the label |", "|---|---:|---:|---:|---:|",
                  f"| real: {m['n']} training images (the floor) | {m['real']['fid_train_vs_test']} | | "
                  f"{m['real']['is_test']} (test images) | |"]
        seeds = [k for k in m if k.startswith("seed_")]
        for k in seeds:
            s = m[k]
            lines.append(f"| DCGAN, {k.replace('_', ' ')} | {s['fid']} | {s.get('fid_first_500', '')} | {s['is']} ± {s['is_std']} | "
                         f"{s['class_accuracy']:.1%} |")
        best_is = max(m[k]["is"] for k in seeds)
        fid500 = [m[k]["fid_first_500"] for k in seeds if "fid_first_500" in m[k]]
        lines += ["", f"- IS {best_is:.2f}: goal ≥ 9.3 — {verdict(best_is >= 9.3)}."]
        if ddim is not None and fid500:
            lines.append(f"- FID at n = 500 (the n of the DDPM rows) {max(fid500):.1f} against DDIM-50's {ddim:.1f}: goal below it — "
                         f"{verdict(max(fid500) < ddim)} (at n = {m['n']}: {max(m[k]['fid'] for k in seeds):.1f}).")
        nn = m.get("nearest_cosine")
        if nn:
            lines.append(f"- Memorisation check ({nn['n']} samples, nearest of the first {nn['pool']:,} training images, "
                         f"cosine on classifier features): median {nn['generated_median']} for generated digits vs "
                         f"{nn['test_median']} for held-out test digits; above 0.99: {nn['generated_above_0.99']:.1%} vs "
                         f"{nn['test_above_0.99']:.1%}.")
        lines.append("")
    if "speed" in r:
        sp = r["speed"]
        one = sp["threads_1"]["median_ms"]
        lines += [f"16 samples in-process (`gan.sample`, `{cmds.get('speed', '')}`): {one} ms on one thread, "
                  f"{sp['threads_2']['median_ms']} ms on two (median of {sp['threads_1']['n']}); target ≤ 20 ms — "
                  f"{verdict(one <= 20)}.", ""]
    if "training" in r:
        t = r["training"]
        lines += [f"Training: `{t['command']}`, {t['epochs']} epochs ({t['steps']} steps) in {t['wall_time_s'] / 60:.1f} min on "
                  f"{t['hardware']} while other jobs shared the machine; target ≤ 30 min — "
                  f"{verdict(t['wall_time_s'] <= 1800)}. Per epoch (EMA generator, n = 1000): "
                  + "; ".join(f"{e['epoch']}: IS {e['is']}, FID {e['fid']}" for e in t["per_epoch"]) + ".", ""]
    return lines


if __name__ == "__main__":
    main()
