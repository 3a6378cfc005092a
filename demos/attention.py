"""The attention-basics tab. Section 1: one query over five keys in the plane, each key holding a colour as its
value; the scores, softmax weights and the blended colour as the query and a temperature move, and a random
experiment on why the scores are divided by sqrt(d_k). Section 2: the matrix form softmax(Q K^T / sqrt(d_k)) V
on small editable tables, with a causal mask and a padding mask.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The attention itself is genlib.transformer.attention (and its causal mask genlib.transformer.subsequent_mask);
this module only checks the input, builds masks and draws.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib.transformer import attention, subsequent_mask

TAB_ID = "attention"
TITLE = "attention_title"
MODELS = ()  # no trained model: everything is computed from the inputs

# ---- Section 1: five keys in the plane, each with a colour (RGB in [0, 1]) as its value --------------------
KEYS = np.array([[2.0, 0.5], [0.6, 2.2], [-1.8, 1.2], [-1.2, -2.0], [1.6, -1.4]])
VALUES = np.array([[0.86, 0.11, 0.24], [0.96, 0.62, 0.04], [0.09, 0.64, 0.29], [0.15, 0.39, 0.92], [0.58, 0.25, 0.86]])
KEY_NAMES = ["red", "amber", "green", "blue", "violet"]
MAX_LENGTH = 3.0  # longest query
TAU_MIN, TAU_MAX = 0.05, 5.0  # temperature range
MAX_DK = 1024  # the random sqrt(d_k) experiment
N_RANDOM_KEYS = 8
N_DRAWS = 2000  # dot products drawn to measure their spread

# ---- Section 2: the matrix form -------------------------------------------------------------------------
MAX_ROWS = MAX_COLS = 16  # largest table the demo takes
MAX_ABS = 1000.0  # largest entry
PAD_SIDES = ["end", "start"]
EXAMPLES = {
    "cross": dict(
        q=[[2, 0, 0], [0, 2, 0], [0, 0, 2], [1, 1, 1]],
        k=[[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1]],
        v=[[1, 0], [0, 1], [-1, 0], [0, -1], [0.5, 0.5]],
        causal=False, pad=0, side="end"),
    "self_causal": dict(
        q=[[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]],
        k=[[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]],
        v=[[1, 0], [0, 1], [-1, 0], [0, -1], [0.5, 0.5]],
        causal=True, pad=0, side="end"),
    "left_pad_causal": dict(
        q=[[0, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]],
        k=[[0, 0, 0], [0, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1]],
        v=[[0, 0], [0, 0], [-1, 0], [0, -1], [0.5, 0.5]],
        causal=True, pad=2, side="start"),
}

ui.add_strings(
    en={
        "attention_title": "Attention basics",
        "attention_side_end": "last k keys (right padding)",
        "attention_side_start": "first k keys (left padding)",
        "attention_example_cross": "cross-attention: 4 queries, 5 keys",
        "attention_example_self_causal": "self-attention, causal: 5 tokens",
        "attention_example_left_pad_causal": "causal + left padding: 2 pad tokens first",
        "attention_single_h": "## 1 · One query, five keys",
        "attention_single_intro": "Each key is a point in the plane; its value is a colour. The query scores every key by "
                                  "a dot product, the softmax turns the scores into weights, and the output is the "
                                  "weighted average of the colours.",
        "attention_angle": "Query direction (degrees)",
        "attention_length": "Query length |q|",
        "attention_tau": "Temperature τ (scores are q·k / (τ √d_k))",
        "attention_dk_h": "### Why divide by √d_k: random queries and keys with d_k components",
        "attention_dk": "d_k",
        "attention_seed": "Seed",
        "attention_matrix_h": "## 2 · The matrix form: softmax(QKᵀ / √d_k) V",
        "attention_matrix_intro": "Edit the tables: one row per query, key or value. Q and K need the same number of "
                                  "columns (d_k); K and V the same number of rows.",
        "attention_example": "Example",
        "attention_q": "Q (queries × d_k)",
        "attention_k": "K (keys × d_k)",
        "attention_v": "V (keys × d_v)",
        "attention_causal": "Causal mask (query i sees keys 1…i; needs as many queries as keys)",
        "attention_pad": "Padding: mask k keys",
        "attention_pad_side": "Which keys are padding",
        "attention_arg_direction": "direction", "attention_arg_length": "length", "attention_arg_tau": "temperature τ",
        "attention_arg_causal": "causal mask", "attention_arg_padding": "padding", "attention_arg_side": "padding side",
        "attention_arg_example": "example",
        "attention_msg_colour_red": "red", "attention_msg_colour_amber": "amber", "attention_msg_colour_green": "green",
        "attention_msg_colour_blue": "blue", "attention_msg_colour_violet": "violet",
        "attention_msg_bars": "softmax weights wᵢ", "attention_msg_key": "key",
        "attention_msg_output_row": "output Σ wᵢ vᵢ (RGB)", "attention_msg_output_box": "output Σ wᵢvᵢ",
        "attention_msg_zero_query": "A query of length 0 scores every key 0, so the weights are uniform (1/5 each) and "
                                    "the output is the plain average of the values.",
        "attention_msg_single": "Largest weight: k{top} ({colour}) with {w:.3f}. Entropy of the weights {entropy:.2f} nats "
                                "(uniform: ln 5 = {ln5:.2f}; one-hot: 0). Scores are q·kᵢ / (τ √d_k) with d_k = {d_k}: a "
                                "smaller τ or a longer query sharpens the weights toward the best key, a larger τ "
                                "flattens them toward the plain average.",
        "attention_msg_dk": "d_k = {d_k}: over {draws} random pairs the dot product q·k has standard deviation "
                            "{spread:.2f} (theory √d_k = {theory:.2f}); divided by √d_k it is about 1 whatever d_k is. "
                            "Largest weight without scaling {raw:.3f}, with scaling {scaled:.3f}.",
        "attention_msg_cell_not_number": "is {value}, not a number",
        "attention_msg_cell_not_finite": "is {value}, not a finite number",
        "attention_msg_cell_too_big": "is {value:g}; entries must lie in [-{max:g}, {max:g}]",
        "attention_msg_cell_empty": "is empty",
        "attention_msg_table_empty": "{name} is empty: enter at least one row of numbers",
        "attention_msg_not_table": "{name} is not a table (a list of rows)",
        "attention_msg_far_too_large": "{name} is far too large; this demo takes at most {rows} × {cols}",
        "attention_msg_ragged": "{name}: row {i} has {n} cell{s} but row 1 has {width}",
        "attention_msg_too_large": "{name} is {n} × {m}; this demo takes at most {rows} × {cols}",
        "attention_msg_cell": "row {i}, column {j} {why}",
        "attention_msg_cell_more": " (and {n} more cell{s})",
        "attention_msg_bad_cell": "{name}: {first}{more}",
        "attention_msg_qk": "Q has {d_k} column{s} but K has {d_k2}: a query and a key need the same length d_k for "
                            "their dot product",
        "attention_msg_kv": "K has {t_k} row{s} but V has {t_v}: every key needs exactly one value",
        "attention_msg_errors": "{errors}.", "attention_msg_sep": "; ",
        "attention_msg_causal_square": "The causal mask needs as many queries as keys (here {t_q} and {t_k}), so it is "
                                       "not applied.",
        "attention_msg_pad_all": "padding: {pad} is more than the {t_k} keys; masking all {t_k}",
        "attention_msg_sum_undefined": "Σ undefined",
        "attention_msg_scores_title": "scores QKᵀ/√{d_k} ({mask})",
        "attention_msg_where_masked": "−∞ where masked", "attention_msg_no_mask": "no mask",
        "attention_msg_weights_title": "weights: softmax of each row",
        "attention_msg_output_title": "output = weights · V",
        "attention_msg_shapes": "{t_q} quer{y}, {t_k} key{s}, d_k = {d_k}, d_v = {d_v}: scores divided by √{d_k} = "
                                "{root:.3g}.",
        "attention_msg_rows_sum": " Every defined row of weights sums to 1.",
        "attention_msg_masked_one": " {n} masked cell has weight exactly 0.",
        "attention_msg_masked_many": " {n} masked cells have weight exactly 0.",
        "attention_msg_undefined_one": "Every key is masked for {names}: the softmax over an empty set is undefined (0/0), "
                                       "so this row has no weights and no output (a plain softmax gives NaN here). In a "
                                       "real model such rows belong to padding positions whose output is thrown away; "
                                       "otherwise the mask must leave every query at least one key.",
        "attention_msg_undefined_many": "Every key is masked for {names}: the softmax over an empty set is undefined "
                                        "(0/0), so these rows have no weights and no output (a plain softmax gives NaN "
                                        "here). In a real model such rows belong to padding positions whose output is "
                                        "thrown away; otherwise the mask must leave every query at least one key.",
        "attention_msg_example": "Example: {label}.",
    },
    zh={
        "attention_title": "注意力基础",
        "attention_side_end": "最后 k 个键（右侧填充）",
        "attention_side_start": "最前 k 个键（左侧填充）",
        "attention_example_cross": "交叉注意力：4 个查询，5 个键",
        "attention_example_self_causal": "因果自注意力：5 个词元",
        "attention_example_left_pad_causal": "因果 + 左侧填充：前 2 个是填充词元",
        "attention_single_h": "## 1 · 一个查询，五个键",
        "attention_single_intro": "每个键是平面上的一个点，它的值是一种颜色。查询用点积给每个键打分，softmax 把得分变成权重，"
                                  "输出就是这些颜色的加权平均。",
        "attention_angle": "查询方向（度）",
        "attention_length": "查询长度 |q|",
        "attention_tau": "温度 τ（得分为 q·k / (τ √d_k)）",
        "attention_dk_h": "### 为什么除以 √d_k：d_k 维的随机查询与键",
        "attention_dk": "d_k",
        "attention_seed": "随机种子",
        "attention_matrix_h": "## 2 · 矩阵形式：softmax(QKᵀ / √d_k) V",
        "attention_matrix_intro": "直接编辑表格：每行是一个查询、键或值。Q 与 K 的列数（d_k）必须相同；K 与 V 的行数必须相同。",
        "attention_example": "示例",
        "attention_q": "Q（查询数 × d_k）",
        "attention_k": "K（键数 × d_k）",
        "attention_v": "V（键数 × d_v）",
        "attention_causal": "因果掩码（查询 i 只看键 1…i；要求查询数等于键数）",
        "attention_pad": "填充：遮住 k 个键",
        "attention_pad_side": "哪些键是填充",
        "attention_arg_direction": "方向", "attention_arg_length": "长度", "attention_arg_tau": "温度 τ",
        "attention_arg_causal": "因果掩码", "attention_arg_padding": "填充", "attention_arg_side": "填充位置",
        "attention_arg_example": "示例",
        "attention_msg_colour_red": "红", "attention_msg_colour_amber": "琥珀", "attention_msg_colour_green": "绿",
        "attention_msg_colour_blue": "蓝", "attention_msg_colour_violet": "紫",
        "attention_msg_bars": "softmax 权重 wᵢ", "attention_msg_key": "键",
        "attention_msg_output_row": "输出 Σ wᵢ vᵢ（RGB）", "attention_msg_output_box": "输出 Σ wᵢvᵢ",
        "attention_msg_zero_query": "长度为 0 的查询给每个键的得分都是 0，所以权重是均匀的（各 1/5），输出就是各个值的简单平均。",
        "attention_msg_single": "最大权重：k{top}（{colour}），为 {w:.3f}。权重的熵为 {entropy:.2f} 奈特（均匀分布：ln 5 = "
                                "{ln5:.2f}；独热：0）。得分为 q·kᵢ / (τ √d_k)，d_k = {d_k}：τ 越小或查询越长，权重越集中到"
                                "最匹配的键；τ 越大，权重越趋向简单平均。",
        "attention_msg_dk": "d_k = {d_k}：在 {draws} 对随机向量上，点积 q·k 的标准差为 {spread:.2f}（理论值 √d_k = "
                            "{theory:.2f}）；除以 √d_k 后，无论 d_k 多大都约为 1。不缩放时的最大权重 {raw:.3f}，缩放后 "
                            "{scaled:.3f}。",
        "attention_msg_cell_not_number": "是 {value}，不是数字",
        "attention_msg_cell_not_finite": "是 {value}，不是有限的数",
        "attention_msg_cell_too_big": "是 {value:g}；元素必须在 [-{max:g}, {max:g}] 之内",
        "attention_msg_cell_empty": "是空的",
        "attention_msg_table_empty": "{name} 是空的：请至少输入一行数字",
        "attention_msg_not_table": "{name} 不是表格（由行组成的列表）",
        "attention_msg_far_too_large": "{name} 太大了；这个演示最多接受 {rows} × {cols}",
        "attention_msg_ragged": "{name}：第 {i} 行有 {n} 个单元格，而第 1 行有 {width} 个",
        "attention_msg_too_large": "{name} 是 {n} × {m}；这个演示最多接受 {rows} × {cols}",
        "attention_msg_cell": "第 {i} 行第 {j} 列{why}",
        "attention_msg_cell_more": "（另有 {n} 个单元格）",
        "attention_msg_bad_cell": "{name}：{first}{more}",
        "attention_msg_qk": "Q 有 {d_k} 列，而 K 有 {d_k2} 列：查询和键做点积需要相同的长度 d_k",
        "attention_msg_kv": "K 有 {t_k} 行，而 V 有 {t_v} 行：每个键恰好需要一个值",
        "attention_msg_errors": "{errors}。", "attention_msg_sep": "；",
        "attention_msg_causal_square": "因果掩码要求查询数等于键数（这里是 {t_q} 和 {t_k}），所以没有应用。",
        "attention_msg_pad_all": "填充：{pad} 超过了 {t_k} 个键；遮住全部 {t_k} 个",
        "attention_msg_sum_undefined": "Σ 无定义",
        "attention_msg_scores_title": "得分 QKᵀ/√{d_k}（{mask}）",
        "attention_msg_where_masked": "被遮处为 −∞", "attention_msg_no_mask": "无掩码",
        "attention_msg_weights_title": "权重：每行的 softmax",
        "attention_msg_output_title": "输出 = 权重 · V",
        "attention_msg_shapes": "{t_q} 个查询，{t_k} 个键，d_k = {d_k}，d_v = {d_v}：得分除以 √{d_k} = {root:.3g}。",
        "attention_msg_rows_sum": "每一行有定义的权重之和都是 1。",
        "attention_msg_masked_one": "{n} 个被遮住的单元格权重恰好为 0。",
        "attention_msg_masked_many": "{n} 个被遮住的单元格权重恰好为 0。",
        "attention_msg_undefined_one": "{names} 的所有键都被遮住：空集上的 softmax 无定义（0/0），所以这一行没有权重，也没有"
                                       "输出（普通的 softmax 在这里给出 NaN）。在真实模型中，这样的行属于输出会被丢弃的填充"
                                       "位置；否则掩码必须给每个查询至少留一个键。",
        "attention_msg_undefined_many": "{names} 的所有键都被遮住：空集上的 softmax 无定义（0/0），所以这些行没有权重，也没"
                                        "有输出（普通的 softmax 在这里给出 NaN）。在真实模型中，这样的行属于输出会被丢弃的"
                                        "填充位置；否则掩码必须给每个查询至少留一个键。",
        "attention_msg_example": "示例：{label}。",
    },
)


def _colour(i: int) -> str:
    """The name of key i's colour (KEY_NAMES) in the request's language."""
    return ui.say(f"attention_msg_colour_{KEY_NAMES[i]}")


def _rgb(v: np.ndarray) -> str:
    r, g, b = (int(round(255 * min(max(float(x), 0.0), 1.0))) for x in v)
    return f"rgb({r},{g},{b})"


# ---- Section 1: one query ---------------------------------------------------------------------------------
def single_query_attention(q: np.ndarray, tau: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Attention of one query q (2,) over KEYS and VALUES at temperature tau -> (output colour (3,), weights (5,)).

    genlib's attention divides the scores by sqrt(d_k); dividing the query by tau as well gives the scores
    q . k_i / (tau sqrt(d_k)), so tau = 1 is exactly the Transformer's scaled dot product."""
    query = torch.as_tensor(np.asarray(q, dtype=np.float64)[None] / tau)  # (1, d_k)
    out, w = attention(query, torch.as_tensor(KEYS), torch.as_tensor(VALUES))
    return out[0].numpy(), w[0].numpy()


