"""The PixelCNN / PixelSNAIL tab: samples that fill in row by row at a chosen temperature, completions of a digit
from its top rows, and a causality viewer (which input pixels influence a chosen pixel, by gradients) for the
masked PixelCNN, the shift-based stack and PixelSNAIL; plus the test bits/dim and the training curve.

Every callback is a plain function of its inputs (tested without a server); `build()` wires them to Gradio.
The model code is in genlib.pixelcnn.
"""
from __future__ import annotations

import copy
import functools

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data
from genlib import pixelcnn as px
from genlib.sampling import class_labels

TAB_ID = "pixelcnn"
TITLE = "pixelcnn_title"
MODELS = ("pixelcnn",)  # registry names this tab loads (lazily, on first use)
MAX_N = 16
MAX_COMPLETIONS = 8
T_MIN, T_MAX = 0.1, 2.0
VIEWERS = ["masked", "shift", "pixelsnail"]
DIGITS = ["all"] + [str(k) for k in range(10)]  # labels to sample: 0-9 in turn, or one digit
MAX_W = 5.0
# guidance scale (1 = plain p(x | y)): the best IS at T = 1 among w = 1, 1.5, 2, 2.5, 3 on seeds the benchmark does
# not use (issue 18; the note's section 11)
W_DEFAULT = 2.5

