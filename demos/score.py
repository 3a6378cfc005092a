"""The diffusion-theory tab (it continues the DDPM tab): scores and Langevin dynamics in the plane, annealed Langevin
over a noise ladder, the trained DDPM read as a score model (predictor-corrector sampling on MNIST), the linear and
cosine schedules side by side with the recipe study, and the VP SDE with its reverse SDE and probability-flow ODE.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The mathematics is genlib.diffusion (scores, samplers, the SDE) and genlib.flow (Gaussian mixtures, Langevin).
"""
from __future__ import annotations

import base64
import functools
import html
import json
import math
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data
from genlib.diffusion import (VPSDE, GaussianDiffusion, annealed_langevin, cached_autocast_model, class_labels,
                              mode_fractions, perturbed, sigma_ladder, trained_process, two_modes)
from genlib.flow import langevin, toy_mixture

TAB_ID = "score"
TITLE = "score_title"
MODELS = ("ddpm", "cnn")  # the DDPM read as a score model; the classifier that scores its samples
ROOT = Path(__file__).resolve().parents[1]
RECIPES = ROOT / "benchmarks" / "results" / "ddpm_recipes.json"

TOYS = ("two_modes", "mixture", "ring8")  # two_modes: genlib.diffusion.two_modes; the others genlib.flow.toy_mixture
LEARNED = {"mixture": "flow2d_mixture", "ring8": "flow2d_ring8"}  # CondOT fields trained on the same mixtures
SOURCES = ("exact", "learned")
N_POINTS = 400  # Langevin particles in the plane
MAX_STEPS = 1000  # Langevin steps (one sigma) / total steps (annealed)
MAX_LEVELS = 20
STEP_MIN, STEP_MAX = 1e-4, 5.0
SIGMA_MAX = 5.0
ARROWS = 15  # arrows per side of the score field
BINS = 64
BLOWUP = 1e3  # a particle beyond this distance has diverged
MAX_PC_N, MAX_PC_STEPS, MAX_CORRECTOR = 16, 100, 5  # bounded work: at most 100 x 6 network calls on 16 images
SWEEP = (0, 1, 2, 3)  # corrector steps compared by the sweep
MAX_SWEEP_STEPS = 50
T = 1000
SDE_POINTS, SDE_PATHS, MAX_SDE_STEPS = 300, 30, 1000

