"""The autoencoder + VAE tab. 1: the latent map, the 2-D code of every test digit for the AE and the VAE side by
side; click a point (or move two sliders) to decode it. 2: samples decoded from z ~ N(0, I) for every model, a
beta slider over the trained beta-VAEs, and each model's test ELBO terms. 3: one digit's posterior q(z|x): mu, sigma,
decodes of z ~ q, the digit's ELBO terms and importance-weighted bound, and for the 2-D VAE its ellipse on the map.
4: interpolation between two digits in the AE's and the VAE's code space, and a latent traversal of the 32-D VAE.
5: few labels: a small classifier on frozen codes vs raw pixels (benchmarks/vae.py; this tab only reads the result).

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio. The
model math is genlib.vae; the test codes of the 2-D models are weights/<name>/test_codes.npz (benchmarks/vae.py).
"""
from __future__ import annotations

import base64
import functools
import io
import json
import math
from pathlib import Path

import gradio as gr
import numpy as np
import torch
from PIL import Image

from demos import ui
from genlib import hub, images, registry
from genlib import vae as V

TAB_ID = "vae"
TITLE = "vae_title"
PRIOR_MODELS = ("ae2", "ae32", "vae2", "vae32", "vae32_recon", "vae32_kl", "vae32_beta05", "vae32_beta4")
MODELS = PRIOR_MODELS
MAP_MODELS = ("ae2", "vae2")
# The square of code space each map shows, [-w, w]^2 (chosen from the trained codes: it holds >= 99 % of them).
WINDOW = {"ae2": 36.0, "vae2": 4.0}
BETAS = {0.0: "vae32_recon", 0.5: "vae32_beta05", 1.0: "vae32", 4.0: "vae32_beta4"}  # the trained betas at d = 32
POSTERIOR_MODELS = ("vae2", "vae32", "vae32_beta05", "vae32_beta4")
LABEL = {"ae2": "AE-2", "ae32": "AE-32", "vae2": "VAE-2", "vae32": "VAE-32", "vae32_recon": "VAE-32 recon only",
         "vae32_kl": "VAE-32 KL only", "vae32_beta05": "β-VAE-32 β = 0.5", "vae32_beta4": "β-VAE-32 β = 4"}
MAX_N = 36  # prior samples per request
MAX_POST = 16  # posterior samples per request
IW_K = 1000  # the importance-weighted bound of one digit
MAX_STEPS = 15  # interpolation points
MAX_SPAN = 4.0  # traversal range
MAX_DIMS = 10  # traversal rows
SIZE = 320  # map side in SVG units (its viewBox)
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                "#17becf"]
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "vae.json"
BENCH_COMMAND = "python benchmarks/vae.py --data-dir ../shared/data"
# The map reports where it was clicked, in its own SVG units (0..320 both ways, y down).
MAP_CLICK_JS = """
element.addEventListener('click', (e) => {
  const svg = element.querySelector('svg');
  if (!svg || !svg.contains(e.target)) return;
  const r = svg.getBoundingClientRect();
  trigger('click', {x: (e.clientX - r.left) * 320 / r.width, y: (e.clientY - r.top) * 320 / r.height});
});
"""

