"""The CNN tab. Section 1: a digit (bundled MNIST test digit or your drawing) through the trained classifier: class
probabilities, the feature maps after every layer and the first layer's 3x3 filters. Section 2: the test-set
confusion matrix of the MNIST and the Fashion-MNIST classifier, per-class accuracy, the mistakes of one cell and the
most confident mistakes. Section 3: what a convolution computes, an editable kernel on the chosen digit written out
as a sum (genlib.cnn.conv2d_direct) beside torch's F.conv2d, with padding, stride and the output-size formula.

The network is genlib.cnn.MNISTClassifier, the same `cnn` weights whose features the FID / IS metrics use (99.44 %
MNIST test accuracy); `cnn_fashion` is the same architecture trained on Fashion-MNIST. Test-set figures come from
weights/<name>/test_errors.npz, written by benchmarks/cnn.py (the app does not ship the test sets).
"""
from __future__ import annotations

import functools
import math

import gradio as gr
import numpy as np
import torch
import torch.nn.functional as F

from demos import ui
from genlib import cnn, data, hub, images

TAB_ID = "cnn"
TITLE = "cnn_title"
MODELS = ("cnn", "cnn_fashion")
DATASETS = {"cnn": "MNIST", "cnn_fashion": "Fashion-MNIST"}
CLASSES = {"cnn": [str(i) for i in range(10)],
           "cnn_fashion": ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                           "ankle boot"]}
