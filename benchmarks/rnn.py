"""RNN tab figures: the three Shakespeare cells at equal training time (validation nats/char on the whole 10% split,
steps, parameters, wall time from metrics.json), the Tang model's validation loss, how often unconstrained poems
meet the quatrain form (and that masked ones always do), dh_T/ds_t at a few distances for the three cells on the
tab's default text, and the sampling speed. Writes benchmarks/results/rnn.json.

    python benchmarks/rnn.py --data-dir ../shared/data [--poems 200] [--threads 1] [--models rnn lstm tang]
(--models measures only those and keeps the other entries of an existing results file)
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
SHAKESPEARE = ("rnn", "gru", "lstm")
GOAL = 1.50  # issue 13: validation nats/char on Tiny Shakespeare for the best cell
DISTANCES = (1, 10, 20, 40)  # T - t at which dh_T/ds_t is reported


def main(argv=None) -> dict:
    from genlib import hub, rnn
    from genlib.recipes.rnn import corpus_splits

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--poems", type=int, default=200, help="unconstrained and masked poems sampled")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--models", nargs="*", default=[*SHAKESPEARE, "tang"], choices=[*SHAKESPEARE, "tang"])
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    path = RESULTS / "rnn.json"
    everything = set(args.models) == {*SHAKESPEARE, "tang"}
    out = {"shakespeare": {}} if everything or not path.exists() else json.loads(path.read_text(encoding="utf-8"))
    out["goal_nats_per_char"] = GOAL
    _, val_text = corpus_splits("shakespeare", args.data_dir)
    from demos.rnn import DEFAULT_GRAD_TEXT

    for kind in [k for k in SHAKESPEARE if k in args.models]:
        name = f"rnn_shakespeare_{kind}"
        try:
            model = hub.load(name)
        except hub.ModelUnavailable as err:
            print(f"{name}: {err}")
            continue
        m = hub.load_metrics(name)
        val = rnn.nats_per_char(model, rnn.encode_corpus(model.vocab, val_text))
        norms = rnn.state_gradient_norms(model, DEFAULT_GRAD_TEXT)
        g = torch.Generator().manual_seed(0)
        t0 = time.perf_counter()
        rnn.generate(model, "ROMEO:\n", 500, temperature=0.8, generator=g)
        speed = 500 / (time.perf_counter() - t0)
        out["shakespeare"][name] = {
            "cell": kind, "val_nats_per_char": round(val, 4), "val_perplexity": round(2.718281828 ** val, 3),
            "train_loss_last": m["final"].get("train_loss_last"), "training_minutes": m["final"]["training_minutes"],
            "training_cpu_minutes": m["final"].get("training_cpu_minutes"), "wall_time_s": m["wall_time_s"], "steps": m["steps"], "epochs_done": m["final"]["epochs_done"],
            "parameters": m["parameters"], "hardware": m["hardware"], "command": m["command"],
            "val_curve": m["val_curve"], "grad_norm": {str(d): float(norms[d - 1]) for d in DISTANCES if d <= len(norms)},
            "sample_chars_per_s": round(speed, 1)}
        print(f"{name}: {val:.4f} nats/char, {m['steps']} steps in {m['final']['training_minutes']} min, "
              f"{speed:.0f} chars/s, dh_T/ds_t {out['shakespeare'][name]['grad_norm']}")
    if out["shakespeare"]:
        best = min(out["shakespeare"].values(), key=lambda r: r["val_nats_per_char"])
        out["best"] = {"cell": best["cell"], "val_nats_per_char": best["val_nats_per_char"],
                       "met": best["val_nats_per_char"] <= GOAL}
    try:
        tang = hub.load("rnn_tang_lstm") if "tang" in args.models else None
    except hub.ModelUnavailable as err:
        print(f"rnn_tang_lstm: {err}")
        tang = None
    if tang is not None:
        m = hub.load_metrics("rnn_tang_lstm")
        _, tang_val = corpus_splits("tang", args.data_dir)
        val = rnn.nats_per_char(tang, rnn.encode_corpus(tang.vocab, tang_val))
        g = torch.Generator().manual_seed(1)
        forms = [rnn.poem_form(rnn.free_poem(tang, 0.8, g)) for _ in range(args.poems)]
        masked_ok = 0
        for i in range(args.poems):
            L = 5 if i % 2 else 7
            step = None
            for step in rnn.write_quatrain(tang, L, "", 0.8, 0, torch.Generator().manual_seed(i)):
                pass
            masked_ok += rnn.quatrain_ok(rnn.decode(tang.vocab, step.x[0, 1:].tolist()), L)
        share = {f: sum(x == f for x in forms) / len(forms) for f in ("5x4", "7x4", "5x8", "7x8")}
        out["tang"] = {"val_nats_per_char": round(val, 4), "val_perplexity": round(2.718281828 ** val, 2),
                       "vocab_size": tang.V, "min_count": m["min_count"], "parameters": m["parameters"],
                       "training_minutes": m["final"]["training_minutes"], "wall_time_s": m["wall_time_s"],
                       "training_cpu_minutes": m["final"].get("training_cpu_minutes"), "steps": m["steps"], "command": m["command"], "poems": args.poems,
                       "free_regular_share": sum(f is not None for f in forms) / len(forms),
                       "free_quatrain_share": share["5x4"] + share["7x4"], "free_form_shares": share,
                       "masked_form_share": masked_ok / args.poems,
                       "corpus_form_shares": {"5x4": 2811 / 29603, "7x4": 8402 / 29603, "5x8": 11866 / 29603,
                                              "7x8": 6524 / 29603}}  # from ../shared/data/text/README.md
        print(f"rnn_tang_lstm: {val:.4f} nats/char; free poems regular {out['tang']['free_regular_share']:.2%}, "
              f"quatrains {out['tang']['free_quatrain_share']:.2%}; masked {masked_ok}/{args.poems}")
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


if __name__ == "__main__":
    main()