def _plane_px(p) -> tuple[float, float]:
    lim, size = 3.5, 320
    return (p[0] + lim) / (2 * lim) * size, (lim - p[1]) / (2 * lim) * size


def plane_svg(q: np.ndarray, weights: np.ndarray, output: np.ndarray, title: str = "") -> str:
    """Keys (dots in their value colour, area proportional to the weight), the query (arrow) and the output colour."""
    ox, oy = _plane_px((0.0, 0.0))
    parts = [f'<line x1="0" y1="{oy:.1f}" x2="320" y2="{oy:.1f}" stroke="#e5e7eb"/>'
             f'<line x1="{ox:.1f}" y1="0" x2="{ox:.1f}" y2="320" stroke="#e5e7eb"/>',
             '<defs><marker id="attention-qhead" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="5" markerHeight="5" '
             'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#111827"/></marker></defs>']
    for i, (k, w) in enumerate(zip(KEYS, weights)):
        x, y = _plane_px(k)
        parts.append(f'<line x1="{ox:.1f}" y1="{oy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#9ca3af" stroke-dasharray="2 3"/>')
        r = 4 + 18 * math.sqrt(max(float(w), 0.0))
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{_rgb(VALUES[i])}" fill-opacity="0.85" '
                     f'stroke="#111827" stroke-width="0.6"/>')
        parts.append(f'<text x="{x + r + 2:.1f}" y="{y + 4:.1f}" font-size="11" fill="#111827">k{i + 1} {w:.2f}</text>')
    qx, qy = _plane_px(q)
    if float(np.hypot(*q)) > 1e-9:
        parts.append(f'<line x1="{ox:.1f}" y1="{oy:.1f}" x2="{qx:.1f}" y2="{qy:.1f}" stroke="#111827" stroke-width="2.2" '
                     f'marker-end="url(#attention-qhead)"/>')
    parts.append(f'<text x="{qx + 5:.1f}" y="{qy - 5:.1f}" font-size="12" font-weight="bold" fill="#111827">q</text>')
    parts.append(f'<rect x="236" y="256" width="76" height="38" rx="4" fill="{_rgb(output)}" stroke="#111827"/>'
                 f'<text x="274" y="309" font-size="11" text-anchor="middle" fill="#111827">'
                 f'{html.escape(ui.say("attention_msg_output_box"))}</text>')
    label = html.escape(title)
    caption = f'<text x="6" y="16" font-size="13" fill="#111827">{label}</text>' if title else ""
    return (f'<svg viewBox="0 0 320 320" width="100%" style="max-width:320px;background:#fff;border:1px solid #e5e7eb" '
            f'role="img" aria-label="{label}">{"".join(parts)}{caption}</svg>')