ui.add_strings(
    en={
        "pixelcnn_title": "PixelCNN / PixelSNAIL",
        "pixelcnn_viewer_masked": "masked PixelCNN (6 layers)",
        "pixelcnn_viewer_shift": "shift-based stack, no attention",
        "pixelcnn_viewer_pixelsnail": "PixelSNAIL (trained)",
        "pixelcnn_sample_h": "### 1 · Sample, one pixel at a time",
        "pixelcnn_temperature": "Temperature T (p^(1/T) per pixel)",
        "pixelcnn_seed": "Seed",
        "pixelcnn_n": "Samples",
        "pixelcnn_sample_btn": "Sample",
        "pixelcnn_digit": "Class y to draw", "pixelcnn_digit_all": "0–9 in turn", "pixelcnn_arg_digit": "class",
        "pixelcnn_w": "Guidance scale w (1 = p(x | y), 0 = no label)", "pixelcnn_arg_w": "guidance scale w",
        "pixelcnn_grid": "Samples (filled in row by row)",
        "pixelcnn_complete_h": "### 2 · Complete a digit from its top rows",
        "pixelcnn_keep": "Rows to keep",
        "pixelcnn_completions": "Completions",
        "pixelcnn_complete_btn": "Complete",
        "pixelcnn_completion_grid": "Left: the digit with the kept rows; then the completions",
        "pixelcnn_causal_h": "### 3 · Which pixels can influence a pixel? (gradients)",
        "pixelcnn_viewer": "Model",
        "pixelcnn_row": "Pixel row",
        "pixelcnn_col": "Pixel column",
        "pixelcnn_influence": "|∂ output at the pixel / ∂ input| (log scale); red = the pixel",
        "pixelcnn_loss": "Training loss (bits/dim, running mean)",
        "pixelcnn_arg_temperature": "temperature", "pixelcnn_arg_samples": "samples", "pixelcnn_arg_keep": "rows to keep",
        "pixelcnn_arg_completions": "completions", "pixelcnn_arg_model": "model", "pixelcnn_arg_row": "row",
        "pixelcnn_arg_column": "column",
        "pixelcnn_msg_row": "row {row}/{rows}",
        "pixelcnn_msg_sample_head": "T = {T:g}, seed {seed}, {labels}",
        "pixelcnn_msg_labels_all": "labels 0–9 in turn, w = {w:g}", "pixelcnn_msg_labels_digit": "label {digit}, w = {w:g}",
        "pixelcnn_msg_posterior": "p(y | kept rows): {top}; each completion draws its y from it",
        "pixelcnn_msg_not_28": "The digit must be a 28×28 image: pick one or use a drawing.",
        "pixelcnn_msg_complete_head": "{keep} rows kept, T = {T:g}, seed {seed}",
        "pixelcnn_msg_influence": "pixel ({r}, {c}) is number {i} in raster order: {earlier} of the {i} earlier pixels "
                                  "influence it",
        "pixelcnn_msg_blind": ", {blind} earlier pixels do not (blind spot or beyond the receptive field)",
        "pixelcnn_msg_all": " (all of them)",
        "pixelcnn_msg_leak": "; later pixels with influence: {leak}.",
        "pixelcnn_msg_training": "Weights: `{src}` · {epochs} epochs ({steps} steps) in {minutes:.1f} min on {hardware} · "
                                 "**test bits/dim {bpd:.4f}** on all {images} MNIST test images (anchors: RealNVP 1.06, "
                                 "Glow 1.05, FFJORD 0.99)",
        "pixelcnn_msg_training_cond": " · −log₂ p(x) with the label summed out; {given:.4f} given the true label",
    },
    zh={
        "pixelcnn_title": "PixelCNN / PixelSNAIL",
        "pixelcnn_viewer_masked": "掩码 PixelCNN（6 层）",
        "pixelcnn_viewer_shift": "基于平移的卷积堆叠（无注意力）",
        "pixelcnn_viewer_pixelsnail": "PixelSNAIL（已训练）",
        "pixelcnn_sample_h": "### 1 · 采样：一次一个像素",
        "pixelcnn_temperature": "温度 T（对每个像素取 p^(1/T)）",
        "pixelcnn_seed": "随机种子",
        "pixelcnn_n": "样本数",
        "pixelcnn_sample_btn": "采样",
        "pixelcnn_digit": "要画的类别 y", "pixelcnn_digit_all": "0–9 轮流", "pixelcnn_arg_digit": "类别",
        "pixelcnn_w": "引导强度 w（1 = p(x | y)，0 = 无标签）", "pixelcnn_arg_w": "引导强度 w",
        "pixelcnn_grid": "样本（逐行填充）",
        "pixelcnn_complete_h": "### 2 · 根据上面几行补全数字",
        "pixelcnn_keep": "保留的行数",
        "pixelcnn_completions": "补全数量",
        "pixelcnn_complete_btn": "补全",
        "pixelcnn_completion_grid": "最左：保留了前几行的数字；其后是补全结果",
        "pixelcnn_causal_h": "### 3 · 哪些像素能影响某个像素？（梯度）",
        "pixelcnn_viewer": "模型",
        "pixelcnn_row": "像素所在行",
        "pixelcnn_col": "像素所在列",
        "pixelcnn_influence": "|∂ 该像素的输出 / ∂ 输入|（对数刻度）；红色 = 该像素",
        "pixelcnn_loss": "训练损失（bits/dim，滑动平均）",
        "pixelcnn_arg_temperature": "温度", "pixelcnn_arg_samples": "样本数", "pixelcnn_arg_keep": "保留的行数",
        "pixelcnn_arg_completions": "补全数量", "pixelcnn_arg_model": "模型", "pixelcnn_arg_row": "行",
        "pixelcnn_arg_column": "列",
        "pixelcnn_msg_row": "第 {row}/{rows} 行",
        "pixelcnn_msg_sample_head": "T = {T:g}，随机种子 {seed}，{labels}",
        "pixelcnn_msg_labels_all": "标签 0–9 轮流，w = {w:g}", "pixelcnn_msg_labels_digit": "标签 {digit}，w = {w:g}",
        "pixelcnn_msg_posterior": "p(y | 保留的行)：{top}；每个补全从中抽取自己的 y",
        "pixelcnn_msg_not_28": "数字必须是 28×28 的图像：请选一个数字或使用手写。",
        "pixelcnn_msg_complete_head": "保留 {keep} 行，T = {T:g}，随机种子 {seed}",
        "pixelcnn_msg_influence": "像素 ({r}, {c}) 在光栅顺序中排第 {i}：前面 {i} 个像素中有 {earlier} 个影响它",
        "pixelcnn_msg_blind": "，{blind} 个前面的像素不影响它（盲区，或在感受野之外）",
        "pixelcnn_msg_all": "（全部）",
        "pixelcnn_msg_leak": "；后面的像素中有影响的：{leak} 个。",
        "pixelcnn_msg_training": "权重：`{src}` · 训练 {epochs} 轮（{steps} 步），用时 {minutes:.1f} 分钟，硬件 {hardware} · "
                                 "**测试集 bits/dim {bpd:.4f}**，在全部 {images} 张 MNIST 测试图像上（参照：RealNVP 1.06，"
                                 "Glow 1.05，FFJORD 0.99）",
        "pixelcnn_msg_training_cond": " · 对标签求和后的 −log₂ p(x)；给定真实标签时为 {given:.4f}",
    },
)


