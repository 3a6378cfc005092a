"""The GAN tab. Part 1: a 2-D GAN trained live in the page (per-session state; play streams frames from a generator): the
discriminator's output as a heat map, the generator's gradient arrows, the loss curves, presets for mode collapse and
oscillation. Part 2: a class-conditional DCGAN on MNIST: samples from a seed, training replayed epoch by epoch from
the fixed-z snapshots, a latent walk (lerp and slerp), and the nearest training image on the classifier's features.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The model math is all in genlib.gan.
"""
from __future__ import annotations

import functools
import html
import threading
import time
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import gan, hub

TAB_ID = "gan"
TITLE = "gan_title"
MODELS = ("gan", "cnn")  # registry names this tab loads, on first use
TARGETS = list(gan.TARGETS)
LOSSES = list(gan.LOSSES)
MAX_SESSION_STEPS = 20_000  # generator updates one browser session may run
UPDATES_PER_FRAME = 32  # network updates per frame (D and G together): a frame costs the same whatever d_steps is
MAX_D_STEPS = 10
LR_RANGE = (1e-4, 0.05)  # the sliders' range
FRAME_S = 0.14  # play's shortest interval between two frames: at most ~7 frames per second (benchmarks/gan.py: the page keeps up)
PLAY_MAX_S = 300  # one press of play streams for at most 5 minutes (the session bound usually comes first)
STATE_TTL_S = 900  # an idle session's game is freed after 15 minutes
N_ARROWS = 80
N_REAL = 300
MAX_N = 64
WALK_STEPS = 10
N_NEAREST_POOL = 10_000  # training images searched by the memorisation check (features computed once, on first use)
PRESETS = gan.PRESETS  # mode collapse and oscillation, each from its seed (measured in benchmarks/gan.py)