def bars_svg(weights: np.ndarray, labels: list[str], colors: list[str], title: str = "", width: int = 300,
             height: int = 150) -> str:
    """A bar chart of weights in [0, 1], one bar per key, the weight written above it."""
    n = len(weights)
    slot = (width - 20) / n
    bottom, top = height - 22, 24
    parts = [f'<line x1="10" y1="{bottom}" x2="{width - 10}" y2="{bottom}" stroke="#9ca3af"/>']
    for i, (w, lab, col) in enumerate(zip(weights, labels, colors)):
        h = (bottom - top) * min(max(float(w), 0.0), 1.0)
        x = 10 + i * slot + slot * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{col}"/>'
                     f'<text x="{x + slot * 0.35:.1f}" y="{bottom - h - 3:.1f}" font-size="10" text-anchor="middle">{w:.2f}</text>'
                     f'<text x="{x + slot * 0.35:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{html.escape(lab)}</text>')
    label = html.escape(title)
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" aria-label="{label}">'
            f'<text x="10" y="14" font-size="12">{label}</text>{"".join(parts)}</svg>')


def single_query(angle=30.0, length=1.5, tau=1.0):
    """Slider callback: the query at `angle` degrees and `length`, temperature tau -> (html with the plane and the
    weights as bars, html table of dot products, scores and weights, status)."""
    c = ui.Clamped()
    angle = c.float("attention_arg_direction", angle, -180.0, 180.0, 30.0)
    length = c.float("attention_arg_length", length, 0.0, MAX_LENGTH, 1.5)
    tau = c.float("attention_arg_tau", tau, TAU_MIN, TAU_MAX, 1.0)
    q = length * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    output, w = single_query_attention(q, tau)
    d_k = KEYS.shape[1]
    dots = KEYS @ q  # shown in the table; the weights come from genlib's attention
    scores = dots / (tau * math.sqrt(d_k))
    rows = "".join(
        f'<tr><td>k{i + 1} {_colour(i)}</td><td style="white-space:nowrap">({KEYS[i, 0]:g}, {KEYS[i, 1]:g})</td>'
        f'<td>{dots[i]:.3f}</td><td>{scores[i]:.3f}</td><td>{w[i]:.4f}</td>'
        f'<td><span style="display:inline-block;width:1.2em;height:1em;background:{_rgb(VALUES[i])}"></span></td></tr>'
        for i in range(len(KEYS)))
    bars = bars_svg(w, [f"k{i + 1}" for i in range(len(KEYS))], [_rgb(v) for v in VALUES], ui.say("attention_msg_bars"))
    table = (f'<div class="stats" style="font-size:0.9em">'
             f'<table><tr><th>{ui.say("attention_msg_key")}</th><th>kᵢ</th><th>q·kᵢ</th><th>sᵢ</th><th>wᵢ</th>'
             f'<th>vᵢ</th></tr>{rows}<tr><td colspan="4">{ui.say("attention_msg_output_row")}</td><td colspan="2" style="white-space:nowrap">'
             f'{", ".join(f"{x:.2f}" for x in output)}</td></tr></table>'
             f'<p>sᵢ = q·kᵢ / (τ √d_k), d_k = {d_k}</p></div>')
    svg = plane_svg(q, w, output, title=f"q = ({q[0]:.2f}, {q[1]:.2f}), τ = {tau:g}")
    picture = (f'<div style="display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end">'
               f'<div style="flex:1 1 260px;max-width:320px">{svg}</div><div style="flex:1 1 240px;max-width:300px">{bars}</div></div>')
    entropy = float(-(w[w > 0] * np.log(w[w > 0])).sum())
    top = int(np.argmax(w))
    if length == 0.0:
        text = ui.say("attention_msg_zero_query")
    else:
        text = ui.say("attention_msg_single", top=top + 1, colour=_colour(top), w=w[top], entropy=entropy,
                      ln5=math.log(5), d_k=d_k)
    return picture, table, ui.status(c, text)