ui.add_strings(
    en={
        "score_title": "Scores & Langevin",
        "score_toy_two_modes": "two modes, weights 0.8 : 0.2", "score_toy_mixture": "four Gaussians",
        "score_toy_ring8": "ring of eight",
        "score_source_exact": "exact score (closed form)", "score_source_learned": "learned (flow tab's 2-D field)",
        "score_field_h": "### 1 · The score field ∇ log p_σ and Langevin dynamics",
        "score_toy": "Data (a Gaussian mixture)",
        "score_sigma": "Noise level σ (p_σ = p * N(0, σ²I))",
        "score_step": "Step size ε",
        "score_steps": "Langevin steps",
        "score_langevin_btn": "Run Langevin at this σ",
        "score_ladder_h": "#### Annealed Langevin (NCSN): a ladder of σ, large to small",
        "score_sigma_max": "σ_max (first rung)", "score_sigma_min": "σ_min (last rung)",
        "score_levels": "Rungs", "score_annealed_btn": "Annealed vs one σ",
        "score_seed": "Seed",
        "score_pc_h": "### 2 · Your DDPM is a score model: predictor–corrector sampling",
        "score_pc_steps": "Predictor steps (DDIM)", "score_corrector": "Corrector (Langevin) steps per level",
        "score_snr": "Corrector signal-to-noise ratio r", "score_n": "Number of images",
        "score_sample_btn": "Sample", "score_sweep_btn": "Classifier score vs corrector steps",
        "score_grid_x": "x (current sample)", "score_grid_x0": "x̂_0 (model's guess of the clean image)",
        "score_sched_h": "### 3 · Schedules side by side: linear vs cosine",
        "score_digit": "Test digit", "score_t": "Noise step t",
        "score_sched_img": "the same digit and noise: linear (left), cosine (right)",
        "score_recipes_h": "#### The recipe study (benchmarks/ddpm_recipes.py)",
        "score_sde_h": "### 4 · The forward SDE, the reverse SDE and the probability-flow ODE",
        "score_sde_steps": "Steps of each simulation", "score_source": "Score",
        "score_sde_btn": "Simulate",
        "score_arg_toy": "data", "score_arg_sigma": "σ", "score_arg_step": "step size", "score_arg_steps": "steps",
        "score_arg_sigma_max": "σ_max", "score_arg_sigma_min": "σ_min", "score_arg_levels": "rungs",
        "score_arg_corrector": "corrector steps", "score_arg_snr": "signal-to-noise ratio", "score_arg_n": "images",
        "score_arg_digit": "digit", "score_arg_source": "score",
        "score_msg_field": "∇ log p_σ at σ = {sigma:g}: arrows point uphill; the shading is p_σ.",
        "score_msg_fractions": "share of particles at each mode {got} (data weights {want}); distance {tv:.2f}",
        "score_msg_diverged": "Diverged: after {steps} steps {bad} of {n} particles left the plane (|x| > {limit:g} or "
                              "not a number). The step size is too large for σ = {sigma:g}: Langevin is stable only for "
                              "steps below 4 (s² + σ²) ≈ {bound:.3g} (s: the narrowest component's spread).",
        "score_msg_langevin": "one σ = {sigma:g}, {steps} steps of ε = {step:g}: {fractions}",
        "score_msg_annealed": "annealed over {levels} rungs from σ = {hi:g} to {lo:g} ({steps} steps): {ann} — one σ = "
                              "{lo:g}, the same {steps} steps: {one}",
        "score_msg_ladder": "The ladder must go down: σ_max ({hi:g}) must be larger than σ_min ({lo:g}). Nothing was run.",
        "score_title_one": "one σ = {sigma:g}", "score_title_ann": "annealed {hi:g} → {lo:g}",
        "score_title_start": "start",
        "score_msg_pc_head": "predictor–corrector: {steps} DDIM steps × (1 + {m}) network calls, r = {snr:g}, seed {seed}",
        "score_msg_where": "level {index}/{total} (t = {t})",
        "score_msg_classifier": "classifier: mean confidence {conf:.3f}, {classes} different digits",
        "score_msg_sweep_row": "{m} corrector steps: confidence {conf:.3f}, IS {is_:.2f}",
        "score_msg_sweep": "{n} images per setting, {steps} DDIM steps, r = {snr:g}, seed {seed}. {rows}",
        "score_sweep_plot": "mean classifier confidence vs corrector steps",
        "score_msg_sched": "t = {t}: ᾱ_t linear {a_lin:.4f}, cosine {a_cos:.4f}; log SNR linear {l_lin:.2f}, cosine {l_cos:.2f}",
        "score_msg_sched_clean": "t = 0 is the clean digit.",
        "score_curve_ab": "ᾱ_t (linear, cosine)", "score_curve_snr": "log SNR_t (linear, cosine)",
        "score_msg_no_recipes": "The recipe study has not been run yet: `python benchmarks/ddpm_recipes.py`.",
        "score_recipes_cols": "variant|schedule|target|weighting|training|DDIM-50 FID|DDIM-50 IS|ancestral-1000 FID|"
                              "ancestral-1000 IS",
        "score_msg_recipes": "DDIM-50 on n = {n} samples, ancestral-1000 on {n_anc}; every variant trained for {steps} steps "
                             "of batch {batch} on {threads} CPU thread(s); command `{command}`",
        "score_msg_sde": "{source} score, {steps} steps. Sliced Wasserstein distance to the data: reverse SDE {sw_sde:.3f}, "
                         "PF-ODE {sw_ode:.3f} (two data draws: {sw_ref:.3f}).",
        "score_msg_no_learned": "No learned field for '{toy}': the exact score is used.",
        "score_title_fwd": "forward SDE: data → noise", "score_title_rsde": "reverse SDE", "score_title_ode": "PF-ODE",
        "score_msg_exact": "exact", "score_msg_learned": "learned",
    },
    zh={
        "score_title": "得分与朗之万动力学",
        "score_toy_two_modes": "两个峰，权重 0.8 : 0.2", "score_toy_mixture": "四个高斯",
        "score_toy_ring8": "八个高斯围成一圈",
        "score_source_exact": "精确得分（闭式解）", "score_source_learned": "学到的（流匹配标签页的二维向量场）",
        "score_field_h": "### 1 · 得分场 ∇ log p_σ 与朗之万动力学",
        "score_toy": "数据（高斯混合）",
        "score_sigma": "噪声水平 σ（p_σ = p * N(0, σ²I)）",
        "score_step": "步长 ε",
        "score_steps": "朗之万步数",
        "score_langevin_btn": "在这个 σ 下运行朗之万动力学",
        "score_ladder_h": "#### 退火朗之万动力学：σ 从大到小的阶梯",
        "score_sigma_max": "σ_max（第一级）", "score_sigma_min": "σ_min（最后一级）",
        "score_levels": "级数", "score_annealed_btn": "退火与单一 σ 对比",
        "score_seed": "随机种子",
        "score_pc_h": "### 2 · 你的 DDPM 就是一个得分模型：预测–校正采样",
        "score_pc_steps": "预测步数（DDIM）", "score_corrector": "每一级的校正（朗之万）步数",
        "score_snr": "校正步的信噪比 r", "score_n": "图像数量",
        "score_sample_btn": "采样", "score_sweep_btn": "分类器得分与校正步数的关系",
        "score_grid_x": "x（当前样本）", "score_grid_x0": "x̂_0（模型对干净图像的估计）",
        "score_sched_h": "### 3 · 两种调度并排：线性与余弦",
        "score_digit": "测试数字", "score_t": "噪声步 t",
        "score_sched_img": "同一个数字、同一份噪声：线性（左），余弦（右）",
        "score_recipes_h": "#### 训练配方对比（`benchmarks/ddpm_recipes.py`）",
        "score_sde_h": "### 4 · 前向 SDE、反向 SDE 与概率流 ODE",
        "score_sde_steps": "每次模拟的步数", "score_source": "得分",
        "score_sde_btn": "模拟",
        "score_arg_toy": "数据", "score_arg_sigma": "σ", "score_arg_step": "步长", "score_arg_steps": "步数",
        "score_arg_sigma_max": "σ_max", "score_arg_sigma_min": "σ_min", "score_arg_levels": "级数",
        "score_arg_corrector": "校正步数", "score_arg_snr": "信噪比", "score_arg_n": "图像数量",
        "score_arg_digit": "数字", "score_arg_source": "得分",
        "score_msg_field": "σ = {sigma:g} 时的 ∇ log p_σ：箭头指向上坡方向，底色是 p_σ。",
        "score_msg_fractions": "各个峰上的粒子比例 {got}（数据的权重 {want}）；差距 {tv:.2f}",
        "score_msg_diverged": "发散了：{steps} 步之后，{n} 个粒子中有 {bad} 个离开了平面（|x| > {limit:g} 或不是数）。"
                              "对 σ = {sigma:g} 来说步长太大：只有步长小于 4 (s² + σ²) ≈ {bound:.3g} 时朗之万动力学才稳定（s：最窄分量的标准差）。",
        "score_msg_langevin": "单一 σ = {sigma:g}，步长 ε = {step:g}，共 {steps} 步：{fractions}",
        "score_msg_annealed": "退火：{levels} 级，σ 从 {hi:g} 降到 {lo:g}（共 {steps} 步）：{ann} —— 单一 σ = {lo:g}，"
                              "同样 {steps} 步：{one}",
        "score_msg_ladder": "阶梯必须往下走：σ_max（{hi:g}）必须大于 σ_min（{lo:g}）。没有运行。",
        "score_title_one": "单一 σ = {sigma:g}", "score_title_ann": "退火 {hi:g} → {lo:g}",
        "score_title_start": "起点",
        "score_msg_pc_head": "预测–校正：{steps} 步 DDIM × (1 + {m}) 次网络调用，r = {snr:g}，随机种子 {seed}",
        "score_msg_where": "第 {index}/{total} 级（t = {t}）",
        "score_msg_classifier": "分类器：平均置信度 {conf:.3f}，共 {classes} 种不同的数字",
        "score_msg_sweep_row": "{m} 个校正步：置信度 {conf:.3f}，IS {is_:.2f}",
        "score_msg_sweep": "每种设置 {n} 张图像，{steps} 步 DDIM，r = {snr:g}，随机种子 {seed}。{rows}",
        "score_sweep_plot": "分类器平均置信度与校正步数",
        "score_msg_sched": "t = {t}：ᾱ_t 线性 {a_lin:.4f}，余弦 {a_cos:.4f}；log 信噪比 线性 {l_lin:.2f}，余弦 {l_cos:.2f}",
        "score_msg_sched_clean": "t = 0 就是干净的数字。",
        "score_curve_ab": "ᾱ_t（线性、余弦）", "score_curve_snr": "log 信噪比（线性、余弦）",
        "score_msg_no_recipes": "训练配方对比还没有运行：`python benchmarks/ddpm_recipes.py`。",
        "score_recipes_cols": "变体|调度|预测目标|损失权重|训练|DDIM-50 FID|DDIM-50 IS|祖先采样-1000 FID|祖先采样-1000 IS",
        "score_msg_recipes": "DDIM-50 用 n = {n} 个样本，祖先采样-1000 用 {n_anc} 个；每个变体用 {threads} 个 CPU 线程训练 {steps} 步，"
                             "批量 {batch}；命令 `{command}`",
        "score_msg_sde": "{source}得分，{steps} 步。到数据的切片 Wasserstein 距离：反向 SDE {sw_sde:.3f}，"
                         "概率流 ODE {sw_ode:.3f}（两份数据样本之间：{sw_ref:.3f}）。",
        "score_msg_no_learned": "“{toy}”没有学到的向量场：改用精确得分。",
        "score_title_fwd": "前向 SDE：数据 → 噪声", "score_title_rsde": "反向 SDE", "score_title_ode": "概率流 ODE",
        "score_msg_exact": "精确", "score_msg_learned": "学到的",
    },
)