ui.add_strings(
    en={
        "gan_title": "GAN",
        "gan_part1": "## Part 1 · The game in two dimensions, trained live",
        "gan_target": "Target distribution",
        "gan_target_ring8": "ring of 8 Gaussians",
        "gan_target_moons": "two moons",
        "gan_target_gaussian": "single Gaussian",
        "gan_target_line": "line",
        "gan_target_mixture": "Gaussian mixture",
        "gan_target_circles": "circles",
        "gan_loss": "Loss",
        "gan_loss_minimax": "minimax",
        "gan_loss_nonsaturating": "non-saturating",
        "gan_loss_lsgan": "least squares (LSGAN)",
        "gan_lr_g": "Learning rate of G",
        "gan_lr_d": "Learning rate of D",
        "gan_d_steps": "D steps per G step",
        "gan_seed": "Seed",
        "gan_manifold": "Show how G warps a grid of z (manifold view)",
        "gan_play": "▶ Play",
        "gan_pause": "Pause",
        "gan_step_btn": "One step",
        "gan_reset": "Reset",
        "gan_preset": "Presets",
        "gan_preset_healthy": "Ring, all modes",
        "gan_preset_collapse": "Mode collapse",
        "gan_preset_oscillation": "Oscillation",
        "gan_legend": "Green dots: real data · purple dots: G(z) · red arrows: −∂L_G/∂G(z), where G's loss pushes each "
                      "sample · background: D(x), green where D says “real”, purple where it says “fake”.",
        "gan_part2": "## Part 2 · A DCGAN on MNIST",
        "gan_label": "Digit",
        "gan_label_all": "0–9 in turn",
        "gan_n": "Samples",
        "gan_sample_btn": "Sample",
        "gan_samples": "Samples",
        "gan_replay_h": "### Training replayed: the same 16 z at the end of every epoch",
        "gan_epoch": "Epoch",
        "gan_replay": "G(z) for the fixed z",
        "gan_walk_h": "### A walk in latent space between two seeds (top: linear, bottom: spherical)",
        "gan_seed_a": "Seed A",
        "gan_seed_b": "Seed B",
        "gan_walk_btn": "Walk",
        "gan_walk": "Rows: lerp, slerp",
        "gan_nearest_h": "### Memorisation check: the nearest training image (classifier features)",
        "gan_nearest_btn": "Find nearest training images",
        "gan_nearest": "Top: generated · bottom: nearest training image",
        "gan_loss_plot": "Training loss of G (running mean)",
        "gan_msg_new_game": "New game: {target}, seed {seed}",
        "gan_msg_step": "step {step}: loss D {loss_d:.3f}, loss G {loss_g:.3f}",
        "gan_msg_modes": "ring modes covered {k}/8",
        "gan_msg_paused": "paused at step {step}",
        "gan_msg_playing": "▶ playing from step {step}: the step and the losses are under the plane",
        "gan_msg_play_limit": "paused at step {step}: one press of play runs for at most {minutes} minutes; press play "
                              "again to go on",
        "gan_msg_bound": "This session has reached the bound of {n} generator steps: press Reset to start a new game.",
        "gan_msg_diverged": "The game diverged at step {step} (a weight became NaN or infinite); the last finite state is "
                            "kept. Lower the learning rates and press Reset.",
        "gan_msg_restarted": "the target or seed changed, so a new game started",
        "gan_msg_preset": "Preset “{name}”: {target}, {loss}, lr G {lr_g:g}, lr D {lr_d:g}, seed {seed}. Press ▶.",
        "gan_msg_frame": "step {step}",
        "gan_msg_losses": "loss D and loss G",
        "gan_msg_samples": "{n} samples, seed {seed}, {labels}: {ms:.1f} ms for the generator",
        "gan_msg_labels_all": "digits 0–9 in turn",
        "gan_msg_labels_one": "digit {label}",
        "gan_msg_agree": "the classifier reads {k}/{n} as the digit asked for",
        "gan_msg_epoch": "epoch {epoch}/{epochs} (step {step}): IS {is_:.2f}, FID {fid:.1f}, classifier agrees on {acc:.0%}",
        "gan_msg_no_replay": "No per-epoch snapshots in this model's metrics.json.",
        "gan_msg_walk": "from seed {a} to seed {b}, {label}; |z| along lerp: {lerp}; along slerp: {slerp}",
        "gan_msg_nearest": "nearest among the first {pool} training images by cosine on the classifier's features; "
                           "cosine similarities {sims}; pixel distance to the nearest / to a random training image: "
                           "{near:.2f} / {rand:.2f}",
        "gan_msg_no_data": "The MNIST training set is not on this machine ({error}); set GENLIB_DATA to a folder holding "
                           "mnist/*-ubyte.gz to use the memorisation check.",
        "gan_msg_training": "weights `{src}` · {epochs} epochs ({steps} steps) in {minutes:.1f} min on {hardware} · "
                            "IS {is_:.2f}, FID {fid:.1f} at the last epoch (n = 1000, the project's classifier)",
        "gan_arg_target": "target",
        "gan_arg_loss": "loss",
        "gan_arg_lr_g": "learning rate of G",
        "gan_arg_lr_d": "learning rate of D",
        "gan_arg_d_steps": "D steps",
        "gan_arg_n": "samples",
        "gan_arg_label": "digit",
        "gan_arg_epoch": "epoch",
    },
    zh={
        "gan_title": "GAN",
        "gan_part1": "## 第一部分 · 二维中的博弈，在页面里实时训练",
        "gan_target": "目标分布",
        "gan_target_ring8": "8 个高斯组成的环",
        "gan_target_moons": "双月",
        "gan_target_gaussian": "单个高斯",
        "gan_target_line": "直线",
        "gan_target_mixture": "高斯混合",
        "gan_target_circles": "同心圆",
        "gan_loss": "损失",
        "gan_loss_minimax": "极小极大",
        "gan_loss_nonsaturating": "非饱和",
        "gan_loss_lsgan": "最小二乘（LSGAN）",
        "gan_lr_g": "G 的学习率",
        "gan_lr_d": "D 的学习率",
        "gan_d_steps": "每个 G 步对应的 D 步数",
        "gan_seed": "随机种子",
        "gan_manifold": "显示 G 如何扭曲 z 的网格（流形视图）",
        "gan_play": "▶ 播放",
        "gan_pause": "暂停",
        "gan_step_btn": "单步",
        "gan_reset": "重置",
        "gan_preset": "预设",
        "gan_preset_healthy": "环：覆盖全部模式",
        "gan_preset_collapse": "模式崩溃",
        "gan_preset_oscillation": "振荡",
        "gan_legend": "绿点：真实数据 · 紫点：G(z) · 红色箭头：−∂L_G/∂G(z)，即 G 的损失把每个样本推向的方向 · "
                      "背景：D(x)，绿色处 D 判为“真”，紫色处判为“假”。",
        "gan_part2": "## 第二部分 · MNIST 上的 DCGAN",
        "gan_label": "数字",
        "gan_label_all": "依次 0–9",
        "gan_n": "样本数",
        "gan_sample_btn": "采样",
        "gan_samples": "样本",
        "gan_replay_h": "### 回放训练：每个周期结束时同一组 16 个 z 的生成结果",
        "gan_epoch": "周期",
        "gan_replay": "固定 z 的 G(z)",
        "gan_walk_h": "### 两个随机种子之间的隐空间漫步（上：线性插值，下：球面插值）",
        "gan_seed_a": "随机种子 A",
        "gan_seed_b": "随机种子 B",
        "gan_walk_btn": "漫步",
        "gan_walk": "两行：线性插值、球面插值",
        "gan_nearest_h": "### 记忆检查：最近的训练图像（分类器特征）",
        "gan_nearest_btn": "查找最近的训练图像",
        "gan_nearest": "上：生成的 · 下：最近的训练图像",
        "gan_loss_plot": "G 的训练损失（滑动平均）",
        "gan_msg_new_game": "新的一局：{target}，随机种子 {seed}",
        "gan_msg_step": "第 {step} 步：D 的损失 {loss_d:.3f}，G 的损失 {loss_g:.3f}",
        "gan_msg_modes": "覆盖了环上 {k}/8 个模式",
        "gan_msg_paused": "已在第 {step} 步暂停",
        "gan_msg_playing": "▶ 从第 {step} 步开始播放：步数和损失显示在平面图下方",
        "gan_msg_play_limit": "已在第 {step} 步暂停：每按一次播放最多运行 {minutes} 分钟；再按播放即可继续",
        "gan_msg_bound": "本会话已达到 {n} 个生成器步的上限：请按“重置”开始新的一局。",
        "gan_msg_diverged": "博弈在第 {step} 步发散（某个权重变成了 `NaN` 或无穷大）；保留最后一个有限的状态。"
                            "请调低学习率并按“重置”。",
        "gan_msg_restarted": "目标或随机种子已改变，因此开始了新的一局",
        "gan_msg_preset": "预设“{name}”：{target}，{loss}，G 的学习率 {lr_g:g}，D 的学习率 {lr_d:g}，随机种子 {seed}。请按 ▶。",
        "gan_msg_frame": "第 {step} 步",
        "gan_msg_losses": "D 的损失与 G 的损失",
        "gan_msg_samples": "{n} 个样本，随机种子 {seed}，{labels}：生成器用时 {ms:.1f} 毫秒",
        "gan_msg_labels_all": "依次为数字 0–9",
        "gan_msg_labels_one": "数字 {label}",
        "gan_msg_agree": "分类器认为其中 {k}/{n} 个是所要求的数字",
        "gan_msg_epoch": "第 {epoch}/{epochs} 个周期（第 {step} 步）：IS {is_:.2f}，FID {fid:.1f}，分类器认同 {acc:.0%}",
        "gan_msg_no_replay": "这个模型的 `metrics.json` 里没有逐周期的快照。",
        "gan_msg_walk": "从随机种子 {a} 到随机种子 {b}，{label}；线性插值路径上的 |z|：{lerp}；球面插值路径上的 |z|：{slerp}",
        "gan_msg_nearest": "在前 {pool} 张训练图像中按分类器特征的余弦相似度查找最近者；余弦相似度 {sims}；"
                           "与最近训练图像 / 与随机训练图像的像素距离：{near:.2f} / {rand:.2f}",
        "gan_msg_no_data": "这台机器上没有 MNIST 训练集（{error}）；请把 `GENLIB_DATA` 设为包含 `mnist/*-ubyte.gz` 的文件夹，"
                           "才能使用记忆检查。",
        "gan_msg_training": "权重 `{src}` · {epochs} 个周期（{steps} 步），在 {hardware} 上用时 {minutes:.1f} 分钟 · "
                            "最后一个周期 IS {is_:.2f}，FID {fid:.1f}（n = 1000，本项目的分类器）",
        "gan_arg_target": "目标",
        "gan_arg_loss": "损失",
        "gan_arg_lr_g": "G 的学习率",
        "gan_arg_lr_d": "D 的学习率",
        "gan_arg_d_steps": "D 步数",
        "gan_arg_n": "样本数",
        "gan_arg_label": "数字",
        "gan_arg_epoch": "周期",
    },
)


