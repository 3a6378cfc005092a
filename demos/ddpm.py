"""The DDPM tab: the forward chain on a digit, sampling from noise, and denoising a user's digit.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to
Gradio components. No model math lives here: it is all in genlib.diffusion.
"""
from __future__ import annotations

import functools

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data
from genlib.diffusion import SAMPLERS, GaussianDiffusion, cached_autocast_model, class_labels, trained_process

TAB_ID = "ddpm"
TITLE = "ddpm_title"
MODELS = ("ddpm",)  # registry names this tab loads (lazily, on first use)
T = 1000
MAX_IMAGES = 36  # one request samples at most this many images
MAX_DENOISE = 8  # runs of "denoise my digit" side by side
BFLOAT16 = True  # sample with bfloat16 autocast: ~1.5x faster on this CPU; FID in BENCHMARKS.md
MAX_W = 5.0  # classifier-free guidance scale
DIGITS = ["all"] + [str(k) for k in range(10)] + ["none"]  # labels to sample: 0-9 in turn, one digit, or no label



@functools.lru_cache(maxsize=1)
def process() -> GaussianDiffusion:
    """The shipped model's process (its schedule and prediction target, from metrics.json; read once, weights not
    read): the forward slider, the samplers and the schedule plot all follow it."""
    return trained_process("ddpm")


def alpha_bar_curve() -> np.ndarray:
    """Slider step s -> alpha_bar (s = 0: clean)."""
    return np.concatenate([[1.0], process().alpha_bar.numpy()])

