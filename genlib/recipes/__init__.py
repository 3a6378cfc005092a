"""Training recipes: one file per model family, each with `train(args, spec) -> RunResult` (data, loss, what to
keep) and the evaluator of that model (held-out loss, accuracy, bits/dim, exact match), which the benchmarks import.

Nothing here knows about the command line or the output folder: `genlib/train.py` owns those and the generic loop.
"""