# ---- Part 1: the live 2-D game ------------------------------------------------------------------------------
@dataclass
class Session:
    """One browser session's game. The game itself (genlib.gan.GameState) is replaced, never edited: a step computes a
    new state from the current one and commits it only if no reset replaced the game meanwhile (reset during play)."""

    game: gan.GameState
    playing: bool = False
    run: int = 0  # which press of play may stream frames: pause, reset and a new play each move it on
    controls: tuple = ()  # the controls' latest values (remember_controls), read by play before every frame
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __deepcopy__(self, memo):  # gr.State may copy a value; the lock is per object
        import copy

        return Session(copy.deepcopy(self.game, memo), self.playing, self.run, self.controls)

    def stop(self) -> None:
        """End any play in progress: its generator sees `run` move on and yields nothing more."""
        with self.lock:
            self.playing = False
            self.run += 1


def free_session(session) -> None:
    """gr.State's delete_callback: drop the networks of an idle or closed session."""
    if isinstance(session, Session):
        session.game = None


def _hyper(c: ui.Clamped, target, loss, lr_g, lr_d, d_steps, seed) -> gan.Hyper:
    target = c.choice("gan_arg_target", target, TARGETS, "ring8")
    loss = c.choice("gan_arg_loss", loss, LOSSES, "nonsaturating")
    lr_g = c.float("gan_arg_lr_g", lr_g, *LR_RANGE, 1e-3)
    lr_d = c.float("gan_arg_lr_d", lr_d, *LR_RANGE, 1e-3)
    d_steps = c.int("gan_arg_d_steps", d_steps, 1, MAX_D_STEPS, 1)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return gan.Hyper(target=target, loss=loss, lr_g=lr_g, lr_d=lr_d, d_steps=d_steps, seed=seed)