def dimension_view(d_k=64, seed=0):
    """Random q and N_RANDOM_KEYS keys with d_k standard-normal components: the softmax weights of the raw dot
    products and of the scaled ones, and the measured spread of q . k -> (html, status)."""
    c = ui.Clamped()
    d_k = c.int("d_k", d_k, 1, MAX_DK, 64)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(1, d_k, generator=g, dtype=torch.float64)
    k = torch.randn(N_RANDOM_KEYS, d_k, generator=g, dtype=torch.float64)
    eye = torch.eye(N_RANDOM_KEYS, dtype=torch.float64)
    _, w_scaled = attention(q, k, eye)  # softmax(q k^T / sqrt(d_k))
    _, w_raw = attention(q * math.sqrt(d_k), k, eye)  # undo the scaling: softmax(q k^T)
    a = torch.randn(N_DRAWS, d_k, generator=g, dtype=torch.float64)
    b = torch.randn(N_DRAWS, d_k, generator=g, dtype=torch.float64)
    spread = float((a * b).sum(-1).std())
    labels = [f"k{i + 1}" for i in range(N_RANDOM_KEYS)]
    blue, orange = ["#2563eb"] * N_RANDOM_KEYS, ["#f97316"] * N_RANDOM_KEYS
    body = (f'<div style="display:flex;flex-wrap:wrap;gap:8px">{bars_svg(w_raw[0].numpy(), labels, orange, "softmax(q·k)")}'
            f'{bars_svg(w_scaled[0].numpy(), labels, blue, f"softmax(q·k / √{d_k})")}</div>')
    text = ui.say("attention_msg_dk", d_k=d_k, draws=N_DRAWS, spread=spread, theory=math.sqrt(d_k),
                  raw=float(w_raw.max()), scaled=float(w_scaled.max()))
    return body, ui.status(c, text)


