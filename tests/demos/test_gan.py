"""The GAN tab's callbacks as plain functions: the live 2-D game (frames, bound, reset during play, bad input,
two sessions), and the DCGAN demos with a tiny untrained generator standing in."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch

from demos import gan as tab
from demos import ui
from genlib import gan, hub
from tests.genlib.test_gan import one_thread  # noqa: F401  (autouse: tiny networks run on one thread)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_gan(tmp_path, monkeypatch):
    """GENLIB_WEIGHTS_DIR with a tiny generator ("gan") whose metrics.json has two epochs of snapshots, and the
    committed classifier ("cnn") when it exists."""
    torch.manual_seed(0)
    G = gan.DCGANGenerator(z_dim=8, ch=4)
    G.save_pretrained(tmp_path / "gan")
    z, y = gan.latents(16, 8, 1)
    with torch.no_grad():
        snap = gan.pack_images(G.eval()(z, y))
    curve = [[s, 1.0 / s] for s in range(1, 21)]
    metrics = {"epochs": 2, "steps": 20, "wall_time_s": 6.0, "hardware": "test", "loss_curve": curve,
               "loss_curve_d": curve, "snapshot": {"n": 16, "seed": 1, "labels": y.tolist()},
               "epochs_record": [{"epoch": 1, "step": 10, "images": snap, "is": 2.0, "fid": 300.0, "class_accuracy": 0.3},
                                 {"epoch": 2, "step": 20, "images": snap, "is": 3.0, "fid": 200.0, "class_accuracy": 0.4}],
               "final": {"fid": 200.0}}
    (tmp_path / "gan" / "metrics.json").write_text(json.dumps(metrics))
    if (ROOT / "weights" / "cnn").is_dir():
        shutil.copytree(ROOT / "weights" / "cnn", tmp_path / "cnn")
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setattr(tab, "N_NEAREST_POOL", 300)
    hub.clear_cache()
    tab.clear_cache()
    yield tmp_path
    hub.clear_cache()
    tab.clear_cache()


def _steps(frame_html: str) -> int:
    return int(frame_html.split('data-step="')[1].split('"')[0])


# ---- the live 2-D game ----------------------------------------------------------------------------------------
def test_reset_then_frames_advance_the_game_and_move_the_points():
    session, frame0, text = tab.game_reset(None, "ring8", "nonsaturating", 1e-3, 1e-3, 1, 0)
    assert isinstance(session, tab.Session) and _steps(frame0) == 0 and "seed 0" in text
    assert "<svg" in frame0 and "<circle" in frame0 and "<line" in frame0
    session, frame1, text = tab.game_step(session, "ring8", "nonsaturating", 1e-3, 1e-3, 1, 0)
    rounds = tab.UPDATES_PER_FRAME // 2
    assert _steps(frame1) == rounds and f"step {rounds}" in text and "modes covered" in text
    assert frame1 != frame0 and "polyline" in frame1  # the loss curves appear
    session, frame2, _ = tab.game_step(session, "ring8", "nonsaturating", 1e-3, 1e-3, 4, 0)  # d_steps 4: fewer rounds
    assert _steps(frame2) == rounds + tab.UPDATES_PER_FRAME // 5
    with_grid = tab.game_step(session, "ring8", "nonsaturating", 1e-3, 1e-3, 1, 0, True)[1]
    assert with_grid.count("<polyline") > frame2.count("<polyline")  # the manifold view adds the warped z grid


def test_frames_are_reproducible_from_the_seed():
    a = tab.game_step(tab.game_reset(None, seed=3)[0], seed=3)
    b = tab.game_step(tab.game_reset(None, seed=3)[0], seed=3)
    assert a[1] == b[1] and a[2] == b[2]
    assert tab.game_step(tab.game_reset(None, seed=4)[0], seed=4)[1] != a[1]


def test_two_sessions_never_share_state():
    s1, s2 = tab.game_reset(None, seed=0)[0], tab.game_reset(None, seed=0)[0]
    for _ in range(3):
        s1 = tab.game_step(s1, seed=0)[0]
    s2 = tab.game_step(s2, seed=0)[0]
    assert s1.game.step == 3 * s2.game.step and s1.game is not s2.game
    assert s1.game.G is not s2.game.G


def test_the_session_bound_stops_play_with_a_message():
    session = tab.game_reset()[0]
    session.game.step = tab.MAX_SESSION_STEPS - 2
    session, frame, text = tab.game_step(session)
    assert session.game.step == tab.MAX_SESSION_STEPS and "20,000" in text and not session.playing
    session, frame, text = tab.game_step(session)
    assert session.game.step == tab.MAX_SESSION_STEPS and "Reset" in text and frame is not None
    frames = list(tab.game_play(session))  # play at the bound says so once and stays paused
    assert len(frames) == 1 and "20,000" in frames[0][2] and not session.playing
    session = tab.game_reset(session)[0]
    assert session.game.step == 0


@pytest.mark.parametrize("lr, shown", [(0, "0.0001"), (-3, "0.0001"), (1e9, "0.05"), (float("nan"), "0.001"), ("x", "0.001")])
def test_bad_learning_rates_are_clamped_with_a_message(lr, shown):
    session, frame, text = tab.game_step(None, "ring8", "nonsaturating", lr, 1e-3, 1, 0)
    assert "learning rate of G" in text and shown in text and "<svg" in frame
    assert session.game.opt_g.lr == float(shown)


def test_junk_target_loss_and_huge_d_steps():
    session, _, text = tab.game_step(None, "nope", "hinge", 1e-3, 1e-3, 10**9, 2**40)
    assert "target" in text and "loss" in text and "D steps" in text and "seed" in text
    h = session.game.hyper
    assert (h.target, h.loss, h.d_steps) == ("ring8", "nonsaturating", tab.MAX_D_STEPS)
    assert session.game.step == tab.UPDATES_PER_FRAME // (tab.MAX_D_STEPS + 1)  # the work per frame stays bounded


def _take(frames, n: int) -> list:
    return [next(frames) for _ in range(n)]


def test_play_streams_frames_until_pause(monkeypatch):
    monkeypatch.setattr(tab, "FRAME_S", 0.0)
    play = tab.game_play(None)
    shown = _take(play, 3)
    session = shown[0][0]
    assert session.playing and [_steps(f) for _, f, _ in shown] == [16, 32, 48]  # one frame per yield, in order
    assert "playing from step 16" in shown[0][2] and shown[1][2] is not None and "step 32: loss D" in shown[1][1]
    assert shown[1][2] == gr.skip() and shown[2][2] == gr.skip()  # during play only the frame changes (its caption)
    assert "paused at step 48" in tab.game_pause(session) and not session.playing
    assert list(play) == []  # after pause the stream ends without another frame
    assert "paused at step 0" in tab.game_pause(None)  # pause before anything ran


def test_a_second_play_or_a_reset_ends_the_first_stream(monkeypatch):
    monkeypatch.setattr(tab, "FRAME_S", 0.0)
    first = tab.game_play(None)
    session = _take(first, 1)[0][0]
    second = tab.game_play(session)  # play pressed twice (e.g. through the API): only the newest stream goes on
    _take(second, 1)
    assert list(first) == [] and session.game.step == 32
    _take(second, 1)
    new = tab.game_reset(session)[0]  # reset during play: the old stream stops, the new game is paused at 0
    assert list(second) == [] and new.game.step == 0 and not new.playing and not session.playing


def test_controls_moved_during_play_apply_to_the_next_frame(monkeypatch):
    monkeypatch.setattr(tab, "FRAME_S", 0.0)
    play = tab.game_play(None, "ring8", "nonsaturating", 1e-3, 1e-3, 1, 0)
    session = _take(play, 1)[0][0]
    tab.remember_controls(session, "ring8", "lsgan", 1e-3, 2e-3, 3, 0)  # what the controls' change events do
    _take(play, 1)
    h = session.game.hyper
    assert (h.loss, h.d_steps, session.game.opt_d.lr) == ("lsgan", 3, 2e-3)
    assert session.game.step == 16 + tab.UPDATES_PER_FRAME // 4
    tab.remember_controls(None, "moons")  # no session yet: nothing to remember, no error
    tab.game_pause(session)


def test_play_is_bounded_in_time(monkeypatch):
    monkeypatch.setattr(tab, "FRAME_S", 0.0)
    monkeypatch.setattr(tab, "PLAY_MAX_S", 0)
    frames = list(tab.game_play(None))  # the first frame, then the limit's message ends the stream
    assert len(frames) == 2 and "at most 0 minutes" in frames[-1][2] and not frames[0][0].playing


def test_a_frame_computed_across_a_reset_does_not_overwrite_the_new_game():
    session = tab.game_reset()[0]
    old = session.game
    started, release = threading.Event(), threading.Event()
    real_step = gan.train_step

    def slow_step(*a, **k):
        started.set()
        release.wait(5)
        return real_step(*a, **k)

    result = {}
    import unittest.mock as mock

    with mock.patch.object(gan, "train_step", slow_step):
        t = threading.Thread(target=lambda: result.setdefault("out", tab.game_step(session)))
        t.start()
        started.wait(5)
        fresh = gan.new_game(gan.Hyper(seed=0))
        with session.lock:  # what a reset does to the session the frame is computing from
            session.game = fresh
        release.set()
        t.join(10)
    assert session.game is fresh and fresh.step == 0 and old.step == 0
    assert result["out"][1] is not None and isinstance(result["out"][1], type(gr.skip()))


def test_a_changed_target_starts_a_new_game():
    session = tab.game_step(tab.game_reset("ring8")[0], "ring8")[0]
    session, _, text = tab.game_step(session, "moons")
    assert session.game.hyper.target == "moons" and session.game.step == tab.UPDATES_PER_FRAME // 2
    assert "new game" in text


def test_presets_set_the_controls_and_speak_chinese():
    target, loss, lr_g, lr_d, d_steps, seed, text = tab.preset("collapse")
    assert (target, loss, lr_g, lr_d, seed) == ("ring8", "nonsaturating", 1e-2, 1e-3, 0) and "Mode collapse" in text
    with ui.language("zh"):
        assert "模式崩溃" in tab.preset("collapse")[-1]
        _, frame, text = tab.game_step(None)
        assert "第" in text and "D 的损失" in text and "step" not in text
        assert f"第 {tab.UPDATES_PER_FRAME // 2} 步" in frame
    assert "not one of" in tab.preset("junk")[-1]


def test_free_session_drops_the_networks():
    session = tab.game_reset()[0]
    tab.free_session(session)
    assert session.game is None
    session, frame, _ = tab.game_step(session)  # a freed session starts again instead of failing
    assert session.game.step == tab.UPDATES_PER_FRAME // 2
    tab.free_session(None)


# ---- the DCGAN demos ------------------------------------------------------------------------------------------
def test_samples_with_a_seed(tiny_gan):
    sheet, text = tab.samples(16, 5, "all")
    again, _ = tab.samples(16, 5, "all")
    assert sheet.shape == (2 * 28 + 3 * 2, 8 * 28 + 9 * 2) or sheet.ndim == 2
    assert np.array_equal(sheet, again) and "16 samples, seed 5" in text and "ms" in text
    _, text = tab.samples(10**6, float("nan"), "junk")
    assert "64" in text and "not a number" in text and "digit" in text


def test_replay_slider_and_its_bounds(tiny_gan):
    sheet, curves, text = tab.replay(2)
    assert sheet.ndim == 2 and "<polyline" in curves and "epoch 2/2" in text and "FID 200.0" in text
    assert "circle" in curves  # the epoch's marker on the loss curves
    _, _, text = tab.replay(99)
    assert "epoch 2/2" in text and "outside" in text
    _, _, text = tab.replay("x")
    assert "epoch 2/2" in text and "not a number" in text


def test_latent_walk_lerp_and_slerp_rows(tiny_gan):
    sheet, text = tab.latent_walk(0, 1, "7")
    assert "digit 7" in text and "lerp" in text and "slerp" in text
    lerp_norms = [float(v) for v in text.split("lerp: ")[1].split(";")[0].split()]
    slerp_norms = [float(v) for v in text.split("slerp: ")[1].split()[:tab.WALK_STEPS]]
    assert min(lerp_norms[1:-1]) < min(slerp_norms[1:-1])  # lerp cuts through the middle; slerp keeps |z|


@pytest.mark.skipif(not (ROOT / "weights" / "cnn").is_dir(), reason="weights/cnn missing")
def test_nearest_training_image(tiny_gan):
    sheet, text = tab.nearest(4, 0, "all")
    if "not on this machine" in text:
        pytest.skip("no MNIST training set here")
    assert sheet is not None and "first 300 training images" in text and len(text.split("similarities ")[1].split(";")[0].split()) == 4


def test_missing_weights_give_messages(no_weights):
    assert "No weights for 'gan'" in tab.samples()[1]
    assert "No weights for 'gan'" in tab.latent_walk()[1]
    assert tab.replay(1)[2].startswith("⚠️")
    assert "No weights" in tab.nearest()[1]