KERNELS = {"edge_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "edge_y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
           "blur": [[1 / 9] * 3] * 3, "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]]}
MAX_K, MAX_PAD, MAX_STRIDE = 7, 4, 4
CELL = 28  # pixels per feature map in the composite

ui.add_strings(
    en={
        "cnn_title": "CNN classifier",
        "cnn_predict_h": "## 1 · A digit through the network: probabilities, feature maps, filters",
        "cnn_fashion_index": "…or a Fashion-MNIST test item (switches to the Fashion-MNIST classifier)",
        "cnn_maps": "Feature maps (first 8 channels of each layer; rows: conv1, conv2, pool, conv3, conv4, pool)",
        "cnn_filters": "First-layer filters (32 kernels of 3×3; red > 0, blue < 0)",
        "cnn_confusion_h": "## 2 · Test-set confusion matrix and mistakes",
        "cnn_model": "Classifier",
        "cnn_true": "True class",
        "cnn_pred": "Predicted class",
        "cnn_cell_errors": "Test images of this cell",
        "cnn_confident": "The most confident mistakes",
        "cnn_conv_h": "## 3 · What a convolution computes",
        "cnn_kernel_preset": "Kernel",
        "cnn_kernel": "Kernel (edit the numbers)",
        "cnn_padding": "Padding p",
        "cnn_stride": "Stride s",
        "cnn_conv_out": "Input | the sum written out | F.conv2d",
        "cnn_kernel_edge_x": "Sobel x (vertical edges)", "cnn_kernel_edge_y": "Sobel y (horizontal edges)",
        "cnn_kernel_blur": "box blur", "cnn_kernel_sharpen": "sharpen", "cnn_kernel_identity": "identity",
        "cnn_class_0": "T-shirt/top", "cnn_class_1": "trouser", "cnn_class_2": "pullover", "cnn_class_3": "dress", "cnn_class_4": "coat",
        "cnn_class_5": "sandal", "cnn_class_6": "shirt", "cnn_class_7": "sneaker", "cnn_class_8": "bag", "cnn_class_9": "ankle boot",
        "cnn_arg_item": "item index", "cnn_arg_classifier": "classifier", "cnn_arg_true": "true class",
        "cnn_arg_pred": "predicted class", "cnn_arg_padding": "padding", "cnn_arg_stride": "stride",
        "cnn_arg_kernel": "kernel",
        "cnn_msg_fashion_item": "Fashion-MNIST test item #{i} ({label})",
        "cnn_msg_no_digit": "No digit yet: pick one with the slider or draw one.",
        "cnn_msg_probs_title": "class probabilities of the {dataset} classifier (softmax of the logits)",
        "cnn_msg_layer_conv": "conv{k} + ReLU", "cnn_msg_layer_pool": "max-pool after conv{k}",
        "cnn_msg_prediction": "Prediction {label} with probability {p:.3f} ({dataset} classifier). Layers (channels, "
                              "height, width): {shapes}.",
        "cnn_msg_no_record": "No test-set record for {name}: run `python benchmarks/cnn.py --data-dir ../shared/data` "
                             "after training it.",
        "cnn_msg_counts_title": "counts C[true, predicted] (rows: true class; shading: log count)",
        "cnn_msg_accuracy": "accuracy", "cnn_msg_per_class": "per-class accuracy", "cnn_msg_p_class": "P(class)",
        "cnn_msg_confusion": "{dataset} test set: accuracy {accuracy:.4f} on {images} images, {mistakes} mistakes. "
                             "Most confident: {examples}.",
        "cnn_msg_read_as": "{a} read as {b} ({q:.3f})", "cnn_msg_sep": "; ",
        "cnn_msg_diagonal": " Cell ({a}, {b}) is the diagonal: {n} correct images, none of them mistakes.",
        "cnn_msg_cell": " Cell (true {a}, predicted {b}): {n} image{s}.",
        "cnn_msg_kernel_not_numbers": "the kernel must be a table of numbers",
        "cnn_msg_kernel_not_rect": "the kernel must be a non-empty rectangular table",
        "cnn_msg_kernel_not_finite": "the kernel contains NaN or infinite values; every entry must be a finite number",
        "cnn_msg_kernel_too_big": "the kernel is {kh}×{kw}; at most {max}×{max}",
        "cnn_msg_kernel": "Kernel: {problem}.",
        "cnn_msg_no_fit": "The {kh}×{kw} kernel does not fit in the padded 28×28 image.",
        "cnn_msg_conv": "Output {H}×{W}: ⌊(n + 2p − k)/s⌋ + 1 = ⌊(28 + 2·{p} − {kh})/{s}⌋ + 1 = {H} rows and "
                        "⌊(28 + 2·{p} − {kw})/{s}⌋ + 1 = {W} columns; F.conv2d gives {shape}. Largest difference between "
                        "the written-out sum and F.conv2d: {diff:.2g}. A {kh}×{kw} kernel has {weights} weights wherever "
                        "it is applied; a dense layer from 28×28 to {H}×{W} would need {dense:,}.",
    },
    zh={
        "cnn_title": "卷积神经网络分类器",
        "cnn_predict_h": "## 1 · 一个数字穿过网络：类别概率、特征图、卷积核",
        "cnn_fashion_index": "……或者一件 Fashion-MNIST 测试图像（切换到 Fashion-MNIST 分类器）",
        "cnn_maps": "特征图（每层前 8 个通道；各行依次为：卷积1、卷积2、池化、卷积3、卷积4、池化）",
        "cnn_filters": "第一层卷积核（32 个 3×3；红色为正，蓝色为负）",
        "cnn_confusion_h": "## 2 · 测试集混淆矩阵与错误样本",
        "cnn_model": "分类器",
        "cnn_true": "真实类别",
        "cnn_pred": "预测类别",
        "cnn_cell_errors": "这一格中的测试图像",
        "cnn_confident": "置信度最高的错误",
        "cnn_conv_h": "## 3 · 卷积在计算什么",
        "cnn_kernel_preset": "卷积核",
        "cnn_kernel": "卷积核（可编辑数值）",
        "cnn_padding": "填充 p",
        "cnn_stride": "步幅 s",
        "cnn_conv_out": "输入 | 逐项求和 | `F.conv2d`",
        "cnn_kernel_edge_x": "Sobel x（竖直边缘）", "cnn_kernel_edge_y": "Sobel y（水平边缘）",
        "cnn_kernel_blur": "均值模糊", "cnn_kernel_sharpen": "锐化", "cnn_kernel_identity": "恒等",
        "cnn_class_0": "T 恤/上衣", "cnn_class_1": "裤子", "cnn_class_2": "套头衫", "cnn_class_3": "连衣裙", "cnn_class_4": "外套",
        "cnn_class_5": "凉鞋", "cnn_class_6": "衬衫", "cnn_class_7": "运动鞋", "cnn_class_8": "包", "cnn_class_9": "短靴",
        "cnn_arg_item": "图像序号", "cnn_arg_classifier": "分类器", "cnn_arg_true": "真实类别",
        "cnn_arg_pred": "预测类别", "cnn_arg_padding": "填充", "cnn_arg_stride": "步幅",
        "cnn_arg_kernel": "卷积核",
        "cnn_msg_fashion_item": "Fashion-MNIST 测试图像 #{i}（{label}）",
        "cnn_msg_no_digit": "还没有数字：请用滑块选一个，或者手写一个。",
        "cnn_msg_probs_title": "{dataset} 分类器的类别概率（logits 的 softmax）",
        "cnn_msg_layer_conv": "卷积{k} + ReLU", "cnn_msg_layer_pool": "卷积{k} 之后的最大池化",
        "cnn_msg_prediction": "预测为 {label}，概率 {p:.3f}（{dataset} 分类器）。各层形状（通道，高，宽）：{shapes}。",
        "cnn_msg_no_record": "没有 {name} 的测试集记录：训练之后请运行 `python benchmarks/cnn.py --data-dir ../shared/data`。",
        "cnn_msg_counts_title": "计数 C[真实, 预测]（行：真实类别；颜色深浅：计数的对数）",
        "cnn_msg_accuracy": "准确率", "cnn_msg_per_class": "各类别准确率", "cnn_msg_p_class": "P(类别)",
        "cnn_msg_confusion": "{dataset} 测试集：在 {images} 张图像上准确率 {accuracy:.4f}，错误 {mistakes} 个。"
                             "置信度最高的错误：{examples}。",
        "cnn_msg_read_as": "{a} 被认成 {b}（{q:.3f}）", "cnn_msg_sep": "；",
        "cnn_msg_diagonal": "格子（{a}, {b}）在对角线上：{n} 张正确分类的图像，没有错误。",
        "cnn_msg_cell": "格子（真实 {a}，预测 {b}）：{n} 张图像。",
        "cnn_msg_kernel_not_numbers": "卷积核必须是一张数字表",
        "cnn_msg_kernel_not_rect": "卷积核必须是非空的矩形表格",
        "cnn_msg_kernel_not_finite": "卷积核含有 NaN 或无穷大；每个元素都必须是有限的数",
        "cnn_msg_kernel_too_big": "卷积核是 {kh}×{kw}；最大为 {max}×{max}",
        "cnn_msg_kernel": "卷积核：{problem}。",
        "cnn_msg_no_fit": "{kh}×{kw} 的卷积核放不进填充后的 28×28 图像。",
        "cnn_msg_conv": "输出 {H}×{W}：⌊(n + 2p − k)/s⌋ + 1 = ⌊(28 + 2·{p} − {kh})/{s}⌋ + 1 = {H} 行，"
                        "⌊(28 + 2·{p} − {kw})/{s}⌋ + 1 = {W} 列；`F.conv2d` 给出 {shape}。逐项求和与 `F.conv2d` 的最大差值："
                        "{diff:.2g}。{kh}×{kw} 的卷积核无论用在哪里都只有 {weights} 个权重；从 28×28 到 {H}×{W} 的全连接层"
                        "需要 {dense:,} 个。",
    },
)


def _class(name: str, i: int) -> str:
    """Class i of classifier `name` in the request's language (digits stay digits)."""
    return ui.say(f"cnn_class_{int(i)}") if name == "cnn_fashion" else CLASSES[name][int(i)]


def _layer(layer: str) -> str:
    """A genlib.cnn.feature_maps layer name ("conv2 + ReLU", "max-pool after conv2") in the request's language."""
    k = layer.rsplit("conv", 1)[-1].split()[0]
    return ui.say("cnn_msg_layer_pool" if layer.startswith("max-pool") else "cnn_msg_layer_conv", k=k)


def _digit_tensor(digit) -> torch.Tensor | None:
    """uint8 (28, 28) -> (1, 1, 28, 28) in [-1, 1], or None when it is not a 28x28 image."""
    a = np.asarray(digit) if digit is not None else None
    if a is None or a.shape != (28, 28):
        return None
    return torch.as_tensor(a, dtype=torch.float32)[None, None] / 127.5 - 1.0


def _gray(a: np.ndarray, signed: bool = False) -> np.ndarray:
    """A map -> uint8 RGB: grey scaled to its own range, or blue-white-red around 0 when signed."""
    a = np.asarray(a, dtype=np.float64)
    if signed:
        s = max(float(np.abs(a).max()), 1e-12)
        t = np.clip(a / s, -1, 1)[..., None]
        red, blue, white = np.array([220, 38, 38]), np.array([37, 99, 235]), np.array([255, 255, 255])
        return np.where(t > 0, white + (red - white) * t, white + (blue - white) * -t).astype(np.uint8)
    lo, hi = float(a.min()), float(a.max())
    g = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return np.repeat((255 * g)[..., None], 3, -1).astype(np.uint8)


def _grid(tiles: list[np.ndarray], ncol: int, size: int, gap: int = 2) -> np.ndarray:
    """RGB tiles (h, w, 3), each upscaled (nearest) to size x size, in a grid on a light background."""
    nrow = math.ceil(len(tiles) / ncol)
    out = np.full((nrow * (size + gap) + gap, ncol * (size + gap) + gap, 3), 235, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, ncol)
        ys = (np.arange(size) * t.shape[0] // size)[:, None]
        xs = (np.arange(size) * t.shape[1] // size)[None, :]
        out[gap + r * (size + gap): gap + r * (size + gap) + size, gap + c * (size + gap): gap + c * (size + gap) + size] = t[ys, xs]
    return out


# ---- 1. one digit through the network ---------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def fashion_items() -> tuple[np.ndarray, np.ndarray]:
    """The bundled Fashion-MNIST test items (uint8 (100, 28, 28), labels), read once."""
    return data.load_sample(data.FASHION_SAMPLE_PATH)


def pick_fashion(index=0):
    """Bundled Fashion-MNIST item `index` -> (image, preview, status, classifier "cnn_fashion")."""
    c = ui.Clamped()
    items, labels = fashion_items()
    i = c.int("cnn_arg_item", index, 0, len(items) - 1, 0)
    text = ui.say("cnn_msg_fashion_item", i=i, label=_class("cnn_fashion", labels[i]))
    return items[i], images.upscale(items[i]), ui.status(c, text), "cnn_fashion"


def predict(digit, name="cnn"):
    """The chosen image through classifier `name` -> (probabilities svg, feature-map image, first-layer filter
    image, status)."""
    c = ui.Clamped()
    name = c.choice("cnn_arg_classifier", name, list(DATASETS), "cnn")
    model, problem = ui.load_model(name)
    if model is None:
        return "", None, None, ui.status(c, problem, "error")
    x = _digit_tensor(digit)
    if x is None:
        return "", None, None, ui.status(c, ui.say("cnn_msg_no_digit"), "warn")
    with torch.no_grad():
        p = F.softmax(model.eval()(x), 1)[0].numpy()
    probs = ui.svg.heatmap_svg(p[None], [ui.say("cnn_msg_p_class")], [_class(name, i)[:7] for i in range(10)],
                               ui.say("cnn_msg_probs_title", dataset=DATASETS[name]))
    maps = cnn.feature_maps(model, x)
    tiles = [_gray(m[c].numpy()) for _, m in maps for c in range(8)]
    w = model.conv[0].weight.detach()[:, 0].numpy()  # (32, 3, 3)
    filters = _grid([_gray(k, signed=True) for k in w], 8, 30)
    top = int(p.argmax())
    shapes = ", ".join(f"{_layer(layer)} {tuple(m.shape)}" for layer, m in maps)
    text = ui.say("cnn_msg_prediction", label=_class(name, top), p=p[top], dataset=DATASETS[name], shapes=shapes)
    return probs, _grid(tiles, 8, CELL), filters, ui.status(c, text)


# ---- 2. the test-set confusion matrix ---------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def test_errors(name: str) -> dict | None:
    """weights/<name>/test_errors.npz (benchmarks/cnn.py) as a dict, or None when it is missing."""
    try:  # the folder hub.load reads (Hub snapshot or weights/<name>/); hub has no public name for it yet
        path = hub.folder(name) / "test_errors.npz"
    except hub.ModelUnavailable:
        return None
    if not path.exists():
        return None
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def confusion_view(name="cnn", true_class=None, pred_class=None):
    """-> (confusion svg, per-class accuracy svg, this cell's mistakes, most confident mistakes, status)."""
    c = ui.Clamped()
    name = c.choice("cnn_arg_classifier", name, list(DATASETS), "cnn")
    e = test_errors(name)
    if e is None:
        return "", "", None, None, ui.status(c, ui.say("cnn_msg_no_record", name=name), "error")
    C = e["confusion"].astype(np.float64)
    labels = [_class(name, i) for i in range(10)]
    short = [s[:7] for s in labels]
    total = C.sum(1, keepdims=True)
    conf = ui.svg.heatmap_svg(np.log1p(C) / np.log1p(C.max()), short, short,
                              ui.say("cnn_msg_counts_title"), numbers=False,
                              cell=(30, 24))
    conf = conf.replace("</svg>", "") + "".join(
        f'<text x="{_col_x(short, j):.0f}" y="{_row_y(short, i):.0f}" font-size="9" text-anchor="middle" '
        f'fill="{"#fff" if C[i, j] > C.max() / 3 else "#111827"}">{int(C[i, j])}</text>'
        for i in range(10) for j in range(10) if C[i, j]) + "</svg>"
    acc = np.diag(C) / np.maximum(total[:, 0], 1)
    per_class = ui.svg.heatmap_svg(acc[None], [ui.say("cnn_msg_accuracy")], short, ui.say("cnn_msg_per_class"),
                                   cell=(46, 24))
    t = c.int("cnn_arg_true", true_class if true_class is not None else -1, -1, 9, -1)
    p = c.int("cnn_arg_pred", pred_class if pred_class is not None else -1, -1, 9, -1)
    order = np.argsort(-e["conf"])
    confident = _sheet(e["images"][order[:16]]) if len(order) else None
    pick = [(e["label"][i], e["pred"][i], e["conf"][i]) for i in order[:16]]
    examples = ui.say("cnn_msg_sep").join(ui.say("cnn_msg_read_as", a=labels[a], b=labels[b], q=q) for a, b, q in pick[:6])
    text = ui.say("cnn_msg_confusion", dataset=DATASETS[name], accuracy=np.trace(C) / C.sum(), images=int(C.sum()),
                  mistakes=len(e["label"]), examples=examples)
    cell = None
    if t >= 0 and p >= 0:
        sel = np.nonzero((e["label"] == t) & (e["pred"] == p))[0]
        if t == p:
            text += ui.say("cnn_msg_diagonal", a=labels[t], b=labels[p], n=int(C[t, t]))
        else:
            cell = _sheet(e["images"][sel]) if len(sel) else None
            text += ui.say("cnn_msg_cell", a=labels[t], b=labels[p], n=len(sel), s="s" if len(sel) != 1 else "")
    return conf, per_class, cell, confident, ui.status(c, text)


def _col_x(cols, j):  # centre of column j in heatmap_svg's layout with numbers=False, cell (30, 24)
    left = max(34, 8 + 7 * max(map(len, cols)))
    return left + j * 30 + 15


def _row_y(rows, i):
    top = 24 + 7 * max(map(len, rows))
    return top + i * 24 + 16


def _sheet(images: np.ndarray) -> np.ndarray | None:
    if not len(images):
        return None
    return _grid([np.repeat(im[..., None], 3, -1) for im in images[:32]], 8, 56)


# ---- 3. what a convolution computes -----------------------------------------------------------------------
def parse_kernel(table) -> tuple[torch.Tensor | None, str]:
    """A table of numbers (list of rows, pandas frame or the API's {"data": ...}) -> (float64 (kh, kw), "") or
    (None, what is wrong)."""
    if isinstance(table, dict):
        table = table.get("data")
    if hasattr(table, "to_numpy"):
        table = table.to_numpy(dtype=object).tolist()
    try:
        k = np.array([[float(v) for v in row] for row in table], dtype=np.float64)
    except (TypeError, ValueError):
        return None, ui.say("cnn_msg_kernel_not_numbers")
    if k.ndim != 2 or k.size == 0:
        return None, ui.say("cnn_msg_kernel_not_rect")
    if not np.isfinite(k).all():
        return None, ui.say("cnn_msg_kernel_not_finite")
    if max(k.shape) > MAX_K:
        return None, ui.say("cnn_msg_kernel_too_big", kh=k.shape[0], kw=k.shape[1], max=MAX_K)
    return torch.as_tensor(k), ""


def convolve(digit, kernel=None, padding=1, stride=1):
    """The digit convolved with `kernel` -> (image: input | direct sum | F.conv2d, status with the output size)."""
    c = ui.Clamped()
    padding = c.int("cnn_arg_padding", padding, 0, MAX_PAD, 1)
    stride = c.int("cnn_arg_stride", stride, 1, MAX_STRIDE, 1)
    k, problem = parse_kernel(KERNELS["edge_x"] if kernel is None else kernel)
    if k is None:
        return None, ui.status(c, ui.say("cnn_msg_kernel", problem=problem), "error")
    x = _digit_tensor(digit)
    if x is None:
        return None, ui.status(c, ui.say("cnn_msg_no_digit"), "warn")
    x = x[0, 0].double()
    kh, kw = k.shape
    H, W = cnn.output_size(28, kh, padding, stride), cnn.output_size(28, kw, padding, stride)
    if H == 0 or W == 0:
        return None, ui.status(c, ui.say("cnn_msg_no_fit", kh=kh, kw=kw), "error")
    direct = cnn.conv2d_direct(x, k, padding, stride)
    ref = F.conv2d(x[None, None], k[None, None], padding=padding, stride=stride)[0, 0]
    diff = float((direct - ref).abs().max())
    picture = _grid([_gray(x.numpy()), _gray(direct.numpy(), signed=True), _gray(ref.numpy(), signed=True)], 3, 196, 6)
    text = ui.say("cnn_msg_conv", H=H, W=W, p=padding, s=stride, kh=kh, kw=kw, shape=tuple(ref.shape), diff=diff,
                  weights=kh * kw, dense=784 * H * W)
    return picture, ui.status(c, text)


def kernel_preset(name="edge_x"):
    c = ui.Clamped()
    name = c.choice("cnn_arg_kernel", name, list(KERNELS), "edge_x")
    return {"headers": [str(j + 1) for j in range(3)], "data": KERNELS[name]}


# ---- layout -----------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab inside an open gr.Tab; the model is read on the first prediction (page load)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("cnn_predict_h"))
        picker = ui.digit_picker()
        with gr.Row():
            fashion_index = gr.Slider(0, 99, value=0, step=1, label=ui.t("cnn_fashion_index"))  # 100 bundled items
            model1 = gr.Radio([(v, k) for k, v in DATASETS.items()], value="cnn", label=ui.t("cnn_model"))
        probs = gr.HTML(elem_id="cnn-probs")
        with gr.Row():
            maps = ui.pixels("cnn_maps", 360, elem_id="cnn-maps")
            filters = ui.pixels("cnn_filters", 160, elem_id="cnn-filters")
        pred_status = ui.status_line(elem_id="cnn-status")

        gr.Markdown(ui.t("cnn_conv_h"))
        with gr.Row():
            preset = gr.Radio(ui.choices("cnn_kernel", KERNELS), value="edge_x", label=ui.t("cnn_kernel_preset"))
            padding = gr.Slider(0, MAX_PAD, value=1, step=1, label=ui.t("cnn_padding"), elem_id="cnn-padding")
            stride = gr.Slider(1, MAX_STRIDE, value=1, step=1, label=ui.t("cnn_stride"))
        kernel = gr.Dataframe(KERNELS["edge_x"], headers=["1", "2", "3"], datatype="number", type="array",
                              label=ui.t("cnn_kernel"), interactive=True, elem_id="cnn-kernel")
        conv_img = ui.pixels("cnn_conv_out", 220, elem_id="cnn-conv")
        conv_status = ui.status_line(elem_id="cnn-conv-status")

        gr.Markdown(ui.t("cnn_confusion_h"))
        with gr.Row():
            which = gr.Radio([(v, k) for k, v in DATASETS.items()], value="cnn", label=ui.t("cnn_model"))
            true_c = gr.Dropdown([("—", -1)] + [(str(i), i) for i in range(10)], value=-1, label=ui.t("cnn_true"))
            pred_c = gr.Dropdown([("—", -1)] + [(str(i), i) for i in range(10)], value=-1, label=ui.t("cnn_pred"))
        with gr.Row():
            conf_html = gr.HTML(elem_id="cnn-confusion")
            acc_html = gr.HTML(elem_id="cnn-per-class")
        with gr.Row():
            cell_img = ui.pixels("cnn_cell_errors", 240, elem_id="cnn-cell")
            confident_img = ui.pixels("cnn_confident", 240, elem_id="cnn-confident")
        conf_status = ui.status_line(elem_id="cnn-confusion-status")

    # triggers=None: on page load and whenever an input changes (the picker's slider or drawing changes the digit)
    picker.wire("cnn_pick", "cnn_draw")
    fashion_index.release(pick_fashion, fashion_index, [picker.digit, picker.preview, picker.status, model1],
                          api_name="cnn_pick_fashion", show_progress="hidden")
    gr.on(None, predict, [picker.digit, model1], [probs, maps, filters, pred_status], api_name="cnn_predict",
          show_progress="hidden", **ui.QUICK_MODEL)
    preset.change(kernel_preset, preset, kernel, api_name="cnn_kernel_preset", show_progress="hidden")
    gr.on(None, convolve, [picker.digit, kernel, padding, stride],
          [conv_img, conv_status], api_name="cnn_convolve", show_progress="hidden", trigger_mode="always_last")
    gr.on(None, confusion_view, [which, true_c, pred_c], [conf_html, acc_html, cell_img, confident_img, conf_status],
          api_name="cnn_confusion", show_progress="hidden", trigger_mode="always_last")
    return note
