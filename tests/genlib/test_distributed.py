"""Data-parallel training (torchrun): N processes on 1/N of every batch take the same steps as one process on the
whole batch, and `torchrun --nproc_per_node 2 genlib/train.py <model>` writes weights that load."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
import torch.multiprocessing as mp

from genlib import hub, train
from tests.conftest import ROOT, free_port, idx_fixture

ARGS = dict(model="probe", lr=0.05, batch_size=8, epochs=3, warmup=2, seed=0)


def _problem():
    """A small regression problem and a model with two layers (deterministic loss: no noise, no dropout)."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 5, generator=g), torch.randn(40, 1, generator=g)
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 1))
    return model, (lambda idx: torch.nn.functional.mse_loss(model(x[idx]), y[idx]))


def _fit(clip=None):
    model, loss_fn = _problem()
    curve = train.fit(model, loss_fn, 40, SimpleNamespace(**ARGS), torch.Generator().manual_seed(0), clip=clip, log_points=15)
    return model, curve


def _worker(rank: int, size: int, port: int, out: str, clip) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(size), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=size)
    finished = False
    try:
        model, curve = _fit(clip)
        if rank == 0:
            torch.save({"state": model.state_dict(), "curve": curve}, out)
        finished = True
    finally:
        train.close_distributed(finished)
    train.exit_process(0)  # rank 1 otherwise aborts in gloo's teardown at exit about once in 50 runs


@pytest.mark.parametrize("clip", [None, 0.5])
def test_two_processes_take_the_steps_of_one_process_on_the_whole_batch(tmp_path, clip):
    single, single_curve = _fit(clip)
    out = tmp_path / "rank0.pt"
    mp.spawn(_worker, args=(2, free_port(), str(out), clip), nprocs=2, join=True)
    both = torch.load(out, weights_only=True)
    for k, v in single.state_dict().items():
        torch.testing.assert_close(both["state"][k], v, rtol=1e-5, atol=1e-6)  # 15 AdamW steps, averaged gradients
    assert [s for s, _ in both["curve"]] == [s for s, _ in single_curve]
    torch.testing.assert_close(torch.tensor(both["curve"])[:, 1], torch.tensor(single_curve)[:, 1], rtol=1e-5, atol=1e-6)


def test_batch_must_split_evenly_across_processes(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    model, loss_fn = _problem()
    with pytest.raises(train.TrainingError, match="divisible by the 3 processes"):
        train.fit(model, loss_fn, 40, SimpleNamespace(**ARGS), torch.Generator())


@pytest.mark.skipif(shutil.which("torchrun", path=os.path.dirname(sys.executable)) is None, reason="torchrun not installed")
@pytest.mark.parametrize("argv", [["flow2d_ring8", "--epochs", "1", "--limit", "1024"],
                                  ["cnn", "--epochs", "1", "--batch-size", "16", "--limit", "64"]])
def test_torchrun_two_processes_write_weights_that_load(tmp_path, argv):
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    data_dir = idx_fixture(tmp_path / "data")
    out = tmp_path / argv[0]
    cmd = [torchrun, "--nproc_per_node", "2", "--master_port", str(free_port()), str(ROOT / "genlib" / "train.py"), *argv,
           "--out", str(out), "--threads", "1", "--data-dir", str(data_dir)]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("wrote ") == 1  # rank 0 alone writes and reports
    model = hub.load_from(out, argv[0])
    assert sum(p.numel() for p in model.parameters()) > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["hardware"].endswith("x 2 processes (torchrun)") and metrics["steps"] >= 2
