"""GAN figures: the live 2-D game (frames per second of the tab's own frame function in-process and of the page in
headless Chromium, what each preset shows over time and that it is reproducible from its seed) and the MNIST DCGAN (classifier FID / IS with the evaluator of
benchmarks/quality.py and benchmarks/flow.py, time for 16 samples, the nearest-training-image check).
Writes benchmarks/results/gan.json.

    python benchmarks/gan.py [--n 1000] [--runs 20] [--frames 30] [--data-dir ../shared/data] [--skip game,mnist,speed]

Game: one thread, as the tab runs it; a frame = UPDATES_PER_FRAME network updates + drawing the SVG. Presets: the
ring modes covered (a mode holds >= 2 % of 300 fixed-z samples within 3 sigma of its mean) every 250 steps for 3000
steps; for the single Gaussian, the distance of the generated mean to the target mean every 250 steps. MNIST: n samples, labels 0..9 in turn; FID against the 10,000 test images on the `cnn`
classifier's features, IS from its softmax (one split per 1000), the floor = n training images against the test set.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
PRESET_STEPS, EVERY = 3000, 250


def bench_frames(frames: int) -> dict:
    import torch

    from demos import gan as tab

    torch.set_num_threads(1)
    out = {}
    for manifold in (False, True):
        session = tab.game_reset()[0]
        tab.game_step(session)  # warm-up
        times = []
        for _ in range(frames):
            t0 = time.perf_counter()
            session = tab.game_step(session, manifold=manifold)[0]
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        out["manifold" if manifold else "plain"] = {
            "median_frame_s": round(med, 4), "p90_frame_s": round(sorted(times)[int(0.9 * len(times))], 4),
            "frames_per_s": round(1 / med, 2), "n": frames, "updates_per_frame": tab.UPDATES_PER_FRAME,
            "load_avg_1min": round(os.getloadavg()[0], 2)}
        print("frames", out, flush=True)
    return out


def _run_preset(h, steps: int = PRESET_STEPS, every: int = EVERY) -> dict:
    import torch

    from genlib import gan

    s = gan.new_game(h)
    mu = gan.target_points(h.target, 20_000, seed=123).mean(0)
    modes, dist = [], []
    for _ in range(steps // every):
        for _ in range(every // 25):  # 25 steps per call, as in the runs that chose the presets
            s = gan.train_step(s, steps=25, inplace=True)
        with torch.no_grad():
            m = s.G(s.z_fixed).mean(0) - mu
        dist.append(round(float(m.norm()), 3))
        if h.target == "ring8":
            modes.append(gan.modes_covered(s.G(s.z_fixed).detach()))
    out = {"steps": list(range(every, steps + 1, every)), "mean_distance": dist,
           "late_mean_distance": round(statistics.mean(dist[len(dist) // 2 :]), 3),
           "late_max_distance": max(dist[len(dist) // 2 :]), "final_losses": [round(v, 4) for v in s.losses[-1][1:]]}
    if modes:
        out["modes_covered"] = modes
    return out


# Counts the frames the page shows: every new data-step on #gan-frame .gan-frame, with the browser's clock.
FRAME_COUNTER_JS = """() => { window.__frames = []; const root = document.querySelector('#gan-frame');
  const seen = () => { const f = root.querySelector('.gan-frame'); return f ? f.dataset.step : null; };
  let last = seen();
  new MutationObserver(() => { const s = seen(); if (s !== null && s !== last) { last = s; window.__frames.push([performance.now(), +s]); } })
    .observe(root, {childList: true, subtree: true, characterData: true, attributes: true}); }"""


def bench_browser(seconds: float) -> dict:
    """Frames per second the GAN tab shows in headless Chromium after play is pressed: the app served by
    `python app.py`, the page opened at ?tab=gan, frames counted for `seconds` after the first one; then pause is
    clicked and the frames the page still shows (a backlog the browser had not drawn yet) are counted too."""
    from benchmarks.screenshots import served_browser
    from demos.gan import FRAME_S

    with served_browser() as (browser, port):
        page = browser.new_page(locale="en-US", viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/?tab=gan", wait_until="domcontentloaded")
        page.wait_for_selector("#gan-frame .gan-frame", timeout=120_000)
        page.wait_for_timeout(2000)  # the page's load events settle
        page.evaluate(FRAME_COUNTER_JS)
        page.locator("#gan-play").click()
        page.wait_for_function("() => window.__frames.length >= 1", timeout=60_000)
        page.wait_for_timeout(int(seconds * 1000))
        frames = page.evaluate("() => window.__frames")
        page.locator("#gan-pause").click(force=True)
        page.wait_for_function("() => document.querySelector('#gan-status').innerText.includes('paused')",
                               timeout=60_000)
        page.wait_for_timeout(2000)
        late = len(page.evaluate("() => window.__frames")) - len(frames)
    times = [t / 1000 for t, _ in frames]
    gaps = [b - a for a, b in zip(times, times[1:])]
    span = times[-1] - times[0] if len(times) > 1 else float("nan")
    out = {"frame_s": FRAME_S, "frames": len(frames), "seconds": round(span, 2),
           "fps": round((len(frames) - 1) / span, 2) if gaps else None,
           "median_gap_ms": round(1000 * statistics.median(gaps), 1) if gaps else None,
           "steps_shown": [frames[0][1], frames[-1][1]] if frames else None, "frames_after_pause_click": late}
    print("browser", out, flush=True)
    return out


def bench_presets() -> dict:
    import torch

    from genlib import gan

    torch.set_num_threads(1)
    out = {}
    runs = dict(gan.PRESETS)
    runs["gaussian_default"] = dict(gan.PRESETS["healthy"], target="gaussian")  # the oscillation preset's baseline
    for name, p in runs.items():
        h = gan.Hyper(**p)
        first, second = _run_preset(h), _run_preset(h)
        out[name] = {"controls": p, **first, "reproducible": first == second}
        print(name, out[name], flush=True)
    return out


def bench_mnist(n: int, data_dir: str | None) -> dict:
    import torch

    from genlib import data, gan, hub
    from genlib.metrics import classifier_outputs, fid_from_features, inception_score

    torch.set_num_threads(os.cpu_count() or 1)
    clf, G = hub.load("cnn").eval(), hub.load("gan").eval()
    x_test, _ = data.load("mnist", "test", data_dir)
    x_train, _ = data.load("mnist", "train", data_dir)
    f_test, p_test = classifier_outputs(clf, x_test)
    splits = max(1, n // 1000)
    g = torch.Generator().manual_seed(0)
    f_floor, _ = classifier_outputs(clf, x_train[torch.randperm(len(x_train), generator=g)[:n]])
    out = {"n": n, "splits": splits, "reference": "MNIST test set (10,000 images)",
           "real": {"fid_train_vs_test": round(fid_from_features(f_floor, f_test), 3),
                    "is_test": round(inception_score(p_test[:n], splits)[0], 3)}}
    for seed in (10_000, 20_000):
        x = torch.cat([gan.sample(G, min(500, n - i), seed=seed + i) for i in range(0, n, 500)])
        labels = torch.cat([torch.arange(min(500, n - i)) % 10 for i in range(0, n, 500)])
        f, probs = classifier_outputs(clf, x)
        is_mean, is_std = inception_score(probs, splits)
        out[f"seed_{seed}"] = {"fid": round(fid_from_features(f, f_test), 3), "is": round(is_mean, 3),
                               "fid_first_500": round(fid_from_features(f[:500], f_test), 3),  # as quality.py's n
                               "is_std": round(is_std, 3),
                               "class_accuracy": round((probs.argmax(1) == labels).float().mean().item(), 4)}
        print("mnist", seed, out[f"seed_{seed}"], flush=True)
    # memorisation: cosine similarity (classifier features) of each generated / held-out test image to its nearest
    # neighbour among the first 20,000 training images; a copying generator sits much closer than test images do
    pool = torch.nn.functional.normalize(classifier_outputs(clf, x_train[:20_000])[0].float(), dim=1)
    x = gan.sample(G, 500, seed=30_000)

    def nearest(images):
        f = torch.nn.functional.normalize(classifier_outputs(clf, images)[0].float(), dim=1)
        return (f @ pool.T).max(dim=1).values

    s_gen, s_test = nearest(x), nearest(x_test[:500])
    out["nearest_cosine"] = {"generated_median": round(s_gen.median().item(), 4), "test_median": round(s_test.median().item(), 4),
                             "generated_above_0.99": round((s_gen > 0.99).float().mean().item(), 4),
                             "test_above_0.99": round((s_test > 0.99).float().mean().item(), 4), "n": 500, "pool": 20_000}
    print("nearest", out["nearest_cosine"], flush=True)
    return out


def bench_speed(runs: int) -> dict:
    import torch

    from genlib import gan, hub

    G = hub.load("gan").eval()
    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        gan.sample(G, 16, seed=0)  # gan.sample runs without autograd, as the tab samples
        times = []
        for r in range(runs):
            t0 = time.perf_counter()
            gan.sample(G, 16, seed=r)
            times.append(time.perf_counter() - t0)
        out[f"threads_{threads}"] = {"median_ms": round(1000 * statistics.median(times), 2), "n": runs}
    print("speed", out, flush=True)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=1000, help="MNIST samples per configuration")
    p.add_argument("--runs", type=int, default=20, help="timing repetitions")
    p.add_argument("--frames", type=int, default=30, help="game frames timed")
    p.add_argument("--data-dir", default=os.environ.get("GENLIB_DATA"))
    p.add_argument("--seconds", type=float, default=20.0, help="seconds of play counted in the browser")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: game, browser, presets, mnist, speed")
    args = p.parse_args()

    import platform

    import torch

    path = RESULTS / "gan.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    out["machine"] = f"{platform.machine()}, {os.cpu_count()} CPU threads, torch {torch.__version__}"
    command = "python benchmarks/gan.py " + " ".join(sys.argv[1:])
    skip = set(args.skip.split(","))
    for part, run in (("game", lambda: bench_frames(args.frames)), ("browser", lambda: bench_browser(args.seconds)),
                      ("presets", bench_presets),
                      ("speed", lambda: bench_speed(args.runs)), ("mnist", lambda: bench_mnist(args.n, args.data_dir))):
        if part not in skip:
            out[part] = run()
            out.setdefault("commands", {})[part] = command
            RESULTS.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(out, indent=1) + "\n")
    m = json.loads((ROOT / "weights" / "gan" / "metrics.json").read_text()) if (ROOT / "weights" / "gan" / "metrics.json").exists() else {}
    if m:
        out["training"] = {"command": m["command"], "wall_time_s": m["wall_time_s"], "hardware": m["hardware"],
                           "epochs": m["epochs"], "steps": m["steps"],
                           "per_epoch": [{k: e.get(k) for k in ("epoch", "step", "is", "fid", "class_accuracy")}
                                         for e in m.get("epochs_record", [])]}
    path.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