# ---- the data in the plane -------------------------------------------------------------------------------
def mixture(toy: str):
    return two_modes() if toy == "two_modes" else toy_mixture(toy)


@functools.lru_cache(maxsize=1)
def _grid_points(bins: int) -> torch.Tensor:
    """Cell centres of a bins x bins grid over the shown square, row 0 at the top (y = +LIM)."""
    c = (np.arange(bins) + 0.5) / bins * 2 * ui.svg.LIM - ui.svg.LIM
    xs, ys = np.meshgrid(c, c[::-1])
    return torch.tensor(np.stack([xs.ravel(), ys.ravel()], 1), dtype=torch.float32)


def _density(mix) -> str:
    return ui.svg.density_grid(mix.log_prob(_grid_points(BINS)).exp().numpy().reshape(BINS, BINS))


def _fractions(mix, x: torch.Tensor) -> str:
    got, want = mode_fractions(mix, x), mix.weights.double()
    fmt = lambda v: " : ".join(f"{a:.2f}" for a in v.tolist())  # noqa: E731
    return ui.say("score_msg_fractions", got=fmt(got), want=fmt(want), tv=0.5 * (got - want).abs().sum().item())


def _clamp_toy(c: ui.Clamped, toy) -> str:
    return c.choice("score_arg_toy", toy, list(TOYS), "two_modes")