ui.add_strings(
    en={
        "ddpm_title": "DDPM diffusion",
        "ddpm_sampler_ddim": "DDIM",
        "ddpm_sampler_ancestral": "ancestral, σ² = β_t (1000 steps)",
        "ddpm_sampler_ancestral_tilde": "ancestral, σ² = β̃_t (1000 steps)",
        "ddpm_forward": "### 1 · Forward process: add noise",
        "ddpm_t": "Noise step t (0 = clean digit)",
        "ddpm_xt": "x_t",
        "ddpm_reverse": "### 2 · Reverse process: sample from noise",
        "ddpm_sampler": "Sampler",
        "ddpm_steps": "DDIM steps",
        "ddpm_eta": "DDIM η (0 = deterministic, 1 ≈ ancestral)",
        "ddpm_n": "Number of images",
        "ddpm_seed": "Seed",
        "ddpm_sample_btn": "Sample",
        "ddpm_grid_xt": "x_t (current sample)",
        "ddpm_grid_x0": "x̂_0 (model's guess of the clean image)",
        "ddpm_denoise": "### 3 · Denoise my digit: noise it to step t, then run the reverse process",
        "ddpm_denoise_btn": "Denoise from step t",
        "ddpm_denoise_n": "Runs (different noise)",
        "ddpm_loss": "Training loss (L_simple, EMA-free running mean)",
        "ddpm_arg_sampler": "sampler", "ddpm_arg_eta": "eta", "ddpm_arg_n": "number of images", "ddpm_arg_runs": "runs",
        "ddpm_msg_sampler_ddim": "ddim", "ddpm_msg_sampler_ancestral": "ancestral",
        "ddpm_msg_sampler_ancestral_tilde": "ancestral_tilde",
        "ddpm_msg_signal": "signal", "ddpm_msg_noise": "noise", "ddpm_msg_snr": "SNR",
        "ddpm_msg_sample_head": "{sampler}, seed {seed}, {labels}",
        "ddpm_msg_labels_all": "labels 0–9 in turn, w = {w:g}", "ddpm_msg_labels_digit": "label {digit}, w = {w:g}",
        "ddpm_msg_labels_none": "no label (unconditional)",
        "ddpm_digit": "Class y to draw", "ddpm_digit_all": "0–9 in turn", "ddpm_digit_none": "none (unconditional)",
        "ddpm_w": "Guidance scale w (1 = conditional, 0 = unconditional)",
        "ddpm_arg_digit": "class", "ddpm_arg_w": "guidance scale w",
        "ddpm_msg_where": "step {index}/{total} (t = {t})",
        "ddpm_msg_clean": "t = 0 is the clean digit: move the noise slider up first.",
        "ddpm_msg_denoise_head": "from t = {t}: {sampler}",
        "ddpm_msg_training": "Weights: `{src}` · {recipe} · {epochs} epochs on {dataset} ({steps} steps) in "
                             "{minutes:.1f} min on {hardware} · held-out training loss {loss:.4f}",
        "ddpm_msg_recipe": "{schedule} schedule, {target} target, {weighting} weights",
        "ddpm_schedule_linear": "linear", "ddpm_schedule_cosine": "cosine",
        "ddpm_weighting_uniform": "uniform", "ddpm_weighting_min_snr": "min-SNR-5",
    },
    zh={
        "ddpm_title": "DDPM 扩散模型",
        "ddpm_sampler_ddim": "DDIM",
        "ddpm_sampler_ancestral": "祖先采样，σ² = β_t（1000 步）",
        "ddpm_sampler_ancestral_tilde": "祖先采样，σ² = β̃_t（1000 步）",
        "ddpm_forward": "### 1 · 前向过程：逐步加噪",
        "ddpm_t": "噪声步 t（0 = 干净的数字）",
        "ddpm_xt": "x_t",
        "ddpm_reverse": "### 2 · 反向过程：从噪声采样",
        "ddpm_sampler": "采样器",
        "ddpm_steps": "DDIM 步数",
        "ddpm_eta": "DDIM η（0 = 确定性，1 ≈ 祖先采样）",
        "ddpm_n": "图像数量",
        "ddpm_seed": "随机种子",
        "ddpm_sample_btn": "采样",
        "ddpm_grid_xt": "x_t（当前样本）",
        "ddpm_grid_x0": "x̂_0（模型对干净图像的估计）",
        "ddpm_denoise": "### 3 · 给我的数字去噪：先加噪到第 t 步，再运行反向过程",
        "ddpm_denoise_btn": "从第 t 步去噪",
        "ddpm_denoise_n": "运行次数（不同的噪声）",
        "ddpm_loss": "训练损失（L_simple 的滑动平均）",
        "ddpm_arg_sampler": "采样器", "ddpm_arg_eta": "η", "ddpm_arg_n": "图像数量", "ddpm_arg_runs": "运行次数",
        "ddpm_msg_sampler_ddim": "DDIM", "ddpm_msg_sampler_ancestral": "祖先采样（σ² = β_t）",
        "ddpm_msg_sampler_ancestral_tilde": "祖先采样（σ² = β̃_t）",
        "ddpm_msg_signal": "信号", "ddpm_msg_noise": "噪声", "ddpm_msg_snr": "信噪比",
        "ddpm_msg_sample_head": "{sampler}，随机种子 {seed}，{labels}",
        "ddpm_msg_labels_all": "标签 0–9 轮流，w = {w:g}", "ddpm_msg_labels_digit": "标签 {digit}，w = {w:g}",
        "ddpm_msg_labels_none": "不给标签（无条件）",
        "ddpm_digit": "要画的类别 y", "ddpm_digit_all": "0–9 轮流", "ddpm_digit_none": "无（无条件）",
        "ddpm_w": "引导强度 w（1 = 条件生成，0 = 无条件）",
        "ddpm_arg_digit": "类别", "ddpm_arg_w": "引导强度 w",
        "ddpm_msg_where": "第 {index}/{total} 步（t = {t}）",
        "ddpm_msg_clean": "t = 0 就是干净的数字：请先把噪声滑块调大。",
        "ddpm_msg_denoise_head": "从 t = {t} 开始：{sampler}",
        "ddpm_msg_training": "权重：`{src}` · {recipe} · 在 `{dataset}` 上训练 {epochs} 轮（{steps} 步），"
                             "用时 {minutes:.1f} 分钟，硬件 {hardware} · 留出集上的训练损失 {loss:.4f}",
        "ddpm_msg_recipe": "{schedule}调度，预测 {target}，{weighting}权重",
        "ddpm_schedule_linear": "线性", "ddpm_schedule_cosine": "余弦",
        "ddpm_weighting_uniform": "均匀", "ddpm_weighting_min_snr": "信噪比封顶为 5 的",
    },
)