def _frame(game: gan.GameState, manifold: bool = False) -> str:
    """The plane (D's heat map, real and generated points, G's gradient arrows, optionally the warped z grid), the
    two loss curves and a caption with the step and the losses, as HTML. During play only the frame changes (the
    status line says "playing" until play ends): one output per frame is less work for the page."""
    h = game.hyper
    real = gan.target_points(h.target, N_REAL, seed=h.seed + 7).numpy()
    fake, push = gan.g_gradients(game, game.z_fixed)
    layers = [ui.svg.diverging_grid(gan.d_heatmap(game.D, lim=ui.svg.LIM))]
    if manifold:
        layers.append(ui.svg.polylines(np.stack(gan.warped_grid(game.G)), color="#6b21a8", width=0.7, opacity=0.5))
    layers += [ui.svg.dots(real, color="#15803d", r=1.7, opacity=0.6), ui.svg.dots(fake, color="#7e22ce", r=1.8),
               ui.svg.arrows(fake[:N_ARROWS], push[:N_ARROWS], color="#dc2626")]
    plane = ui.svg.figure(*layers, title=ui.say("gan_msg_frame", step=game.step))
    curves = ""
    if len(game.losses) >= 2:
        losses = np.asarray(game.losses)
        curves = ui.svg.lines_svg({"D": losses[:, 1], "G": losses[:, 2]}, x=losses[:, 0],
                                  title=ui.say("gan_msg_losses"), width=360, height=220)
    return (f'<div class="gan-frame" data-step="{game.step}" style="display:flex;gap:8px;flex-wrap:wrap;'
            f'align-items:flex-start"><div style="flex:1 1 300px;max-width:340px">{plane}</div>'
            f'<div style="flex:1 1 300px">{curves}</div>'
            f'<div class="gan-caption" style="flex-basis:100%">{html.escape(_game_text(game))}</div></div>')


def _game_text(game: gan.GameState) -> str:
    if not game.losses:
        return ui.say("gan_msg_new_game", target=ui.say(f"gan_target_{game.hyper.target}"), seed=game.hyper.seed)
    _, loss_d, loss_g = game.losses[-1]
    text = ui.say("gan_msg_step", step=game.step, loss_d=loss_d, loss_g=loss_g)
    if game.modes:
        text += " · " + ui.say("gan_msg_modes", k=game.modes[-1][1])
    return text


def game_reset(session=None, target="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0,
               manifold=False):
    """A new game at step 0, paused -> (session, frame, status). A play in progress on the old game stops."""
    if isinstance(session, Session):
        session.stop()
    c = ui.Clamped()
    h = _hyper(c, target, loss, lr_g, lr_d, d_steps, seed)
    session = Session(gan.new_game(h))
    return session, _frame(session.game, manifold is True), ui.status(c, _game_text(session.game))


