"""The linear-models tab, everything trained live (no weights). Section 1: least squares three ways (closed form,
full-batch GD, mini-batch SGD), the GD path on the loss contours in parameter space and the 2 / lambda_max step
threshold, looped vs vectorised gradient timed live. Section 2: the perceptron update by update with Novikoff's
bound. Section 3: logistic regression by GD and by Newton's method with an L2 penalty. Section 4: Fisher's LDA
direction against logistic regression's.

Every callback is a plain function of its inputs (tested without a server); the math is genlib.linear, this module
only checks the input and draws.
"""
from __future__ import annotations

import functools
import html
import math
import time

import gradio as gr
import numpy as np

from demos import ui
from genlib import linear

TAB_ID = "linear"
TITLE = "linear_title"
MODELS = ()  # everything trains in the page

MAX_N = 200  # points in a data set
MAX_STEPS = 300  # GD / SGD steps
MAX_LR = 1e12  # larger learning rates are clamped (1e9 is accepted, and diverges)
MAX_UPDATES_SHOWN = 400  # perceptron step slider
SIZE = 320  # side of the square plots (SVG units)
CLASS_COLORS = ("#dc2626", "#2563eb")  # class 0 / -1, class 1 / +1

ui.add_strings(
    en={
        "linear_title": "Linear models",
        "linear_reg_h": "## 1 · Least squares three ways: closed form, gradient descent, mini-batch SGD",
        "linear_dim": "Features d",
        "linear_n": "Points N",
        "linear_noise": "Noise σ",
        "linear_outliers": "Outliers",
        "linear_seed": "Seed",
        "linear_lr": "Learning rate η",
        "linear_steps": "Steps",
        "linear_batch": "SGD batch size",
        "linear_perc_h": "## 2 · The perceptron, one update at a time",
        "linear_gap": "Distance between the classes",
        "linear_update": "Show update k",
        "linear_logit_h": "## 3 · Logistic regression: gradient descent vs Newton's method",
        "linear_lam": "L2 penalty λ",
        "linear_logit_lr": "GD learning rate",
        "linear_lda_h": "## 4 · Fisher's linear discriminant vs logistic regression",
        "linear_angle": "Direction of the classes (degrees)",
        "linear_arg_features": "features", "linear_arg_points": "points", "linear_arg_noise": "noise",
        "linear_arg_outliers": "outliers", "linear_arg_lr": "learning rate", "linear_arg_batch": "batch size",
        "linear_arg_distance": "distance", "linear_arg_update": "update", "linear_arg_gd_lr": "GD learning rate",
        "linear_arg_direction": "direction",
        "linear_msg_contour_1d": "loss L over (w, b): GD blue, SGD red",
        "linear_msg_contour_2d": "loss L over (w₁, w₂) at b = b*: GD blue, SGD red",
        "linear_msg_normal": "normal equations (XᵀX)ŵ = Xᵀy", "linear_msg_qr": "QR: Rŵ = Qᵀy",
        "linear_msg_lstsq": "numpy lstsq (SVD)",
        "linear_msg_closed_note": "Closed form: {reason}.",
        "linear_msg_closed": "closed form",
        "linear_msg_hessian": "Hessian H = X̂ᵀX̂/N: eigenvalues {eig}; condition number {cond:.3g}; largest stable step "
                              "2/λ_max = <b>{thr:.4g}</b>",
        "linear_msg_lr_not_positive": "Learning rate η = {lr:g}: gradient descent needs η > 0 (η = 0 never moves, η < 0 "
                                      "climbs the loss). The stable range for these data is 0 < η < 2/λ_max = {thr:.4g}.",
        "linear_msg_sgd_curve": "SGD, B = {b}", "linear_msg_curves_title": "log₁₀ L per step",
        "linear_msg_diverged": "GD diverged: η = {lr:g} is {ratio:.3g} × 2/λ_max; the loss passed 10¹² at step {step} "
                               "(each step multiplies the error along the top eigenvector by |1 − ηλ_max| = {factor:.3g}).",
        "linear_msg_regime_slow": "slow, monotone convergence", "linear_msg_regime_monotone": "monotone convergence",
        "linear_msg_regime_oscillating": "converging while oscillating across the valley, 1 − ηλ_max < 0",
        "linear_msg_regime_none": "at or above the threshold: no convergence",
        "linear_msg_sgd_diverged": " (diverged)",
        "linear_msg_converging": "η = {lr:g} = {ratio:.3g} × 2/λ_max ({regime}). After {steps} steps GD's loss is "
                                 "{gd:.5g}, SGD's {sgd:.5g}{diverged}; the closed form gives {best:.5g}.",
        "linear_msg_timing": " One gradient on N = {n}: looped {loop:.0f} µs, vectorised {vec:.0f} µs ({speedup:.0f}× "
                             "faster; median of 5, measured now).",
        "linear_msg_one_point": "With one point every line through it fits exactly: lstsq shows the minimum-norm one.",
        "linear_msg_perc_title": "after update {k} of {U}: {wrong} point{s} on the wrong side",
        "linear_msg_novikoff": "Novikoff: R = max‖x̂ᵢ‖ = {R:.3g}, margin γ = {gamma:.3g}, so at most (R/γ)² = {bound:.4g} "
                               "updates; observed {U}{tick}.",
        "linear_msg_overlap": "No separating line was found (the classes overlap): Novikoff's bound does not apply, and "
                              "on data that cannot be separated the updates never stop.",
        "linear_msg_converged": "converged after {epochs} pass{es}",
        "linear_msg_not_converged": "not converged after {epochs} passes",
        "linear_msg_update": "Update {k} of {U} ({done}). ",
        "linear_msg_update_cause": " Update {k} was caused by point {i} (circled): w ← w + yᵢ x̂ᵢ.",
        "linear_msg_gd_lr": "GD learning rate {lr:g}: it must be > 0.",
        "linear_msg_error": "{reason}.",
        "linear_msg_surface_title": "P(y = 1 | x) (blue = 1) and the boundary P = ½",
        "linear_msg_iter_title": "log₁₀ (l − l_min) per iteration",
        "linear_msg_hessian_title": "Hessian X̂ᵀ diag(pᵢ(1−pᵢ)) X̂ / N + λ diag(1,1,0)",
        "linear_msg_newton": "Iterations to l − l_min ≤ 10⁻⁶: Newton {newton}, GD (η = {lr:g}) {gd}. Final ŵ = ({w}), "
                             "‖w‖ = {norm:.3g}.",
        "linear_msg_stop_ok": "ok", "linear_msg_stop_all": "ran all 400 iterations",
        "linear_msg_stop_singular": "singular Hessian", "linear_msg_stop_overflow": "overflow",
        "linear_msg_stop_converged": "converged",
        "linear_msg_newton_stopped": " Newton stopped: {newton}; GD: {gd}. On separable data without a penalty the "
                                     "log-loss has no minimiser: it keeps falling as ‖w‖ grows (GD's ‖w‖ = {norm:.3g} "
                                     "and rising). Raise λ.",
        "linear_msg_separable": " The data are separable and λ = 0: there is no finite minimiser, ‖w‖ keeps growing "
                                "(GD: {norm:.3g} after {iters} iterations). Raise λ to get a finite answer.",
        "linear_msg_lda_title": "directions: LDA (black), logistic (purple, dashed), μ₁ − μ₀ (grey, dotted)",
        "linear_msg_class": "class {k}",
        "linear_msg_hist_title": "histograms of the projection wᵀx on the LDA direction",
        "linear_msg_lda": "Rayleigh quotient J = wᵀS_b w / wᵀS_w w: LDA {lda:.4g} (the maximum), logistic "
                          "{logistic:.4g}, mean difference {mean:.4g}. Angle between LDA and logistic: {angle:.1f}°.",
        "linear_msg_singular": "X_hat^T X_hat is singular (rank {rank} < {p}): {why}; the least-squares solution is not "
                               "unique (lstsq picks the one of minimum norm)",
        "linear_msg_few_points": "fewer points than parameters", "linear_msg_collinear": "the features are collinear",
        "linear_msg_one_class": "all {n} points are in one class: there is no boundary to find",
        "linear_msg_sw_singular": "the within-class scatter S_w is singular (collinear features or too few points per "
                                  "class), so S_w^-1 does not exist",
    },
    zh={
        "linear_title": "线性模型",
        "linear_reg_h": "## 1 · 最小二乘的三种解法：闭式解、梯度下降、小批量随机梯度下降",
        "linear_dim": "特征数 d",
        "linear_n": "样本数 N",
        "linear_noise": "噪声 σ",
        "linear_outliers": "离群点个数",
        "linear_seed": "随机种子",
        "linear_lr": "学习率 η",
        "linear_steps": "步数",
        "linear_batch": "小批量大小",
        "linear_perc_h": "## 2 · 感知机：一次一个更新",
        "linear_gap": "两类之间的距离",
        "linear_update": "显示第 k 次更新",
        "linear_logit_h": "## 3 · 对数几率回归：梯度下降与牛顿法",
        "linear_lam": "L2 惩罚 λ",
        "linear_logit_lr": "梯度下降的学习率",
        "linear_lda_h": "## 4 · 费舍尔线性判别与对数几率回归",
        "linear_angle": "两类的方向（度）",
        "linear_arg_features": "特征数", "linear_arg_points": "样本数", "linear_arg_noise": "噪声",
        "linear_arg_outliers": "离群点个数", "linear_arg_lr": "学习率", "linear_arg_batch": "小批量大小",
        "linear_arg_distance": "距离", "linear_arg_update": "更新次数", "linear_arg_gd_lr": "梯度下降的学习率",
        "linear_arg_direction": "方向",
        "linear_msg_contour_1d": "损失 L 随 (w, b) 的变化：GD 蓝色，SGD 红色",
        "linear_msg_contour_2d": "b = b* 时损失 L 随 (w₁, w₂) 的变化：GD 蓝色，SGD 红色",
        "linear_msg_normal": "正规方程 (XᵀX)ŵ = Xᵀy", "linear_msg_qr": "QR 分解：Rŵ = Qᵀy",
        "linear_msg_lstsq": "`numpy lstsq`（SVD）",
        "linear_msg_closed_note": "闭式解：{reason}。",
        "linear_msg_closed": "闭式解",
        "linear_msg_hessian": "黑塞矩阵 H = X̂ᵀX̂/N：特征值 {eig}；条件数 {cond:.3g}；最大稳定步长 2/λ_max = <b>{thr:.4g}</b>",
        "linear_msg_lr_not_positive": "学习率 η = {lr:g}：梯度下降需要 η > 0（η = 0 原地不动，η < 0 会让损失上升）。"
                                      "对这些数据，稳定范围是 0 < η < 2/λ_max = {thr:.4g}。",
        "linear_msg_sgd_curve": "SGD，B = {b}", "linear_msg_curves_title": "每一步的 log₁₀ L",
        "linear_msg_diverged": "GD 发散了：η = {lr:g} 是 2/λ_max 的 {ratio:.3g} 倍；损失在第 {step} 步超过 10¹²"
                               "（每一步都把沿最大特征向量方向的误差乘以 |1 − ηλ_max| = {factor:.3g}）。",
        "linear_msg_regime_slow": "缓慢、单调地收敛", "linear_msg_regime_monotone": "单调收敛",
        "linear_msg_regime_oscillating": "在山谷两侧来回振荡着收敛，1 − ηλ_max < 0",
        "linear_msg_regime_none": "达到或超过阈值：不收敛",
        "linear_msg_sgd_diverged": "（发散）",
        "linear_msg_converging": "η = {lr:g} = 2/λ_max 的 {ratio:.3g} 倍（{regime}）。{steps} 步之后，GD 的损失为 {gd:.5g}，"
                                 "SGD 的为 {sgd:.5g}{diverged}；闭式解给出 {best:.5g}。",
        "linear_msg_timing": "在 N = {n} 上算一次梯度：循环写法 {loop:.0f} 微秒，向量化写法 {vec:.0f} 微秒（快 {speedup:.0f} 倍；"
                             "5 次的中位数，当场测量）。",
        "linear_msg_one_point": "只有一个点时，穿过它的每条直线都精确拟合：lstsq 给出范数最小的那条。",
        "linear_msg_perc_title": "第 {k} 次更新后（共 {U} 次）：{wrong} 个点在错误的一侧",
        "linear_msg_novikoff": "Novikoff：R = max‖x̂ᵢ‖ = {R:.3g}，间隔 γ = {gamma:.3g}，所以最多 (R/γ)² = {bound:.4g} 次更新；"
                               "实际 {U} 次{tick}。",
        "linear_msg_overlap": "找不到分隔直线（两类有重叠）：Novikoff 界不适用；在不可分的数据上，更新永远不会停止。",
        "linear_msg_converged": "经过 {epochs} 轮后收敛",
        "linear_msg_not_converged": "经过 {epochs} 轮仍未收敛",
        "linear_msg_update": "第 {k} 次更新，共 {U} 次（{done}）。",
        "linear_msg_update_cause": "第 {k} 次更新由第 {i} 个点（圈出）引起：w ← w + yᵢ x̂ᵢ。",
        "linear_msg_gd_lr": "梯度下降的学习率 {lr:g}：必须 > 0。",
        "linear_msg_error": "{reason}。",
        "linear_msg_surface_title": "P(y = 1 | x)（蓝色 = 1）与决策边界 P = ½",
        "linear_msg_iter_title": "每次迭代的 log₁₀ (l − l_min)",
        "linear_msg_hessian_title": "黑塞矩阵 X̂ᵀ diag(pᵢ(1−pᵢ)) X̂ / N + λ diag(1,1,0)",
        "linear_msg_newton": "达到 l − l_min ≤ 10⁻⁶ 所需的迭代次数：牛顿法 {newton}，GD（η = {lr:g}）{gd}。最终 ŵ = ({w})，"
                             "‖w‖ = {norm:.3g}。",
        "linear_msg_stop_ok": "正常", "linear_msg_stop_all": "跑完了全部 400 次迭代",
        "linear_msg_stop_singular": "黑塞矩阵奇异", "linear_msg_stop_overflow": "数值溢出",
        "linear_msg_stop_converged": "已收敛",
        "linear_msg_newton_stopped": "牛顿法停止：{newton}；GD：{gd}。在没有惩罚项、线性可分的数据上，对数损失没有最小值点：随着 ‖w‖ "
                                     "增大它一直下降（GD 的 ‖w‖ = {norm:.3g}，还在增大）。请调大 λ。",
        "linear_msg_separable": "数据可分且 λ = 0：不存在有限的最小值点，‖w‖ 一直增大（GD：{iters} 次迭代后为 {norm:.3g}）。"
                                "调大 λ 才能得到有限的解。",
        "linear_msg_lda_title": "方向：LDA（黑色）、对数几率回归（紫色虚线）、μ₁ − μ₀（灰色点线）",
        "linear_msg_class": "第 {k} 类",
        "linear_msg_hist_title": "在 LDA 方向上的投影 wᵀx 的直方图",
        "linear_msg_lda": "瑞利商 J = wᵀS_b w / wᵀS_w w：LDA {lda:.4g}（最大值），对数几率回归 {logistic:.4g}，均值之差 "
                          "{mean:.4g}。LDA 与对数几率回归方向的夹角：{angle:.1f}°。",
        "linear_msg_singular": "X̂ᵀX̂ 是奇异的（秩 {rank} < {p}）：{why}；最小二乘解不唯一（lstsq 取范数最小的那个）",
        "linear_msg_few_points": "点数少于参数个数", "linear_msg_collinear": "特征共线",
        "linear_msg_one_class": "全部 {n} 个点都属于同一类：没有边界可找",
        "linear_msg_sw_singular": "类内散度矩阵 S_w 是奇异的（特征共线，或每类的点太少），所以 S_w⁻¹ 不存在",
    },
)


