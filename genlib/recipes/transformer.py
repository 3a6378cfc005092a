"""The Annotated Transformer's recipe on a generated sequence task: Adam (0.9, 0.98, 1e-9), the Noam schedule,
label smoothing, and the average of the last checkpoints. A fixed held-out set is excluded from training.

Number tasks (English words, Chinese numerals): the held-out set is 10,000 numbers stratified by the shape of the
number (genlib.numerals), each in a random accepted form; training skips the held-out numbers of every shape large
enough to lose a quarter of its numbers (the others, such as 1-9 or 100000, are too small to hold out and are in
both sets). Exact match is reported overall and per shape."""
from __future__ import annotations

import copy

import torch

from genlib import data
from genlib.train import RunResult, fit, seeded
from genlib.transformer import (LabelSmoothing, average_checkpoints, padding_mask, rate, subsequent_mask,
                                target_mask)

HELD_OUT_SEED = 12345  # the held-out pairs: seq_dataset(task, heldout_size(task), seed=HELD_OUT_SEED, heldout=True)
KEEP = 5  # checkpoints averaged at the end


def heldout_size(task: str) -> int:
    return 10_000 if task in data.NUMBER_TASKS else 1000


def heldout_pairs(task: str, n: int | None = None) -> list[tuple[str, str]]:
    return data.seq_dataset(task, n or heldout_size(task), seed=HELD_OUT_SEED, heldout=True)


def train(args, spec) -> RunResult:
    task = spec.options["task"]
    if not args.threads:
        # One intra-op thread: this model's small ops gain nothing from a second one (66 ms per step with two on an
        # idle 2-core CPU, 55-73 ms with one), and when the other core is busy two threads wait on each other
        # (1.1-4.2 s per step measured, against 55-73 ms with one).
        torch.set_num_threads(1)
    g = seeded(args.seed)
    task_spec = data.SEQ_TASKS[task]
    test = heldout_pairs(task)
    train_pairs = data.seq_dataset(task, args.limit or args.train_size, seed=args.seed,
                                   exclude=data.heldout_exclusion(task, test))
    src, tgt = data.seq_batch(task, train_pairs)
    config = dict(src_vocab=len(task_spec.src_vocab), tgt_vocab=len(task_spec.tgt_vocab), **spec.config)
    model = spec.model_class()(**config)
    criterion = LabelSmoothing(len(task_spec.tgt_vocab), data.PAD, smoothing=args.smoothing)

    def loss_fn(idx):
        s, t = src[idx], tgt[idx]
        t_in, t_out = t[:, :-1], t[:, 1:]
        out = model(s, t_in, padding_mask(s, data.PAD), target_mask(t_in, data.PAD))
        n_tokens = (t_out != data.PAD).sum()
        return criterion(model.log_probs(out).flatten(0, 1), t_out.flatten()) / n_tokens

    total = (len(train_pairs) // args.batch_size) * args.epochs
    every, snapshots = max(1, total // 50), []  # the last KEEP checkpoints, `every` steps apart

    def after_step(step):
        if step >= total - KEEP * every and (total - 1 - step) % every == 0:
            snapshots.append({k: v.detach().clone() for k, v in model.state_dict().items()})

    curve = fit(model, loss_fn, len(train_pairs), args, g, after_step=after_step, betas=(0.9, 0.98), eps=1e-9,
                schedule=lambda step: rate(step + 1, config["d_model"], args.lr, args.warmup))
    model.eval()
    last_ok = correct(model, task, test)
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(average_checkpoints(snapshots))
    averaged.eval()
    avg_ok = correct(averaged, task, test)
    last_acc, avg_acc = sum(last_ok) / len(test), sum(avg_ok) / len(test)
    best = averaged if avg_acc >= last_acc else model
    metrics = {"train_pairs": len(train_pairs), "heldout_pairs": len(test), "transformer": spec.config,
               "label_smoothing": args.smoothing, "noam_factor": args.lr, "warmup": args.warmup,
               "checkpoints_averaged": len(snapshots), "loss_curve": curve,
               "final": {"train_loss_last": curve[-1][1] if curve else None, "heldout_exact_match_last": last_acc,
                         "heldout_exact_match_averaged": avg_acc, "kept": "averaged" if best is averaged else "last"}}
    if task in data.NUMBER_TASKS:
        table = by_shape(task, test, avg_ok if best is averaged else last_ok)
        metrics["final"]["heldout_shapes_at_100"] = f"{sum(a == 1.0 for a, _ in table.values())} of {len(table)}"
        metrics["final"]["heldout_worst_shape_exact_match"] = min(table.values())[0]
    return RunResult(best, metrics)


def exact_match(model, task: str, pairs: list[tuple[str, str]], batch: int = 250) -> float:
    """Fraction of pairs whose greedy output equals the target exactly (batched greedy decoding)."""
    return sum(correct(model, task, pairs, batch)) / max(1, len(pairs))


def by_shape(task: str, pairs: list[tuple[str, str]], ok: list[bool]) -> dict[tuple[str, str], tuple[float, int]]:
    """Number tasks: shape -> (exact match, count) over the pairs of that shape (genlib.numerals.shape)."""
    from genlib import numerals

    groups: dict[tuple[str, str], list[bool]] = {}
    for (_, t), k in zip(pairs, ok):
        groups.setdefault(numerals.shape(task, int(t)), []).append(k)
    return {s: (sum(v) / len(v), len(v)) for s, v in groups.items()}


@torch.no_grad()
def correct(model, task: str, pairs: list[tuple[str, str]], batch: int = 250) -> list[bool]:
    """For each pair, whether the greedy output equals the target exactly (batched greedy decoding, on one
    intra-op thread for the reason given in train())."""
    spec, flags, threads = data.SEQ_TASKS[task], [], torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _greedy_rows(model, task, pairs, batch, spec, flags)
    finally:
        torch.set_num_threads(threads)
    return flags


def _greedy_rows(model, task, pairs, batch, spec, flags) -> None:
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        src, _ = data.seq_batch(task, chunk)
        src_mask = padding_mask(src, data.PAD)
        memory = model.encode(src, src_mask)
        ys = torch.full((len(chunk), 1), data.BOS)
        for _ in range(spec.max_tgt):
            out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)))
            ys = torch.cat([ys, model.log_probs(out[:, -1]).argmax(-1, keepdim=True)], dim=1)
        flags += [spec.decode_tgt(row[1:].tolist()) == t for row, (_, t) in zip(ys, chunk)]