def _load():
    return ui.load_model("pixelcnn")


def _rows(step) -> str:
    return ui.say("pixelcnn_msg_row", row=step.t + 1, rows=px.H)


# ---- 1. sampling ----------------------------------------------------------------------------------------
def _labels(model, digit, w, n: int, c: ui.Clamped):
    """(labels (n,) or None for an unconditional model, guidance scale w, what the status line says about them)."""
    digit = c.choice("pixelcnn_arg_digit", str(digit), DIGITS, "all")
    w = c.float("pixelcnn_arg_w", w, 0.0, MAX_W, W_DEFAULT)
    if not model.num_classes:
        return None, 1.0, ""
    if digit == "all":
        return class_labels(n), w, ui.say("pixelcnn_msg_labels_all", w=w)
    return class_labels(n, int(digit)), w, ui.say("pixelcnn_msg_labels_digit", digit=digit, w=w)


def sample(temperature=1.0, n=16, seed=0, digit="all", w=W_DEFAULT):
    """n samples at temperature T, streaming the grid after every row -> (grid, status). The class-conditional
    model draws x ~ p(x | y) for the labels `digit` asks for ("all": 0-9 in turn, "0".."9"), guided with scale w
    (px.guided_distribution)."""
    model, msg = _load()
    if model is None:
        yield None, ui.message(msg, "error")
        return
    c = ui.Clamped()
    T = c.float("pixelcnn_arg_temperature", temperature, T_MIN, T_MAX, 1.0)
    n = c.int("pixelcnn_arg_samples", n, 1, MAX_N, 16)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    y, w, labels = _labels(model, digit, w, n, c)
    nrow = int(np.ceil(np.sqrt(n)))
    steps = px.sample_cached(model, n, T, seed, y=y, w=w)
    yield from ui.stream(steps, lambda step: (ui.sheet(step.x, nrow),),
                         ui.say("pixelcnn_msg_sample_head", T=T, seed=seed, labels=labels), c,
                         frames=px.H,
                         where=_rows, threads=1)  # one thread per row: the per-pixel ops gain nothing from two


# ---- 2. completion ------------------------------------------------------------------------------------------
def completion_labels(model, x0: torch.Tensor, keep: int, n: int, seed: int):
    """(labels (n,) or None, status text) for completing x0 (1, 1, H, W) from its top `keep` rows. A conditional
    model gives each completion its own y ~ p(y | kept rows) (px.class_posterior, Bayes' rule): drawing y, then the
    rest given y, is a draw from p(rest | kept rows) of p(x) = sum_y p(y) p(x | y), with no label asked for."""
    if not model.num_classes:
        return None, ""
    post = px.class_posterior(model, x0, keep)[0]  # (K,)
    y = torch.multinomial(post, n, replacement=True, generator=torch.Generator().manual_seed(seed))
    top = torch.argsort(post, descending=True)[:3]
    return y, ui.say("pixelcnn_msg_posterior", top=", ".join(f"{k} ({100 * post[k]:.0f} %)" for k in top.tolist()))