def field(toy="two_modes", sigma=0.1):
    """The score field of p_sigma over its density -> (svg, status)."""
    c = ui.Clamped()
    toy = _clamp_toy(c, toy)
    sigma = c.float("score_arg_sigma", sigma, 0.0, SIGMA_MAX, 0.1)
    p = perturbed(mixture(toy), sigma)
    pts = _grid_points(ARROWS)
    s = p.score(pts)
    svg = ui.svg.figure(_density(p), ui.svg.arrows(pts.numpy(), s.numpy()))
    return svg, ui.status(c, ui.say("score_msg_field", sigma=sigma))


def _start(seed: int) -> tuple[torch.Tensor, torch.Generator]:
    """N_POINTS particles spread uniformly over the square (low-density regions included), and the run's generator."""
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(N_POINTS, 2, generator=g) * 2 - 1) * (ui.svg.LIM - 0.2), g


def _run(steps_iter, x: torch.Tensor) -> tuple[torch.Tensor, int, bool]:
    """Run a Langevin generator to the end or until it blows up -> (state, steps taken, diverged)."""
    k = 0
    for step in steps_iter:
        x, k = step.x, step.index
        if not torch.isfinite(x).all() or x.abs().max() > BLOWUP:
            return x, k, True
    return x, k, False


def _diverged(mix, x: torch.Tensor, k: int, sigma: float) -> str:
    bad = int((~torch.isfinite(x).all(1) | (x.abs().max(1).values > BLOWUP)).sum())
    bound = 4 * (float(mix.stds.min()) ** 2 + sigma**2)  # a Gaussian's Langevin chain: |1 - eps / (2 var)| < 1
    return ui.say("score_msg_diverged", steps=k, bad=bad, n=len(x), limit=BLOWUP, sigma=sigma, bound=bound)


def _shown(x: torch.Tensor) -> np.ndarray:
    """Finite particles inside the square, for drawing."""
    x = x[torch.isfinite(x).all(1)]
    return x[(x.abs() <= ui.svg.LIM).all(1)].numpy()


def _langevin_args(c, toy, step, steps, seed):
    toy = _clamp_toy(c, toy)
    step = c.float("score_arg_step", step, STEP_MIN, STEP_MAX, 0.01)
    steps = c.int("score_arg_steps", steps, 1, MAX_STEPS, 200)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return toy, step, steps, seed


def run_langevin(toy="two_modes", sigma=0.1, step=0.01, steps=200, seed=0):
    """Langevin dynamics on p_sigma from particles spread over the square -> (svg, status)."""
    c = ui.Clamped()
    toy, step, steps, seed = _langevin_args(c, toy, step, steps, seed)
    sigma = c.float("score_arg_sigma", sigma, 0.0, SIGMA_MAX, 0.1)
    mix = mixture(toy)
    p = perturbed(mix, sigma)
    x0, g = _start(seed)
    x, k, bad = _run(langevin(p.score, x0, steps, step, g), x0)
    svg = ui.svg.figure(_density(p), ui.svg.dots(x0.numpy(), color="#9ca3af", r=1.2, opacity=0.5),
                        ui.svg.dots(_shown(x), color="#111827", r=1.5),
                        title=ui.say("score_title_one", sigma=sigma))
    if bad:
        return svg, ui.status(c, _diverged(mix, x, k, sigma), "warn")
    text = ui.say("score_msg_langevin", sigma=sigma, steps=steps, step=step, fractions=_fractions(mix, x))
    return svg, ui.status(c, text)