ui.add_strings(
    en={
        "vae_title": "Autoencoder / VAE",
        "vae_map_h": "## 1 · The latent map: AE-2 vs VAE-2",
        "vae_map_intro": "Every test digit's 2-D code, coloured by its class. Click anywhere on a map (or move the "
                         "sliders) to decode that point.",
        "vae_which": "The sliders move the point on",
        "vae_z1": "z₁", "vae_z2": "z₂",
        "vae_decoded": "Decoded at the point: E[x | z]",
        "vae_prior_h": "## 2 · Sampling from the prior z ~ N(0, I)",
        "vae_prior_model": "Model",
        "vae_beta": "β of the VAE-32 (trained: 0 = reconstruction only, 0.5, 1, 4)",
        "vae_n": "Samples", "vae_seed": "Seed", "vae_sample_btn": "Sample",
        "vae_prior_grid": "Decoded samples E[x | z], z ~ N(0, I)",
        "vae_posterior_h": "## 3 · One digit's posterior q(z | x)",
        "vae_post_model": "VAE",
        "vae_post_n": "Samples z ~ q(z | x)",
        "vae_post_grid": "The binarised digit x | decoded at μ(x) | decoded samples z ~ q(z | x)",
        "vae_interp_h": "## 4 · Interpolation and traversal",
        "vae_interp_intro": "From the digit chosen in section 3 to a second bundled test digit, along the straight line "
                            "in code space.",
        "vae_index_b": "Second digit (bundled test digit #)",
        "vae_size": "Code size",
        "vae_size_2": "2-D (AE-2 vs VAE-2)", "vae_size_32": "32-D (AE-32 vs VAE-32)",
        "vae_steps": "Points on the line",
        "vae_strip": "Top row: AE; bottom row: VAE",
        "vae_span": "Traversal range ±",
        "vae_dims": "Dimensions (the digit's largest KL first)",
        "vae_traverse_img": "VAE-32 traversal: one row per latent dimension, the others held at μ(x)",
        "vae_few_h": "## 5 · Few labels: codes as features",
        "vae_loss": "VAE-32 training loss (−ELBO, nats, running mean)",
        "vae_arg_model": "model", "vae_arg_which": "map", "vae_arg_samples": "samples", "vae_arg_beta": "β",
        "vae_arg_x": "map x (pixels)", "vae_arg_y": "map y (pixels)", "vae_arg_index": "second digit",
        "vae_arg_size": "code size", "vae_arg_steps": "points", "vae_arg_span": "range", "vae_arg_dims": "dimensions",
        "vae_msg_point": "{model} at z = ({z1:.2f}, {z2:.2f}): the decoder's mean image. {where}",
        "vae_msg_dense": "{n} test codes lie within {r:.2f} of this point: the decoder has seen digits here.",
        "vae_msg_hole": "No test code lies within {r:.2f} of this point: a hole the decoder was never trained on.",
        "vae_msg_no_codes": "No test codes for {model}: run `{command}` to write weights/{model}/test_codes.npz; the map "
                            "shows the {n} bundled test digits meanwhile.",
        "vae_msg_click_outside": "The click ({x}, {y}) was outside the map; using its nearest edge.",
        "vae_msg_no_click": "No click position came with the event: click on a map.",
        "vae_msg_beta": "β = {beta:g} → {model}.",
        "vae_msg_beta_nearest": "β = {asked:g} was not trained; nearest trained β = {beta:g} → {model}.",
        "vae_msg_prior": "{n} samples of {model}, seed {seed}. {why}",
        "vae_msg_prior_ae": "An autoencoder never asked its codes to look like N(0, I): most draws land where no digit "
                            "was encoded, and the decoder makes something in between.",
        "vae_msg_prior_vae": "The KL term pulled q(z | x) towards N(0, I), so the prior covers the codes of real digits.",
        "vae_msg_prior_kl": "KL only: every q(z | x) is N(0, I) and the decoder never got a gradient, so every sample is "
                            "the untrained decoder's grey noise.",
        "vae_msg_prior_recon": "Reconstruction only (β = 0): nothing ties the codes to N(0, I); like an AE, the prior "
                               "lands in holes.",
        "vae_col_model": "model", "vae_col_beta": "β", "vae_col_recon": "−E_q log p(x ∣ z)", "vae_col_kl": "KL",
        "vae_col_elbo": "−ELBO", "vae_col_active": "active units", "vae_col_epochs": "epochs",
        "vae_table_caption": "Test set, 10,000 images binarised once (seed 0), nats per image; lower is better. "
                             "† an AE's reconstruction at its code, −log p(x ∣ f(x)). * KL only: the reconstruction "
                             "term had weight 0.",
        "vae_msg_no_digit": "No digit yet: pick one with the slider or draw one.",
        "vae_msg_posterior": "{model}: ELBO = {elbo:.1f} nats = E_q log p(x | z) {recon:.1f} − KL {kl:.1f} (from {k} "
                             "samples z ~ q(z | x)); importance-weighted bound from the same samples ℒ_{k} = {iw:.1f} ≥ "
                             "ELBO. {dims}",
        "vae_msg_post_2d": "σ(x) = ({s1:.3f}, {s2:.3f}): the ellipses are 1σ and 2σ of q(z | x) on the map.",
        "vae_msg_post_32": "Dimensions with KL > 0.1 nat for this digit: {active} of {d}.",
        "vae_msg_interp": "{steps} points from digit A to bundled digit #{b} (label {label}), {size}-D codes. {gap}",
        "vae_msg_gap": "The AE's line crosses codes no digit has; the VAE's prior packs its codes together.",
        "vae_msg_traverse": "Rows: dimensions {dims} (KL of this digit {kls} nats); columns: the value from −{span:g} "
                            "to {span:g}.",
        "vae_msg_few": "{rows} runs read from benchmarks/results/vae.json, measured on {date}; regenerate with `{command}`.",
        "vae_msg_no_results": "No few-labels results yet: run `{command}`.",
        "vae_msg_bad_results": "The results file could not be read ({error}); run `{command}` again.",
        "vae_few_plot": "test accuracy vs log₁₀(number of labels): 1 = 10 labels, 4.78 = 60,000",
        "vae_msg_training": "Weights: `{src}` · {epochs} epochs ({steps} steps) in {minutes:.1f} min on {hardware} · "
                            "**test −ELBO {nelbo:.2f} nats** (recon {recon:.2f} + KL {kl:.2f}), {active} active units",
    },
    zh={
        "vae_title": "自编码器 / VAE",
        "vae_map_h": "## 1 · 隐空间地图：AE-2 与 VAE-2",
        "vae_map_intro": "每个测试数字的二维编码，按类别着色。点击地图上任意位置（或移动滑块），即可解码该点。",
        "vae_which": "滑块移动的点位于",
        "vae_z1": "z₁", "vae_z2": "z₂",
        "vae_decoded": "该点的解码结果：E[x | z]",
        "vae_prior_h": "## 2 · 从先验 z ~ N(0, I) 采样",
        "vae_prior_model": "模型",
        "vae_beta": "VAE-32 的 β（已训练：0 = 只有重构项，0.5，1，4）",
        "vae_n": "样本数", "vae_seed": "随机种子", "vae_sample_btn": "采样",
        "vae_prior_grid": "解码后的样本 E[x | z]，z ~ N(0, I)",
        "vae_posterior_h": "## 3 · 一个数字的后验 q(z | x)",
        "vae_post_model": "VAE",
        "vae_post_n": "样本 z ~ q(z | x) 的个数",
        "vae_post_grid": "二值化的数字 x | 在 μ(x) 处解码 | 解码的样本 z ~ q(z | x)",
        "vae_interp_h": "## 4 · 插值与遍历",
        "vae_interp_intro": "从第 3 节选定的数字，沿编码空间中的直线，走到另一个内置测试数字。",
        "vae_index_b": "第二个数字（内置测试数字序号）",
        "vae_size": "编码维数",
        "vae_size_2": "二维（AE-2 与 VAE-2）", "vae_size_32": "32 维（AE-32 与 VAE-32）",
        "vae_steps": "直线上的点数",
        "vae_strip": "上一行：AE；下一行：VAE",
        "vae_span": "遍历范围 ±",
        "vae_dims": "维度（按该数字的 KL 从大到小）",
        "vae_traverse_img": "VAE-32 的遍历：每行一个隐变量维度，其余维度固定在 μ(x)",
        "vae_few_h": "## 5 · 少量标签：把编码当作特征",
        "vae_loss": "VAE-32 训练损失（−ELBO，奈特，滑动平均）",
        "vae_arg_model": "模型", "vae_arg_which": "地图", "vae_arg_samples": "样本数", "vae_arg_beta": "β",
        "vae_arg_x": "地图横坐标（像素）", "vae_arg_y": "地图纵坐标（像素）", "vae_arg_index": "第二个数字",
        "vae_arg_size": "编码维数", "vae_arg_steps": "点数", "vae_arg_span": "范围", "vae_arg_dims": "维度数",
        "vae_msg_point": "{model} 在 z = ({z1:.2f}, {z2:.2f}) 处：解码器给出的均值图像。{where}",
        "vae_msg_dense": "有 {n} 个测试编码落在该点 {r:.2f} 以内：解码器在这里见过数字。",
        "vae_msg_hole": "该点 {r:.2f} 以内没有任何测试编码：这是一个空洞，解码器从未在此训练过。",
        "vae_msg_no_codes": "{model} 没有测试编码：请运行 `{command}` 生成 `weights/{model}/test_codes.npz`；"
                            "在此之前地图只显示 {n} 个内置测试数字。",
        "vae_msg_click_outside": "点击位置 ({x}, {y}) 在地图之外；改用最近的边缘。",
        "vae_msg_no_click": "事件没有带来点击位置：请在地图上点击。",
        "vae_msg_beta": "β = {beta:g} → {model}。",
        "vae_msg_beta_nearest": "没有训练过 β = {asked:g}；最接近的已训练 β = {beta:g} → {model}。",
        "vae_msg_prior": "{model} 的 {n} 个样本，随机种子 {seed}。{why}",
        "vae_msg_prior_ae": "自编码器从未要求编码服从 N(0, I)：多数抽样落在没有任何数字被编码的地方，解码器只能给出介于其间的东西。",
        "vae_msg_prior_vae": "KL 项把 q(z | x) 拉向 N(0, I)，所以先验覆盖了真实数字的编码。",
        "vae_msg_prior_kl": "只有 KL 项：每个 q(z | x) 都是 N(0, I)，解码器从未得到梯度，所以每个样本都只是未经训练的解码器输出的灰色噪声。",
        "vae_msg_prior_recon": "只有重构项（β = 0）：没有任何东西把编码与 N(0, I) 联系起来；和 AE 一样，先验落进空洞。",
        "vae_col_model": "模型", "vae_col_beta": "β", "vae_col_recon": "−E_q log p(x ∣ z)", "vae_col_kl": "KL",
        "vae_col_elbo": "−ELBO", "vae_col_active": "活跃单元数", "vae_col_epochs": "训练轮数",
        "vae_table_caption": "测试集：10,000 张图像，用固定随机种子 0 二值化一次；单位为每张图像的奈特数，越低越好。"
                             "† AE 在其编码处的重构代价 −log p(x ∣ f(x))。* 只有 KL 项：重构项的权重为 0。",
        "vae_msg_no_digit": "还没有数字：请用滑块选一个，或手写一个。",
        "vae_msg_posterior": "{model}：ELBO = {elbo:.1f} 奈特 = E_q log p(x | z) {recon:.1f} − KL {kl:.1f}（用 {k} 个样本 "
                             "z ~ q(z | x) 估计）；用同一批样本得到的重要性加权下界 ℒ_{k} = {iw:.1f} ≥ ELBO。{dims}",
        "vae_msg_post_2d": "σ(x) = ({s1:.3f}, {s2:.3f})：地图上的两个椭圆是 q(z | x) 的 1σ 与 2σ 范围。",
        "vae_msg_post_32": "对这个数字 KL > 0.1 奈特的维度：{active} 个（共 {d} 个）。",
        "vae_msg_interp": "从数字 A 到内置数字 #{b}（标签 {label}）共 {steps} 个点，{size} 维编码。{gap}",
        "vae_msg_gap": "AE 的直线穿过没有任何数字的编码；VAE 的先验把编码聚拢在一起。",
        "vae_msg_traverse": "各行：维度 {dims}（该数字的 KL 分别为 {kls} 奈特）；各列：取值从 −{span:g} 到 {span:g}。",
        "vae_msg_few": "从 `benchmarks/results/vae.json` 读取的 {rows} 组结果，测于 {date}；用 `{command}` 重新生成。",
        "vae_msg_no_results": "还没有少量标签的结果：请运行 `{command}`。",
        "vae_msg_bad_results": "无法读取结果文件（{error}）；请重新运行 `{command}`。",
        "vae_few_plot": "测试准确率与 log₁₀(标签数)：1 = 10 个标签，4.78 = 60,000 个",
        "vae_msg_training": "权重：`{src}` · 训练 {epochs} 轮（{steps} 步），用时 {minutes:.1f} 分钟，硬件 {hardware} · "
                            "**测试集 −ELBO {nelbo:.2f} 奈特**（重构 {recon:.2f} + KL {kl:.2f}），活跃单元 {active} 个",
    },
)


