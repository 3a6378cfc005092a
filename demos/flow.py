"""The flow-matching tab. Part 1, 2-D: particles flowing from noise to data, the density and learned field at
time t, ODE vs SDE from the same noise, conditional vs marginal paths, Langevin dynamics on a known mixture.
Part 2, MNIST: a class-conditional field with classifier-free guidance, a row of samples per guidance scale.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The model math is all in genlib.flow.
"""
from __future__ import annotations

import functools
import time

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data
from genlib.flow import PATHS, cfg_field, evaluations_per_step, integrate, toy_mixture
from genlib.metrics import sliced_wasserstein

TAB_ID = "flow"
TITLE = "flow_title"
TOYS = list(data.TOY_SETS)
MODELS = ("flow", "cnn", *(f"flow2d_{toy}" for toy in TOYS))  # registry names this tab loads, on first use
METHODS = ["euler", "midpoint", "heun", "sde"]
SIGMA_SCHEDULES = ["vanishing", "constant"]
N_PARTICLES = 3000  # particles behind the density picture (simulated once per set)
FRAMES = 50  # time frames of that simulation: t = 0, 0.02, ..., 1
N_ANIMATE = 300
N_COMPARE = 1000
MAX_STEPS_2D = 200
MAX_LANGEVIN = 2000
LABELS = list(range(10))
MAX_W = 10.0
MAX_STEPS = 100
MAX_N = 16
GUIDANCE_ROW = [0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 10.0]
BFLOAT16 = True