# ---- drawing helpers --------------------------------------------------------------------------------------
def _box(lo: np.ndarray, hi: np.ndarray):
    """World box [lo, hi] (2,) -> a function (N, 2) -> SVG (N, 2) in the SIZE square, y up."""
    span = np.maximum(hi - lo, 1e-9)
    return lambda p: np.stack([(p[:, 0] - lo[0]) / span[0] * SIZE, (hi[1] - p[:, 1]) / span[1] * SIZE], axis=1)


def _plot(body: str, title: str, xlabel: str, ylabel: str) -> str:
    t = html.escape(title)
    return (f'<svg viewBox="-30 -20 {SIZE + 40} {SIZE + 50}" width="100%" style="max-width:{SIZE + 40}px;background:#fff" '
            f'role="img" aria-label="{t}"><text x="-26" y="-6" font-size="12">{t}</text>'
            f'<svg x="0" y="0" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">{body}</svg>'
            f'<rect x="0" y="0" width="{SIZE}" height="{SIZE}" fill="none" stroke="#9ca3af"/>'
            f'<text x="{SIZE / 2}" y="{SIZE + 16}" font-size="11" text-anchor="middle">{html.escape(xlabel)}</text>'
            f'<text x="-8" y="{SIZE / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 -8 {SIZE / 2})">'
            f'{html.escape(ylabel)}</text></svg>')


