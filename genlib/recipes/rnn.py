"""Character-level language models (genlib.rnn.CharLM) on Tiny Shakespeare or the Tang poems: truncated BPTT with
gradient clipping, a training-time budget, and validation loss in nats per character.

The training text is read as `batch_size` parallel streams; each step takes the next `bptt` characters of every
stream, and the hidden state is carried from one chunk to the next but detached from its graph (truncated BPTT:
gradients flow back at most `bptt` characters). A run stops after `--minutes` of training or `--epochs` passes,
whichever comes first, so the three cells can be compared at equal training time. The minutes are the CPU time the
training steps got (one thread: time.process_time; evaluations are not counted). On an idle machine that is the wall
time; on the shared 2-core machine other jobs take part of the core, and a wall-clock budget would hand the cells
different amounts of computation depending on the load while each ran. The wall time is recorded too. The learning
rate warms up, then follows a cosine over the budget.
"""
from __future__ import annotations

import math
import time

import torch

from genlib import data
from genlib.rnn import CharLM, build_vocab, chunk_loss, encode_corpus, free_poem, nats_per_char, poem_form
from genlib.train import RunResult, TrainingError, seeded

VAL_PROBE = 40_000  # characters of the validation text scored during training (the full split at the end)
# metrics.json: val_curve rows are [step, training CPU seconds, nats/char on the first VAL_PROBE validation characters,
# training wall seconds], except the last row, which scores the whole validation split (final.val_nats_per_char).
FORM_SAMPLES = 200  # unconstrained Tang poems sampled at the end to measure how often the form comes out by itself


def corpus_splits(corpus: str, data_dir=None) -> tuple[str, str]:
    try:
        return data.text_split(corpus, data.load_text(corpus, data_dir))
    except data.DataUnavailable as err:
        raise TrainingError(str(err)) from None


def streams(ids: torch.Tensor, batch: int, offset: int = 0) -> torch.Tensor:
    """ids (N,) -> (batch, N // batch) rows of consecutive text, starting `offset` characters in."""
    ids = ids[offset:]
    n = len(ids) // batch
    return ids[: n * batch].view(batch, n)


def train(args, spec) -> RunResult:
    corpus = spec.options["corpus"]
    g = seeded(args.seed)
    train_text, val_text = corpus_splits(corpus, args.data_dir)
    if args.limit:
        train_text, val_text = train_text[: args.limit], val_text[: max(2000, args.limit // 9)]
    vocab = build_vocab(train_text, min_count=args.min_count)
    model = CharLM(**spec.config, vocab=vocab)
    ids, val_ids = encode_corpus(vocab, train_text), encode_corpus(vocab, val_text)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    budget = args.minutes * 60
    curve, val_curve, running = [], [], []
    step, epoch, trained = 0, 0, 0.0  # trained: wall seconds spent on training steps
    cpu = 0.0  # the CPU seconds this process got for those steps (the budget): under load, less than `trained`
    next_eval, eval_every = 0.0, max(20.0, budget / 25)
    while epoch < args.epochs and cpu < budget:
        offset = int(torch.randint(0, args.bptt, (), generator=g)) if epoch else 0
        rows = streams(ids, args.batch_size, offset)  # (B, n)
        state = model.init_state(args.batch_size)
        for i in range(0, rows.shape[1] - 1 - args.bptt + 1, args.bptt):
            if cpu >= next_eval:
                val_curve.append([step, round(cpu, 1), nats_per_char(model.eval(), val_ids[:VAL_PROBE]), round(trained, 1)])
                print(f"step {step} cpu {cpu / 60:.1f} min wall {trained / 60:.1f} min val {val_curve[-1][2]:.4f} nats/char "
                      f"train {curve[-1][1] if curve else float('nan'):.4f}", flush=True)
                next_eval += eval_every
            if cpu >= budget:
                break
            t0, c0 = time.perf_counter(), time.process_time()
            model.train()
            for group in opt.param_groups:
                group["lr"] = lr_at(step, cpu / budget, args.lr, args.warmup)
            x, y = rows[:, i : i + args.bptt], rows[:, i + 1 : i + 1 + args.bptt]
            loss, state = chunk_loss(model, x, y, state)  # state comes back detached: truncated BPTT
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)  # against exploding gradients
            opt.step()
            running.append(loss.item())
            step += 1
            if step % 25 == 0:
                curve.append([step, sum(running) / len(running), round(float(grad_norm), 3)])
                running = []
            trained += time.perf_counter() - t0
            cpu += time.process_time() - c0
        epoch += 1
    model.eval()
    val = nats_per_char(model, val_ids)
    val_curve.append([step, round(cpu, 1), val, round(trained, 1)])
    final = {"val_nats_per_char": val, "val_perplexity": math.exp(val), "train_loss_last": curve[-1][1] if curve else None,
             "vocab_size": len(vocab), "epochs_done": epoch, "training_minutes": round(trained / 60, 2),
             "training_cpu_minutes": round(cpu / 60, 2), "steps": step}
    if corpus == "tang":
        final.update(form_share(model, FORM_SAMPLES if not args.limit else 5, seed=args.seed))
    metrics = {"corpus": corpus, "train_chars": len(ids), "val_chars": len(val_ids), "bptt": args.bptt,
               "clip": args.clip, "min_count": args.min_count, "minutes_budget": args.minutes,
               "model_config": spec.config, "parameters": sum(p.numel() for p in model.parameters()),
               "loss_curve": [c[:2] for c in curve], "grad_norm_curve": [[c[0], c[2]] for c in curve],
               "val_curve": val_curve, "final": final}
    return RunResult(model, metrics)


def lr_at(step: int, progress: float, lr: float, warmup: int) -> float:
    """Linear warm-up over `warmup` steps, then a cosine over the share of the time budget used, down to 5% of lr."""
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def form_share(model: CharLM, n: int, seed: int = 0, temperature: float = 0.8) -> dict:
    """How often n unconstrained poems (from a newline to the next, temperature 0.8) already have a regular form:
    the share with any of the corpus's four forms, and the share that are quatrains (four lines of 5 or 7)."""
    g = torch.Generator().manual_seed(seed)
    forms = [poem_form(free_poem(model, temperature, g)) for _ in range(n)]
    return {"free_poem_regular_share": sum(f is not None for f in forms) / n,
            "free_poem_quatrain_share": sum(f in ("5x4", "7x4") for f in forms) / n,
            "free_poem_samples": n}