# ---- model access -----------------------------------------------------------------------------------
def eps_model(y: torch.Tensor | None = None, w: float = 1.0):
    """The trained network under bfloat16 autocast (read on first use), for labels y (None: no label) with guidance
    scale w, or None and a message for the page. With GENLIB_SAMPLER_THREADS=n > 1 each pass runs as n slices of
    the batch at once, one core each (genlib.sampling.in_parallel), while the sampler's loop keeps one intra-op
    thread (STREAM_THREADS); the default, one, keeps a request on one core."""
    model, msg = ui.load_model("ddpm")
    workers = ui.panels.SAMPLER_THREADS
    return (cached_autocast_model(model, BFLOAT16, y, w, workers=workers) if model is not None else None), msg


STREAM_THREADS = 1  # the loop around the passes: its own OpenMP team would spin between passes and take the cores
# from eps_model's slices (16 DDIM-50 samples: 1.32 s against 0.95 s)


# ---- 1. forward process -----------------------------------------------------------------------------
def forward_frames(digit: np.ndarray, seed: int = 0) -> np.ndarray:
    """All T + 1 frames of the forward chain for one digit and one fixed eps: uint8 (T + 1, 28, 28).
    Frame 0 is x_0; frame s >= 1 is x_s = sqrt(alpha_bar_s) x_0 + sqrt(1 - alpha_bar_s) eps (eq. 4)."""
    x0 = data.to_model_range(np.asarray(digit, dtype=np.uint8)[None])  # (1, 1, 28, 28)
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    t = torch.arange(T)
    xt = process().q_sample(x0.expand(T, -1, -1, -1), t, eps.expand(T, -1, -1, -1))  # (T, 1, 28, 28)
    return np.concatenate([np.asarray(digit, dtype=np.uint8)[None], data.to_uint8(xt[:, 0])])


@functools.lru_cache(maxsize=1)
def default_frames() -> np.ndarray:
    """The forward chain of the first bundled digit, computed once per process and shared by every session that
    has not chosen a digit (a per-session copy in gr.State would cost 0.8 MB per visitor)."""
    frames = forward_frames(ui.sample_digits()[0][0])
    frames.flags.writeable = False
    return frames


def forward_step(frames, t):
    """Slider callback: the precomputed x_t and the schedule's values at t -> (image, stats html)."""
    if frames is None:  # no digit chosen in this session yet
        frames = default_frames()
    c = ui.Clamped()
    s = c.int("t", t, 0, T, 0)
    return ui.upscale(frames[s]), schedule_html(s, c.note())


def schedule_html(s: int, note: str = "") -> str:
    """sqrt(alpha_bar), sqrt(1 - alpha_bar), SNR and a small alpha_bar plot with a marker at step s."""
    a = 1.0 if s == 0 else float(process().alpha_bar[s - 1])
    snr = "∞" if s == 0 else f"{process().snr(s - 1):.3g}"
    signal, noise = ui.say("ddpm_msg_signal"), ui.say("ddpm_msg_noise")
    rows = (f"<tr><td>t</td><td>{s}</td></tr><tr><td>√ᾱ<sub>t</sub> ({signal})</td><td>{a ** 0.5:.4f}</td></tr>"
            f"<tr><td>√(1−ᾱ<sub>t</sub>) ({noise})</td><td>{(1 - a) ** 0.5:.4f}</td></tr>"
            f"<tr><td>{ui.say('ddpm_msg_snr')} = ᾱ<sub>t</sub>/(1−ᾱ<sub>t</sub>)</td><td>{snr}</td></tr>")
    curve = ui.svg.lines_svg({"ᾱ_t": alpha_bar_curve()}, title="ᾱ_t", width=320, height=120, marker=s)
    return f'<div class="stats"><table>{rows}</table>{curve}<p>{note}</p></div>'