def _path(px: np.ndarray, color: str, width: float = 1.6, dots: bool = True) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in np.clip(px, -1e4, 1e4))
    out = f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}"/>'
    if dots and len(px) <= 120:
        out += "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="{color}"/>' for x, y in np.clip(px, -1e4, 1e4))
    return out


def _line(to_px, w: np.ndarray, b: float, color: str, dash: str = "") -> str:
    """The line w . x + b = 0 in a world box, drawn long (the inner <svg> clips it)."""
    if np.linalg.norm(w) < 1e-12:
        return ""
    n = w / np.linalg.norm(w)
    p0 = -b * w / (w @ w)
    ends = to_px(np.array([p0 - 1e3 * np.array([-n[1], n[0]]), p0 + 1e3 * np.array([-n[1], n[0]])]))
    return (f'<line x1="{ends[0, 0]:.1f}" y1="{ends[0, 1]:.1f}" x2="{ends[1, 0]:.1f}" y2="{ends[1, 1]:.1f}" '
            f'stroke="{color}" stroke-width="2" {f"stroke-dasharray={dash!r}" if dash else ""}/>')


def _points(to_px, X: np.ndarray, y: np.ndarray, highlight: int | None = None) -> str:
    out = []
    for (x, yy), label in zip(to_px(X), y):
        out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3.2" fill="{CLASS_COLORS[int(label > 0)]}" fill-opacity="0.8"/>')
    if highlight is not None:
        x, yy = to_px(X[highlight : highlight + 1])[0]
        out.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="7" fill="none" stroke="#111827" stroke-width="2"/>')
    return "".join(out)