def complete(digit, keep=14, n=4, temperature=1.0, seed=0, w=W_DEFAULT):
    """Keep the top `keep` rows of the digit and sample the rest `n` times; streams (sheet, status): the first
    column is the digit with the hidden rows blanked, then the completions (each with y ~ p(y | kept rows), guided
    with scale w)."""
    model, msg = _load()
    if model is None:
        yield None, ui.message(msg, "error")
        return
    c = ui.Clamped()
    keep = c.int("pixelcnn_arg_keep", keep, 0, px.H - 1, 14)
    n = c.int("pixelcnn_arg_completions", n, 1, MAX_COMPLETIONS, 4)
    T = c.float("pixelcnn_arg_temperature", temperature, T_MIN, T_MAX, 1.0)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    w = c.float("pixelcnn_arg_w", w, 0.0, MAX_W, W_DEFAULT)
    digit = ui.sample_digits()[0][0] if digit is None else np.asarray(digit, dtype=np.uint8)
    if digit.shape != (px.H, px.W):
        yield None, ui.message(ui.say("pixelcnn_msg_not_28"), "warn")
        return
    x0 = data.to_model_range(digit[None]).expand(n, -1, -1, -1)  # (n, 1, 28, 28)
    given = x0[:1].clone()
    given[:, :, keep:] = -1.0
    y, posterior = completion_labels(model, x0[:1], keep, n, seed)
    steps = px.sample_cached(model, n, T, seed, start=x0, keep_rows=keep, y=y, w=w)
    head = ui.say("pixelcnn_msg_complete_head", keep=keep, T=T, seed=seed) + (f" · {posterior}" if posterior else "")
    yield from ui.stream(steps, lambda step: (ui.sheet(torch.cat([given, step.x]), n + 1),), head, c, frames=px.H, where=_rows,
                         threads=1)


# ---- 3. causality viewer ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=3)
def viewer_model(kind: str):
    """The network behind the viewer. The receptive field is a property of the architecture, so the masked
    PixelCNN and the shift stack are freshly initialised (seed 0); PixelSNAIL is the trained model when present."""
    torch.manual_seed(0)
    if kind == "masked":
        return px.MaskedPixelCNN().double().eval()
    if kind == "shift":
        return px.PixelSNAIL(channels=16, n_blocks=3, n_res=1, n_mix=2, attention=False).double().eval()
    model, _ = _load()
    # a float64 copy: .double() works in place, and the loaded model is shared with the samplers (float32)
    return copy.deepcopy(model if model is not None else px.PixelSNAIL()).double().eval()


def influence(kind="pixelsnail", row=14, col=14, digit=None):
    """Gradient magnitude of the model's output at (row, col) with respect to every input pixel -> (image, status)."""
    c = ui.Clamped()
    kind = c.choice("pixelcnn_arg_model", kind, VIEWERS, "pixelsnail")
    r, col_ = c.int("pixelcnn_arg_row", row, 0, px.H - 1, 14), c.int("pixelcnn_arg_column", col, 0, px.W - 1, 14)
    digit = ui.sample_digits()[0][0] if digit is None else np.asarray(digit, dtype=np.uint8)
    x = data.to_model_range(digit[None]).double().requires_grad_(True)
    model = viewer_model(kind)
    with torch.enable_grad():  # whatever grad mode the server's worker thread is in
        # a conditional PixelSNAIL gets label 0: the label enters every pixel alike, so which pixels can influence a
        # pixel does not depend on it
        out = model(x, y=class_labels(1, 0)) if getattr(model, "num_classes", 0) else model(x)
        proj = torch.randn(out.shape[1], dtype=out.dtype, generator=torch.Generator().manual_seed(1))
        (grad,) = torch.autograd.grad(out[0, :, r, col_] @ proj, x)
    g = grad[0, 0].abs().numpy()
    i = r * px.W + col_
    flat = g.flatten()
    earlier = int((flat[:i] > 0).sum())
    blind = i - earlier
    leak = int((flat[i:] > 0).sum())
    shade = np.zeros_like(g)
    nz = g > 0
    if nz.any():
        logs = np.log10(g[nz])
        shade[nz] = 0.25 + 0.75 * (logs - logs.min()) / max(1e-9, logs.max() - logs.min())
    rgb = np.stack([255 * (1 - shade * 0.85), 255 * (1 - shade * 0.6), np.full_like(shade, 255.0)], -1)
    order = np.arange(px.H * px.W).reshape(px.H, px.W)
    rgb[(order > i) & ~nz] = (235, 235, 235)  # the future: grey
    rgb[r, col_] = (220, 38, 38)
    img = np.repeat(np.repeat(rgb.astype(np.uint8), 8, 0), 8, 1)
    status = (ui.say("pixelcnn_msg_influence", r=r, c=col_, i=i, earlier=earlier)
              + (ui.say("pixelcnn_msg_blind", blind=blind) if blind else ui.say("pixelcnn_msg_all"))
              + ui.say("pixelcnn_msg_leak", leak=leak))
    return img, ui.status(c, status)