# ---- Section 2: the matrix form ---------------------------------------------------------------------------
def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _cell(cell) -> float | str:
    """A float, or the reason the cell is not a usable number."""
    if isinstance(cell, (bool, np.bool_)):
        return ui.say("attention_msg_cell_not_number", value=repr(cell))
    if isinstance(cell, str):
        text = cell.strip().replace("−", "-")
        try:
            v = float(text)
        except ValueError:
            return ui.say("attention_msg_cell_not_number", value=repr(cell))
    else:
        try:
            v = float(cell)
        except (TypeError, ValueError, OverflowError):
            return ui.say("attention_msg_cell_not_number", value=repr(cell))
    if not math.isfinite(v):
        return ui.say("attention_msg_cell_not_finite", value=v)
    if abs(v) > MAX_ABS:
        return ui.say("attention_msg_cell_too_big", value=v, max=MAX_ABS)
    return v


def parse_matrix(name: str, table) -> tuple[np.ndarray | None, str]:
    """A table from gr.Dataframe (list of rows; also a pandas DataFrame, a numpy array or the API's
    {"headers", "data"} dict) -> (float64 array (rows, cols), "") or (None, what is wrong with it).
    Rows and columns that are entirely blank are dropped (the editor adds them blank)."""
    if isinstance(table, dict):
        table = table.get("data")
    if hasattr(table, "to_numpy"):  # pandas
        table = table.to_numpy(dtype=object).tolist()
    elif isinstance(table, np.ndarray):
        table = table.tolist() if table.ndim == 2 else None
    if table is None:
        return None, ui.say("attention_msg_table_empty", name=name)
    if not isinstance(table, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in table):
        return None, ui.say("attention_msg_not_table", name=name)
    if len(table) > 10 * MAX_ROWS or any(len(r) > 10 * MAX_COLS for r in table):
        return None, ui.say("attention_msg_far_too_large", name=name, rows=MAX_ROWS, cols=MAX_COLS)
    rows = [list(r) for r in table if not all(_blank(x) for x in r)]
    if not rows or not any(rows):
        return None, ui.say("attention_msg_table_empty", name=name)
    width = len(rows[0])
    for i, r in enumerate(rows[1:], start=2):
        if len(r) != width:
            return None, ui.say("attention_msg_ragged", name=name, i=i, n=len(r), s="s" if len(r) != 1 else "",
                                width=width)
    keep = [j for j in range(width) if not all(_blank(r[j]) for r in rows)]
    rows = [[r[j] for j in keep] for r in rows]
    n, m = len(rows), len(keep)
    if n > MAX_ROWS or m > MAX_COLS:
        return None, ui.say("attention_msg_too_large", name=name, n=n, m=m, rows=MAX_ROWS, cols=MAX_COLS)
    out = np.zeros((n, m))
    bad = []
    for i, r in enumerate(rows):
        for j, cell in enumerate(r):
            v = ui.say("attention_msg_cell_empty") if _blank(cell) else _cell(cell)
            if isinstance(v, str):
                bad.append(ui.say("attention_msg_cell", i=i + 1, j=j + 1, why=v))
            else:
                out[i, j] = v
    if bad:
        more = ui.say("attention_msg_cell_more", n=len(bad) - 1, s="s" if len(bad) > 2 else "") if len(bad) > 1 else ""
        return None, ui.say("attention_msg_bad_cell", name=name, first=bad[0], more=more)
    return out, ""