def _image(values: np.ndarray) -> str:
    """A (H, W) array, row 0 at the top, as a shaded <image> filling the square (ui.svg's density colours)."""
    return ui.svg.density_grid(values).replace(f'width="{ui.svg.SIZE}" height="{ui.svg.SIZE}"',
                                               f'width="{SIZE}" height="{SIZE}"')


def _plane_box(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = X.min(0), X.max(0)
    c, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1.0) * 1.15
    return c - half, c + half


_REASONS = [  # genlib.linear's LinearModelError texts the page can meet -> the UI string that says the same
    (r"X_hat\^T X_hat is singular \(rank (?P<rank>\d+) < (?P<p>\d+)\): (?P<why>fewer points than parameters|the features "
     r"are collinear); the least-squares solution is not unique \(lstsq picks the one of minimum norm\)", "linear_msg_singular"),
    (r"all (?P<n>\d+) points are in one class: there is no boundary to find", "linear_msg_one_class"),
    (r"the within-class scatter S_w is singular \(collinear features or too few points per class\), so S_w\^-1 does not "
     r"exist", "linear_msg_sw_singular"),
]


def _reason(err: Exception) -> str:
    """A genlib.linear error in the request's language (its own English text when it is not one of _REASONS)."""
    import re

    for pattern, key in _REASONS:
        if m := re.fullmatch(pattern, str(err)):
            fields = m.groupdict()
            if "why" in fields:
                fields["why"] = ui.say("linear_msg_few_points" if fields["why"].startswith("fewer") else "linear_msg_collinear")
            return ui.say(key, **fields)
    return str(err)