def run_annealed(toy="two_modes", sigma_max=3.0, sigma_min=0.1, levels=10, step=0.01, steps=200, seed=0):
    """Annealed Langevin over a geometric ladder (steps split evenly over the rungs, step size step * sigma_i^2 /
    sigma_min^2) against plain Langevin at sigma_min with the same number of steps -> (svg one, svg annealed, status)."""
    c = ui.Clamped()
    toy, step, steps, seed = _langevin_args(c, toy, step, steps, seed)
    hi = c.float("score_arg_sigma_max", sigma_max, 0.01, SIGMA_MAX, 3.0)
    lo = c.float("score_arg_sigma_min", sigma_min, 0.01, SIGMA_MAX, 0.1)
    levels = c.int("score_arg_levels", levels, 2, MAX_LEVELS, 10)
    if not hi > lo:
        return None, None, ui.status(c, ui.say("score_msg_ladder", hi=hi, lo=lo), "warn")
    mix = mixture(toy)
    per_level = max(1, steps // levels)
    ladder = sigma_ladder(hi, lo, levels)
    x0, g = _start(seed)
    one, k1, bad1 = _run(langevin(perturbed(mix, lo).score, x0, per_level * levels, step, g), x0)
    ann, k2, bad2 = _run(annealed_langevin(lambda v, s: perturbed(mix, s).score(v), x0, ladder, per_level, step, g), x0)
    back = _density(perturbed(mix, lo))
    start = ui.svg.dots(x0.numpy(), color="#9ca3af", r=1.2, opacity=0.4)
    svg_one = ui.svg.figure(back, start, ui.svg.dots(_shown(one), color="#111827", r=1.5),
                            title=ui.say("score_title_one", sigma=lo))
    svg_ann = ui.svg.figure(back, start, ui.svg.dots(_shown(ann), color="#1d4ed8", r=1.5),
                            title=ui.say("score_title_ann", hi=hi, lo=lo))
    if bad1 or bad2:
        text = _diverged(mix, ann if bad2 else one, k2 if bad2 else k1, hi if bad2 else lo)
        return svg_one, svg_ann, ui.status(c, text, "warn")
    text = ui.say("score_msg_annealed", levels=levels, hi=hi, lo=lo, steps=per_level * levels,
                  ann=_fractions(mix, ann), one=_fractions(mix, one))
    return svg_one, svg_ann, ui.status(c, text)


# ---- 2. the DDPM as a score model --------------------------------------------------------------------------
def _ddpm(n: int):
    """(the DDPM's network under bfloat16 autocast for n images, its diffusion process) or (None, message). The net
    is class-conditional: image i gets label i mod 10, so its score is that of p_t(x | y)."""
    model, msg = ui.load_model("ddpm")
    if model is None:
        return None, msg
    return cached_autocast_model(model, True, class_labels(n)), _process()


@functools.lru_cache(maxsize=1)
def _process() -> GaussianDiffusion:
    """The process the shipped DDPM was trained with (schedule and target from its metrics.json)."""
    return trained_process("ddpm")


@torch.no_grad()
def _classify(x: torch.Tensor):
    """(mean max-probability, number of distinct predicted digits, probs) of the project classifier, or None."""
    clf, _ = ui.load_model("cnn")
    if clf is None:
        return None
    from genlib.metrics import classifier_outputs

    _, probs = classifier_outputs(clf, x.float().clamp(-1, 1))
    return probs.max(1).values.mean().item(), len(set(probs.argmax(1).tolist())), probs


def _pc_args(c, steps, corrector, snr, n, seed):
    steps = c.int("ui_arg_steps", steps, 1, MAX_PC_STEPS, 25)
    corrector = c.int("score_arg_corrector", corrector, 0, MAX_CORRECTOR, 1)
    snr = c.float("score_arg_snr", snr, 0.01, 1.0, 0.16)
    n = c.int("score_arg_n", n, 1, MAX_PC_N, 16)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return steps, corrector, snr, n, seed


def pc_sample(steps=25, corrector=1, snr=0.16, n=16, seed=0):
    """Predictor-corrector sampling with the DDPM's network as the score, streaming (x grid, x0_hat grid, status);
    the last update adds the classifier's verdict."""
    c = ui.Clamped()
    steps, corrector, snr, n, seed = _pc_args(c, steps, corrector, snr, n, seed)
    eps, diffusion = _ddpm(n)
    if eps is None:
        yield None, None, ui.message(diffusion, "error")
        return
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, 1, 28, 28), generator=g)
    loop = diffusion.pc_sample_loop(eps, x, steps=steps, corrector_steps=corrector, snr=snr, generator=g)
    head = ui.say("score_msg_pc_head", steps=steps, m=corrector, snr=snr, seed=seed)
    nrow = int(math.ceil(math.sqrt(n)))
    last, final = None, {}

    def render(step):
        final["x"] = step.x
        return ui.sheet(step.x, nrow), ui.sheet(step.pred, nrow)

    where = lambda s: ui.say("score_msg_where", index=s.index, total=s.total, t=s.t)  # noqa: E731
    for last in ui.stream(loop, render, head, c, where=where):
        yield last
    verdict = _classify(final["x"])
    if last is not None and verdict is not None:
        yield last[0], last[1], last[2] + "  \n" + ui.message(ui.say("score_msg_classifier", conf=verdict[0],
                                                                     classes=verdict[1]))