@dataclass
class MatrixResult:
    scores: np.ndarray  # (T_q, T_k) Q K^T / sqrt(d_k), before masking
    weights: np.ndarray  # (T_q, T_k) softmax rows; NaN in undefined rows
    output: np.ndarray  # (T_q, d_v); NaN in undefined rows
    allowed: np.ndarray  # (T_q, T_k) bool: True = may attend
    undefined: np.ndarray  # (T_q,) bool: every key of the row is masked


def key_mask(t_q: int, t_k: int, causal: bool, pad: int, side: str = "end") -> np.ndarray:
    """(T_q, T_k) boolean, True = may attend: genlib's subsequent_mask if causal (needs T_q == T_k), and the first
    (side "start") or last (side "end") `pad` keys hidden from every query."""
    allowed = torch.ones(t_q, t_k, dtype=torch.bool)
    if causal:
        allowed &= subsequent_mask(t_k)[0]
    keep = torch.arange(t_k) >= pad if side == "start" else torch.arange(t_k) < t_k - pad
    return (allowed & keep[None]).numpy()


def matrix_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, allowed: np.ndarray) -> MatrixResult:
    """genlib's attention(Q, K, V, mask) in float64, with the pre-mask scores and the undefined rows for display."""
    Q, K, V = (torch.as_tensor(np.asarray(x, dtype=np.float64)) for x in (q, k, v))
    mask = torch.as_tensor(allowed)
    out, w = attention(Q, K, V, mask)
    scores = Q @ K.T / math.sqrt(Q.shape[-1])  # for the score picture only
    return MatrixResult(scores.numpy(), w.numpy(), out.numpy(), allowed, ~allowed.any(axis=1))