# ---- training record ---------------------------------------------------------------------------------------
def describe_training(m: dict, src: str) -> str:
    text = ui.say("pixelcnn_msg_training", src=src, epochs=m["epochs"], steps=m["steps"], minutes=m["wall_time_s"] / 60,
                  hardware=ui.hardware(m["hardware"]), bpd=m["final"]["test_bits_per_dim_ema"],
                  images=m["final"]["test_images"])
    if "test_bits_per_dim_given_label_ema" in m["final"]:
        text += ui.say("pixelcnn_msg_training_cond", given=m["final"]["test_bits_per_dim_given_label_ema"])
    return text + ui.warm_start(m)


# ---- layout ---------------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("pixelcnn_sample_h"))
        temperature = gr.Slider(T_MIN, T_MAX, value=1.0, step=0.05, label=ui.t("pixelcnn_temperature"),
                                elem_id="pixelcnn-temperature")
        digit = gr.Dropdown([(ui.t("pixelcnn_digit_all"), d) if d == "all" else (d, d) for d in DIGITS], value="all",
                            label=ui.t("pixelcnn_digit"), elem_id="pixelcnn-digit")
        w = gr.Slider(0.0, MAX_W, value=W_DEFAULT, step=0.25, label=ui.t("pixelcnn_w"), elem_id="pixelcnn-w")
        n, seed, sample_btn = ui.sample_controls(TAB_ID, MAX_N)
        grid = ui.pixels("pixelcnn_grid", 300, elem_id="pixelcnn-grid")
        sample_status = ui.status_line()

        gr.Markdown(ui.t("pixelcnn_complete_h"))
        picker = ui.digit_picker()
        with gr.Row():
            keep = gr.Slider(0, px.H - 1, value=14, step=1, label=ui.t("pixelcnn_keep"))
            n_comp = gr.Slider(1, MAX_COMPLETIONS, value=4, step=1, label=ui.t("pixelcnn_completions"))
            complete_btn = gr.Button(ui.t("pixelcnn_complete_btn"), variant="primary", elem_id="pixelcnn-complete")
        comp_grid = ui.pixels("pixelcnn_completion_grid", 160, elem_id="pixelcnn-completions")
        comp_status = ui.status_line()

        gr.Markdown(ui.t("pixelcnn_causal_h"))
        viewer = gr.Radio(ui.choices("pixelcnn_viewer", VIEWERS), value="masked", label=ui.t("pixelcnn_viewer"))
        with gr.Row():
            row = gr.Slider(0, px.H - 1, value=14, step=1, label=ui.t("pixelcnn_row"), elem_id="pixelcnn-row")
            col = gr.Slider(0, px.W - 1, value=14, step=1, label=ui.t("pixelcnn_col"))
        infl_img = ui.pixels("pixelcnn_influence", 280, elem_id="pixelcnn-influence")
        infl_status = ui.status_line(elem_id="pixelcnn-influence-status")

        ui.share_link(TAB_ID, {"temperature": temperature, "n": n, "seed": seed, "digit": digit, "w": w},
                      primary=sample_btn)
        ui.training_panel("pixelcnn", describe_training, "pixelcnn_loss", y="bits/dim")

    sample_btn.click(sample, [temperature, n, seed, digit, w], [grid, sample_status], api_name="pixelcnn_sample", **ui.SAMPLER)
    picker.wire("pixelcnn_pick_digit", "pixelcnn_use_drawing")
    complete_btn.click(complete, [picker.digit, keep, n_comp, temperature, seed, w], [comp_grid, comp_status],
                       api_name="pixelcnn_complete", **ui.SAMPLER)
    gr.on(None, influence, [viewer, row, col], [infl_img, infl_status], api_name="pixelcnn_influence",
          show_progress="hidden", trigger_mode="always_last")
    return note
