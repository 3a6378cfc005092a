"""The Annotated Transformer's recipe on a generated sequence task: Adam (0.9, 0.98, 1e-9), the Noam schedule,
label smoothing, and the average of the last checkpoints. A fixed held-out set is excluded from training."""
from __future__ import annotations

import copy

import torch

from genlib import data
from genlib.train import RunResult, fit, seeded
from genlib.transformer import (LabelSmoothing, average_checkpoints, padding_mask, rate, subsequent_mask,
                                target_mask)

HELD_OUT_SEED = 12345  # the 1000 held-out pairs: seq_dataset(task, 1000, seed=HELD_OUT_SEED, heldout=True)
KEEP = 5  # checkpoints averaged at the end


def heldout_pairs(task: str, n: int = 1000) -> list[tuple[str, str]]:
    return data.seq_dataset(task, n, seed=HELD_OUT_SEED, heldout=True)


def train(args, spec) -> RunResult:
    task = spec.options["task"]
    g = seeded(args.seed)
    task_spec = data.SEQ_TASKS[task]
    test = heldout_pairs(task)
    train_pairs = data.seq_dataset(task, args.limit or args.train_size, seed=args.seed, exclude={s for s, _ in test})
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
    last_acc = exact_match(model, task, test)
    averaged = copy.deepcopy(model)
    averaged.load_state_dict(average_checkpoints(snapshots))
    averaged.eval()
    avg_acc = exact_match(averaged, task, test)
    best = averaged if avg_acc >= last_acc else model
    metrics = {"train_pairs": len(train_pairs), "heldout_pairs": len(test), "transformer": spec.config,
               "label_smoothing": args.smoothing, "noam_factor": args.lr, "warmup": args.warmup,
               "checkpoints_averaged": len(snapshots), "loss_curve": curve,
               "final": {"train_loss_last": curve[-1][1] if curve else None, "heldout_exact_match_last": last_acc,
                         "heldout_exact_match_averaged": avg_acc, "kept": "averaged" if best is averaged else "last"}}
    return RunResult(best, metrics)


@torch.no_grad()
def exact_match(model, task: str, pairs: list[tuple[str, str]], batch: int = 250) -> float:
    """Fraction of pairs whose greedy output equals the target exactly (batched greedy decoding)."""
    spec, correct = data.SEQ_TASKS[task], 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        src, _ = data.seq_batch(task, chunk)
        src_mask = padding_mask(src, data.PAD)
        memory = model.encode(src, src_mask)
        ys = torch.full((len(chunk), 1), data.BOS)
        for _ in range(spec.max_tgt):
            out = model.decode(memory, src_mask, ys, subsequent_mask(ys.size(1)))
            ys = torch.cat([ys, model.log_probs(out[:, -1]).argmax(-1, keepdim=True)], dim=1)
        correct += sum(spec.decode_tgt(row[1:].tolist()) == t for row, (_, t) in zip(ys, chunk))
    return correct / max(1, len(pairs))
