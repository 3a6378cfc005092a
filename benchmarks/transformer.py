"""Transformer figures: exact-match accuracy on held-out examples, overall and (number tasks) per shape of the
number and per written form, decode latency for one example (greedy and beam 4), training wall time. Writes
benchmarks/results/transformer.json.

    python benchmarks/transformer.py [--runs 20]

Held-out sets: the examples train.py set aside (seed 12345): 1000 for copy; for the number tasks 10,000 numbers
stratified by shape (genlib.numerals), of which those in shapes large enough were excluded from training (the
others, such as 1-9 or 100000, are in training too and are flagged per shape); plus 2000 fresh examples from the
training distribution (seed 999, so it includes numbers the model was trained on).
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
LATENCY_INPUT = {"numbers": "three hundred and twelve thousand and forty five", "zh_numbers": "三十一万二千零四十五",
                 "copy": "3 1 4 1 5 9 2 6 5 3"}


def form_of(task: str, phrase: str, n: int) -> str:
    """The written form of a held-out phrase: English "and" placement and "a"; Chinese 两 and a leading 一十."""
    from genlib import numerals

    if task == "numbers":
        slots, ands = numerals.and_slots(n), phrase.split().count("and")
        form = "no 'and' slot" if not slots else "British" if ands == slots else "American" if not ands else "mixed"
        return form + (", 'a'" if phrase.startswith("a ") else "")
    tags = [t for t, ok in (("两", "两" in phrase), ("leading 一十", phrase.startswith("一十"))) if ok]
    return " + ".join(tags) or "二 only, no leading 一十"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()

    import torch

    from genlib import data, hub
    from genlib import numerals
    from genlib.recipes.transformer import by_shape, correct, exact_match, heldout_pairs
    from genlib.transformer import beam_search, greedy_decode, padding_mask

    torch.set_num_threads(1)  # as the tab decodes (demos/transformer.py, _one_thread) and as train.py evaluates
    out = {"command": " ".join(["python benchmarks/transformer.py", *sys.argv[1:]]), "runs": args.runs,
           "machine": f"{platform.machine()}, {os.cpu_count()} CPU threads (decoding on 1), torch {torch.__version__}",
           "tasks": {}}
    for task, spec in data.SEQ_TASKS.items():
        model = hub.load(f"transformer_{task}")
        heldout = heldout_pairs(task)
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
        ok = correct(model, task, heldout)
        out["tasks"][task] = {"heldout_exact_match": sum(ok) / len(ok), "heldout_n": len(heldout),
                              "fresh_exact_match": exact_match(model, task, fresh), "fresh_n": len(fresh),
                              "latency": latency, "latency_input": LATENCY_INPUT[task],
                              "training_wall_s": metrics["wall_time_s"], "training_command": metrics["command"],
                              "train_pairs": metrics["train_pairs"], "steps": metrics["steps"]}
        if task in data.NUMBER_TASKS:
            table = by_shape(task, heldout, ok)
            out["tasks"][task]["shapes"] = {
                f"{row}|{col}": {"exact_match": acc, "n": n, "numbers_of_shape": numerals.shape_size(task, (row, col)),
                                 "excluded_from_training": numerals.held_out_for_real(task, (row, col), len(heldout))}
                for (row, col), (acc, n) in table.items()}
            forms: dict[str, list[bool]] = {}
            for (src, tgt), k in zip(heldout, ok):
                forms.setdefault(form_of(task, src, int(tgt)), []).append(k)
            out["tasks"][task]["forms"] = {f: {"exact_match": sum(v) / len(v), "n": len(v)} for f, v in sorted(forms.items())}
            # the training set again (same seed, size and exclusion as train.py): which held-out numbers it never drew
            trained = {t for _, t in data.seq_dataset(task, metrics["train_pairs"], seed=metrics["seed"],
                                                       exclude=data.heldout_exclusion(task, heldout))}
            unseen = [k for (_, t), k in zip(heldout, ok) if t not in trained]
            out["tasks"][task]["unseen"] = {"exact_match": sum(unseen) / max(1, len(unseen)), "n": len(unseen),
                                            "shapes": len({numerals.shape(task, int(t)) for _, t in heldout if t not in trained})}
            out["tasks"][task]["failures"] = [{"phrase": src, "target": tgt} for (src, tgt), k in zip(heldout, ok) if not k][:50]
        print(task, {k: v for k, v in out["tasks"][task].items() if k not in ("shapes", "forms")}, flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "transformer.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