def _advance(session, target, loss, lr_g, lr_d, d_steps, seed, manifold) -> tuple:
    """One frame: about UPDATES_PER_FRAME network updates under the given controls
    -> (session, frame or gr.skip(), status or gr.skip(), stopped). A changed target or seed starts a new game; the
    session bound and a diverged game end in a message (stopped=True), never an exception; a frame computed while a
    reset replaced the game is dropped (gr.skip())."""
    c = ui.Clamped()
    h = _hyper(c, target, loss, lr_g, lr_d, d_steps, seed)
    notes = []
    if not isinstance(session, Session) or session.game is None:
        session = Session(gan.new_game(h))
    elif (session.game.hyper.target, session.game.hyper.seed) != (h.target, h.seed):
        with session.lock:
            session.game = gan.new_game(h)
        notes.append(ui.say("gan_msg_restarted"))
    game = session.game
    bound = lambda: ui.say("gan_msg_bound", n=f"{MAX_SESSION_STEPS:,}")  # noqa: E731  (said only when reached)
    if game.step >= MAX_SESSION_STEPS:
        return session, gr.skip(), ui.status(c, bound(), "warn"), True
    rounds = min(max(1, UPDATES_PER_FRAME // (h.d_steps + 1)), MAX_SESSION_STEPS - game.step)
    with ui.intra_op_threads(1):
        new = gan.train_step(game, h, steps=rounds)
    if not gan.is_finite(new):
        return session, gr.skip(), ui.status(c, ui.say("gan_msg_diverged", step=new.step), "error"), True
    with session.lock:
        if session.game is not game:  # reset (or a new target) while this frame was computed: keep the new game
            return session, gr.skip(), gr.skip(), False
        session.game = new
    text = " · ".join([_game_text(new), *notes])
    if new.step >= MAX_SESSION_STEPS:
        return session, _frame(new, manifold is True), ui.status(c, text + " · " + bound(), "warn"), True
    return session, _frame(new, manifold is True), ui.status(c, text), False


def game_step(session=None, target="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0,
              manifold=False):
    """The "one step" button: one frame -> (session, frame, status); at the bound or on divergence, play stops."""
    session, frame, text, stopped = _advance(session, target, loss, lr_g, lr_d, d_steps, seed, manifold)
    if stopped:
        session.playing = False
    return session, frame, text


def game_play(session=None, target="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0,
              manifold=False):
    """Play: stream frames (session, frame, status), at most one per FRAME_S, until pause, reset, another press of
    play, the session bound, a divergence or PLAY_MAX_S. The controls are read again before every frame (the latest
    values remember_controls stored), so moving a slider during play takes effect at once."""
    controls = (target, loss, lr_g, lr_d, d_steps, seed, manifold)
    session, frame, text, stopped = _advance(session, *controls)
    if stopped:
        session.playing = False
        yield session, frame, text
        return
    with session.lock:
        session.run += 1
        run, session.playing = session.run, True
        session.controls = controls
    t0 = last = time.monotonic()
    yield session, frame, ui.status(None, ui.say("gan_msg_playing", step=session.game.step))
    while True:
        time.sleep(max(0.0, FRAME_S - (time.monotonic() - last)))
        if session.run != run or session.game is None:  # paused, reset, played again, or the session was freed
            return
        if time.monotonic() - t0 > PLAY_MAX_S:
            session.stop()
            yield session, gr.skip(), ui.status(None, ui.say("gan_msg_play_limit", minutes=PLAY_MAX_S // 60,
                                                             step=session.game.step), "warn")
            return
        last = time.monotonic()
        _, frame, text, stopped = _advance(session, *session.controls)
        if session.run != run:  # paused or reset while this frame was computed: its status must stay
            return
        if stopped:
            session.stop()
            yield session, frame, text
            return
        yield session, frame, gr.skip()  # the step and the losses are in the frame's caption


def remember_controls(session=None, target="ring8", loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0,
                      manifold=False) -> None:
    """A control changed: a play in progress uses the new values from its next frame on."""
    if isinstance(session, Session):
        session.controls = (target, loss, lr_g, lr_d, d_steps, seed, manifold)


def game_pause(session=None):
    """Pause -> status. The play in progress yields nothing more."""
    step = session.game.step if isinstance(session, Session) and session.game is not None else 0
    if isinstance(session, Session):
        session.stop()
    return ui.status(None, ui.say("gan_msg_paused", step=step))


def preset(name="collapse"):
    """The controls of a preset -> (target, loss, lr_g, lr_d, d_steps, seed, status)."""
    c = ui.Clamped()
    name = c.choice("gan_preset", name, list(PRESETS), "collapse")
    p = PRESETS[name]
    text = ui.say("gan_msg_preset", name=ui.say(f"gan_preset_{name}"), target=ui.say(f"gan_target_{p['target']}"),
                  loss=ui.say(f"gan_loss_{p['loss']}"), lr_g=p["lr_g"], lr_d=p["lr_d"], seed=p["seed"])
    return p["target"], p["loss"], p["lr_g"], p["lr_d"], p["d_steps"], p["seed"], ui.status(c, text)


# ---- Part 2: the MNIST DCGAN ----------------------------------------------------------------------------------
def _label_arg(c: ui.Clamped, label):
    if label in (None, "all"):
        return None
    try:
        v = float(label)
    except (TypeError, ValueError):
        v = float("nan")
    if v != v or v != int(v):
        c.messages.append(ui.say("ui_msg_not_choice", name=ui.say("gan_arg_label"), value=repr(label),
                                 choices="all, 0-9", default="'all'"))
        return None
    return c.int("gan_arg_label", v, 0, 9, 0)


def _labels(label: int | None, n: int) -> torch.Tensor:
    return torch.arange(n) % 10 if label is None else torch.full((n,), label, dtype=torch.long)


def _labels_text(label: int | None) -> str:
    return ui.say("gan_msg_labels_all") if label is None else ui.say("gan_msg_labels_one", label=label)


@functools.lru_cache(maxsize=1)
def _classifier():
    return ui.load_model("cnn")[0]


def _agreement(x: torch.Tensor, labels: torch.Tensor) -> str:
    cnn = _classifier()
    if cnn is None:
        return ""
    with torch.no_grad():
        k = int((cnn.eval()(x).argmax(1) == labels).sum())
    return " · " + ui.say("gan_msg_agree", k=k, n=len(x))


@torch.no_grad()
def samples(n=16, seed=0, label="all"):
    """n samples from a seed (labels 0..9 in turn, or one digit) -> (sheet, status)."""
    model, msg = ui.load_model("gan")
    if model is None:
        return None, ui.message(msg, "error")
    c = ui.Clamped()
    n = c.int("gan_arg_n", n, 1, MAX_N, 16)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    label = _label_arg(c, label)
    y = _labels(label, n)
    with ui.intra_op_threads(1):
        start = time.perf_counter()
        x = gan.sample(model, n, seed, labels=y)
        ms = 1000 * (time.perf_counter() - start)
    text = ui.say("gan_msg_samples", n=n, seed=seed, labels=_labels_text(label), ms=ms) + _agreement(x, y)
    return ui.sheet(x, nrow=min(8, n)), ui.status(c, text)


def _record():
    try:
        return hub.load_metrics("gan")
    except hub.ModelUnavailable:
        return {}


def replay(epoch=1):
    """The fixed-z grid at the end of `epoch`, the loss curves with the epoch marked -> (sheet, curves, status)."""
    m = _record()
    epochs = m.get("epochs_record") or []
    if not epochs:
        return None, "", ui.message(ui.say("gan_msg_no_replay"), "warn")
    c = ui.Clamped()
    e = c.int("gan_arg_epoch", epoch, 1, len(epochs), len(epochs))
    rec, snap = epochs[e - 1], m["snapshot"]
    grid = gan.unpack_images(rec["images"], snap["n"])
    sheet = ui.sheet(torch.from_numpy(grid.copy()).float().div(127.5).sub(1).unsqueeze(1), nrow=8)
    d, g = np.asarray(m["loss_curve_d"]), np.asarray(m["loss_curve"])
    marker = int(np.searchsorted(d[:, 0], rec["step"]).clip(0, len(d) - 1))
    curves = ui.svg.lines_svg({"D": d[:, 1], "G": g[:, 1]}, x=d[:, 0], title=ui.say("gan_msg_losses"), width=420,
                              height=200, marker=marker)
    text = ui.say("gan_msg_epoch", epoch=e, epochs=len(epochs), step=rec["step"], is_=rec.get("is", float("nan")),
                  fid=rec.get("fid", float("nan")), acc=rec.get("class_accuracy", float("nan")))
    return sheet, curves, ui.status(c, text)


def _norms(z: torch.Tensor) -> str:
    return " ".join(f"{v:.1f}" for v in z.norm(dim=1).tolist())


@torch.no_grad()
def latent_walk(seed_a=0, seed_b=1, label="all"):
    """WALK_STEPS images from z(seed A) to z(seed B), by lerp (top row) and slerp (bottom row), one label
    -> (sheet, status)."""
    model, msg = ui.load_model("gan")
    if model is None:
        return None, ui.message(msg, "error")
    c = ui.Clamped()
    a = c.int("gan_seed_a", seed_a, 0, 2**31 - 1, 0)
    b = c.int("gan_seed_b", seed_b, 0, 2**31 - 1, 1)
    label = _label_arg(c, label)
    digit = 3 if label is None else label  # one class along the walk, so only z changes
    za, zb = gan.latents(1, model.z_dim, a)[0][0], gan.latents(1, model.z_dim, b)[0][0]
    t = torch.linspace(0, 1, WALK_STEPS)
    z_lerp, z_slerp = gan.lerp(za, zb, t), gan.slerp(za, zb, t)
    y = torch.full((WALK_STEPS,), digit, dtype=torch.long)
    with ui.intra_op_threads(1):
        x = model.eval()(torch.cat([z_lerp, z_slerp]), torch.cat([y, y]))
    text = ui.say("gan_msg_walk", a=a, b=b, label=_labels_text(digit), lerp=_norms(z_lerp), slerp=_norms(z_slerp))
    return ui.sheet(x, nrow=WALK_STEPS), ui.status(c, text)


_POOL_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _pool():
    """(unit-norm classifier features (P, 128), uint8 images (P, 28, 28)) of the first N_NEAREST_POOL training images,
    computed once (a few seconds) on first use."""
    from genlib import data
    from genlib.metrics import classifier_outputs

    x, _ = data.load("mnist", "train")
    x = x[:N_NEAREST_POOL]
    with ui.intra_op_threads(1):
        f, _ = classifier_outputs(_classifier().eval(), x)
    f = torch.nn.functional.normalize(f.float(), dim=1)
    return f, ((x[:, 0] + 1) * 127.5).round().to(torch.uint8)


@torch.no_grad()
def nearest(n=8, seed=0, label="all"):
    """n samples and, under each, the training image nearest in the classifier's feature space -> (sheet, status)."""
    model, msg = ui.load_model("gan")
    if model is None or _classifier() is None:
        return None, ui.message(msg or ui.load_model("cnn")[1], "error")
    c = ui.Clamped()
    n = c.int("gan_arg_n", n, 1, 10, 8)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    label = _label_arg(c, label)
    from genlib.metrics import classifier_outputs

    try:
        with _POOL_LOCK:
            feats, pool = _pool()
    except Exception as err:  # no data on this machine (offline, no GENLIB_DATA): a message, not a traceback
        return None, ui.message(ui.say("gan_msg_no_data", error=type(err).__name__), "warn")
    x = gan.sample(model, n, seed, labels=_labels(label, n))
    f, _ = classifier_outputs(_classifier(), x)
    sims = torch.nn.functional.normalize(f.float(), dim=1) @ feats.T  # (n, P) cosine similarities
    best, idx = sims.max(dim=1)
    near = pool[idx].float().div(127.5).sub(1).unsqueeze(1)
    rand = pool[torch.randint(len(pool), (n,), generator=torch.Generator().manual_seed(seed))].float().div(127.5).sub(1)
    pix = lambda a, b: float((a.view(n, -1) - b.reshape(n, -1)).norm(dim=1).mean())  # noqa: E731
    text = ui.say("gan_msg_nearest", pool=f"{len(pool):,}", sims=" ".join(f"{s:.3f}" for s in best.tolist()),
                  near=pix(x, near), rand=pix(x, rand))
    return ui.sheet(torch.cat([x, near]), nrow=n), ui.status(c, text)


def clear_cache() -> None:
    """Forget the loaded classifier and the feature pool (tests swap the weights folder)."""
    _classifier.cache_clear()
    _pool.cache_clear()


def describe_training(m: dict, src: str) -> str:
    last = (m.get("epochs_record") or [{}])[-1]
    return ui.say("gan_msg_training", src=src, epochs=m["epochs"], steps=m["steps"], minutes=m["wall_time_s"] / 60,
                  hardware=m["hardware"], is_=last.get("is", float("nan")), fid=last.get("fid", float("nan")))


# ---- layout ---------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; returns the note component."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("gan_part1"))
        session = gr.State(None, time_to_live=STATE_TTL_S, delete_callback=free_session)
        with gr.Row():
            target = gr.Dropdown(ui.choices("gan_target", TARGETS), value="ring8", label=ui.t("gan_target"),
                                 elem_id="gan-target")
            loss = gr.Radio(ui.choices("gan_loss", LOSSES), value="nonsaturating", label=ui.t("gan_loss"),
                            elem_id="gan-loss")
        with gr.Row():
            lr_g = gr.Slider(0.0001, 0.05, value=1e-3, step=0.0001, label=ui.t("gan_lr_g"), elem_id="gan-lr-g")
            lr_d = gr.Slider(0.0001, 0.05, value=1e-3, step=0.0001, label=ui.t("gan_lr_d"), elem_id="gan-lr-d")
            d_steps = gr.Slider(1, MAX_D_STEPS, value=1, step=1, label=ui.t("gan_d_steps"))
            seed2d = gr.Number(0, precision=0, label=ui.t("gan_seed"), elem_id="gan-seed2d")
        with gr.Row():
            play_btn = gr.Button(ui.t("gan_play"), variant="primary", elem_id="gan-play")
            pause_btn = gr.Button(ui.t("gan_pause"), elem_id="gan-pause")
            step_btn = gr.Button(ui.t("gan_step_btn"), elem_id="gan-step")
            reset_btn = gr.Button(ui.t("gan_reset"), elem_id="gan-reset")
        with gr.Row():
            preset_name = gr.Radio(ui.choices("gan_preset", list(PRESETS)), value=None, label=ui.t("gan_preset"),
                                   elem_id="gan-preset")
            manifold = gr.Checkbox(False, label=ui.t("gan_manifold"))
        frame = gr.HTML(elem_id="gan-frame")
        game_status = gr.Markdown(elem_id="gan-status")
        gr.Markdown(ui.t("gan_legend"))

        gr.Markdown(ui.t("gan_part2"))
        with gr.Row():
            label = gr.Dropdown([(ui.t("gan_label_all"), "all")] + [(str(d), str(d)) for d in range(10)], value="all",
                                label=ui.t("gan_label"))
        n, seed, sample_btn = ui.sample_controls(TAB_ID, MAX_N)
        grid = ui.pixels("gan_samples", 300, elem_id="gan-grid")
        sample_status = gr.Markdown()
        gr.Markdown(ui.t("gan_replay_h"))
        epoch = gr.Slider(1, 30, value=1, step=1, label=ui.t("gan_epoch"), elem_id="gan-epoch")
        with gr.Row():
            replay_img = ui.pixels("gan_replay", 160)
            replay_curves = gr.HTML()
        replay_status = gr.Markdown()
        gr.Markdown(ui.t("gan_walk_h"))
        with gr.Row():
            seed_a = gr.Number(0, precision=0, label=ui.t("gan_seed_a"))
            seed_b = gr.Number(1, precision=0, label=ui.t("gan_seed_b"))
            walk_btn = gr.Button(ui.t("gan_walk_btn"))
        walk_img = ui.pixels("gan_walk", 120)
        walk_status = gr.Markdown()
        gr.Markdown(ui.t("gan_nearest_h"))
        nearest_btn = gr.Button(ui.t("gan_nearest_btn"))
        nearest_img = ui.pixels("gan_nearest", 140)
        nearest_status = gr.Markdown()
        ui.share_link(TAB_ID, {"target": target, "loss": loss, "lr_g": lr_g, "lr_d": lr_d, "d_steps": d_steps,
                               "seed2d": seed2d, "n": n, "seed": seed}, primary=reset_btn)
        ui.training_panel("gan", describe_training, "gan_loss_plot")

    controls = [target, loss, lr_g, lr_d, d_steps, seed2d, manifold]
    game_out = [session, frame, game_status]
    game = dict(concurrency_id="gan_game", concurrency_limit=2)  # a frame is ~30 ms of one core
    reset_btn.click(game_reset, [session, *controls], game_out, api_name="gan_reset", **game)
    step_btn.click(game_step, [session, *controls], game_out, api_name="gan_step", **game)
    # play streams for minutes while sleeping between frames (~0.3 of a core): its own group, so that four visitors
    # can play at once and one step / reset are never queued behind a play
    play_btn.click(game_play, [session, *controls], game_out, api_name="gan_play", show_progress="hidden",
                   concurrency_id="gan_play", concurrency_limit=4)
    pause_btn.click(game_pause, session, game_status, api_name="gan_pause", concurrency_limit=None)
    gr.on([c.change for c in controls], remember_controls, [session, *controls], None, api_visibility="private",
          show_progress="hidden", trigger_mode="always_last", concurrency_limit=None)
    preset_name.input(preset, preset_name, [target, loss, lr_g, lr_d, d_steps, seed2d, game_status],
                      api_name="gan_preset").then(game_reset, [session, *controls], game_out,
                                                  api_visibility="private", **game)
    sample_btn.click(samples, [n, seed, label], [grid, sample_status], api_name="gan_sample", **ui.QUICK_MODEL)
    gr.on(None, replay, epoch, [replay_img, replay_curves, replay_status], api_name="gan_replay",
          show_progress="hidden", trigger_mode="always_last")
    gr.on(None, _epoch_slider, None, epoch, api_visibility="private", show_progress="hidden")
    walk_btn.click(latent_walk, [seed_a, seed_b, label], [walk_img, walk_status], api_name="gan_walk", **ui.QUICK_MODEL)
    nearest_btn.click(nearest, [n, seed, label], [nearest_img, nearest_status], api_name="gan_nearest", **ui.SAMPLER)
    gr.on(None, _first_frame, None, game_out, api_visibility="private", show_progress="hidden")
    return note


def _first_frame():
    """The first frame of a new session's game (page load), with the controls' initial values."""
    return game_reset()


def _epoch_slider():
    """The replay slider's range from the model's record (page load)."""
    epochs = len(_record().get("epochs_record") or []) or 1
    return gr.Slider(1, epochs, value=epochs, step=1)