def pc_sweep(steps=20, snr=0.16, n=8, seed=0):
    """The same starting noise sampled with 0, 1, 2, 3 corrector steps; the classifier's mean confidence and IS of
    each -> (svg plot, sheet of the samples, one row per setting, status). Streams after each setting."""
    c = ui.Clamped()
    steps, _, snr, n, seed = _pc_args(c, steps, 0, snr, n, seed)
    eps, diffusion = _ddpm(n)
    if eps is None:
        yield None, None, ui.message(diffusion, "error")
        return
    steps = min(steps, MAX_SWEEP_STEPS)
    from genlib.metrics import inception_score

    rows, conf, sheets = [], [], []
    for m in SWEEP:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((n, 1, 28, 28), generator=g)
        with ui.intra_op_threads(ui.panels.SAMPLER_THREADS):
            for step in diffusion.pc_sample_loop(eps, x, steps=steps, corrector_steps=m, snr=snr, generator=g):
                x = step.x
        verdict = _classify(x)
        if verdict is None:
            yield None, None, ui.message(ui.load_model("cnn")[1], "error")
            return
        conf.append(verdict[0])
        sheets.append(x)
        rows.append(ui.say("score_msg_sweep_row", m=m, conf=verdict[0], is_=inception_score(verdict[2], 1)[0]))
        plot = ui.svg.lines_svg({ui.say("score_sweep_plot"): np.array(conf)}, x=np.array(SWEEP[: len(conf)]),
                                title=ui.say("score_sweep_plot"), height=180) if len(conf) > 1 else None
        yield plot, ui.sheet(torch.cat(sheets), n), ui.status(
            c, ui.say("score_msg_sweep", n=n, steps=steps, snr=snr, seed=seed, rows="; ".join(rows)))


# ---- 3. schedules side by side --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _schedules() -> dict[str, GaussianDiffusion]:
    return {"linear": GaussianDiffusion(schedule="linear"), "cosine": GaussianDiffusion(schedule="cosine")}


def schedules(index=0, t=500):
    """One bundled digit noised to step t under both schedules with the same eps -> (image, curves html, status)."""
    c = ui.Clamped()
    digits, _ = ui.sample_digits()
    i = c.int("score_arg_digit", index, 0, len(digits) - 1, 0)
    s = c.int("t", t, 0, T, 500)
    x0 = data.to_model_range(digits[i][None])  # (1, 1, 28, 28)
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(i))
    d = _schedules()
    if s == 0:
        pair = torch.cat([x0, x0])
    else:
        tt = torch.full((1,), s - 1)
        pair = torch.cat([d[k].q_sample(x0, tt, eps) for k in ("linear", "cosine")])
    img = ui.upscale(ui.sheet(pair, 2))
    ab = {k: np.concatenate([[1.0], v.alpha_bar.numpy()]) for k, v in d.items()}
    lsnr = {k: v.log_snr().numpy() for k, v in d.items()}
    curves = (ui.svg.lines_svg(ab, x=np.arange(T + 1), title=ui.say("score_curve_ab"), height=170, marker=s)
              + ui.svg.lines_svg(lsnr, x=np.arange(1, T + 1), title=ui.say("score_curve_snr"), height=170,
                                 marker=max(s - 1, 0)))
    if s == 0:
        text = ui.say("score_msg_sched_clean")
    else:
        text = ui.say("score_msg_sched", t=s, a_lin=ab["linear"][s], a_cos=ab["cosine"][s], l_lin=lsnr["linear"][s - 1],
                      l_cos=lsnr["cosine"][s - 1])
    return img, curves, ui.status(c, text)