def _error(c, text: str, n_outputs: int):
    return (*([""] * (n_outputs - 1)), ui.status(c, text, "error"))


# ---- 1. regression ----------------------------------------------------------------------------------------
def _contour(X, y, w_star, paths, dim):
    """Loss bands over (w, b) for d = 1, over (w1, w2) at b = b* for d = 2, with the GD / SGD paths."""
    ix = (0, 1)  # the parameters spanning the picture: (w, b) for d = 1, (w1, w2) for d = 2
    pts = np.concatenate([p.params[:, ix] for p in paths] + [w_star[None, ix]])
    pts = pts[np.abs(pts - w_star[list(ix)]).max(1) < 50 + 10 * np.abs(w_star[list(ix)]).max()]
    lo, hi = pts.min(0), pts.max(0)
    c, half = (lo + hi) / 2, np.maximum((hi - lo) / 2 * 1.15, 0.5)
    lo, hi = c - half, c + half
    g = 90
    a, b = np.meshgrid(np.linspace(lo[0], hi[0], g), np.linspace(hi[1], lo[1], g))
    W = np.broadcast_to(w_star, (g, g, len(w_star))).copy()
    W[..., ix[0]], W[..., ix[1]] = a, b
    L = np.log10(linear.mse_grid(X, y, W) + 1e-12)
    bands = np.floor((L - L.min()) / max(float(L.max() - L.min()), 1e-9) * 14)
    to_px = _box(lo, hi)
    body = _image(14 - bands)
    colors = ui.svg.COLORS[:2]  # the loss-curve colours: GD blue, SGD red
    for p, color in zip(paths, colors):
        body += _path(to_px(p.params[:, ix]), color, 1.8 if color == colors[0] else 1.0, dots=color == colors[0])
    sx, sy = to_px(w_star[None, ix])[0]
    body += f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="5" fill="#f97316" stroke="#111827"/><text x="{sx + 7:.1f}" y="{sy - 5:.1f}" font-size="11">ŵ*</text>'
    names = ("w", "b") if dim == 1 else ("w₁", "w₂")
    title = ui.say("linear_msg_contour_1d" if dim == 1 else "linear_msg_contour_2d")
    return _plot(body, title, names[0], names[1])


def _time_gradients(X, y, w) -> tuple[float, float]:
    """Median seconds of the looped and the vectorised gradient (5 runs each), measured now."""
    out = []
    for fn in (linear.mse_gradient_looped, linear.mse_gradient):
        ts = []
        for _ in range(5):
            t0 = time.perf_counter()
            fn(w, X, y)
            ts.append(time.perf_counter() - t0)
        out.append(float(np.median(ts)))
    return out[0], out[1]


