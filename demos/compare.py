"""The Compare tab: GAN, VAE, flow, diffusion and autoregressive models side by side.

1. The board: every generative model of the registry with each of its sampler settings, measured by one evaluator
   at one n (benchmarks/compare.py writes benchmarks/results/compare.json; this tab only reads it), and the
   quality-against-time scatter (log scale).
2. Each family's road from noise to data, drawn in SVG with the equation that defines it.
3. Live: the same seed through every chosen model, one row per model, streamed as each finishes.
The models and their settings come from genlib.compare.settings(), i.e. from the registry: a new model appears
here when its registry entry has a `board` option.
"""
from __future__ import annotations

import html
import json
import math
import time
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import compare

TAB_ID = "compare"
TITLE = "compare_title"
MODELS = ()  # the board's models are loaded when a live row needs them (ui.load_model), never at start-up
BOARD = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "compare.json"
MAX_N = 8  # images per live row
MAX_ROWS = 12  # live rows per request
FAMILY_COLORS = {"gan": "#b91c1c", "vae": "#7c3aed", "flow": "#0369a1", "diffusion": "#15803d",
                 "autoregressive": "#c2410c"}

ui.add_strings(
    en={
        "compare_title": "Compare",
        "compare_board_h": "## 1 · The board: one evaluator, one n",
        "compare_scatter_h": "### Quality against sampling time",
        "compare_roads_h": "## 2 · Five roads from noise to data",
        "compare_live_h": "## 3 · The same seed through each family",
        "compare_live_intro": "DDIM and the flow ODE start from the very same Gaussian noise image for a seed; the "
                              "others use the seed for their own randomness (a latent z, or one pixel after another).",
        "compare_settings": "Models and settings",
        "compare_n": "Images per row",
        "compare_seed": "Seed",
        "compare_sample_btn": "Draw",
        "compare_rows": "One row per model",
        "compare_family_gan": "GAN", "compare_family_vae": "VAE", "compare_family_flow": "Flow matching",
        "compare_family_diffusion": "Diffusion", "compare_family_autoregressive": "Autoregressive",
        "compare_col_family": "family", "compare_col_model": "model", "compare_col_setting": "setting",
        "compare_col_fid": "FID ↓", "compare_col_is": "IS ↑", "compare_col_classes": "classes covered",
        "compare_col_likelihood": "likelihood (test)", "compare_col_seconds": "16 images (s)",
        "compare_col_params": "parameters", "compare_col_training": "training (min)",
        "compare_msg_made": "Measured on {date} with `{command}`: n = {n} samples per row, {machine}. FID and IS use the "
                            "project's MNIST classifier (features of `weights/cnn`) against the 10,000 test images; real "
                            "training images score FID {floor} (the floor). A class is covered when ≥ 5 % of the "
                            "samples are classified as it.",
        "compare_msg_no_board": "No board yet: run `python benchmarks/compare.py` to measure it.",
        "compare_msg_bad_board": "The board file could not be read ({error}); run `python benchmarks/compare.py` again.",
        "compare_msg_scatter": "FID (log) against the time for 16 images (log); lower left is better",
        "compare_msg_nothing": "Choose at least one model.",
        "compare_msg_unknown": "Unknown settings were left out: {names}.",
        "compare_msg_row": "{done} of {total} drawn",
        "compare_msg_row_failed": "{model}: {error}",
        "compare_msg_live_done": "done: {total} × {n} images, seed {seed}",
        "compare_road_gan": "a generator G maps noise z to an image; a discriminator D learns to tell G(z) from real "
                            "images, and G learns to fool it",
        "compare_road_vae": "an encoder q_φ(z|x) maps an image to a distribution over codes, a decoder p_θ(x|z) maps a "
                            "code back; sampling decodes z from the prior",
        "compare_road_flow": "an ODE moves noise x₀ along a learned velocity field to data at t = 1",
        "compare_road_diffusion": "noise is added over T steps (q); a network learns to undo one step at a time (p_θ), "
                                  "from x_T back to x₀",
        "compare_road_autoregressive": "one pixel at a time, each drawn from its distribution given all earlier pixels",
    },
    zh={
        "compare_title": "对比",
        "compare_board_h": "## 1 · 总表：同一个评估器，同一个 n",
        "compare_scatter_h": "### 质量与采样时间",
        "compare_roads_h": "## 2 · 从噪声到数据的五条路",
        "compare_live_h": "## 3 · 同一个随机种子，走过每一族模型",
        "compare_live_intro": "对同一个种子，DDIM 与流的 ODE 从完全相同的高斯噪声图像出发；其他模型则把种子用于各自的随机性"
                              "（一个隐变量 z，或逐个像素的抽样）。",
        "compare_settings": "模型与设置",
        "compare_n": "每行图像数",
        "compare_seed": "随机种子",
        "compare_sample_btn": "生成",
        "compare_rows": "每个模型一行",
        "compare_family_gan": "GAN", "compare_family_vae": "VAE", "compare_family_flow": "流匹配",
        "compare_family_diffusion": "扩散", "compare_family_autoregressive": "自回归",
        "compare_col_family": "模型族", "compare_col_model": "模型", "compare_col_setting": "设置",
        "compare_col_fid": "FID ↓", "compare_col_is": "IS ↑", "compare_col_classes": "覆盖的类别数",
        "compare_col_likelihood": "似然（测试集）", "compare_col_seconds": "16 张图像（秒）",
        "compare_col_params": "参数量", "compare_col_training": "训练（分钟）",
        "compare_msg_made": "于 {date} 用 `{command}` 测得：每行 n = {n} 个样本，{machine}。FID 与 IS 使用本项目的 MNIST "
                            "分类器（`weights/cnn` 的特征），参照 10,000 张测试图像；真实训练图像的 FID 为 {floor}（下限）。"
                            "若至少 5 % 的样本被分到某一类，该类记为已覆盖。",
        "compare_msg_no_board": "还没有总表：运行 `python benchmarks/compare.py` 来测量。",
        "compare_msg_bad_board": "无法读取总表文件（{error}）；请重新运行 `python benchmarks/compare.py`。",
        "compare_msg_scatter": "FID（对数）与生成 16 张图像的时间（对数）；越靠左下越好",
        "compare_msg_nothing": "请至少选择一个模型。",
        "compare_msg_unknown": "未知的设置已略去：{names}。",
        "compare_msg_row": "已生成 {done} / {total} 行",
        "compare_msg_row_failed": "{model}：{error}",
        "compare_msg_live_done": "共 {total} 行，种子 {seed}，每行 {n} 张",
        "compare_road_gan": "生成器 G 把噪声 z 变成图像；判别器 D 学着区分 G(z) 与真实图像，G 则学着骗过它",
        "compare_road_vae": "编码器 q_φ(z|x) 把图像映成隐编码上的分布，解码器 p_θ(x|z) 再把编码映回图像；采样时从先验取 z 解码",
        "compare_road_flow": "一个常微分方程沿学到的速度场把噪声 x₀ 推到 t = 1 处的数据",
        "compare_road_diffusion": "前向过程 q 用 T 步逐渐加噪；网络学会每次撤销一步（p_θ），从 x_T 回到 x₀",
        "compare_road_autoregressive": "一次一个像素，每个像素都按其前面所有像素给出的条件分布抽样",
    },
)