# ---- shared helpers -----------------------------------------------------------------------------------------
def _uint8(x01: torch.Tensor) -> np.ndarray:
    """(..., 1, 28, 28) in [0, 1] -> uint8 (..., 28, 28)."""
    return (x01[..., 0, :, :].clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def _sheet(x01: torch.Tensor, nrow: int | None = None) -> np.ndarray:
    return ui.sheet(x01 * 2 - 1, nrow)


def _binary_digit(digit, seed: int) -> torch.Tensor | None:
    """uint8 (28, 28) -> one seeded binarisation (1, 1, 28, 28) of its intensities, or None when it is not 28x28."""
    a = np.asarray(digit) if digit is not None else None
    if a is None or a.shape != (28, 28):
        return None
    x01 = torch.as_tensor(a.astype(np.float32) / 255.0)[None, None]
    return V.binarize(x01, torch.Generator().manual_seed(seed))


def _metrics(name: str) -> dict:
    """metrics.json of a model ({} when its weights are missing)."""
    try:
        return hub.load_metrics(name)
    except hub.ModelUnavailable:
        return {}


# ---- 1. the latent map ------------------------------------------------------------------------------------------
def z_to_pixel(z, window: float) -> np.ndarray:
    """Code space -> map pixels: [-w, w]^2 onto the SIZE x SIZE square, x to the right, y up (SVG y points down)."""
    z = np.asarray(z, dtype=np.float64)
    return np.stack([(z[..., 0] + window) / (2 * window) * SIZE, (window - z[..., 1]) / (2 * window) * SIZE], -1)


def pixel_to_z(px: float, py: float, window: float) -> tuple[float, float]:
    """Map pixels -> code: the inverse of z_to_pixel."""
    return -window + 2 * window * px / SIZE, window - 2 * window * py / SIZE


@functools.lru_cache(maxsize=4)
def test_codes(name: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """(codes (N, 2), labels (N,), from_test_set) of a 2-D model: weights/<name>/test_codes.npz (benchmarks/vae.py),
    else the bundled test digits encoded now (from_test_set False)."""
    try:
        path = hub.folder(name) / "test_codes.npz"
    except hub.ModelUnavailable:
        path = None
    if path is not None and path.exists():
        with np.load(path) as f:
            return f["codes"].astype(np.float32), f["labels"].astype(np.int64), True
    model, _ = ui.load_model(name)
    digits, labels = ui.sample_digits()
    if model is None:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.int64), False
    with torch.no_grad():
        x = V.binarize(torch.as_tensor(digits, dtype=torch.float32)[:, None] / 255, torch.Generator().manual_seed(0))
        return V.code(model, x).numpy(), labels.astype(np.int64), False


@functools.lru_cache(maxsize=4)
def _scatter_layer(name: str) -> str:
    """The test codes as one PNG <image> (10,000 circles would be ~600 kB of SVG on every redraw)."""
    codes, labels, _ = test_codes(name)
    scale = 2  # raster pixels per SVG unit
    canvas = np.full((SIZE * scale, SIZE * scale, 3), 255, np.uint8)
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in CLASS_COLORS], np.uint8)
    p = np.round(z_to_pixel(codes, WINDOW[name]) * scale).astype(int)
    order = np.random.default_rng(0).permutation(len(p))  # no class is always drawn on top
    r = 2 if len(p) > 1000 else 4
    for i in order:
        x, y = p[i]
        if 0 <= x < SIZE * scale and 0 <= y < SIZE * scale:
            canvas[max(0, y - r + 1): y + r, max(0, x - r + 1): x + r] = rgb[labels[i]]
    buf = io.BytesIO()
    Image.fromarray(canvas).save(buf, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return f'<image href="{uri}" x="0" y="0" width="{SIZE}" height="{SIZE}"/>'


def _axes(window: float) -> str:
    o = SIZE / 2
    ticks = "".join(
        f'<text x="{z_to_pixel([v, 0], window)[0]:.1f}" y="{o + 12:.1f}" font-size="9" fill="#6b7280" '
        f'text-anchor="middle">{v:g}</text>' for v in (-window / 2, window / 2))
    ticks += "".join(
        f'<text x="{o + 4:.1f}" y="{z_to_pixel([0, v], window)[1] + 3:.1f}" font-size="9" fill="#6b7280">{v:g}</text>'
        for v in (-window / 2, window / 2))
    legend = "".join(f'<rect x="{8 + 16 * k}" y="{SIZE - 16}" width="14" height="12" fill="{c}"/>'
                     f'<text x="{15 + 16 * k}" y="{SIZE - 7}" font-size="9" fill="#fff" text-anchor="middle">{k}</text>'
                     for k, c in enumerate(CLASS_COLORS))
    return (f'<line x1="0" y1="{o}" x2="{SIZE}" y2="{o}" stroke="#9ca3af" stroke-width="0.6"/>'
            f'<line x1="{o}" y1="0" x2="{o}" y2="{SIZE}" stroke="#9ca3af" stroke-width="0.6"/>{ticks}{legend}')


def _marker(z, window: float) -> str:
    x, y = z_to_pixel(z, window)
    return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" stroke="#111827" stroke-width="2"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="#111827"/>')


def _ellipses(mu, sigma, window: float, samples=None) -> str:
    (x, y), k = z_to_pixel(mu, window), SIZE / (2 * window)
    out = "".join(f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{m * sigma[0] * k:.1f}" ry="{m * sigma[1] * k:.1f}" '
                  f'fill="#111827" fill-opacity="{0.18 / m:.2f}" stroke="#111827" stroke-width="1.4"/>' for m in (2, 1))
    if samples is not None:
        out += "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.2" fill="#f97316" stroke="#fff" stroke-width="0.5"/>'
                       for a, b in z_to_pixel(samples, window))
    return out