ui.add_strings(
    en={
        "flow_title": "Flow matching",
        "flow_toy_moons": "two moons",
        "flow_toy_circles": "circles",
        "flow_toy_checkerboard": "checkerboard",
        "flow_toy_ring8": "ring of 8 Gaussians",
        "flow_toy_mixture": "Gaussian mixture",
        "flow_method_euler": "ODE · Euler",
        "flow_method_midpoint": "ODE · midpoint",
        "flow_method_heun": "ODE · Heun",
        "flow_method_sde": "SDE · Euler–Maruyama",
        "flow_schedule_vanishing": "σ (1 − t)",
        "flow_schedule_constant": "σ constant",
        "flow_path_condot": "CondOT",
        "flow_path_vp-cosine": "VP (cosine)",
        "flow_path_vp-ddpm": "VP (DDPM)",
        "flow_part1": "## Part 1 · Two dimensions, where everything can be seen",
        "flow_toy": "Data set",
        "flow_field_h": "### Density and learned vector field at time t",
        "flow_t": "Time t (0 = noise, 1 = data)",
        "flow_animate_h": "### Particles flowing from noise to data",
        "flow_animate_btn": "Play the flow",
        "flow_steps2d": "Steps",
        "flow_seed": "Seed",
        "flow_compare_h": "### ODE vs SDE from the same noise",
        "flow_sigma": "SDE noise σ",
        "flow_sigma_schedule": "σ_t",
        "flow_compare_btn": "Simulate both",
        "flow_paths_h": "### Conditional path for one data point z vs the marginal path",
        "flow_path": "Probability path",
        "flow_zx": "z (horizontal)",
        "flow_zy": "z (vertical)",
        "flow_langevin_h": "### Langevin dynamics on a known mixture (no network: the exact score)",
        "flow_langevin_steps": "Langevin steps",
        "flow_langevin_eps": "Step size ε",
        "flow_langevin_btn": "Run Langevin",
        "flow_part2": "## Part 2 · MNIST with classifier-free guidance",
        "flow_label": "Class y",
        "flow_w": "Guidance scale w (1 = plain conditional)",
        "flow_steps": "Steps",
        "flow_method": "Sampler",
        "flow_n": "Samples",
        "flow_sample_btn": "Sample",
        "flow_samples": "x_t (streamed from t = 0 to 1)",
        "flow_row_h": "### One row per guidance scale, the same noise in every row",
        "flow_row_btn": "Compare guidance scales",
        "flow_row": "Rows: w = 0, 1, 2, 3, 5, 7, 10",
        "flow_loss": "Training loss (CFM, running mean)",
        "flow_arg_toy": "data set", "flow_arg_sigma": "sigma", "flow_arg_path": "path", "flow_arg_zx": "z (horizontal)",
        "flow_arg_zy": "z (vertical)", "flow_arg_step_size": "step size", "flow_arg_class": "class",
        "flow_arg_w": "guidance scale w", "flow_arg_sampler": "sampler", "flow_arg_samples": "samples",
        "flow_arg_per_row": "samples per row", "flow_arg_schedule": "sigma_t",
        "flow_msg_method_euler": "euler", "flow_msg_method_midpoint": "midpoint", "flow_msg_method_heun": "heun",
        "flow_msg_method_sde": "sde", "flow_msg_schedule_vanishing": "vanishing", "flow_msg_schedule_constant": "constant",
        "flow_msg_path_condot": "condot", "flow_msg_path_vp-cosine": "vp-cosine", "flow_msg_path_vp-ddpm": "vp-ddpm",
        "flow_msg_field_title": "p_t and u_t, t = {t:.2f}",
        "flow_msg_field": "{n} particles, Euler with {frames} steps from seed 0 · mean |u_t| on the grid {speed:.2f}",
        "flow_msg_animate_title": "Euler, {steps} steps",
        "flow_msg_animate": "{n} particles from seed {seed}; grey: data",
        "flow_msg_ode_title": "ODE, {steps} steps",
        "flow_msg_sde_title": "SDE, σ = {sigma:g} ({schedule}), {steps} steps",
        "flow_msg_compare": "Sliced W2 to {n} held-out data points (lower is better): ODE {ode:.3f} · SDE {sde:.3f}. Both "
                            "start from the same {n} noise draws (seed {seed}).",
        "flow_msg_cond_title": "p_t(x | z), {path}, t = {t:.2f}",
        "flow_msg_marginal_title": "p_t(x), learned flow, t = {t:.2f}",
        "flow_msg_paths": "p_t(x | z) = N(α_t z, β_t² I) with α_t = {a:.3f}, β_t = {b:.3f}. Conditional trajectories of a "
                          "path are x_t = α_t z + β_t ε for fixed ε; the marginal trajectories (right, the CondOT model) "
                          "bend because each particle is pulled toward a posterior average of data points.",
        "flow_msg_langevin_title": "Langevin step {k}/{steps}",
        "flow_msg_langevin_start": "start: N(0, 2.5² I)",
        "flow_msg_langevin_where": "step {index}/{total}: sliced W2 to exact samples {w2:.3f}",
        "flow_msg_agreement": " · the MNIST classifier reads {k}/{n} as {label}",
        "flow_msg_done": "t = {t:.2f} · {seconds:.2f} s, {passes} network pass{es} per evaluation{agreement}",
        "flow_msg_sample_head": "class {label}, w = {w:g}, {method}, {steps} steps ({nfe} evaluations)",
        "flow_msg_row": "class {label}, {method}, {steps} steps; rows top to bottom w = {ws}. Classifier agreement per "
                        "row: {per_w}",
        "flow_msg_training": "MNIST weights: `{src}` · {epochs} epochs ({steps} steps) in {minutes:.1f} min on {hardware} · "
                             "label dropout {p_uncond} · held-out CFM loss {loss:.4f}",
    },
    zh={
        "flow_title": "流匹配",
        "flow_toy_moons": "双月",
        "flow_toy_circles": "同心圆",
        "flow_toy_checkerboard": "棋盘",
        "flow_toy_ring8": "8 个高斯组成的环",
        "flow_toy_mixture": "高斯混合",
        "flow_method_euler": "ODE · 欧拉法",
        "flow_method_midpoint": "ODE · 中点法",
        "flow_method_heun": "ODE · Heun 法",
        "flow_method_sde": "SDE · 欧拉–丸山法",
        "flow_schedule_vanishing": "σ (1 − t)",
        "flow_schedule_constant": "σ 为常数",
        "flow_path_condot": "CondOT",
        "flow_path_vp-cosine": "VP（余弦）",
        "flow_path_vp-ddpm": "VP（DDPM）",
        "flow_part1": "## 第一部分 · 二维：一切都看得见",
        "flow_toy": "数据集",
        "flow_field_h": "### 时刻 t 的密度与学到的向量场",
        "flow_t": "时间 t（0 = 噪声，1 = 数据）",
        "flow_animate_h": "### 粒子从噪声流向数据",
        "flow_animate_btn": "播放流动",
        "flow_steps2d": "步数",
        "flow_seed": "随机种子",
        "flow_compare_h": "### 同一份噪声：ODE 与 SDE 对比",
        "flow_sigma": "SDE 噪声 σ",
        "flow_sigma_schedule": "σ_t",
        "flow_compare_btn": "同时模拟两者",
        "flow_paths_h": "### 单个数据点 z 的条件路径与边缘路径",
        "flow_path": "概率路径",
        "flow_zx": "z（横坐标）",
        "flow_zy": "z（纵坐标）",
        "flow_langevin_h": "### 已知混合分布上的朗之万动力学（不用网络：精确的得分）",
        "flow_langevin_steps": "朗之万步数",
        "flow_langevin_eps": "步长 ε",
        "flow_langevin_btn": "运行朗之万采样",
        "flow_part2": "## 第二部分 · MNIST 与无分类器引导",
        "flow_label": "类别 y",
        "flow_w": "引导强度 w（1 = 普通条件生成）",
        "flow_steps": "步数",
        "flow_method": "采样器",
        "flow_n": "样本数",
        "flow_sample_btn": "采样",
        "flow_samples": "x_t（从 t = 0 到 1 逐步显示）",
        "flow_row_h": "### 每个引导强度一行，每行用同一份噪声",
        "flow_row_btn": "比较不同引导强度",
        "flow_row": "各行：w = 0, 1, 2, 3, 5, 7, 10",
        "flow_loss": "训练损失（CFM，滑动平均）",
        "flow_arg_toy": "数据集", "flow_arg_sigma": "σ", "flow_arg_path": "概率路径", "flow_arg_zx": "z（横坐标）",
        "flow_arg_zy": "z（纵坐标）", "flow_arg_step_size": "步长", "flow_arg_class": "类别",
        "flow_arg_w": "引导强度 w", "flow_arg_sampler": "采样器", "flow_arg_samples": "样本数",
        "flow_arg_per_row": "每行样本数", "flow_arg_schedule": "σ_t",
        "flow_msg_method_euler": "ODE · 欧拉法", "flow_msg_method_midpoint": "ODE · 中点法",
        "flow_msg_method_heun": "ODE · Heun 法", "flow_msg_method_sde": "SDE · 欧拉–丸山法",
        "flow_msg_schedule_vanishing": "σ (1 − t)", "flow_msg_schedule_constant": "σ 为常数",
        "flow_msg_path_condot": "CondOT", "flow_msg_path_vp-cosine": "VP（余弦）", "flow_msg_path_vp-ddpm": "VP（DDPM）",
        "flow_msg_field_title": "p_t 与 u_t，t = {t:.2f}",
        "flow_msg_field": "{n} 个粒子，从随机种子 0 出发用欧拉法走 {frames} 步 · 网格上 |u_t| 的平均值 {speed:.2f}",
        "flow_msg_animate_title": "欧拉法，{steps} 步",
        "flow_msg_animate": "{n} 个粒子，随机种子 {seed}；灰色：数据",
        "flow_msg_ode_title": "ODE，{steps} 步",
        "flow_msg_sde_title": "SDE，σ = {sigma:g}（{schedule}），{steps} 步",
        "flow_msg_compare": "与 {n} 个留出数据点的切片 W2 距离（越低越好）：ODE {ode:.3f} · SDE {sde:.3f}。两者从同样的 "
                            "{n} 个噪声样本出发（随机种子 {seed}）。",
        "flow_msg_cond_title": "p_t(x | z)，{path}，t = {t:.2f}",
        "flow_msg_marginal_title": "p_t(x)，学到的流，t = {t:.2f}",
        "flow_msg_paths": "p_t(x | z) = N(α_t z, β_t² I)，其中 α_t = {a:.3f}，β_t = {b:.3f}。对固定的 ε，一条路径的条件轨迹是 "
                          "x_t = α_t z + β_t ε；边缘轨迹（右图，CondOT 模型）是弯曲的，因为每个粒子都被拉向数据点的一个后验"
                          "平均。",
        "flow_msg_langevin_title": "朗之万第 {k}/{steps} 步",
        "flow_msg_langevin_start": "起点：N(0, 2.5² I)",
        "flow_msg_langevin_where": "第 {index}/{total} 步：与精确样本的切片 W2 距离 {w2:.3f}",
        "flow_msg_agreement": " · MNIST 分类器把其中 {k}/{n} 个认作 {label}",
        "flow_msg_done": "t = {t:.2f} · {seconds:.2f} 秒，每次求值 {passes} 次网络前向{agreement}",
        "flow_msg_sample_head": "类别 {label}，w = {w:g}，{method}，{steps} 步（{nfe} 次求值）",
        "flow_msg_row": "类别 {label}，{method}，{steps} 步；各行自上而下 w = {ws}。每行的分类器一致数：{per_w}",
        "flow_msg_training": "MNIST 权重：`{src}` · 训练 {epochs} 轮（{steps} 步），用时 {minutes:.1f} 分钟，硬件 {hardware} · "
                             "标签丢弃率 {p_uncond} · 留出集 CFM 损失 {loss:.4f}",
    },
)