def recipes_html() -> str:
    """The recipe-study table with a sample grid per variant, read from benchmarks/results/ddpm_recipes.json."""
    if not RECIPES.exists():
        return ui.message(ui.say("score_msg_no_recipes"), "warn")
    res = json.loads(RECIPES.read_text(encoding="utf-8"))
    cols = ui.say("score_recipes_cols").split("|")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in cols) + "<th></th>"
    body = []
    for name, v in res["variants"].items():
        q = v.get("quality", {})
        cell = lambda k, m: f"{q[k][m]:.3g}" if k in q else "—"  # noqa: E731
        grid = ROOT / v["grid"] if v.get("grid") else None
        img = ""
        if grid is not None and grid.exists():
            uri = base64.b64encode(grid.read_bytes()).decode()
            img = f'<img src="data:image/png;base64,{uri}" width="112" style="image-rendering:pixelated">'
        body.append(f"<tr><td>{html.escape(name)}</td><td>{v['schedule']}</td><td>{v['target']}</td>"
                    f"<td>{v['weighting']}</td><td>{v['train_minutes']:.1f} min</td>"
                    f"<td>{cell('ddim-50', 'fid')}</td><td>{cell('ddim-50', 'is')}</td>"
                    f"<td>{cell('ancestral-1000', 'fid')}</td><td>{cell('ancestral-1000', 'is')}</td><td>{img}</td></tr>")
    caption = ui.say("score_msg_recipes", n=res["n"], n_anc=res["n_ancestral"], steps=res["train_steps"],
                     batch=res["batch_size"], threads=res.get("threads", 1), command=res["command"])
    return f'<div class="stats"><table><tr>{head}</tr>{"".join(body)}</table><p>{html.escape(caption)}</p></div>'


# ---- 4. the SDE view ----------------------------------------------------------------------------------------------
def _learned_score(toy: str, sde: VPSDE):
    if toy not in LEARNED:
        return None
    model, _ = ui.load_model(LEARNED[toy])
    if model is None:
        return None
    return lambda x, tau: sde.score_from_condot_field(model, x.float(), tau)