def latent_map(name: str, z=None, extra: str = "") -> str:
    """The map of a 2-D model: its test codes by class, axes, and a marker at z (or `extra` layers) on top."""
    title = f"{LABEL[name]}: {'μ(x)' if name.startswith('vae') else 'f(x)'} of the test digits"
    layers = [_scatter_layer(name), _axes(WINDOW[name]), extra]
    if z is not None:
        layers.append(_marker(z, WINDOW[name]))
    return ui.svg.figure(*layers, title=title)


def decode_point(which="vae2", z1=0.0, z2=0.0):
    """Decode the point z = (z1, z2) of a 2-D model -> (AE-2 map, VAE-2 map, decoded image, status)."""
    c = ui.Clamped()
    which = c.choice("vae_arg_which", which, list(MAP_MODELS), "vae2")
    w = WINDOW[which]
    z = np.array([c.float("vae_z1", z1, -w, w, 0.0), c.float("vae_z2", z2, -w, w, 0.0)])
    model, problem = ui.load_model(which)
    if model is None:
        return latent_map("ae2"), latent_map("vae2"), None, ui.status(c, problem, "error")
    with torch.no_grad():
        img = _uint8(model.mean_image(torch.as_tensor(z, dtype=torch.float32)[None]))[0]
    codes, _, full = test_codes(which)
    r = w / 20
    near = int((np.linalg.norm(codes - z, axis=1) < r).sum())
    where = ui.say("vae_msg_dense", n=near, r=r) if near else ui.say("vae_msg_hole", r=r)
    if not full:
        where += " " + ui.say("vae_msg_no_codes", model=which, command=BENCH_COMMAND + " --codes", n=len(codes))
    maps = {m: latent_map(m, z if m == which else None) for m in MAP_MODELS}
    text = ui.say("vae_msg_point", model=LABEL[which], z1=z[0], z2=z[1], where=where)
    return maps["ae2"], maps["vae2"], images.upscale(img), ui.status(c, text)