def matrix_view(q_table=None, k_table=None, v_table=None, causal=False, pad=0, pad_side="end"):
    """Table callback: parse Q, K, V, build the masks, run attention -> (scores svg, weights svg, output svg, status)."""
    c = ui.Clamped()
    causal = c.flag("attention_arg_causal", causal)
    pad = c.int("attention_arg_padding", pad, 0, MAX_ROWS, 0)
    side = c.choice("attention_arg_side", pad_side, PAD_SIDES, "end")
    parsed, errors = {}, []
    for name, table in (("Q", q_table), ("K", k_table), ("V", v_table)):
        parsed[name], err = parse_matrix(name, table)
        if err:
            errors.append(err)
    if not errors:
        (t_q, d_k), (t_k, d_k2), (t_v, _) = parsed["Q"].shape, parsed["K"].shape, parsed["V"].shape
        if d_k != d_k2:
            errors.append(ui.say("attention_msg_qk", d_k=d_k, s="s" if d_k != 1 else "", d_k2=d_k2))
        if t_k != t_v:
            errors.append(ui.say("attention_msg_kv", t_k=t_k, s="s" if t_k != 1 else "", t_v=t_v))
    if errors:
        return "", "", "", ui.status(c, ui.say("attention_msg_errors", errors=ui.say("attention_msg_sep").join(errors)),
                                     "error")
    Q, K, V = parsed["Q"], parsed["K"], parsed["V"]
    (t_q, d_k), (t_k, d_v) = Q.shape, V.shape
    notes, kind = [], "info"
    if causal and t_q != t_k:
        notes.append(ui.say("attention_msg_causal_square", t_q=t_q, t_k=t_k))
        causal, kind = False, "warn"
    if pad > t_k:
        c.messages.append(ui.say("attention_msg_pad_all", pad=pad, t_k=t_k))
        pad = t_k
    res = matrix_attention(Q, K, V, key_mask(t_q, t_k, causal, pad, side))
    qs, ks, ds = [f"q{i + 1}" for i in range(t_q)], [f"k{j + 1}" for j in range(t_k)], [f"d{j + 1}" for j in range(d_v)]
    masked = ~res.allowed
    undefined = ui.say("attention_msg_sum_undefined")
    sums = [(undefined if u else f"Σ = {s:.2f}") for u, s in zip(res.undefined, np.nan_to_num(res.weights).sum(1))]
    mask_note = ui.say("attention_msg_where_masked" if masked.any() else "attention_msg_no_mask")
    scores = ui.svg.heatmap_svg(res.scores, qs, ks, ui.say("attention_msg_scores_title", d_k=d_k, mask=mask_note),
                                signed=True, masked=masked)
    weights = ui.svg.heatmap_svg(res.weights, qs, ks, ui.say("attention_msg_weights_title"), signed=False, masked=masked,
                                 masked_text="0", undefined=res.undefined, side=sums)
    output = ui.svg.heatmap_svg(res.output, qs, ds, ui.say("attention_msg_output_title"), signed=True,
                                undefined=res.undefined)
    text = ui.say("attention_msg_shapes", t_q=t_q, y="y" if t_q == 1 else "ies", t_k=t_k, s="" if t_k == 1 else "s",
                  d_k=d_k, d_v=d_v, root=math.sqrt(d_k))
    if not res.undefined.all():
        text += ui.say("attention_msg_rows_sum")
    if masked.any():
        n_masked = int(masked.sum())
        text += ui.say("attention_msg_masked_one" if n_masked == 1 else "attention_msg_masked_many", n=n_masked)
    if res.undefined.any():
        names = ", ".join(np.array(qs)[res.undefined])
        notes.append(ui.say("attention_msg_undefined_one" if res.undefined.sum() == 1 else "attention_msg_undefined_many",
                            names=names))
        kind = "warn"
    return scores, weights, output, ui.status(c, " ".join([text] + notes), kind)