@torch.no_grad()
def simulate_sde(toy="mixture", steps=200, source="exact", seed=0):
    """Data -> noise by the forward SDE; the same noise -> data by the reverse SDE and by the PF-ODE
    -> (svg forward, svg reverse SDE, svg PF-ODE, status)."""
    from genlib.metrics import sliced_wasserstein

    c = ui.Clamped()
    toy = _clamp_toy(c, toy)
    steps = c.int("score_arg_steps", steps, 2, MAX_SDE_STEPS, 200)
    source = c.choice("score_arg_source", source, list(SOURCES), "exact")
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    mix, sde = mixture(toy), VPSDE()
    g = torch.Generator().manual_seed(seed)
    notes = []
    score = lambda x, tau: sde.marginal(mix, tau).score(x)  # noqa: E731
    if source == "learned":
        learned = _learned_score(toy, sde)
        if learned is None:
            notes.append(ui.say("score_msg_no_learned", toy=toy))
            source = "exact"
        else:
            score = learned
    x0 = mix.sample(SDE_POINTS, g)
    every = max(1, steps // 40)
    fwd = [x0] + [s.x for s in sde.forward(x0, steps, g) if s.index % every == 0 or s.last]
    noise = torch.randn(SDE_POINTS, 2, generator=g)
    out, paths = {}, {}
    for method in ("sde", "ode"):
        traj = [noise] + [s.x for s in sde.reverse(score, noise, steps, method, generator=g)
                          if s.index % every == 0 or s.last]
        out[method], paths[method] = traj[-1], torch.stack(traj, 1)[:SDE_PATHS]
    back = _density(mix)
    fwd_paths = torch.stack(fwd, 1)[:SDE_PATHS].clamp(-ui.svg.LIM, ui.svg.LIM).numpy()
    figs = [ui.svg.figure(back, ui.svg.polylines(fwd_paths), ui.svg.dots(_shown(fwd[-1]), color="#9ca3af", r=1.2),
                          title=ui.say("score_title_fwd"))]
    for method, color, key in (("sde", "#dc2626", "score_title_rsde"), ("ode", "#1d4ed8", "score_title_ode")):
        p = paths[method].clamp(-ui.svg.LIM, ui.svg.LIM).numpy()
        figs.append(ui.svg.figure(back, ui.svg.polylines(p), ui.svg.dots(_shown(out[method]), color=color, r=1.4),
                                  title=ui.say(key)))
    ref = mix.sample(SDE_POINTS, g)
    text = ui.say("score_msg_sde", source=ui.say(f"score_msg_{source}"), steps=steps,
                  sw_sde=sliced_wasserstein(out["sde"].float(), ref), sw_ode=sliced_wasserstein(out["ode"].float(), ref),
                  sw_ref=sliced_wasserstein(mix.sample(SDE_POINTS, g), ref))
    kind = "warn" if notes else "info"
    return (*figs, ui.status(c, " ".join(notes + [text]), kind))


# ---- layout ---------------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("score_field_h"))
        with gr.Row():
            toy = gr.Radio(ui.choices("score_toy", TOYS), value="two_modes", label=ui.t("score_toy"))
            sigma = gr.Slider(0.0, SIGMA_MAX, value=0.1, step=0.01, label=ui.t("score_sigma"), elem_id="score-sigma")
        with gr.Row():
            step = gr.Number(0.01, label=ui.t("score_step"), elem_id="score-step")
            steps = gr.Slider(1, MAX_STEPS, value=200, step=1, label=ui.t("score_steps"))
            seed = ui.seed_box("score_seed")
        with gr.Row():
            field_html = gr.HTML(elem_id="score-field")
            lang_html = gr.HTML(elem_id="score-langevin")
        langevin_btn = gr.Button(ui.t("score_langevin_btn"), variant="primary", elem_id="score-langevin-btn")
        field_status = ui.status_line(elem_id="score-field-status")
        gr.Markdown(ui.t("score_ladder_h"))
        with gr.Row():
            s_hi = gr.Number(3.0, label=ui.t("score_sigma_max"))
            s_lo = gr.Number(0.1, label=ui.t("score_sigma_min"))
            levels = gr.Slider(2, MAX_LEVELS, value=10, step=1, label=ui.t("score_levels"))
            annealed_btn = gr.Button(ui.t("score_annealed_btn"), variant="primary", elem_id="score-annealed-btn")
        with gr.Row():
            one_html = gr.HTML(elem_id="score-one")
            ann_html = gr.HTML(elem_id="score-ann")
        annealed_status = ui.status_line(elem_id="score-annealed-status")

        gr.Markdown(ui.t("score_pc_h"))
        with gr.Row():
            pc_steps = gr.Slider(1, MAX_PC_STEPS, value=25, step=1, label=ui.t("score_pc_steps"))
            corrector = gr.Slider(0, MAX_CORRECTOR, value=1, step=1, label=ui.t("score_corrector"))
            snr = gr.Slider(0.01, 1.0, value=0.16, step=0.01, label=ui.t("score_snr"))
        with gr.Row():
            n = gr.Slider(1, MAX_PC_N, value=16, step=1, label=ui.t("score_n"))
            pc_btn = gr.Button(ui.t("score_sample_btn"), variant="primary", elem_id="score-sample")
            sweep_btn = gr.Button(ui.t("score_sweep_btn"))
        with gr.Row():
            grid_x = ui.pixels("score_grid_x", 260)
            grid_x0 = ui.pixels("score_grid_x0", 260)
        pc_status = ui.status_line(elem_id="score-pc-status")
        sweep_plot = gr.HTML()

        gr.Markdown(ui.t("score_sched_h"))
        with gr.Row():
            digit = gr.Slider(0, len(ui.sample_digits()[0]) - 1, value=0, step=1, label=ui.t("score_digit"))
            t_slider = gr.Slider(0, T, value=500, step=1, label=ui.t("score_t"), elem_id="score-t")
        with gr.Row():
            sched_img = ui.pixels("score_sched_img", 160, buttons=[])
            sched_html = gr.HTML()
        sched_status = ui.status_line()
        gr.Markdown(ui.t("score_recipes_h"))
        recipes = gr.HTML()

        gr.Markdown(ui.t("score_sde_h"))
        with gr.Row():
            sde_steps = gr.Slider(2, MAX_SDE_STEPS, value=200, step=1, label=ui.t("score_sde_steps"))
            source = gr.Radio(ui.choices("score_source", SOURCES), value="exact", label=ui.t("score_source"))
            sde_btn = gr.Button(ui.t("score_sde_btn"), variant="primary", elem_id="score-sde-btn")
        with gr.Row():
            fwd_html, rsde_html, ode_html = gr.HTML(), gr.HTML(), gr.HTML()
        sde_status = ui.status_line()
        ui.share_link(TAB_ID, {"toy": toy, "sigma": sigma, "corrector": corrector, "snr": snr, "seed": seed},
                      primary=None)

    gr.on(None, field, [toy, sigma], [field_html, field_status], api_name="score_field",
          show_progress="hidden", trigger_mode="always_last")
    langevin_btn.click(run_langevin, [toy, sigma, step, steps, seed], [lang_html, field_status],
                       api_name="score_langevin", **ui.QUICK_MODEL)
    annealed_btn.click(run_annealed, [toy, s_hi, s_lo, levels, step, steps, seed], [one_html, ann_html, annealed_status],
                       api_name="score_annealed", **ui.QUICK_MODEL)
    pc_btn.click(pc_sample, [pc_steps, corrector, snr, n, seed], [grid_x, grid_x0, pc_status], api_name="score_sample",
                 **ui.SAMPLER)
    sweep_btn.click(pc_sweep, [pc_steps, snr, n, seed], [sweep_plot, grid_x, pc_status], api_name="score_sweep",
                    **ui.SAMPLER)
    gr.on(None, schedules, [digit, t_slider], [sched_img, sched_html, sched_status],
          api_name="score_schedules", show_progress="hidden", trigger_mode="always_last")
    gr.on(None, recipes_html, None, recipes, show_progress="hidden", api_visibility="private")
    sde_btn.click(simulate_sde, [toy, sde_steps, source, seed], [fwd_html, rsde_html, ode_html, sde_status],
                  api_name="score_sde", **ui.QUICK_MODEL)
    return note