def regression(dim=1, n=40, noise=0.5, outliers=0, seed=0, lr=0.1, steps=60, batch=8):
    """-> (contour svg, loss curves svg, closed-form table html, status)."""
    c = ui.Clamped()
    dim = c.int("linear_arg_features", dim, 1, 2, 1)
    n = c.int("linear_arg_points", n, 1, MAX_N, 40)
    noise = c.float("linear_arg_noise", noise, 0.0, 5.0, 0.5)
    outliers = c.int("linear_arg_outliers", outliers, 0, 20, 0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    lr = c.float("linear_arg_lr", lr, -MAX_LR, MAX_LR, 0.1)
    steps = c.int("ui_arg_steps", steps, 1, MAX_STEPS, 60)
    batch = c.int("linear_arg_batch", batch, 1, MAX_N, 8)
    X, y = linear.regression_data(n, dim, noise, min(outliers, n), seed)
    rows, notes = [], []
    for method in ("normal", "qr", "lstsq"):
        label = ui.say(f"linear_msg_{method}")
        try:
            w = linear.least_squares(X, y, method)
            rows.append(f"<tr><td>{label}</td><td>{', '.join(f'{v:.4f}' for v in w)}</td><td>{linear.mse(w, X, y):.5f}</td></tr>")
        except linear.LinearModelError as err:
            rows.append(f"<tr><td>{label}</td><td colspan='2'>— {html.escape(_reason(err))}</td></tr>")
            if not notes:
                notes.append(ui.say("linear_msg_closed_note", reason=_reason(err)))
    w_star = linear.least_squares(X, y, "lstsq")
    L_star = linear.mse(w_star, X, y)
    thr = linear.max_stable_lr(X)
    lam = np.linalg.eigvalsh(linear.mse_hessian(X))
    hessian = ui.say("linear_msg_hessian", eig=", ".join(f"{v:.3g}" for v in lam), cond=lam.max() / max(lam.min(), 1e-300),
                     thr=thr)
    table = (f'<div class="stats" style="font-size:0.9em"><table><tr><th>{ui.say("linear_msg_closed")}</th>'
             f'<th>ŵ = (w…, b)</th><th>L(ŵ)</th></tr>{"".join(rows)}</table><p>{hessian}</p></div>')
    if lr <= 0:
        text = ui.say("linear_msg_lr_not_positive", lr=lr, thr=thr)
        return _contour(X, y, w_star, [], dim), "", table, ui.status(c, " ".join([text] + notes), "error")
    gd = linear.gradient_descent(X, y, lr, steps)
    sg = linear.sgd(X, y, lr, steps, batch, seed=seed)
    k = min(len(gd.losses), len(sg.losses))
    log = lambda v: np.log10(np.maximum(v, 1e-16))  # noqa: E731  (a perfect fit has loss 0)
    curves = ui.svg.lines_svg({"GD": log(gd.losses[:k]), ui.say("linear_msg_sgd_curve", b=min(batch, n)): log(sg.losses[:k]),
                               ui.say("linear_msg_closed"): np.full(k, log(L_star))},
                              title=ui.say("linear_msg_curves_title"))
    ratio = lr / thr
    if gd.diverged:
        text = ui.say("linear_msg_diverged", lr=lr, ratio=ratio, step=len(gd.losses), factor=abs(1 - lr * lam.max()))
        kind = "warn"
    else:
        regime = ui.say("linear_msg_regime_" + ("slow" if ratio < 0.1 else "monotone" if ratio <= 0.5
                                                else "oscillating" if ratio < 1 else "none"))
        text = ui.say("linear_msg_converging", lr=lr, ratio=ratio, regime=regime, steps=steps, gd=gd.losses[-1],
                      sgd=sg.losses[-1], diverged=ui.say("linear_msg_sgd_diverged") if sg.diverged else "", best=L_star)
        kind = "info"
    t_loop, t_vec = _time_gradients(X, y, w_star)
    text += ui.say("linear_msg_timing", n=n, loop=t_loop * 1e6, vec=t_vec * 1e6, speedup=t_loop / max(t_vec, 1e-12))
    if n == 1:
        notes.append(ui.say("linear_msg_one_point"))
    return _contour(X, y, w_star, [gd, sg], dim), curves, table, ui.status(c, " ".join([text] + notes), kind)


# ---- 2. the perceptron ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=32)
def _perceptron_run(n: int, gap: float, seed: int):
    X, y01 = linear.two_classes(n, gap, spread=0.45, seed=seed)
    y = np.where(y01 == 1, 1.0, -1.0)
    return X, y, linear.perceptron(X, y, max_epochs=50), linear.novikoff_bound(X, y)


def perceptron_view(n=40, gap=0.8, seed=0, step=400):
    """The hyperplane after update `step` (the last one when step is larger) -> (svg, status)."""
    c = ui.Clamped()
    n = c.int("linear_arg_points", n, 2, MAX_N, 40)
    gap = c.float("linear_arg_distance", gap, -1.0, 4.0, 0.8)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    step = c.int("linear_arg_update", step, 0, MAX_UPDATES_SHOWN, MAX_UPDATES_SHOWN)
    X, y, run, (R, gamma, bound) = _perceptron_run(n, gap, seed)
    U = len(run.mistakes)
    k = min(step, U)
    w = run.weights[k]
    lo, hi = _plane_box(X)
    to_px = _box(lo, hi)
    body = _line(to_px, w[:-1], w[-1], "#111827") + _points(to_px, X, y, run.mistakes[k - 1] if k else None)
    wrong = int((y * (linear.augment(X) @ w) <= 0).sum())
    svg = _plot(body, ui.say("linear_msg_perc_title", k=k, U=U, wrong=wrong, s="s" if wrong != 1 else ""), "x₁", "x₂")
    if gamma > 0:
        bound_text = ui.say("linear_msg_novikoff", R=R, gamma=gamma, bound=bound, U=U,
                            tick=" ✓" if run.converged and U <= bound else "")
    else:
        bound_text = ui.say("linear_msg_overlap")
    done = (ui.say("linear_msg_converged", epochs=run.epochs, es="es" if run.epochs != 1 else "") if run.converged
            else ui.say("linear_msg_not_converged", epochs=run.epochs))
    text = ui.say("linear_msg_update", k=k, U=U, done=done) + bound_text
    if k:
        text += ui.say("linear_msg_update_cause", k=k, i=int(run.mistakes[k - 1]))
    return svg, ui.status(c, text, "info" if gamma > 0 else "warn")


# ---- 3. logistic regression -------------------------------------------------------------------------------
def logistic_view(n=60, gap=0.8, lam=0.01, lr=1.0, seed=0):
    """GD vs Newton on the penalised log-loss -> (probability surface svg, curves svg, Hessian svg, status)."""
    c = ui.Clamped()
    n = c.int("linear_arg_points", n, 1, MAX_N, 60)
    gap = c.float("linear_arg_distance", gap, -1.0, 4.0, 0.8)
    lam = c.float("λ", lam, 0.0, 10.0, 0.01)
    lr = c.float("linear_arg_gd_lr", lr, -MAX_LR, MAX_LR, 1.0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    X, y = linear.two_classes(n, gap, seed=seed)
    if lr <= 0:
        return _error(c, ui.say("linear_msg_gd_lr", lr=lr), 4)
    try:
        newton = linear.logistic_fit(X, y, "newton", lam=lam, steps=40, tol=1e-9)
        gd = linear.logistic_fit(X, y, "gd", lam=lam, lr=lr, steps=400, tol=1e-9)
    except linear.LinearModelError as err:
        return _error(c, ui.say("linear_msg_error", reason=_reason(err)), 4)
    beta = newton.params[-1] if newton.stopped in ("", "converged") else gd.params[-1]
    lo, hi = _plane_box(X)
    g = 64
    a, b = np.meshgrid(np.linspace(lo[0], hi[0], g), np.linspace(hi[1], lo[1], g))
    P = linear.sigmoid(np.stack([a, b], -1) @ beta[:-1] + beta[-1])
    to_px = _box(lo, hi)
    body = _image(P) + _line(to_px, beta[:-1], beta[-1], "#111827") + _points(to_px, X, y)
    surface = _plot(body, ui.say("linear_msg_surface_title"), "x₁", "x₂")
    best = min(newton.losses.min(), gd.losses.min())
    k = max(len(newton.losses), len(gd.losses))
    pad = lambda v: np.concatenate([v, np.full(k - len(v), v[-1])])  # noqa: E731  a finished run stays at its end
    curves = ui.svg.lines_svg({"GD": np.log10(pad(gd.losses) - best + 1e-16),
                               "Newton": np.log10(pad(newton.losses) - best + 1e-16)},
                              title=ui.say("linear_msg_iter_title"))
    H = linear.log_loss_hessian(beta, X, lam)
    names = ["w₁", "w₂", "b"]
    hess = ui.svg.heatmap_svg(H, names, names, ui.say("linear_msg_hessian_title"), signed=True)

    def reach(run, target):
        hit = np.nonzero(run.losses - best <= target)[0]
        return f"{int(hit[0])}" if len(hit) else f"> {len(run.losses) - 1}"

    w_norm = float(np.linalg.norm(gd.params[-1][:-1]))
    text = ui.say("linear_msg_newton", newton=reach(newton, 1e-6), lr=lr, gd=reach(gd, 1e-6),
                  w=", ".join(f"{v:.3f}" for v in beta), norm=np.linalg.norm(beta[:-1]))
    kind = "info"
    separable = bool((np.where(y == 1, 1, -1) * (linear.augment(X) @ beta) > 0).all())
    if newton.stopped in ("singular Hessian", "overflow") or gd.stopped == "overflow":
        text += ui.say("linear_msg_newton_stopped", newton=ui.say(f"linear_msg_stop_{(newton.stopped or 'ok').split()[0]}"),
                       gd=ui.say(f"linear_msg_stop_{(gd.stopped or 'all').split()[0]}"), norm=w_norm)
        kind = "warn"
    elif separable and lam == 0:
        text += ui.say("linear_msg_separable", norm=w_norm, iters=len(gd.losses) - 1)
        kind = "warn"
    return surface, curves, hess, ui.status(c, text, kind)


# ---- 4. LDA -----------------------------------------------------------------------------------------------
def lda_view(n=80, gap=1.0, angle=30.0, seed=0):
    """Fisher's direction, logistic regression's and the mean difference -> (plane svg, histograms svg, status)."""
    c = ui.Clamped()
    n = c.int("linear_arg_points", n, 1, MAX_N, 80)
    gap = c.float("linear_arg_distance", gap, -1.0, 4.0, 1.0)
    angle = c.float("linear_arg_direction", angle, -180.0, 180.0, 30.0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    X, y = linear.two_classes(n, gap, seed=seed, angle=angle)
    try:
        w = linear.lda_direction(X, y)
        mu0, mu1, _, _ = linear.scatter_matrices(X, y)
    except linear.LinearModelError as err:
        return _error(c, ui.say("linear_msg_error", reason=_reason(err)), 3)
    logit = linear.logistic_fit(X, y, "newton", lam=0.01, steps=40).params[-1][:-1]
    logit = logit / max(np.linalg.norm(logit), 1e-300)
    mean_dir = (mu1 - mu0) / max(np.linalg.norm(mu1 - mu0), 1e-300)
    lo, hi = _plane_box(X)
    to_px = _box(lo, hi)
    m = (mu0 + mu1) / 2
    body = _points(to_px, X, y)
    for d, color, dash in ((w, "#111827", ""), (logit, "#9333ea", "6 3"), (mean_dir, "#6b7280", "2 3")):
        body += _line(to_px, np.array([-d[1], d[0]]), -(np.array([-d[1], d[0]]) @ m), color, dash)  # the axis along d
    plane = _plot(body, ui.say("linear_msg_lda_title"), "x₁", "x₂")
    z = X @ w
    edges = np.linspace(z.min(), z.max(), 25)
    h0, _ = np.histogram(z[y == 0], edges)
    h1, _ = np.histogram(z[y == 1], edges)
    hist = ui.svg.lines_svg({ui.say("linear_msg_class", k=0): h0, ui.say("linear_msg_class", k=1): h1},
                            x=(edges[:-1] + edges[1:]) / 2, title=ui.say("linear_msg_hist_title"))
    J = {name: linear.rayleigh_quotient(d, X, y) for name, d in (("LDA", w), ("logistic", logit), ("μ₁ − μ₀", mean_dir))}
    cos = abs(float(w @ logit))
    text = ui.say("linear_msg_lda", lda=J["LDA"], logistic=J["logistic"], mean=J["μ₁ − μ₀"],
                  angle=math.degrees(math.acos(min(cos, 1.0))))
    return plane, hist, ui.status(c, text)


# ---- layout -----------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; the first pictures are drawn on page load."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("linear_reg_h"))
        with gr.Row():
            dim = gr.Radio([1, 2], value=1, label=ui.t("linear_dim"))
            n = gr.Slider(1, MAX_N, value=40, step=1, label=ui.t("linear_n"))
            noise = gr.Slider(0.0, 3.0, value=0.5, step=0.05, label=ui.t("linear_noise"))
            outliers = gr.Slider(0, 10, value=0, step=1, label=ui.t("linear_outliers"))
        with gr.Row():
            lr = gr.Slider(0.001, 0.6, value=0.1, step=0.001, label=ui.t("linear_lr"), elem_id="linear-lr")
            steps = gr.Slider(1, MAX_STEPS, value=60, step=1, label=ui.t("linear_steps"))
            batch = gr.Slider(1, 64, value=8, step=1, label=ui.t("linear_batch"))
            seed = gr.Number(0, precision=0, label=ui.t("linear_seed"))
        with gr.Row():
            contour = gr.HTML(elem_id="linear-contour")
            curves = gr.HTML(elem_id="linear-loss")
        table = gr.HTML(elem_id="linear-closed-form")
        reg_status = ui.status_line(elem_id="linear-reg-status")
        ui.share_link(TAB_ID, {"dim": dim, "n": n, "noise": noise, "outliers": outliers, "seed": seed, "lr": lr,
                               "steps": steps, "batch": batch})

        gr.Markdown(ui.t("linear_perc_h"))
        with gr.Row():
            p_n = gr.Slider(2, MAX_N, value=40, step=1, label=ui.t("linear_n"))
            p_gap = gr.Slider(-1.0, 4.0, value=0.8, step=0.05, label=ui.t("linear_gap"))
            p_seed = gr.Number(0, precision=0, label=ui.t("linear_seed"))
        p_step = gr.Slider(0, MAX_UPDATES_SHOWN, value=MAX_UPDATES_SHOWN, step=1, label=ui.t("linear_update"),
                           elem_id="linear-perceptron-step")
        p_svg = gr.HTML(elem_id="linear-perceptron")
        p_status = ui.status_line(elem_id="linear-perceptron-status")

        gr.Markdown(ui.t("linear_logit_h"))
        with gr.Row():
            l_n = gr.Slider(1, MAX_N, value=60, step=1, label=ui.t("linear_n"))
            l_gap = gr.Slider(-1.0, 4.0, value=0.8, step=0.05, label=ui.t("linear_gap"))
            l_lam = gr.Slider(0.0, 1.0, value=0.01, step=0.005, label=ui.t("linear_lam"))
            l_lr = gr.Slider(0.05, 20.0, value=1.0, step=0.05, label=ui.t("linear_logit_lr"))
            l_seed = gr.Number(0, precision=0, label=ui.t("linear_seed"))
        with gr.Row():
            l_surface = gr.HTML(elem_id="linear-logistic")
            l_curves = gr.HTML(elem_id="linear-logistic-curves")
        l_hess = gr.HTML(elem_id="linear-hessian")
        l_status = ui.status_line(elem_id="linear-logistic-status")

        gr.Markdown(ui.t("linear_lda_h"))
        with gr.Row():
            d_n = gr.Slider(1, MAX_N, value=80, step=1, label=ui.t("linear_n"))
            d_gap = gr.Slider(-1.0, 4.0, value=1.0, step=0.05, label=ui.t("linear_gap"))
            d_angle = gr.Slider(-180, 180, value=30, step=1, label=ui.t("linear_angle"))
            d_seed = gr.Number(0, precision=0, label=ui.t("linear_seed"))
        with gr.Row():
            d_plane = gr.HTML(elem_id="linear-lda")
            d_hist = gr.HTML(elem_id="linear-lda-hist")
        d_status = ui.status_line(elem_id="linear-lda-status")

    # triggers=None: on page load and whenever an input changes (all of it is milliseconds of numpy)
    quick = dict(show_progress="hidden", trigger_mode="always_last")
    reg_in = [dim, n, noise, outliers, seed, lr, steps, batch]
    gr.on(None, regression, reg_in, [contour, curves, table, reg_status],
          api_name="linear_regression", **quick)
    p_in = [p_n, p_gap, p_seed, p_step]
    gr.on(None, perceptron_view, p_in, [p_svg, p_status], api_name="linear_perceptron", **quick)
    l_in = [l_n, l_gap, l_lam, l_lr, l_seed]
    gr.on(None, logistic_view, l_in, [l_surface, l_curves, l_hess, l_status],
          api_name="linear_logistic", **quick)
    d_in = [d_n, d_gap, d_angle, d_seed]
    gr.on(None, lda_view, d_in, [d_plane, d_hist, d_status], api_name="linear_lda", **quick)
    return note