def _load(name: str):
    """(model, "") or (None, message for the page)."""
    return ui.load_model(name)


def _toy(c: ui.Clamped, toy) -> str:
    return c.choice("flow_arg_toy", toy, TOYS, "moons")


def clear_cache() -> None:
    """Forget cached simulations and models (tests swap the weights folder)."""
    for f in (simulation, _classifier):
        f.cache_clear()


# ---- Part 1: 2-D ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=len(TOYS))
def simulation(toy: str) -> np.ndarray | None:
    """Euler trajectories of N_PARTICLES particles under the learned field: (FRAMES + 1, N, 2), seed 0."""
    model, _ = _load(f"flow2d_{toy}")
    if model is None:
        return None
    x = torch.randn(N_PARTICLES, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        frames = [x] + [s.x for s in integrate(model, x, FRAMES, "euler")]
    return torch.stack(frames).numpy()


@functools.lru_cache(maxsize=len(TOYS))
def held_out(toy: str) -> torch.Tensor:
    """Fresh points from the data distribution (seed 12345, never used in training)."""
    return data.toy_2d(toy, N_COMPARE, seed=12345)


def _grid(k: int = 17) -> np.ndarray:
    g = np.linspace(-ui.svg.LIM * 0.9, ui.svg.LIM * 0.9, k)
    return np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)