def example(name="cross"):
    """Fill the tables and mask options with one of EXAMPLES -> (Q, K, V, causal, pad, side, status)."""
    c = ui.Clamped()
    name = c.choice("attention_arg_example", name, list(EXAMPLES), "cross")
    e = EXAMPLES[name]
    label = ui.say(f"attention_example_{name}")
    tables = ({"headers": _headers(len(e[x][0])), "data": e[x]} for x in ("q", "k", "v"))
    return *tables, e["causal"], e["pad"], e["side"], ui.status(c, ui.say("attention_msg_example", label=label))


def _headers(n: int) -> list[str]:
    return [f"d{j + 1}" for j in range(n)]


# ---- layout -----------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; returns the note component. The pictures and their status lines are
    drawn on page load (milliseconds each), in the language of the visitor's request."""
    e = EXAMPLES["cross"]
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("attention_single_h"))
        gr.Markdown(ui.t("attention_single_intro"))
        with gr.Row():
            angle = gr.Slider(-180, 180, value=30, step=1, label=ui.t("attention_angle"), elem_id="attention-angle")
            length = gr.Slider(0.0, MAX_LENGTH, value=1.5, step=0.05, label=ui.t("attention_length"))
            tau = gr.Slider(TAU_MIN, TAU_MAX, value=1.0, step=0.05, label=ui.t("attention_tau"), elem_id="attention-tau")
        ui.share_link(TAB_ID, {"angle": angle, "length": length, "tau": tau})
        plane = gr.HTML(elem_id="attention-plane")
        table = gr.HTML(elem_id="attention-weights")
        single_status = gr.Markdown()

        gr.Markdown(ui.t("attention_dk_h"))
        with gr.Row():
            d_k = gr.Slider(1, MAX_DK, value=64, step=1, label=ui.t("attention_dk"))
            seed = gr.Number(0, precision=0, label=ui.t("attention_seed"))
        dk_html = gr.HTML(elem_id="attention-dk")
        dk_status = gr.Markdown()

        gr.Markdown(ui.t("attention_matrix_h"))
        gr.Markdown(ui.t("attention_matrix_intro"))
        preset = gr.Radio(ui.choices("attention_example", EXAMPLES), value="cross", label=ui.t("attention_example"))
        with gr.Row():
            q_df = gr.Dataframe(e["q"], headers=_headers(3), datatype="number", type="array", label=ui.t("attention_q"),
                                interactive=True, show_row_numbers=True, elem_id="attention-q")
            k_df = gr.Dataframe(e["k"], headers=_headers(3), datatype="number", type="array", label=ui.t("attention_k"),
                                interactive=True, show_row_numbers=True, elem_id="attention-k")
            v_df = gr.Dataframe(e["v"], headers=_headers(2), datatype="number", type="array", label=ui.t("attention_v"),
                                interactive=True, show_row_numbers=True, elem_id="attention-v")
        with gr.Row():
            causal = gr.Checkbox(False, label=ui.t("attention_causal"))
            pad = gr.Slider(0, MAX_ROWS, value=0, step=1, label=ui.t("attention_pad"))
            side = gr.Radio(ui.choices("attention_side", ["end", "start"]), value="end", label=ui.t("attention_pad_side"))
        with gr.Row():
            scores_html = gr.HTML(elem_id="attention-scores")
            weights_html = gr.HTML(elem_id="attention-weight-matrix")
        output_html = gr.HTML(elem_id="attention-output")
        matrix_status = gr.Markdown()

    # gr.on(None, ...): on page load and whenever one of the inputs changes
    gr.on(None, single_query, [angle, length, tau], [plane, table, single_status],
          api_name="attention_single", show_progress="hidden", trigger_mode="always_last")
    gr.on(None, dimension_view, [d_k, seed], [dk_html, dk_status], api_name="attention_scaling",
          show_progress="hidden", trigger_mode="always_last")
    # Filling in an example changes the tables, and their change events redraw the matrices.
    preset.change(example, preset, [q_df, k_df, v_df, causal, pad, side, matrix_status], api_name="attention_example",
                  show_progress="hidden")
    gr.on(None, matrix_view,
          [q_df, k_df, v_df, causal, pad, side], [scores_html, weights_html, output_html, matrix_status],
          api_name="attention_matrix", show_progress="hidden", trigger_mode="always_last")
    return note
