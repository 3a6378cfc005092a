"""Test set-up: no network, the shared data when it exists, and a tiny untrained model for fast demo tests."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the Hub
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
SHARED_DATA = ROOT.parent / "shared" / "data"
if "GENLIB_DATA" not in os.environ and (SHARED_DATA / "mnist").is_dir():
    os.environ["GENLIB_DATA"] = str(SHARED_DATA)

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", min(2, os.cpu_count() or 1))))

TINY_UNET = dict(in_channels=1, ch=8, ch_mult=[1, 2], num_res_blocks=1, attn_resolutions=[14], dropout=0.0, img_size=28)


def make_tiny_unet(seed: int = 0, num_classes: int = 0):
    """A small randomly initialised U-Net whose output layer is not zero (so it predicts some noise); with
    num_classes, a class-conditional one like the shipped DDPM."""
    from genlib.unet import UNet

    torch.manual_seed(seed)
    model = UNet(**TINY_UNET, num_classes=num_classes)
    torch.nn.init.normal_(model.out[-1].weight, std=0.05)
    return model.eval()


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    """GENLIB_WEIGHTS_DIR with a tiny ddpm model, and an empty Hub cache, for fast demo tests."""
    from genlib import hub

    make_tiny_unet(num_classes=10).save_pretrained(tmp_path / "weights" / "ddpm")  # conditional, as the shipped one
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "weights"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.clear_cache()
    yield tmp_path / "weights"
    hub.clear_cache()


@pytest.fixture
def no_weights(tmp_path, monkeypatch, request):
    """No weights anywhere (GENLIB_WEIGHTS_DIR and the Hub cache are empty folders); hub and the test module's `tab`
    (the demos module under test, if it has a clear_cache) forget what they loaded, before and after."""
    from genlib import hub

    tab = getattr(request.module, "tab", None)
    forget = [hub.clear_cache] + ([tab.clear_cache] if hasattr(tab, "clear_cache") else [])
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "nothing"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    for f in forget:
        f()
    yield
    for f in forget:
        f()


def idx_fixture(root: Path, n: int = 64, seed: int = 0) -> Path:
    """A small random dataset in the IDX layout (root/mnist/*.gz) for tests that must not need real data."""
    import numpy as np

    from genlib import data

    rng = np.random.default_rng(seed)
    for prefix in ("train", "t10k"):
        data.write_idx(root / "mnist" / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        data.write_idx(root / "mnist" / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, (n,), dtype=np.uint8))
    return root


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_LOG = Path(os.environ.get("TMPDIR", "/tmp")) / f"genlib-app-server-{os.getpid()}.log"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test that talks to the app server gets the server's last log lines in its report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "server" in getattr(item, "fixturenames", ()) and SERVER_LOG.exists():
        tail = SERVER_LOG.read_text(errors="replace").splitlines()[-60:]
        report.sections.append(("app server log (last 60 lines)", "\n".join(tail)))


@pytest.fixture(scope="session")
def server():
    """`python app.py` on a free port with the committed weights; yields its URL."""
    import subprocess
    import time
    import urllib.request

    if not (ROOT / "weights" / "ddpm" / "model.safetensors").exists():
        pytest.fail("weights/ddpm is missing: run `python genlib/train.py ddpm`")
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", PYTHONUNBUFFERED="1")
    env.pop("GENLIB_WEIGHTS_DIR", None)
    log = open(SERVER_LOG, "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"app.py did not start (exit code {proc.poll()})")
        time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