def map_click(which: str, x, y):
    """A click at SVG pixel (x, y) of the `which` map -> (which, z1, z2, status) for the sliders (which then decode)."""
    c = ui.Clamped()
    which = c.choice("vae_arg_which", which, list(MAP_MODELS), "vae2")
    px = c.float("vae_arg_x", x, 0, SIZE, SIZE / 2)
    py = c.float("vae_arg_y", y, 0, SIZE, SIZE / 2)
    z1, z2 = pixel_to_z(px, py, WINDOW[which])
    return which, round(z1, 3), round(z2, 3), ui.status(c, "")


def _click_handler(which: str):
    def on_click(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        if "x" not in data or "y" not in data:
            return gr.skip(), gr.skip(), gr.skip(), ui.message(ui.say("vae_msg_no_click"), "warn")
        return map_click(which, data["x"], data["y"])
    return on_click


# ---- 2. sampling from the prior ---------------------------------------------------------------------------------
def beta_model(beta=1.0):
    """The β slider -> (the trained VAE-32 with the nearest β, status)."""
    c = ui.Clamped()
    asked = c.float("vae_arg_beta", beta, 0.0, 4.0, 1.0)
    nearest = min(BETAS, key=lambda b: (abs(b - asked), b))
    key = "vae_msg_beta" if nearest == asked else "vae_msg_beta_nearest"
    return BETAS[nearest], ui.status(c, ui.say(key, asked=asked, beta=nearest, model=LABEL[BETAS[nearest]]))


def terms_table(current: str = "") -> str:
    """Every model's test figures from its metrics.json, as a markdown table (the current model in bold)."""
    cols = ["model", "beta", "recon", "kl", "elbo", "active", "epochs"]
    cell = lambda v: str(v).replace("|", "∣")  # noqa: E731  a bar inside a cell would end it
    head = "| " + " | ".join(cell(ui.say(f"vae_col_{k}")) for k in cols) + " |\n|" + "---|" * len(cols) + "\n"
    rows = []
    for name in PRIOR_MODELS:
        record = _metrics(name)
        m, epochs = record.get("final", {}), str(record.get("epochs", "–"))
        if name.startswith("ae"):
            cells = [LABEL[name], "–", f"{m['recon_nats']:.2f} †" if m else "–", "–", "–", "–", epochs]
        else:
            beta = f"{registry.get(name).defaults.get('beta', 1.0):g}" + (" *" if name == "vae32_kl" else "")
            cells = [LABEL[name], beta] + [f"{m[k]:.2f}" if k in m else "–" for k in ("elbo_recon_nats", "kl_nats", "neg_elbo")] \
                + [str(m.get("active_units", "–")), epochs]
        if name == current:
            cells = [f"**{v}**" for v in cells]
        rows.append("| " + " | ".join(cell(v) for v in cells) + " |")
    return head + "\n".join(rows) + "\n\n" + ui.say("vae_table_caption")


def prior_samples(name="vae32", n=16, seed=0):
    """n codes z ~ N(0, I) through the decoder of `name` -> (grid, table of every model's test ELBO terms, status)."""
    c = ui.Clamped()
    name = c.choice("vae_arg_model", name, list(PRIOR_MODELS), "vae32")
    n = c.int("vae_arg_samples", n, 1, MAX_N, 16)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    model, problem = ui.load_model(name)
    if model is None:
        return None, terms_table(name), ui.status(c, problem, "error")
    x = V.prior_sample(model, n, seed)
    why = {"vae32_kl": "vae_msg_prior_kl", "vae32_recon": "vae_msg_prior_recon"}.get(
        name, "vae_msg_prior_ae" if name.startswith("ae") else "vae_msg_prior_vae")
    text = ui.say("vae_msg_prior", n=n, model=LABEL[name], seed=seed, why=ui.say(why))
    return _sheet(x, int(math.ceil(math.sqrt(n)))), terms_table(name), ui.status(c, text)


# ---- 3. one digit's posterior -------------------------------------------------------------------------------------
def _mu_sigma_svg(mu: torch.Tensor, sigma: torch.Tensor) -> str:
    d = len(mu)
    values = np.stack([mu.numpy(), sigma.numpy()])
    cols = [str(j + 1) for j in range(d)]
    return ui.svg.heatmap_svg(values, ["μ(x)", "σ(x)"], cols, f"q(z | x) = N(μ, diag σ²), d = {d}", signed=True,
                              numbers=d <= 4, cell=(42, 24) if d <= 4 else (16, 22))


def posterior(digit, name="vae2", n=8, seed=0):
    """One digit's posterior -> (sheet: x | decode at mu | n decodes of z ~ q, mu/sigma svg, map svg, status)."""
    c = ui.Clamped()
    name = c.choice("vae_arg_model", name, list(POSTERIOR_MODELS), "vae2")
    n = c.int("vae_arg_samples", n, 1, MAX_POST, 8)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    x = _binary_digit(digit, seed)
    if x is None:
        return None, "", "", ui.status(c, ui.say("vae_msg_no_digit"), "warn")
    model, problem = ui.load_model(name)
    if model is None:
        return None, "", "", ui.status(c, problem, "error")
    b = V.digit_bounds(model, x, IW_K, torch.Generator().manual_seed(seed))
    z = b["z"][:n]  # the first n of the IW_K samples are shown
    with torch.no_grad():
        shown = torch.cat([x, model.mean_image(b["mu"][None]), model.mean_image(z)])
    sheet = _sheet(shown, min(len(shown), 10))
    mu_sigma = _mu_sigma_svg(b["mu"], b["sigma"])
    if model.latent_dim == 2:
        w = WINDOW["vae2"]
        mapped = latent_map("vae2", extra=_ellipses(b["mu"].numpy(), b["sigma"].numpy(), w, z.numpy()))
        dims = ui.say("vae_msg_post_2d", s1=float(b["sigma"][0]), s2=float(b["sigma"][1]))
    else:
        mapped = ""
        with torch.no_grad():
            per_dim = V.kl_per_dim(b["mu"], 2 * torch.log(b["sigma"]))
        dims = ui.say("vae_msg_post_32", active=int((per_dim > 0.1).sum()), d=model.latent_dim)
    text = ui.say("vae_msg_posterior", model=LABEL[name], elbo=b["elbo"], recon=b["recon"], kl=b["kl"], k=IW_K,
                  iw=b["iw"], dims=dims)
    return sheet, mu_sigma, mapped, ui.status(c, text)


# ---- 4. interpolation and traversal --------------------------------------------------------------------------------
def interpolate(digit, index_b=1, size="32", steps=9):
    """From the chosen digit to bundled digit `index_b` along a straight line in code space, for the AE and the VAE
    of the chosen size -> (sheet: AE row over VAE row, status)."""
    c = ui.Clamped()
    digits, labels = ui.sample_digits()
    b = c.int("vae_arg_index", index_b, 0, len(digits) - 1, 1)
    size = c.choice("vae_arg_size", str(size), ["2", "32"], "32")
    steps = c.int("vae_arg_steps", steps, 2, MAX_STEPS, 9)
    xa, xb = _binary_digit(digit, 0), _binary_digit(digits[b], 0)
    if xa is None:
        return None, ui.status(c, ui.say("vae_msg_no_digit"), "warn")
    rows = []
    for name in (f"ae{size}", f"vae{size}"):
        model, problem = ui.load_model(name)
        if model is None:
            return None, ui.status(c, problem, "error")
        with torch.no_grad():
            za, zb = V.code(model, torch.cat([xa, xb]))
            rows.append(model.mean_image(V.lerp(za, zb, steps)))
    text = ui.say("vae_msg_interp", steps=steps, b=b, label=int(labels[b]), size=size, gap=ui.say("vae_msg_gap"))
    return _sheet(torch.cat(rows), steps), ui.status(c, text)


def traverse(digit, span=3.0, dims=8, steps=9):
    """VAE-32 latent traversal around mu(x) of the chosen digit: the `dims` coordinates with the largest KL for this
    digit, each swept over [-span, span] -> (grid, status)."""
    c = ui.Clamped()
    span = c.float("vae_arg_span", span, 0.5, MAX_SPAN, 3.0)
    dims = c.int("vae_arg_dims", dims, 1, MAX_DIMS, 8)
    x = _binary_digit(digit, 0)
    if x is None:
        return None, ui.status(c, ui.say("vae_msg_no_digit"), "warn")
    model, problem = ui.load_model("vae32")
    if model is None:
        return None, ui.status(c, problem, "error")
    with torch.no_grad():
        mu, logvar = model.encode(x)
        kl = V.kl_per_dim(mu[0], logvar[0])
        order = torch.argsort(kl, descending=True)[:dims].tolist()
        grid = V.traversal(mu[0], order, torch.linspace(-span, span, steps))
        img = model.mean_image(grid.flatten(0, 1))
    text = ui.say("vae_msg_traverse", dims=", ".join(str(j + 1) for j in order),
                  kls=", ".join(f"{kl[j]:.1f}" for j in order), span=span)
    return _sheet(img, steps), ui.status(c, text)


# ---- 5. few labels ------------------------------------------------------------------------------------------------
def read_results(path: Path | None = None) -> tuple[dict | None, str]:
    """(results, "") from benchmarks/results/vae.json (or `path`), or (None, a message)."""
    path = RESULTS if path is None else path
    if not path.exists():
        return None, ui.say("vae_msg_no_results", command=BENCH_COMMAND)
    try:
        r = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(r.get("few_labels", {}).get("rows"), list):
            raise ValueError("no few_labels rows")
        return r, ""
    except (OSError, ValueError) as err:
        return None, ui.say("vae_msg_bad_results", error=type(err).__name__, command=BENCH_COMMAND)


def few_labels():
    """The few-labels table of benchmarks/results/vae.json -> (plot svg, markdown table, status)."""
    r, problem = read_results()
    if r is None:
        return "", "", ui.message(problem, "warn")
    rows = r["few_labels"]["rows"]
    counts = sorted({row["labels"] for row in rows})
    features = list(dict.fromkeys(row["features"] for row in rows))
    acc = {(row["features"], row["labels"]): row["accuracy"] for row in rows}
    series = {f: np.array([acc.get((f, k), np.nan) for k in counts]) for f in features}
    plot = ui.svg.lines_svg(series, x=np.log10(counts), title=ui.say("vae_few_plot"), width=460, height=230)
    head = "| | " + " | ".join(f"{k:,}" for k in counts) + " |\n|---|" + "---|" * len(counts) + "\n"
    body = "\n".join(f"| {f} | " + " | ".join(f"{acc[(f, k)]:.3f}" if (f, k) in acc else "–" for k in counts) + " |"
                     for f in features)
    text = ui.say("vae_msg_few", rows=len(rows), date=r.get("date", "?"), command=BENCH_COMMAND)
    return plot, head + body, ui.message(text)


# ---- training record ----------------------------------------------------------------------------------------------
def describe_training(m: dict, src: str) -> str:
    f = m["final"]
    return ui.say("vae_msg_training", src=src, epochs=m["epochs"], steps=m["steps"], minutes=m["wall_time_s"] / 60,
                  hardware=ui.hardware(m["hardware"]), nelbo=f["neg_elbo"], recon=f["elbo_recon_nats"], kl=f["kl_nats"],
                  active=f["active_units"])


# ---- layout -------------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; every figure is drawn on page load, never while the page is built."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("vae_map_h"))
        gr.Markdown(ui.t("vae_map_intro"))
        with gr.Row():
            ae_map = gr.HTML(elem_id="vae-map-ae2", js_on_load=MAP_CLICK_JS)
            vae_map = gr.HTML(elem_id="vae-map-vae2", js_on_load=MAP_CLICK_JS)
        with gr.Row():
            with gr.Column(scale=2):
                which = gr.Radio([(LABEL[m], m) for m in MAP_MODELS], value="vae2", label=ui.t("vae_which"))
                z1 = gr.Slider(-WINDOW["ae2"], WINDOW["ae2"], value=0.0, step=0.01, label=ui.t("vae_z1"), elem_id="vae-z1")
                z2 = gr.Slider(-WINDOW["ae2"], WINDOW["ae2"], value=0.0, step=0.01, label=ui.t("vae_z2"), elem_id="vae-z2")
            decoded = ui.pixels("vae_decoded", 200, elem_id="vae-decoded")
        map_status = ui.status_line(elem_id="vae-map-status")

        gr.Markdown(ui.t("vae_prior_h"))
        with gr.Row():
            prior_model = gr.Radio([(LABEL[m], m) for m in PRIOR_MODELS], value="vae32", label=ui.t("vae_prior_model"))
            beta = gr.Slider(0.0, 4.0, value=1.0, step=0.5, label=ui.t("vae_beta"), elem_id="vae-beta")
        n, seed, sample_btn = ui.sample_controls(TAB_ID, MAX_N)
        prior_grid = ui.pixels("vae_prior_grid", 300, elem_id="vae-prior-grid")
        prior_status = ui.status_line(elem_id="vae-prior-status")
        table = gr.Markdown(elem_classes=["stats"], elem_id="vae-terms")

        gr.Markdown(ui.t("vae_posterior_h"))
        picker = ui.digit_picker()
        with gr.Row():
            post_model = gr.Radio([(LABEL[m], m) for m in POSTERIOR_MODELS], value="vae2", label=ui.t("vae_post_model"))
            post_n = gr.Slider(1, MAX_POST, value=8, step=1, label=ui.t("vae_post_n"))
            post_seed = ui.seed_box("vae_seed")
        post_grid = ui.pixels("vae_post_grid", 150, elem_id="vae-post-grid")
        with gr.Row():
            post_map = gr.HTML(elem_id="vae-post-map")
            mu_sigma = gr.HTML(elem_id="vae-mu-sigma")
        post_status = ui.status_line(elem_id="vae-post-status")

        gr.Markdown(ui.t("vae_interp_h"))
        gr.Markdown(ui.t("vae_interp_intro"))
        with gr.Row():
            index_b = gr.Slider(0, len(ui.sample_digits()[0]) - 1, value=1, step=1, label=ui.t("vae_index_b"))
            size = gr.Radio(ui.choices("vae_size", ["2", "32"]), value="32", label=ui.t("vae_size"))
            steps = gr.Slider(2, MAX_STEPS, value=9, step=1, label=ui.t("vae_steps"))
        strip = ui.pixels("vae_strip", 130, elem_id="vae-strip")
        interp_status = ui.status_line(elem_id="vae-interp-status")
        with gr.Row():
            span = gr.Slider(0.5, MAX_SPAN, value=3.0, step=0.5, label=ui.t("vae_span"))
            dims = gr.Slider(1, MAX_DIMS, value=8, step=1, label=ui.t("vae_dims"))
        trav = ui.pixels("vae_traverse_img", 300, elem_id="vae-traverse")
        trav_status = ui.status_line(elem_id="vae-traverse-status")

        gr.Markdown(ui.t("vae_few_h"))
        with gr.Row():
            few_plot = gr.HTML(elem_id="vae-few-plot")
            few_table = gr.Markdown(elem_classes=["stats"], elem_id="vae-few-table")
        few_status = ui.status_line(elem_id="vae-few-status")
        ui.share_link(TAB_ID, {"model": prior_model, "n": n, "seed": seed, "z1": z1, "z2": z2, "which": which},
                      primary=sample_btn)
        ui.training_panel("vae32", describe_training, "vae_loss")

    # 1. the map: a click sets the sliders; any change of the sliders (or the map choice) decodes
    for name, html_map in (("ae2", ae_map), ("vae2", vae_map)):
        html_map.click(_click_handler(name), None, [which, z1, z2, map_status], api_visibility="private",
                       show_progress="hidden")
    gr.on(None, decode_point, [which, z1, z2], [ae_map, vae_map, decoded, map_status], api_name="vae_decode_point",
          show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    # 2. the prior
    beta.release(beta_model, beta, [prior_model, prior_status], api_name="vae_beta", show_progress="hidden")
    gr.on(None, prior_samples, [prior_model, n, seed], [prior_grid, table, prior_status], api_name="vae_prior",
          show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    sample_btn.click(prior_samples, [prior_model, n, seed], [prior_grid, table, prior_status], api_visibility="private",
                     show_progress="hidden", **ui.QUICK_MODEL)
    # 3-4. one digit: its posterior, a line to a second digit, a traversal
    picker.wire("vae_pick", "vae_draw")
    gr.on(None, posterior, [picker.digit, post_model, post_n, post_seed], [post_grid, mu_sigma, post_map, post_status],
          api_name="vae_posterior", show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    gr.on(None, interpolate, [picker.digit, index_b, size, steps], [strip, interp_status], api_name="vae_interpolate",
          show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    gr.on(None, traverse, [picker.digit, span, dims], [trav, trav_status], api_name="vae_traverse",
          show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    # 5. few labels
    gr.on(None, few_labels, None, [few_plot, few_table, few_status], api_name="vae_few_labels", show_progress="hidden")
    return note