# ---- 1. the board ---------------------------------------------------------------------------------------
def read_board(path: Path | None = None) -> tuple[dict | None, str]:
    """(board, "") from the file benchmarks/compare.py wrote (default BOARD), or (None, a message)."""
    path = path or BOARD
    if not path.exists():
        return None, ui.say("compare_msg_no_board")
    try:
        board = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(board.get("rows"), list):
            raise ValueError("no rows")
        return board, ""
    except (OSError, ValueError) as err:
        return None, ui.say("compare_msg_bad_board", error=type(err).__name__)


def _fmt(v, digits: int = 3) -> str:
    return "–" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:.{digits}g}"


def board_table(board: dict) -> str:
    """The board as an HTML table, best FID first within each family."""
    cols = ["family", "model", "setting", "fid", "is", "classes", "likelihood", "seconds", "params", "training"]
    head = "".join(f"<th>{html.escape(ui.say('compare_col_' + c))}</th>" for c in cols)
    body = []
    for r in board["rows"]:
        like = r.get("likelihood")
        cells = [ui.say(f"compare_family_{r['family']}"), r["model"], r["label"], _fmt(r["fid"], 4),
                 f"{r['is']:.2f} ± {r['is_std']:.2f}", f"{r['classes_covered']} / 10",
                 f"{like['value']:.4g} {like['unit']}" if like else "–", _fmt(r["seconds_16"]),
                 _fmt(r["parameters"]), _fmt(r.get("training_minutes"))]
        color = FAMILY_COLORS.get(r["family"], "#111827")
        body.append(f'<tr><td style="color:{color};font-weight:600">{html.escape(cells[0])}</td>'
                    + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells[1:]) + "</tr>")
    return (f'<div class="stats" style="overflow-x:auto"><table id="compare-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def scatter_svg(rows: list[dict], width: int = 460, height: int = 300) -> str:
    """FID against the seconds for 16 images, both on log axes; one labelled point per row, coloured by family."""
    pts = [(r["seconds_16"], r["fid"], r) for r in rows if r.get("seconds_16", 0) > 0 and r.get("fid", 0) > 0]
    title = ui.say("compare_msg_scatter")
    if not pts:
        return ui.svg.canvas(width, height, title, "")
    lx = [math.log10(p[0]) for p in pts]
    ly = [math.log10(p[1]) for p in pts]
    x0, y0 = math.floor(min(lx)), math.floor(min(ly))
    x1, y1 = max(math.ceil(max(lx)), x0 + 1), max(math.ceil(max(ly)), y0 + 1)  # whole decades, at least one
    px = lambda v: 50 + (width - 70) * (v - x0) / max(x1 - x0, 1)  # noqa: E731
    py = lambda v: 24 + (height - 60) * (1 - (v - y0) / max(y1 - y0, 1))  # noqa: E731
    parts = [f'<text x="50" y="14" font-size="11">{html.escape(title)}</text>']
    for e in range(x0, x1 + 1):
        parts.append(f'<line x1="{px(e):.1f}" y1="24" x2="{px(e):.1f}" y2="{height - 36}" stroke="#e5e7eb"/>'
                     f'<text x="{px(e):.1f}" y="{height - 22}" font-size="10" text-anchor="middle">{10.0 ** e:g} s</text>')
    for e in range(y0, y1 + 1):
        parts.append(f'<line x1="50" y1="{py(e):.1f}" x2="{width - 20}" y2="{py(e):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="44" y="{py(e) + 3:.1f}" font-size="10" text-anchor="end">{10.0 ** e:g}</text>')
    for (s, f, r), a, b in zip(pts, lx, ly):
        color = FAMILY_COLORS.get(r["family"], "#111827")
        label = html.escape(f"{r['model']} {r['label']}")
        parts.append(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="4.5" fill="{color}" fill-opacity="0.85">'
                     f'<title>{label}: FID {f:.1f}, {s:.3g} s</title></circle>'
                     f'<text x="{px(a) + 6:.1f}" y="{py(b) - 5:.1f}" font-size="9" fill="{color}">{label}</text>')
    legend = [f'<text x="{width - 20}" y="{40 + 12 * k}" font-size="10" text-anchor="end" fill="{FAMILY_COLORS[fam]}">'
              f'{html.escape(ui.say("compare_family_" + fam))}</text>'
              for k, fam in enumerate(f for f in compare.FAMILIES if any(r["family"] == f for _, _, r in pts))]
    return ui.svg.canvas(width, height, title, "".join(parts + legend))


def board_view():
    """(table html, scatter svg, status) for the board file; a message instead when it is missing or unreadable."""
    board, problem = read_board()
    if board is None:
        return "", "", ui.message(problem, "error")
    made = ui.say("compare_msg_made", date=board.get("date", "?"), command=board.get("command", "?"),
                  n=board.get("n", "?"), machine=board.get("machine", "?"),
                  floor=board.get("real", {}).get("fid_train_vs_test", "?"))
    return board_table(board), scatter_svg(board["rows"]), made


# ---- 2. the roads from noise to data ---------------------------------------------------------------------
# (nodes left to right, the label of each forward arrow, the label of the dashed arrow back (or None), equation)
ROADS = {
    "gan": (["z ~ N(0, I)", "x̃ = G(z)", "D(x̃) vs D(x)"], ["G", "D"], None,
            "min_G max_D E[log D(x)] + E[log(1 − D(G(z)))]"),
    "vae": (["x", "z ~ q_φ(z|x)", "x̂ ~ p_θ(x|z)"], ["encoder", "decoder"], "KL(q_φ(z|x) ‖ N(0, I))",
            "log p(x) ≥ E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z))"),
    "flow": (["x₀ ~ N(0, I)", "x_t", "x₁ ≈ data"], ["dx/dt = u_θ(x, t)", "…"], None,
             "x_{t+h} = x_t + h · u_θ(x_t, t)"),
    "diffusion": (["x₀ (data)", "x_t", "x_T ~ N(0, I)"], ["q", "q"], "p_θ(x_{t−1} | x_t)",
                  "x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε"),
    "autoregressive": (["x₁", "x₂ | x₁", "x_i | x_<i"], ["p(x₂|x₁)", "…"], None,
                       "p(x) = ∏ᵢ p(x_i | x_<i)"),
}


def road_svg(family: str, width: int = 460, height: int = 128) -> str:
    """One family's road: boxes joined by labelled arrows, a dashed arrow back where the family has one, its
    defining equation under it and one sentence on what happens."""
    nodes, forward, back, equation = ROADS[family]
    color = FAMILY_COLORS[family]
    box_w, gap = 120, (width - 3 * 120 - 20) / 2
    xs = [10 + k * (box_w + gap) for k in range(len(nodes))]
    mid = f"compare-head-{family}"
    parts = [f'<defs><marker id="{mid}" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="6" markerHeight="6" '
             f'orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="{color}"/></marker></defs>',
             f'<text x="10" y="14" font-size="12" font-weight="bold" fill="{color}">'
             f'{html.escape(ui.say("compare_family_" + family))}</text>']
    for x, text in zip(xs, nodes):
        parts.append(f'<rect x="{x:.1f}" y="26" width="{box_w}" height="30" rx="6" fill="#fff" stroke="{color}"/>'
                     f'<text x="{x + box_w / 2:.1f}" y="45" font-size="11" text-anchor="middle">{html.escape(text)}</text>')
    for k, label in enumerate(forward):
        a, b = xs[k] + box_w, xs[k + 1]
        parts.append(f'<line x1="{a + 2:.1f}" y1="41" x2="{b - 3:.1f}" y2="41" stroke="{color}" stroke-width="1.6" '
                     f'marker-end="url(#{mid})"/><text x="{(a + b) / 2:.1f}" y="22" font-size="10" text-anchor="middle" '
                     f'fill="{color}">{html.escape(label)}</text>')
    if back:
        a, b = xs[-1] + box_w / 2, xs[0] + box_w / 2
        parts.append(f'<path d="M{a:.1f},57 C{a:.1f},78 {b:.1f},78 {b:.1f},58" fill="none" stroke="{color}" '
                     f'stroke-dasharray="4 3" marker-end="url(#{mid})"/><text x="{(a + b) / 2:.1f}" y="86" '
                     f'font-size="10" text-anchor="middle" fill="{color}">{html.escape(back)}</text>')
    parts.append(f'<text x="10" y="104" font-size="11" font-family="serif">{html.escape(equation)}</text>'
                 f'<text x="10" y="120" font-size="10" fill="#4b5563">{html.escape(ui.say("compare_road_" + family))}</text>')
    return ui.svg.canvas(width, height, ui.say("compare_family_" + family), "".join(parts))


def roads() -> str:
    """Every family's road, in the order of the figure the diffusion-theory source opens with."""
    return "".join(f'<div style="margin-bottom:6px">{road_svg(f)}</div>' for f in compare.FAMILIES)


# ---- 3. live: one row per model --------------------------------------------------------------------------
def live_settings() -> list[compare.Setting]:
    return [s for s in compare.settings() if compare.live(s)]


def default_choices() -> list[str]:
    """One setting per model: the first live setting of each (e.g. DDIM-10 would be first; DDIM-50 is preferred)."""
    chosen: dict[str, str] = {}
    for s in live_settings():
        if s.model not in chosen or s.label in ("DDIM-50", "w = 1, Euler-20", "T = 1, w = 2.5"):
            chosen[s.model] = s.key
    return list(chosen.values())


def _row_image(x: torch.Tensor) -> np.ndarray:
    return ui.upscale(ui.sheet(x, nrow=len(x)), 3)


def draw_rows(keys=None, n=6, seed=0):
    """Stream (gallery rows, status): the chosen settings drawn with the same seed, one row per setting as each
    finishes. At most MAX_ROWS settings and MAX_N images per row."""
    c = ui.Clamped()
    n = c.int("compare_n", n, 1, MAX_N, 6)
    seed = c.int("compare_seed", seed, 0, 2**31 - 1, 0)
    by_key = {s.key: s for s in live_settings()}
    keys = [k for k in (keys if isinstance(keys, (list, tuple)) else [keys] if keys else []) if isinstance(k, str)]
    unknown = [k for k in keys if k not in by_key]
    keys = [k for k in dict.fromkeys(keys) if k in by_key][:MAX_ROWS]
    notes = [ui.say("compare_msg_unknown", names=", ".join(map(str, unknown[:5])))] if unknown else []
    if not keys:
        yield [], ui.status(c, " ".join(notes + [ui.say("compare_msg_nothing")]), "error")
        return
    gallery = []
    for k, key in enumerate(keys):
        s = by_key[key]
        model, problem = ui.load_model(s.model)
        if model is None:
            notes.append(ui.say("compare_msg_row_failed", model=s.model, error=problem))
        else:
            t0 = time.perf_counter()
            with ui.intra_op_threads(ui.panels.SAMPLER_THREADS), torch.inference_mode():
                x = s.function()(model, n, seed, **s.kwargs)
            caption = f"{ui.say('compare_family_' + s.family)} · {s.model} · {s.label} · {time.perf_counter() - t0:.2f} s"
            gallery = gallery + [(_row_image(x), caption)]
        text = " ".join(notes + [ui.say("compare_msg_row", done=k + 1, total=len(keys))])
        yield gallery, ui.status(c, text, "error" if notes and not gallery else "info")
    yield gallery, ui.status(c, " ".join(notes + [ui.say("compare_msg_live_done", total=len(keys), seed=seed, n=n)]))


def build() -> gr.Markdown:
    """Lay out the tab. The board, the scatter and the roads are drawn on page load (in the visitor's language)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("compare_board_h"))
        made = gr.Markdown(elem_id="compare-made")
        table = gr.HTML(elem_id="compare-board")
        gr.Markdown(ui.t("compare_scatter_h"))
        scatter = gr.HTML(elem_id="compare-scatter")
        gr.Markdown(ui.t("compare_roads_h"))
        road_html = gr.HTML(elem_id="compare-roads")
        gr.Markdown(ui.t("compare_live_h"))
        gr.Markdown(ui.t("compare_live_intro"))
        keys = gr.CheckboxGroup([(s.key, s.key) for s in live_settings()], value=default_choices(),
                                label=ui.t("compare_settings"), elem_id="compare-settings")
        n, seed, button = ui.sample_controls(TAB_ID, MAX_N, n=6)
        ui.share_link(TAB_ID, {"n": n, "seed": seed}, primary=button)
        rows = gr.Gallery(label=ui.t("compare_rows"), columns=1, height="auto", object_fit="contain",
                          elem_id="compare-rows")
        status = ui.status_line(elem_id="compare-status")
    gr.on(None, board_view, None, [table, scatter, made], api_name="compare_board", show_progress="hidden")
    gr.on(None, roads, None, road_html, api_name="compare_roads", show_progress="hidden")
    button.click(draw_rows, [keys, n, seed], [rows, status], api_name="compare_draw", **ui.SAMPLER)
    return note