# ---- 2. reverse process -----------------------------------------------------------------------------
def _sampling_args(sampler, steps, eta, seed, c: ui.Clamped):
    sampler = c.choice("ddpm_arg_sampler", sampler, list(SAMPLERS), "ddim")
    steps = c.int("ui_arg_steps", steps, 1, T, 50)
    eta = c.float("ddpm_arg_eta", eta, 0.0, 1.0, 0.0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return sampler, steps, eta, seed


def _where(step) -> str:
    return ui.say("ddpm_msg_where", index=step.index, total=step.total, t=step.t)


def _render(nrow: int):
    return lambda step: (ui.sheet(step.x, nrow), ui.sheet(step.pred, nrow))


def _labels(digit, w, n: int, c: ui.Clamped):
    """(labels (n,) or None, w, what the status line says about them) from the class choice and guidance scale."""
    digit = c.choice("ddpm_arg_digit", str(digit), DIGITS, "all")
    w = c.float("ddpm_arg_w", w, 0.0, MAX_W, 1.0)
    if digit == "none":
        return None, w, ui.say("ddpm_msg_labels_none")
    if digit == "all":
        return class_labels(n), w, ui.say("ddpm_msg_labels_all", w=w)
    return class_labels(n, int(digit)), w, ui.say("ddpm_msg_labels_digit", digit=digit, w=w)


def sample(sampler="ddim", steps=50, eta=0.0, n=16, seed=0, digit="all", w=1.0):
    """Sample n digits from pure noise, streaming (x_t grid, x0_hat grid, status). The class-conditional net draws
    the labels `digit` asks for ("all": 0-9 in turn, "0".."9", "none": no label) with guidance scale w."""
    c = ui.Clamped()
    sampler, steps, eta, seed = _sampling_args(sampler, steps, eta, seed, c)
    n = c.int("ddpm_arg_n", n, 1, MAX_IMAGES, 16)
    y, w, labels = _labels(digit, w, n, c)
    eps, msg = eps_model(y, w)
    if eps is None:
        yield None, None, ui.message(msg, "error")
        return
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 1, 28, 28), generator=g)  # x_T ~ N(0, I)
    loop = process().sample_loop(eps, x, sampler, steps, eta, generator=g)
    head = ui.say("ddpm_msg_sample_head", sampler=ui.say(f"ddpm_msg_sampler_{sampler}"), seed=seed, labels=labels)
    yield from ui.stream(loop, _render(int(np.ceil(np.sqrt(n)))), head, c, where=_where, threads=STREAM_THREADS)


# ---- 3. denoise my digit ----------------------------------------------------------------------------
def denoise(digit, t=300, sampler="ddim", steps=50, eta=0.0, seed=0, runs=4):
    """Noise the chosen digit to step t with `runs` different draws of eps, then run the reverse process
    from there without a label (the digit's class is not known); streams (x_t grid, x0_hat grid, status)."""
    eps, msg = eps_model()
    if eps is None:
        yield None, None, ui.message(msg, "error")
        return
    if digit is None:
        digit = ui.sample_digits()[0][0]
    c = ui.Clamped()
    s = c.int("t", t, 0, T, 300)
    sampler, steps, eta, seed = _sampling_args(sampler, steps, eta, seed, c)
    runs = c.int("ddpm_arg_runs", runs, 1, MAX_DENOISE, 4)
    x0 = data.to_model_range(np.asarray(digit, dtype=np.uint8)[None]).expand(runs, -1, -1, -1)
    if s == 0:
        yield ui.sheet(x0, runs), ui.sheet(x0, runs), ui.status(
            c, ui.say("ddpm_msg_clean"), "warn")
        return
    g = torch.Generator().manual_seed(seed)
    t_start = s - 1  # slider step s is array index s - 1
    xt = process().q_sample(x0, torch.full((runs,), t_start), torch.randn(x0.shape, generator=g))
    loop = process().sample_loop(eps, xt, sampler, steps, eta, t_start=t_start, generator=g)
    head = ui.say("ddpm_msg_denoise_head", t=s, sampler=ui.say(f"ddpm_msg_sampler_{sampler}"))
    yield from ui.stream(loop, _render(runs), head, c, where=_where, threads=STREAM_THREADS)


# ---- training record --------------------------------------------------------------------------------
TARGET_SYMBOLS = {"eps": "ε", "x0": "x₀", "v": "v"}  # genlib.diffusion.TARGETS as the note writes them


