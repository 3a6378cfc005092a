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
KERNEL_CHOICES = [("Sobel x (vertical edges)", "edge_x"), ("Sobel y (horizontal edges)", "edge_y"), ("box blur", "blur"),
                  ("sharpen", "sharpen"), ("identity", "identity")]
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
    },
)


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
    i = c.int("item index", index, 0, len(items) - 1, 0)
    text = f"Fashion-MNIST test item #{i} ({CLASSES['cnn_fashion'][labels[i]]})"
    return items[i], images.upscale(items[i]), ui.status(c, text), "cnn_fashion"


def predict(digit, name="cnn"):
    """The chosen image through classifier `name` -> (probabilities svg, feature-map image, first-layer filter
    image, status)."""
    c = ui.Clamped()
    name = c.choice("classifier", name, list(DATASETS), "cnn")
    model, problem = ui.load_model(name)
    if model is None:
        return "", None, None, ui.status(c, problem, "error")
    x = _digit_tensor(digit)
    if x is None:
        return "", None, None, ui.status(c, "No digit yet: pick one with the slider or draw one.", "warn")
    with torch.no_grad():
        p = F.softmax(model.eval()(x), 1)[0].numpy()
    probs = ui.svg.heatmap_svg(p[None], ["P(class)"], [n[:7] for n in CLASSES[name]],
                               f"class probabilities of the {DATASETS[name]} classifier (softmax of the logits)")
    maps = cnn.feature_maps(model, x)
    tiles = [_gray(m[c].numpy()) for _, m in maps for c in range(8)]
    w = model.conv[0].weight.detach()[:, 0].numpy()  # (32, 3, 3)
    filters = _grid([_gray(k, signed=True) for k in w], 8, 30)
    top = int(p.argmax())
    shapes = ", ".join(f"{name} {tuple(m.shape)}" for name, m in maps)
    text = (f"Prediction {CLASSES[name][top]} with probability {p[top]:.3f} ({DATASETS[name]} classifier). Layers "
            f"(channels, height, width): {shapes}.")
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
    name = c.choice("classifier", name, list(DATASETS), "cnn")
    e = test_errors(name)
    if e is None:
        return "", "", None, None, ui.status(c, f"No test-set record for {name}: run `python benchmarks/cnn.py "
                                                f"--data-dir ../shared/data` after training it.", "error")
    C = e["confusion"].astype(np.float64)
    labels = CLASSES[name]
    short = [s[:7] for s in labels]
    total = C.sum(1, keepdims=True)
    conf = ui.svg.heatmap_svg(np.log1p(C) / np.log1p(C.max()), short, short,
                              "counts C[true, predicted] (rows: true class; shading: log count)", numbers=False,
                              cell=(30, 24))
    conf = conf.replace("</svg>", "") + "".join(
        f'<text x="{_col_x(short, j):.0f}" y="{_row_y(short, i):.0f}" font-size="9" text-anchor="middle" '
        f'fill="{"#fff" if C[i, j] > C.max() / 3 else "#111827"}">{int(C[i, j])}</text>'
        for i in range(10) for j in range(10) if C[i, j]) + "</svg>"
    acc = np.diag(C) / np.maximum(total[:, 0], 1)
    per_class = ui.svg.heatmap_svg(acc[None], ["accuracy"], short, "per-class accuracy", cell=(46, 24))
    t = c.int("true class", true_class if true_class is not None else -1, -1, 9, -1)
    p = c.int("predicted class", pred_class if pred_class is not None else -1, -1, 9, -1)
    order = np.argsort(-e["conf"])
    confident = _sheet(e["images"][order[:16]]) if len(order) else None
    pick = [(e["label"][i], e["pred"][i], e["conf"][i]) for i in order[:16]]
    text = (f"{DATASETS[name]} test set: accuracy {np.trace(C) / C.sum():.4f} on {int(C.sum())} images, "
            f"{len(e['label'])} mistakes. Most confident: "
            + "; ".join(f"{labels[a]} read as {labels[b]} ({q:.3f})" for a, b, q in pick[:6]) + ".")
    cell = None
    if t >= 0 and p >= 0:
        sel = np.nonzero((e["label"] == t) & (e["pred"] == p))[0]
        if t == p:
            text += f" Cell ({labels[t]}, {labels[p]}) is the diagonal: {int(C[t, t])} correct images, none of them mistakes."
        else:
            cell = _sheet(e["images"][sel]) if len(sel) else None
            text += f" Cell (true {labels[t]}, predicted {labels[p]}): {len(sel)} image{'s' if len(sel) != 1 else ''}."
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
        return None, "the kernel must be a table of numbers"
    if k.ndim != 2 or k.size == 0:
        return None, "the kernel must be a non-empty rectangular table"
    if not np.isfinite(k).all():
        return None, "the kernel contains NaN or infinite values; every entry must be a finite number"
    if max(k.shape) > MAX_K:
        return None, f"the kernel is {k.shape[0]}×{k.shape[1]}; at most {MAX_K}×{MAX_K}"
    return torch.as_tensor(k), ""


def convolve(digit, kernel=None, padding=1, stride=1):
    """The digit convolved with `kernel` -> (image: input | direct sum | F.conv2d, status with the output size)."""
    c = ui.Clamped()
    padding = c.int("padding", padding, 0, MAX_PAD, 1)
    stride = c.int("stride", stride, 1, MAX_STRIDE, 1)
    k, problem = parse_kernel(KERNELS["edge_x"] if kernel is None else kernel)
    if k is None:
        return None, ui.status(c, f"Kernel: {problem}.", "error")
    x = _digit_tensor(digit)
    if x is None:
        return None, ui.status(c, "No digit yet: pick one with the slider or draw one.", "warn")
    x = x[0, 0].double()
    kh, kw = k.shape
    H, W = cnn.output_size(28, kh, padding, stride), cnn.output_size(28, kw, padding, stride)
    if H == 0 or W == 0:
        return None, ui.status(c, f"The {kh}×{kw} kernel does not fit in the padded 28×28 image.", "error")
    direct = cnn.conv2d_direct(x, k, padding, stride)
    ref = F.conv2d(x[None, None], k[None, None], padding=padding, stride=stride)[0, 0]
    diff = float((direct - ref).abs().max())
    picture = _grid([_gray(x.numpy()), _gray(direct.numpy(), signed=True), _gray(ref.numpy(), signed=True)], 3, 196, 6)
    text = (f"Output {H}×{W}: ⌊(n + 2p − k)/s⌋ + 1 = ⌊(28 + 2·{padding} − {kh})/{stride}⌋ + 1 = {H} rows and "
            f"⌊(28 + 2·{padding} − {kw})/{stride}⌋ + 1 = {W} columns; F.conv2d gives {tuple(ref.shape)}. Largest difference "
            f"between the written-out sum and F.conv2d: {diff:.2g}. A {kh}×{kw} kernel has {kh * kw} weights wherever it "
            f"is applied; a dense layer from 28×28 to {H}×{W} would need {784 * H * W:,}.")
    return picture, ui.status(c, text)


def kernel_preset(name="edge_x"):
    c = ui.Clamped()
    name = c.choice("kernel", name, list(KERNELS), "edge_x")
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
            preset = gr.Radio(KERNEL_CHOICES, value="edge_x", label=ui.t("cnn_kernel_preset"))
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