def field_view(toy="moons", t=0.5):
    """Density of the simulated particles at time t (histogram) under the learned field u_theta(x, t) -> (svg, status)."""
    c = ui.Clamped()
    toy, t = _toy(c, toy), c.float("t", t, 0.0, 1.0, 0.5)
    model, msg = _load(f"flow2d_{toy}")
    if model is None:
        return "", ui.message(msg, "error")
    frames = simulation(toy)
    k = int(round(t * FRAMES))
    grid = _grid()
    with torch.no_grad():
        u = model(torch.tensor(grid, dtype=torch.float32), torch.full((len(grid),), float(t))).numpy()
    svg = ui.svg.figure(ui.svg.density_image(frames[k]), ui.svg.arrows(grid, u),
                        title=ui.say("flow_msg_field_title", t=k / FRAMES))
    speed = np.linalg.norm(u, axis=1)
    return svg, ui.status(c, ui.say("flow_msg_field", n=N_PARTICLES, frames=FRAMES, speed=speed.mean()))


def animate(toy="moons", steps=50, seed=0):
    """An SVG in which N_ANIMATE particles follow their Euler trajectories from t = 0 to 1, looping."""
    c = ui.Clamped()
    toy = _toy(c, toy)
    steps = c.int("ui_arg_steps", steps, 1, MAX_STEPS_2D, 50)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    model, msg = _load(f"flow2d_{toy}")
    if model is None:
        return "", ui.message(msg, "error")
    x = torch.randn(N_ANIMATE, 2, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        traj = torch.stack([x] + [s.x for s in integrate(model, x, steps, "euler")], dim=1).numpy()  # (N, steps+1, 2)
    keep = np.linspace(0, steps, min(steps, 60) + 1).round().astype(int)  # at most 61 key frames per particle
    svg = ui.svg.figure(ui.svg.dots(held_out(toy).numpy()[:500], color="#9ca3af", r=1.2, opacity=0.5),
                        ui.svg.animated_dots(traj[:, keep]), title=ui.say("flow_msg_animate_title", steps=steps))
    return svg, ui.status(c, ui.say("flow_msg_animate", n=N_ANIMATE, seed=seed))


def _simulate(model, method: str, steps: int, sigma: float, schedule: str, seed: int, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    with torch.no_grad():
        for s in integrate(model, x, steps, method, path=PATHS["condot"], sigma=sigma, sigma_schedule=schedule, generator=g):
            x = s.x
    return x


def compare(toy="moons", steps=20, sigma=1.0, schedule="vanishing", seed=0):
    """ODE (Euler) and SDE (Euler-Maruyama) from the same initial noise -> (ode svg, sde svg, status with sliced W2)."""
    c = ui.Clamped()
    toy = _toy(c, toy)
    steps = c.int("ui_arg_steps", steps, 1, MAX_STEPS_2D, 20)
    sigma = c.float("flow_arg_sigma", sigma, 0.0, 3.0, 1.0)
    schedule = c.choice("flow_arg_schedule", schedule, SIGMA_SCHEDULES, "vanishing")
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    model, msg = _load(f"flow2d_{toy}")
    if model is None:
        return "", "", ui.message(msg, "error")
    ref = held_out(toy)
    out, scores = [], []
    for method, s in (("euler", 0.0), ("sde", sigma)):
        x = _simulate(model, method, steps, s, schedule, seed, N_COMPARE)
        scores.append(sliced_wasserstein(x, ref))
        title = (ui.say("flow_msg_ode_title", steps=steps) if method == "euler" else
                 ui.say("flow_msg_sde_title", sigma=s, schedule=ui.say(f"flow_msg_schedule_{schedule}"), steps=steps))
        out.append(ui.svg.figure(ui.svg.dots(x.numpy(), r=1.3, opacity=0.6), title=title))
    status = ui.say("flow_msg_compare", n=N_COMPARE, ode=scores[0], sde=scores[1], seed=seed)
    return out[0], out[1], ui.status(c, status)


def paths_view(toy="moons", path="condot", zx=1.0, zy=0.5, t=0.5):
    """Left: the conditional path p_t(x | z) for one point z (samples, straight or curved conditional
    trajectories). Right: the marginal path (the particles of `simulation`) and their curved trajectories."""
    c = ui.Clamped()
    toy = _toy(c, toy)
    path_name = c.choice("flow_arg_path", path, list(PATHS), "condot")
    zx, zy = c.float("flow_arg_zx", zx, -3.0, 3.0, 1.0), c.float("flow_arg_zy", zy, -3.0, 3.0, 0.5)
    t = c.float("t", t, 0.0, 1.0, 0.5)
    frames = simulation(toy)
    if frames is None:
        return "", "", ui.message(_load(f"flow2d_{toy}")[1], "error")
    p = PATHS[path_name]
    z = torch.tensor([[zx, zy]])
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(400, 2, generator=g)
    ts = torch.linspace(0, 1, 41)
    cond_traj = torch.stack([p.sample(z.expand(40, 2), ti.expand(40), eps[:40]) for ti in ts], dim=1)  # (40, 41, 2)
    cloud = p.sample(z.expand(400, 2), torch.full((400,), t), eps)
    left = ui.svg.figure(ui.svg.polylines(cond_traj.numpy()), ui.svg.dots(cloud.numpy(), color="#7c3aed", r=1.4),
                         ui.svg.dots(z.numpy(), color="#dc2626", r=4, opacity=1.0),
                         title=ui.say("flow_msg_cond_title", path=ui.say(f"flow_msg_path_{path_name}"), t=t))
    k = int(round(t * FRAMES))
    right = ui.svg.figure(ui.svg.polylines(np.transpose(frames[:, :40], (1, 0, 2))),
                          ui.svg.dots(frames[k, :800], color="#2563eb", r=1.4),
                          title=ui.say("flow_msg_marginal_title", t=k / FRAMES))
    a, b = float(p.alpha(torch.tensor(t))), max(0.0, float(p.beta(torch.tensor(t))))  # cos(pi/2) is -4e-8 in float32
    status = ui.say("flow_msg_paths", a=a, b=b)
    return left, right, ui.status(c, status)


def _langevin_picture(mix_density: str, x: torch.Tensor, k: int, steps: int) -> str:
    return ui.svg.figure(mix_density, ui.svg.dots(x.numpy(), color="#111827", r=1.3, opacity=0.6),
                         title=ui.say("flow_msg_langevin_title", k=k, steps=steps))


@functools.lru_cache(maxsize=1)
def mixture_density() -> str:
    mix = toy_mixture("mixture")
    g = np.linspace(-ui.svg.LIM, ui.svg.LIM, 96)
    xx, yy = np.meshgrid(g, g[::-1])
    pts = torch.tensor(np.stack([xx, yy], -1).reshape(-1, 2), dtype=torch.float32)
    return ui.svg.density_grid(mix.log_prob(pts).exp().numpy().reshape(96, 96))


def langevin_run(steps=300, step_size=0.01, seed=0):
    """Langevin dynamics X <- X + eps/2 grad log p(X) + sqrt(eps) N(0, I) on the 'mixture' set, from a wide
    Gaussian; streams (svg, status) about 20 times."""
    from genlib.flow import langevin

    c = ui.Clamped()
    steps = c.int("ui_arg_steps", steps, 1, MAX_LANGEVIN, 300)
    step_size = c.float("flow_arg_step_size", step_size, 1e-4, 0.5, 0.01)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    mix, density = toy_mixture("mixture"), mixture_density()
    g = torch.Generator().manual_seed(seed)
    x = 2.5 * torch.randn(600, 2, generator=g)
    yield _langevin_picture(density, x, 0, steps), ui.status(c, ui.say("flow_msg_langevin_start"))
    exact = mix.sample(600, generator=torch.Generator().manual_seed(1))

    def where(step) -> str:
        return ui.say("flow_msg_langevin_where", index=step.index, total=step.total, w2=sliced_wasserstein(step.x, exact))

    yield from ui.stream(langevin(mix.score, x, steps, step_size, generator=g),
                         lambda step: (_langevin_picture(density, step.x, step.index, steps),), f"ε = {step_size:g}", c,
                         where=where)


# ---- Part 2: MNIST with guidance ----------------------------------------------------------------------
def _field(model, y: torch.Tensor, w: float):
    return cfg_field(model, y, w, null_label=model.num_classes, bfloat16=BFLOAT16)


def _mnist_args(c: ui.Clamped, label, w, steps, method, sigma, seed):
    label = int(c.choice("flow_arg_class", _as_label(label), LABELS, 0))
    w = c.float("flow_arg_w", w, 0.0, MAX_W, 2.0)
    steps = c.int("ui_arg_steps", steps, 1, MAX_STEPS, 20)
    method = c.choice("flow_arg_sampler", method, METHODS, "euler")
    sigma = c.float("flow_arg_sigma", sigma, 0.0, 3.0, 0.5)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return label, w, steps, method, sigma, seed


def _as_label(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return value
    return int(v) if v == int(v) else value


@functools.lru_cache(maxsize=1)
def _classifier():
    return _load("cnn")[0]


def agreement(x: torch.Tensor, label: int) -> int | None:
    """How many of the images x the MNIST classifier (the DDPM tab's evaluator) reads as `label`."""
    cnn = _classifier()
    if cnn is None:
        return None
    with torch.no_grad():
        return int((cnn(x.clamp(-1, 1)).argmax(1) == label).sum())


def _agreement_text(x: torch.Tensor, label: int) -> str:
    k = agreement(x, label)
    return "" if k is None else ui.say("flow_msg_agreement", k=k, n=len(x), label=label)


# no_grad as a decorator is switched off at every yield; a `with` block around a yield would leave the server's
# worker thread without gradients (see tests/app/test_thread_state.py)
@torch.no_grad()
def mnist_sample(label=3, w=2.0, steps=20, method="euler", sigma=0.5, n=16, seed=0):
    """n samples of class `label` with guidance w; streams (grid of x_t, status)."""
    model, msg = _load("flow")
    if model is None:
        yield None, ui.message(msg, "error")
        return
    c = ui.Clamped()
    label, w, steps, method, sigma, seed = _mnist_args(c, label, w, steps, method, sigma, seed)
    n = c.int("flow_arg_samples", n, 1, MAX_N, 16)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 28, 28, generator=g)
    y = torch.full((n,), label, dtype=torch.long)
    field = _field(model, y, w)
    nrow = int(np.ceil(np.sqrt(n)))
    passes = 1 if w in (0.0, 1.0) else 2
    nfe = steps * evaluations_per_step(method)
    start = time.perf_counter()

    def where(step) -> str:
        if not step.last:
            return f"t = {step.t:.2f}"
        return ui.say("flow_msg_done", t=step.t, seconds=time.perf_counter() - start, passes=passes,
                      es="es" if passes == 2 else "", agreement=_agreement_text(step.x, label))

    steps_ = integrate(field, x, steps, method, path=PATHS["condot"], sigma=sigma, generator=g)
    yield from ui.stream(steps_, lambda step: (ui.sheet(step.x, nrow),),
                         ui.say("flow_msg_sample_head", label=label, w=w, method=ui.say(f"flow_msg_method_{method}"),
                                steps=steps, nfe=nfe), c, where=where)


def guidance_row(label=3, steps=20, method="euler", sigma=0.5, n=8, seed=0):
    """One row of n samples per w in GUIDANCE_ROW, every row from the same noise -> (image, status)."""
    model, msg = _load("flow")
    if model is None:
        return None, ui.message(msg, "error")
    c = ui.Clamped()
    label, _, steps, method, sigma, seed = _mnist_args(c, label, 1.0, steps, method, sigma, seed)
    n = c.int("flow_arg_per_row", n, 1, MAX_N, 8)
    x0 = torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    y = torch.full((n,), label, dtype=torch.long)
    rows, agree = [], []
    with torch.no_grad():
        for w in GUIDANCE_ROW:
            g = torch.Generator().manual_seed(seed + 1)  # the same SDE noise in every row as well
            x = x0
            for s in integrate(_field(model, y, w), x0, steps, method, path=PATHS["condot"], sigma=sigma, generator=g):
                x = s.x
            rows.append(x.clamp(-1, 1))
            k = agreement(x, label)
            agree.append("?" if k is None else f"{k}/{n}")
    sheet = ui.sheet(torch.cat(rows), nrow=n)
    per_w = ", ".join(f"w={w:g}: {a}" for w, a in zip(GUIDANCE_ROW, agree))
    return sheet, ui.status(c, ui.say("flow_msg_row", label=label, method=ui.say(f"flow_msg_method_{method}"),
                                      steps=steps, ws=", ".join(f"{w:g}" for w in GUIDANCE_ROW), per_w=per_w))


# ---- training record ----------------------------------------------------------------------------------
def describe_training(m: dict, src: str) -> str:
    return ui.say("flow_msg_training", src=src, epochs=m["epochs"], steps=m["steps"], minutes=m["wall_time_s"] / 60,
                  hardware=ui.hardware(m["hardware"]), p_uncond=m.get("p_uncond"), loss=m["final"]["test_cfm_loss_ema"])


# ---- layout -------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; returns the note component."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("flow_part1"))
        toy = gr.Radio(ui.choices("flow_toy", TOYS), value="moons", label=ui.t("flow_toy"), elem_id="flow-toy")

        gr.Markdown(ui.t("flow_field_h"))
        t_slider = gr.Slider(0.0, 1.0, value=0.5, step=1 / FRAMES, label=ui.t("flow_t"), elem_id="flow-t")
        field_html = gr.HTML(elem_id="flow-field")  # drawn on page load (see the events below)
        field_status = gr.Markdown()

        gr.Markdown(ui.t("flow_animate_h"))
        with gr.Row():
            steps2d = gr.Slider(1, MAX_STEPS_2D, value=50, step=1, label=ui.t("flow_steps2d"))
            seed2d = ui.seed_box("flow_seed")
            play_btn = gr.Button(ui.t("flow_animate_btn"), variant="primary", elem_id="flow-play")
        anim_html = gr.HTML(elem_id="flow-anim")
        anim_status = gr.Markdown()

        gr.Markdown(ui.t("flow_compare_h"))
        with gr.Row():
            cmp_steps = gr.Slider(1, MAX_STEPS_2D, value=20, step=1, label=ui.t("flow_steps2d"))
            sigma2d = gr.Slider(0.0, 3.0, value=1.0, step=0.1, label=ui.t("flow_sigma"))
            schedule = gr.Radio(ui.choices("flow_schedule", SIGMA_SCHEDULES), value="vanishing",
                                label=ui.t("flow_sigma_schedule"))
        cmp_btn = gr.Button(ui.t("flow_compare_btn"), elem_id="flow-compare")
        with gr.Row():
            ode_html, sde_html = gr.HTML(elem_id="flow-ode"), gr.HTML(elem_id="flow-sde")
        cmp_status = gr.Markdown()

        gr.Markdown(ui.t("flow_paths_h"))
        with gr.Row():
            path = gr.Radio(ui.choices("flow_path", PATHS),
                            value="condot", label=ui.t("flow_path"))
            zx = gr.Slider(-3.0, 3.0, value=1.0, step=0.1, label=ui.t("flow_zx"))
            zy = gr.Slider(-3.0, 3.0, value=0.5, step=0.1, label=ui.t("flow_zy"))
        p_t = gr.Slider(0.0, 1.0, value=0.5, step=1 / FRAMES, label=ui.t("flow_t"))
        with gr.Row():
            cond_html, marg_html = gr.HTML(elem_id="flow-cond"), gr.HTML(elem_id="flow-marg")
        paths_status = gr.Markdown()

        gr.Markdown(ui.t("flow_langevin_h"))
        with gr.Row():
            lv_steps = gr.Slider(1, MAX_LANGEVIN, value=300, step=1, label=ui.t("flow_langevin_steps"))
            lv_eps = gr.Slider(0.001, 0.2, value=0.01, step=0.001, label=ui.t("flow_langevin_eps"))
            lv_btn = gr.Button(ui.t("flow_langevin_btn"))
        lv_html = gr.HTML(elem_id="flow-langevin")
        lv_status = gr.Markdown()

        gr.Markdown(ui.t("flow_part2"))
        with gr.Row():
            label = gr.Dropdown(LABELS, value=3, label=ui.t("flow_label"))
            w = gr.Slider(0.0, MAX_W, value=2.0, step=0.1, label=ui.t("flow_w"), elem_id="flow-w")
            steps = gr.Slider(1, MAX_STEPS, value=20, step=1, label=ui.t("flow_steps"))
        with gr.Row():
            method = gr.Radio(ui.choices("flow_method", METHODS), value="euler", label=ui.t("flow_method"))
            sigma = gr.Slider(0.0, 3.0, value=0.5, step=0.1, label=ui.t("flow_sigma"))
        n, seed, sample_btn = ui.sample_controls(TAB_ID, MAX_N)
        grid = ui.pixels("flow_samples", 300, elem_id="flow-grid")
        sample_status = gr.Markdown()
        gr.Markdown(ui.t("flow_row_h"))
        row_btn = gr.Button(ui.t("flow_row_btn"), elem_id="flow-row-btn")
        row_img = ui.pixels("flow_row", 420)
        row_status = gr.Markdown()

        ui.share_link(TAB_ID, {"toy": toy, "t": t_slider, "label": label, "w": w, "steps": steps, "method": method,
                               "sigma": sigma, "n": n, "seed": seed}, primary=sample_btn)
        ui.training_panel("flow", describe_training, "flow_loss")

    # triggers=None: on page load and whenever an input changes. Drawing on load rather than in build() keeps the
    # particle simulation (~0.5 s, cached per data set) out of the app's start-up.
    gr.on(None, field_view, [toy, t_slider], [field_html, field_status], api_name="flow2d_field", show_progress="hidden",
          trigger_mode="always_last")
    gr.on(None, paths_view, [toy, path, zx, zy, p_t], [cond_html, marg_html, paths_status], api_name="flow2d_paths",
          show_progress="hidden", trigger_mode="always_last")
    play_btn.click(animate, [toy, steps2d, seed2d], [anim_html, anim_status], api_name="flow2d_animate", **ui.QUICK_MODEL)
    cmp_btn.click(compare, [toy, cmp_steps, sigma2d, schedule, seed2d], [ode_html, sde_html, cmp_status],
                  api_name="flow2d_compare", **ui.QUICK_MODEL)
    lv_btn.click(langevin_run, [lv_steps, lv_eps, seed2d], [lv_html, lv_status], api_name="flow2d_langevin", **ui.QUICK_MODEL)
    sample_btn.click(mnist_sample, [label, w, steps, method, sigma, n, seed], [grid, sample_status], api_name="flow_sample",
                     **ui.SAMPLER)
    row_btn.click(guidance_row, [label, steps, method, sigma, n, seed], [row_img, row_status], api_name="flow_guidance",
                  **ui.SAMPLER)
    return note