def describe_training(m: dict, src: str) -> str:
    d = GaussianDiffusion.from_metrics(m)  # the recipe the weights were trained with (linear / eps / uniform if unsaid)
    recipe = ui.say("ddpm_msg_recipe", schedule=ui.say(f"ddpm_schedule_{d.schedule}"), target=TARGET_SYMBOLS[d.target],
                    weighting=ui.say(f"ddpm_weighting_{d.weighting}"))
    return ui.say("ddpm_msg_training", src=src, recipe=recipe, epochs=m["epochs"], dataset=m["dataset"],
                  steps=m["steps"], minutes=m["wall_time_s"] / 60, hardware=ui.hardware(m["hardware"]),
                  loss=m["final"]["test_loss_ema"]) + ui.warm_start(m)


# ---- layout -----------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; returns the note component (the app switches its language)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("ddpm_forward"), elem_id="ddpm-h-forward")
        picker = ui.digit_picker()
        frames = gr.State(None)  # this session's forward chain, once it picks or draws a digit
        t_slider = gr.Slider(0, T, value=0, step=1, label=ui.t("ddpm_t"), elem_id="ddpm-t")
        with gr.Row():
            xt = ui.pixels("ddpm_xt", 224, value=ui.upscale(default_frames()[0]), elem_id="ddpm-xt", buttons=[])
            stats = gr.HTML(elem_id="ddpm-stats")  # filled on page load, in the visitor's language

        gr.Markdown(ui.t("ddpm_reverse"))
        with gr.Row():
            sampler = gr.Radio(ui.choices("ddpm_sampler", SAMPLERS), value="ddim", label=ui.t("ddpm_sampler"))
            steps = gr.Slider(1, T, value=50, step=1, label=ui.t("ddpm_steps"))
            eta = gr.Slider(0.0, 1.0, value=0.0, step=0.05, label=ui.t("ddpm_eta"))
        with gr.Row():
            digit = gr.Dropdown([(ui.t(f"ddpm_digit_{d}"), d) if d in ("all", "none") else (d, d) for d in DIGITS],
                                value="all", label=ui.t("ddpm_digit"), elem_id="ddpm-digit")
            w = gr.Slider(0.0, MAX_W, value=1.0, step=0.1, label=ui.t("ddpm_w"), elem_id="ddpm-w")
        n, seed, sample_btn = ui.sample_controls(TAB_ID, MAX_IMAGES)
        with gr.Row():
            grid_xt = ui.pixels("ddpm_grid_xt", 300)
            grid_x0 = ui.pixels("ddpm_grid_x0", 300)
        sample_status = ui.status_line()

        gr.Markdown(ui.t("ddpm_denoise"))
        with gr.Row():
            runs = gr.Slider(1, MAX_DENOISE, value=4, step=1, label=ui.t("ddpm_denoise_n"))
            denoise_btn = gr.Button(ui.t("ddpm_denoise_btn"), variant="primary")
        with gr.Row():
            den_xt = ui.pixels("ddpm_grid_xt", 300)
            den_x0 = ui.pixels("ddpm_grid_x0", 300)
        denoise_status = ui.status_line()

        ui.share_link(TAB_ID, {"sampler": sampler, "steps": steps, "eta": eta, "n": n, "seed": seed, "digit": digit,
                               "w": w}, primary=sample_btn)
        ui.training_panel("ddpm", describe_training, "ddpm_loss")

    # a new digit: recompute its forward chain, then redraw x_t at the current t
    picker.wire("ddpm_pick_sample", "ddpm_use_drawing", then=(forward_frames, picker.digit, frames))
    frames.change(forward_step, [frames, t_slider], [xt, stats], show_progress="hidden", api_visibility="private")
    gr.on(None, lambda: schedule_html(0), None, stats, show_progress="hidden", api_visibility="private")  # page load
    t_slider.change(forward_step, [frames, t_slider], [xt, stats], api_name="ddpm_forward", show_progress="hidden",
                    trigger_mode="always_last")
    sample_btn.click(sample, [sampler, steps, eta, n, seed, digit, w], [grid_xt, grid_x0, sample_status],
                     api_name="ddpm_sample", **ui.SAMPLER)
    denoise_btn.click(denoise, [picker.digit, t_slider, sampler, steps, eta, seed, runs], [den_xt, den_x0, denoise_status],
                      api_name="ddpm_denoise", **ui.SAMPLER)
    return note
