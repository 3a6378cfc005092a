"""The SimCLR tab. 1: a batch of bundled Fashion-MNIST items and two augmented views of each, re-drawn from a seed,
one toggle per augmentation. 2: the loss in the open: the 2N x 2N cosine-similarity matrix of those views' projections
z and, for one anchor, the NT-Xent softmax over the other 2N - 1 views at a temperature tau, with the positive's rank
and the loss. 3: nearest neighbours of an item (or a drawing) in h, in z and in pixels among 2,000 test images.
4: 2-D maps (PCA) of h and of raw pixels of those test images, by class. 5: the linear probe at 10 / 100 / all labels
per class on h, z and pixels (benchmarks/results/simclr.json, written by benchmarks/simclr.py) and the singular
values of g's first weight matrix.

The math is genlib.simclr (augmentations, similarity, anchor_softmax, nearest, pca_2d); the test images come from
weights/simclr/gallery.npz (written by benchmarks/simclr.py; the app does not ship the test set).
"""
from __future__ import annotations

import functools
import html
import json
from pathlib import Path

import gradio as gr
import numpy as np
import torch

from demos import ui
from genlib import data, hub, images, simclr

TAB_ID = "simclr"
TITLE = "simclr_title"
MODELS = ("simclr",)
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "simclr.json"
AUGS = list(simclr.AUGMENTATIONS)
MIN_N, MAX_N = 2, 12  # images per batch: 2N views, at most 24
TAU_MIN, TAU_MAX = 0.01, 10.0
K_NEIGHBOURS = 8
MAP_POINTS = 1000  # test images on each 2-D map
CLASS_COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
                "#65a30d"]
FEATURES = ("h", "z", "pixels")
CLASS_EN = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"]
CLASS_ZH = ["T 恤/上衣", "裤子", "套头衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"]

ui.add_strings(
    en={
        "simclr_title": "SimCLR (contrastive)",
        **{f"simclr_aug_{a}": t for a, t in zip(AUGS, ["random resized crop", "rotation / zoom / shift", "horizontal flip",
                                                      "contrast / brightness", "Gaussian blur", "noise", "random erasing"])},
        **{f"simclr_msg_class_{i}": c for i, c in enumerate(CLASS_EN)},
        "simclr_views_h": "## 1 · Two views of every image",
        "simclr_views_intro": "Rows: the batch, its first views t(x), its second views t′(x). Each augmentation can be "
                              "switched off; the same seed draws the same views.",
        "simclr_n": "Images in the batch N", "simclr_seed": "Seed", "simclr_augs": "Augmentations",
        "simclr_views_img": "x | t(x) | t′(x)",
        "simclr_loss_h": "## 2 · The loss, in the open",
        "simclr_loss_intro": "Cosine similarities of the 2N projections z (rows and columns: a1…aN are the first views, "
                             "b1…bN the second). Choose an anchor: NT-Xent is a softmax over the other 2N − 1 views, and "
                             "the loss asks for the positive (its other view, ★) to win.",
        "simclr_anchor": "Anchor i (0 … 2N − 1)", "simclr_tau": "Temperature τ",
        "simclr_neigh_h": "## 3 · Neighbours",
        "simclr_neigh_intro": "The 8 nearest of 2,000 Fashion-MNIST test images to the chosen item, in h (cosine), in z "
                              "(cosine) and in raw pixels (Euclidean).",
        "simclr_item": "Fashion-MNIST test item (bundled)", "simclr_sketch": "…or draw / upload a garment",
        "simclr_use_drawing": "Use my drawing", "simclr_item_img": "Chosen item",
        "simclr_neigh_img": "Rows: nearest in h | in z | in pixels",
        "simclr_space_h": "## 4 · The space",
        "simclr_space_btn": "Draw the maps",
        "simclr_probe_h": "## 5 · Linear probe, and the low-rank head",
        "simclr_loss": "Training loss (NT-Xent)",
        "simclr_arg_n": "images in the batch", "simclr_arg_anchor": "anchor", "simclr_arg_tau": "temperature τ",
        "simclr_arg_item": "item index", "simclr_arg_augs": "augmentations",
        "simclr_msg_views": "{n} images (items {items}), two views each from seed {seed}; augmentations: {augs}.",
        "simclr_msg_none": "none (the views equal the images)",
        "simclr_msg_sim_title": "cosine similarity s_ik of the 2N = {n2} projections z",
        "simclr_msg_softmax_title": "NT-Xent softmax of anchor {anchor} at τ = {tau:g} (★ the positive)",
        "simclr_msg_loss": "Anchor {anchor}: positive {pos} has similarity {s:.3f}, probability {p:.3f}, rank {rank} of "
                           "{others}; loss term ℓ = −log p = {loss:.3f} (chance: log {others} = {chance:.3f}). Batch "
                           "NT-Xent at this τ: {batch:.3f}; most similar other view: {top} ({top_s:.3f}).",
        "simclr_msg_item": "Fashion-MNIST test item #{i} ({label})",
        "simclr_msg_drawn": "your drawing",
        "simclr_msg_no_item": "No item yet: pick one with the slider or draw one.",
        "simclr_msg_no_gallery": "No test images for the neighbours and maps (weights/simclr/gallery.npz): run "
                                 "`python benchmarks/simclr.py --data-dir ../shared/data`.",
        "simclr_msg_neigh": "Query: {query}. Neighbours sharing its class ({label}): h {h}/{k}, z {z}/{k}, pixels "
                            "{px}/{k}. h: {h_classes}. Pixels: {px_classes}.",
        "simclr_msg_neigh_drawn": "Query: {query}. Classes of the nearest in h: {h_classes}; in z: {z_classes}; in "
                                  "pixels: {px_classes}.",
        "simclr_msg_map_h": "PCA of h ({d}-d)", "simclr_msg_map_px": "PCA of raw pixels (784-d)",
        "simclr_msg_space": "{n} test images, coloured by class. The two principal directions keep {var_h:.0%} of the "
                            "variance of h and {var_px:.0%} of the pixels'. Nearest-class-mean accuracy in these 2-D "
                            "maps: h {acc_h:.1%}, pixels {acc_px:.1%}.",
        "simclr_msg_no_results": "No probe results yet: run `python benchmarks/simclr.py --data-dir ../shared/data`.",
        "simclr_msg_bad_results": "benchmarks/results/simclr.json could not be read ({error}).",
        "simclr_msg_probe_title": "linear probe test accuracy on frozen features",
        "simclr_msg_labels": "{n} per class", "simclr_msg_all": "all",
        "simclr_msg_feat_h": "h = f(x)", "simclr_msg_feat_z": "z = g(h)", "simclr_msg_feat_pixels": "raw pixels",
        "simclr_msg_sv_title": "singular values of g's first weight matrix W₁ (sorted, ÷ the largest)",
        "simclr_msg_sv_trained": "trained", "simclr_msg_sv_init": "at initialisation (same shape, seed 0)",
        "simclr_msg_probe": "From {command} ({date}): with all labels, h {h:.1%}, z {z:.1%}, pixels {px:.1%}{sup}. k-NN "
                            "(k = 20, cosine) on h: {knn:.1%}. h beats z at every budget: {hz}; h beats pixels at every "
                            "budget: {hp}. W₁: {big} singular values hold 90 % of the energy Σσ² ({rand} at "
                            "initialisation).",
        "simclr_msg_sup": "; the same CNN trained with labels end to end {acc:.1%}",
        "simclr_msg_yes": "yes", "simclr_msg_no": "no",
        "simclr_msg_training": "Weights from {src}: {steps} steps of batch {batch} ({negatives} negatives per anchor, "
                               "τ = {tau}) in {minutes:.1f} min on {hardware}; linear probe on h {probe:.1%}, k-NN on h "
                               "{knn:.1%}.",
    },
    zh={
        "simclr_title": "SimCLR（对比学习）",
        **{f"simclr_aug_{a}": t for a, t in zip(AUGS, ["随机缩放裁剪", "旋转 / 缩放 / 平移", "水平翻转", "对比度 / 亮度",
                                                      "高斯模糊", "噪声", "随机擦除"])},
        **{f"simclr_msg_class_{i}": c for i, c in enumerate(CLASS_ZH)},
        "simclr_views_h": "## 1 · 每张图像的两个视图",
        "simclr_views_intro": "各行依次为：这一批图像、它们的第一个视图 t(x)、第二个视图 t′(x)。每种数据增强都可以关掉；"
                              "同一个随机种子给出同样的视图。",
        "simclr_n": "一批中的图像数 N", "simclr_seed": "随机种子", "simclr_augs": "数据增强",
        "simclr_views_img": "x | t(x) | t′(x)",
        "simclr_loss_h": "## 2 · 把损失摊开来看",
        "simclr_loss_intro": "2N 个投影 z 两两之间的余弦相似度（行与列：a1…aN 是第一个视图，b1…bN 是第二个）。选一个锚点："
                             "NT-Xent 是在其余 2N − 1 个视图上的 softmax，损失要求正样本（它的另一个视图，★）胜出。",
        "simclr_anchor": "锚点 i（0 … 2N − 1）", "simclr_tau": "温度 τ",
        "simclr_neigh_h": "## 3 · 近邻",
        "simclr_neigh_intro": "在 2000 张 Fashion-MNIST 测试图像中，离所选图像最近的 8 张：按 h（余弦）、按 z（余弦）、"
                              "按原始像素（欧氏距离）。",
        "simclr_item": "Fashion-MNIST 测试图像（随附）", "simclr_sketch": "……或者手绘 / 上传一件衣物",
        "simclr_use_drawing": "使用我的手绘", "simclr_item_img": "选中的图像",
        "simclr_neigh_img": "各行：h 中最近 | z 中最近 | 像素中最近",
        "simclr_space_h": "## 4 · 表示空间",
        "simclr_space_btn": "画出二维图",
        "simclr_probe_h": "## 5 · 线性探针，以及低秩的投影头",
        "simclr_loss": "训练损失（NT-Xent）",
        "simclr_arg_n": "一批中的图像数", "simclr_arg_anchor": "锚点", "simclr_arg_tau": "温度 τ",
        "simclr_arg_item": "图像序号", "simclr_arg_augs": "数据增强",
        "simclr_msg_views": "{n} 张图像（序号 {items}），每张用随机种子 {seed} 抽两个视图；数据增强：{augs}。",
        "simclr_msg_none": "无（视图就是原图）",
        "simclr_msg_sim_title": "2N = {n2} 个投影 z 的余弦相似度 s_ik",
        "simclr_msg_softmax_title": "锚点 {anchor} 在 τ = {tau:g} 时的 NT-Xent softmax（★ 为正样本）",
        "simclr_msg_loss": "锚点 {anchor}：正样本 {pos} 的相似度为 {s:.3f}，概率 {p:.3f}，在 {others} 个视图中排第 {rank}；"
                           "损失项 ℓ = −log p = {loss:.3f}（随机猜测：log {others} = {chance:.3f}）。这个 τ 下整批的 "
                           "NT-Xent：{batch:.3f}；最相似的其他视图：{top}（{top_s:.3f}）。",
        "simclr_msg_item": "Fashion-MNIST 测试图像 #{i}（{label}）",
        "simclr_msg_drawn": "你的手绘",
        "simclr_msg_no_item": "还没有图像：请用滑块选一张，或者手绘一张。",
        "simclr_msg_no_gallery": "没有用于近邻和二维图的测试图像（`weights/simclr/gallery.npz`）：请运行 "
                                 "`python benchmarks/simclr.py --data-dir ../shared/data`。",
        "simclr_msg_neigh": "查询：{query}。与它同类（{label}）的近邻数：h {h}/{k}，z {z}/{k}，像素 {px}/{k}。h 中的类别："
                            "{h_classes}。像素中的类别：{px_classes}。",
        "simclr_msg_neigh_drawn": "查询：{query}。h 中最近者的类别：{h_classes}；z 中：{z_classes}；像素中：{px_classes}。",
        "simclr_msg_map_h": "h（{d} 维）的主成分分析", "simclr_msg_map_px": "原始像素（784 维）的主成分分析",
        "simclr_msg_space": "{n} 张测试图像，按类别着色。前两个主方向保留了 h 方差的 {var_h:.0%}、像素方差的 {var_px:.0%}。"
                            "在这两张二维图上按最近类均值分类的准确率：h {acc_h:.1%}，像素 {acc_px:.1%}。",
        "simclr_msg_no_results": "还没有线性探针的结果：请运行 `python benchmarks/simclr.py --data-dir ../shared/data`。",
        "simclr_msg_bad_results": "无法读取 `benchmarks/results/simclr.json`（`{error}`）。",
        "simclr_msg_probe_title": "冻结特征上线性探针的测试准确率",
        "simclr_msg_labels": "每类 {n} 个", "simclr_msg_all": "全部",
        "simclr_msg_feat_h": "h = f(x)", "simclr_msg_feat_z": "z = g(h)", "simclr_msg_feat_pixels": "原始像素",
        "simclr_msg_sv_title": "g 第一个权重矩阵 W₁ 的奇异值（从大到小，除以最大值）",
        "simclr_msg_sv_trained": "训练后", "simclr_msg_sv_init": "初始化时（同样形状，随机种子 0）",
        "simclr_msg_probe": "来自 {command}（{date}）：用全部标签时，h {h:.1%}，z {z:.1%}，像素 {px:.1%}{sup}。h 上的 k 近邻"
                            "（k = 20，余弦）：{knn:.1%}。h 在每个标签数下都胜过 z：{hz}；h 在每个标签数下都胜过像素：{hp}。"
                            "W₁：{big} 个奇异值占了能量 Σσ² 的 90%（初始化时为 {rand} 个）。",
        "simclr_msg_sup": "；同一个卷积网络用标签端到端训练：{acc:.1%}",
        "simclr_msg_yes": "是", "simclr_msg_no": "否",
        "simclr_msg_training": "权重来自 {src}：批大小 {batch}（每个锚点 {negatives} 个负样本，τ = {tau}）训练 {steps} 步，"
                               "用时 {minutes:.1f} 分钟（{hardware}）；h 上的线性探针 {probe:.1%}，h 上的 k 近邻 {knn:.1%}。",
    },
)


def _class(i: int) -> str:
    return ui.say(f"simclr_msg_class_{int(i)}")


@functools.lru_cache(maxsize=1)
def items() -> tuple[np.ndarray, np.ndarray]:
    """The 100 bundled Fashion-MNIST test items (uint8 (100, 28, 28), labels)."""
    return data.load_sample(data.FASHION_SAMPLE_PATH)


def _ops(augs, c: ui.Clamped) -> tuple[str, ...]:
    """The chosen augmentations in the pipeline's order; anything unknown is dropped with a message."""
    if augs is None:
        return tuple(AUGS)
    augs = [augs] if isinstance(augs, str) else list(augs) if isinstance(augs, (list, tuple)) else None
    if augs is None:
        c.messages.append(ui.say("ui_msg_not_choice", name=ui.say("simclr_arg_augs"), value="?", choices=AUGS,
                                 default=repr(AUGS)))
        return tuple(AUGS)
    for a in augs:
        if a not in AUGS:
            c.choice("simclr_arg_augs", a, AUGS, AUGS[0])  # records the message; the value is dropped
    return tuple(a for a in AUGS if a in augs)


@functools.lru_cache(maxsize=32)
def _batch(n: int, seed: int, ops: tuple[str, ...]):
    """(item indices, x (n, 1, 28, 28), view a, view b): n bundled items and their two views, all from `seed`."""
    imgs, _ = items()
    pick = torch.randperm(len(imgs), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    x = data.to_model_range(imgs[pick.numpy()])
    a, b = simclr.two_views(x, seed, ops)
    return pick.tolist(), x, a, b


def _clamp_batch(c: ui.Clamped, n, seed, augs):
    n = c.int("simclr_arg_n", n, MIN_N, MAX_N, 8)
    seed = c.int("ui_arg_seed", seed, 0, 2**31 - 1, 0)
    return n, seed, _ops(augs, c)


# ---- 1. views ---------------------------------------------------------------------------------------------
def views(n=8, seed=0, augs=None):
    """-> (sheet: the images, their first views, their second views; status)."""
    c = ui.Clamped()
    n, seed, ops = _clamp_batch(c, n, seed, augs)
    pick, x, a, b = _batch(n, seed, ops)
    sheet = images.upscale(ui.sheet(torch.cat([x, a, b]), nrow=n), 2)
    names = ", ".join(ui.say(f"simclr_aug_{o}") for o in ops) or ui.say("simclr_msg_none")
    return sheet, ui.status(c, ui.say("simclr_msg_views", n=n, items=", ".join(map(str, pick)), seed=seed, augs=names))


# ---- 2. the loss ------------------------------------------------------------------------------------------
def _view_names(n: int) -> list[str]:
    return [f"a{i + 1}" for i in range(n)] + [f"b{i + 1}" for i in range(n)]


def loss_view(n=8, seed=0, augs=None, anchor=0, tau=0.5):
    """-> (similarity heat map svg, anchor softmax svg, status) for the views of views(n, seed, augs)."""
    c = ui.Clamped()
    n, seed, ops = _clamp_batch(c, n, seed, augs)
    anchor = c.int("simclr_arg_anchor", anchor, 0, 2 * n - 1, 0)
    tau = c.float("simclr_arg_tau", tau, TAU_MIN, TAU_MAX, 0.5)
    model, problem = ui.load_model("simclr")
    if model is None:
        return "", "", ui.status(c, problem, "error")
    _, _, a, b = _batch(n, seed, ops)
    with torch.no_grad():
        _, z = model.eval()(torch.cat([a, b]))
    z_a, z_b = z[:n].double(), z[n:].double()
    s = simclr.similarity(z_a, z_b)  # (2N, 2N)
    p, loss, rank = simclr.anchor_softmax(s, anchor, tau)
    batch = simclr.nt_xent(z_a, z_b, tau).item()
    names = _view_names(n)
    pos = int(simclr.positives(n)[anchor])
    marked = [f"{v}★" if j == pos else v for j, v in enumerate(names)]
    heat = ui.svg.heatmap_svg(s.numpy(), names, names, ui.say("simclr_msg_sim_title", n2=2 * n), signed=True,
                              numbers=False, cell=(16, 16), masked=np.eye(2 * n, dtype=bool), masked_text="1")
    marked[anchor] = f"({names[anchor]})"  # the anchor itself: probability 0, not a candidate
    colors = ["#dc2626" if j == pos else "#9ca3af" if j == anchor else "#2563eb" for j in range(2 * n)]
    bars = bars_svg(marked, {"p": p.tolist()}, ui.say("simclr_msg_softmax_title", anchor=names[anchor], tau=tau),
                    width=max(320, 40 * n + 60), height=190, lo=0.0, values=n <= 6, colors=colors)
    others = s[anchor].clone()
    others[anchor] = -2
    top = int(others.argmax())
    text = ui.say("simclr_msg_loss", anchor=names[anchor], pos=names[pos], s=float(s[anchor, pos]), p=float(p[pos]),
                  rank=rank, others=2 * n - 1, loss=loss, chance=float(np.log(2 * n - 1)), batch=batch, top=names[top],
                  top_s=float(s[anchor, top]))
    return heat, bars, ui.status(c, text)


# ---- 3. neighbours ----------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def gallery() -> tuple[np.ndarray, np.ndarray] | None:
    """The 2,000 test images of weights/simclr/gallery.npz (uint8 (M, 28, 28), labels), or None when missing."""
    try:
        path = hub.folder("simclr") / "gallery.npz"
    except hub.ModelUnavailable:
        return None
    if not path.exists():
        return None
    with np.load(path) as f:
        return f["images"], f["labels"].astype(np.int64)


@functools.lru_cache(maxsize=1)
def _gallery_features(model_id: int):
    """(x, h, z) of the gallery under the loaded model (computed on first use, then kept)."""
    imgs, _ = gallery()
    model, _ = ui.load_model("simclr")
    x = data.to_model_range(imgs)
    h, z = simclr.embed(model, x)
    return x, h, z


def pick_item(index=0):
    """Bundled item `index` -> (item, preview, label, status)."""
    c = ui.Clamped()
    imgs, labels = items()
    i = c.int("simclr_arg_item", index, 0, len(imgs) - 1, 0)
    return imgs[i], images.upscale(imgs[i]), int(labels[i]), ui.status(c, ui.say("simclr_msg_item", i=i, label=_class(labels[i])))


def use_drawing(editor_value):
    """Sketchpad/upload -> (item, preview, label -1, status); a blank or odd image keeps the current item."""
    item, msg = ui.drawing_to_digit(editor_value)
    if item is None:
        return gr.skip(), gr.skip(), gr.skip(), msg
    return item, images.upscale(item), -1, ui.message(ui.say("simclr_msg_drawn"))


def neighbours(item=None, label=-1):
    """-> (three rows of the K nearest test images: in h, in z, in pixels; status)."""
    c = ui.Clamped()
    a = np.asarray(item) if item is not None else None
    if a is None or a.shape != (28, 28):
        return None, ui.status(c, ui.say("simclr_msg_no_item"), "warn")
    if not np.isfinite(a.astype(np.float64)).all():
        return None, ui.status(c, ui.say("simclr_msg_no_item"), "warn")
    label = c.int("simclr_arg_item", label, -1, 9, -1)
    model, problem = ui.load_model("simclr")
    if model is None:
        return None, ui.status(c, problem, "error")
    if gallery() is None:
        return None, ui.status(c, ui.say("simclr_msg_no_gallery"), "error")
    x, h, z = _gallery_features(id(model))
    labels = gallery()[1]
    q = data.to_model_range(np.clip(a, 0, 255).astype(np.uint8)[None])
    with torch.no_grad():
        hq, zq = model.eval()(q)
    found = {"h": simclr.nearest(hq, h, K_NEIGHBOURS)[0][0], "z": simclr.nearest(zq, z, K_NEIGHBOURS)[0][0],
             "px": simclr.nearest(q.flatten(1), x.flatten(1), K_NEIGHBOURS, metric="euclidean")[0][0]}
    rows = torch.cat([torch.cat([q, x[found[k]]]) for k in ("h", "z", "px")])
    sheet = images.upscale(ui.sheet(rows, nrow=K_NEIGHBOURS + 1), 2)
    classes = {k: ", ".join(_class(labels[j]) for j in v.tolist()) for k, v in found.items()}
    if label >= 0:
        same = {k: int((labels[v.numpy()] == label).sum()) for k, v in found.items()}
        text = ui.say("simclr_msg_neigh", query=_class(label), label=_class(label), h=same["h"], z=same["z"], px=same["px"],
                      k=K_NEIGHBOURS, h_classes=classes["h"], px_classes=classes["px"])
    else:
        text = ui.say("simclr_msg_neigh_drawn", query=ui.say("simclr_msg_drawn"), h_classes=classes["h"],
                      z_classes=classes["z"], px_classes=classes["px"])
    return sheet, ui.status(c, text)


# ---- 4. the space -----------------------------------------------------------------------------------------
def _map(points: np.ndarray, labels: np.ndarray, title: str) -> str:
    """A 2-D scatter coloured by class, scaled into the plane's square."""
    p = points / (np.abs(points).max() or 1.0) * (ui.svg.LIM - 0.3)
    layers = [ui.svg.dots(p[labels == k], CLASS_COLORS[k], r=1.8, opacity=0.65) for k in range(10)]
    return ui.svg.figure(*layers, title=title)


def _legend() -> str:
    cells = "".join(f'<span style="margin-right:10px;white-space:nowrap"><span style="color:{CLASS_COLORS[k]}">●</span> '
                    f'{html.escape(_class(k))}</span>' for k in range(10))
    return f'<div style="font-size:12px;line-height:1.6">{cells}</div>'


@functools.lru_cache(maxsize=1)
def _space_numbers(model_id: int):
    """PCA coordinates of h and pixels for the first MAP_POINTS gallery images, the variance they keep, and the
    nearest-class-mean accuracy in each 2-D map (computed once)."""
    x, h, _ = _gallery_features(model_id)
    labels = gallery()[1][:MAP_POINTS]
    out = {}
    for name, X in (("h", h[:MAP_POINTS]), ("px", x[:MAP_POINTS].flatten(1))):
        P = simclr.pca_2d(X)
        Xc = X.double() - X.double().mean(0)
        var = float((P ** 2).sum() / (Xc ** 2).sum())
        means = torch.stack([P[torch.as_tensor(labels) == k].mean(0) for k in range(10)])
        acc = float((torch.cdist(P, means).argmin(1).numpy() == labels).mean())
        out[name] = (P.numpy(), var, acc)
    return labels, out


def space():
    """-> (map of h, map of pixels, legend, status)."""
    model, problem = ui.load_model("simclr")
    if model is None:
        return "", "", "", ui.status(None, problem, "error")
    if gallery() is None:
        return "", "", "", ui.status(None, ui.say("simclr_msg_no_gallery"), "error")
    labels, m = _space_numbers(id(model))
    text = ui.say("simclr_msg_space", n=len(labels), var_h=m["h"][1], var_px=m["px"][1], acc_h=m["h"][2], acc_px=m["px"][2])
    title_h = ui.say("simclr_msg_map_h", d=model.g[0].in_features)  # h's width, from the loaded model
    return (_map(m["h"][0], labels, title_h), _map(m["px"][0], labels, ui.say("simclr_msg_map_px")),
            _legend(), ui.status(None, text))


# ---- 5. the linear probe and the head's spectrum ----------------------------------------------------------------
def read_results(path: Path | None = None) -> tuple[dict | None, str]:
    """(results, "") from the file benchmarks/simclr.py wrote, or (None, a message)."""
    path = path or RESULTS
    if not path.exists():
        return None, ui.say("simclr_msg_no_results")
    try:
        res = json.loads(path.read_text(encoding="utf-8"))
        [res["probe"][f][k]["mean"] for f in FEATURES for k in res["budgets"]]  # noqa: B018  the fields the plot needs
        return res, ""
    except (OSError, ValueError, KeyError, TypeError) as err:
        return None, ui.say("simclr_msg_bad_results", error=type(err).__name__)


def bars_svg(groups: list[str], series: dict[str, list[float]], title: str, width: int = 460, height: int = 230,
             lo: float | None = None, values: bool = True, colors: list[str] | None = None) -> str:
    """Grouped bars of values in [0, 1] with their numbers. The y axis starts at `lo`, by default the smallest value
    rounded down to ten points minus ten more, so that differences of a few points are visible (its range is written
    on the axis). colors: one colour per group instead of one per series (a single series)."""
    if lo is None:
        lo = max(0.0, np.floor(min(min(v) for v in series.values()) * 10) / 10 - 0.1)
    top, bottom, left = 30, height - (40 if len(series) > 1 else 26), 40
    gw = (width - left - 10) / len(groups)
    bw = gw * 0.8 / len(series)
    py = lambda v: bottom - (bottom - top) * (v - lo) / (1 - lo)  # noqa: E731
    parts = [f'<text x="4" y="14" font-size="12" fill="#111827">{html.escape(title)}</text>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">{1:.0%}</text>',
             f'<text x="{left - 4}" y="{bottom}" font-size="10" text-anchor="end">{lo:.0%}</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{width - 6}" y2="{bottom}" stroke="#9ca3af"/>']
    for g, name in enumerate(groups):
        x0 = left + g * gw + gw * 0.1
        parts.append(f'<text x="{left + g * gw + gw / 2:.1f}" y="{bottom + 14}" font-size="10" text-anchor="middle">'
                     f'{html.escape(name)}</text>')
        for k, (label, vals) in enumerate(series.items()):
            v = vals[g]
            color = colors[g] if colors else ui.svg.COLORS[k % len(ui.svg.COLORS)]
            x, y = x0 + k * bw, py(max(v, lo))
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{bottom - y:.1f}" '
                         f'fill="{color}"><title>{html.escape(label)} · {html.escape(name)}: {v:.4f}</title></rect>')
            if values:
                parts.append(f'<text x="{x + bw / 2 - 1:.1f}" y="{y - 3:.1f}" font-size="9" text-anchor="middle">'
                             f'{v:.3f}</text>')
    if len(series) > 1:
        for k, label in enumerate(series):
            parts.append(f'<text x="{left + 4 + 120 * k}" y="{height - 8}" font-size="10" fill="{ui.svg.COLORS[k]}">■ '
                         f'{html.escape(label)}</text>')
    return ui.svg.canvas(width, height, title, "".join(parts))


def energy_rank(s: np.ndarray, share: float = 0.9) -> int:
    """How many of the largest singular values hold `share` of the energy sum(sigma^2)."""
    e = np.cumsum(np.sort(s)[::-1] ** 2)
    return int(np.searchsorted(e, share * e[-1]) + 1)


@functools.lru_cache(maxsize=1)
def _spectra(model_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Singular values of the loaded model's W1 and of a freshly initialised layer of its shape (seed 0), computed
    on first use, then kept: two SVDs of a 512 x 1568 matrix take about 0.2 s, too much for every page load."""
    model, _ = ui.load_model("simclr")
    torch.manual_seed(0)
    fresh = torch.nn.Linear(model.g[0].in_features, model.g[0].out_features)  # W1's shape, as initialised
    return simclr.head_singular_values(model).numpy(), torch.linalg.svdvals(fresh.weight.detach().double()).numpy()


def probe_view():
    """-> (bar chart of probe accuracy per feature and label budget, singular-value curves, status)."""
    res, problem = read_results()
    model, model_problem = ui.load_model("simclr")
    sv_svg, big, rand = "", 0, 0
    if model is not None:
        s, s0 = _spectra(id(model))
        big, rand = energy_rank(s), energy_rank(s0)
        sv_svg = ui.svg.lines_svg({ui.say("simclr_msg_sv_trained"): s / s[0], ui.say("simclr_msg_sv_init"): s0 / s0[0]},
                                  title=ui.say("simclr_msg_sv_title"))
    if res is None:
        return "", sv_svg, ui.status(None, problem or model_problem, "error")
    groups = [ui.say("simclr_msg_all") if k == "all" else ui.say("simclr_msg_labels", n=k) for k in res["budgets"]]
    series = {ui.say(f"simclr_msg_feat_{f}"): [res["probe"][f][k]["mean"] for k in res["budgets"]] for f in FEATURES}
    bars = bars_svg(groups, series, ui.say("simclr_msg_probe_title"))
    sup = ui.say("simclr_msg_sup", acc=res["supervised"]["test_accuracy"]) if res.get("supervised") else ""
    yes = lambda v: ui.say("simclr_msg_yes" if v else "simclr_msg_no")  # noqa: E731
    text = ui.say("simclr_msg_probe", command=res["command"], date=res["date"], h=res["probe"]["h"]["all"]["mean"],
                  z=res["probe"]["z"]["all"]["mean"], px=res["probe"]["pixels"]["all"]["mean"], sup=sup,
                  knn=res["knn20"]["h"], hz=yes(res["h_beats_z"]), hp=yes(res["h_beats_pixels"]), big=big, rand=rand)
    return bars, sv_svg, ui.status(None, text)


def describe_training(m: dict, src: str) -> str:
    f = m["final"]
    return ui.say("simclr_msg_training", src=src, steps=f["steps"], batch=m["batch_size"], negatives=f["negatives_per_anchor"],
                  tau=m["tau"], minutes=m["wall_time_s"] / 60, hardware=ui.hardware(m["hardware"]),
                  probe=f["probe_accuracy"], knn=f["knn20_accuracy"])


# ---- layout -----------------------------------------------------------------------------------------------
def build() -> gr.Markdown:
    """Lay out the tab; every figure is drawn on page load or on demand (nothing is computed while building)."""
    with ui.tab_columns(TAB_ID, MODELS) as note:
        gr.Markdown(ui.t("simclr_views_h"))
        gr.Markdown(ui.t("simclr_views_intro"))
        with gr.Row():
            n = gr.Slider(MIN_N, MAX_N, value=8, step=1, label=ui.t("simclr_n"), elem_id="simclr-n")
            seed = gr.Number(0, precision=0, label=ui.t("simclr_seed"), elem_id="simclr-seed")
        augs = gr.CheckboxGroup(ui.choices("simclr_aug", AUGS), value=AUGS, label=ui.t("simclr_augs"),
                                elem_id="simclr-augs")
        sheet = ui.pixels("simclr_views_img", 240, elem_id="simclr-views")
        views_status = ui.status_line(elem_id="simclr-views-status")

        gr.Markdown(ui.t("simclr_loss_h"))
        gr.Markdown(ui.t("simclr_loss_intro"))
        with gr.Row():
            anchor = gr.Slider(0, 2 * MAX_N - 1, value=0, step=1, label=ui.t("simclr_anchor"), elem_id="simclr-anchor")
            tau = gr.Slider(TAU_MIN, 2.0, value=0.5, step=0.01, label=ui.t("simclr_tau"), elem_id="simclr-tau")
        ui.share_link(TAB_ID, {"n": n, "seed": seed, "anchor": anchor, "tau": tau})
        heat = gr.HTML(elem_id="simclr-similarity")
        softmax = gr.HTML(elem_id="simclr-softmax")
        loss_status = ui.status_line(elem_id="simclr-loss-status")

        gr.Markdown(ui.t("simclr_neigh_h"))
        gr.Markdown(ui.t("simclr_neigh_intro"))
        first, first_preview, first_label, first_status = pick_item(0)
        item, label = gr.State(first), gr.State(first_label)
        with gr.Row():
            with gr.Column(min_width=200):
                index = gr.Slider(0, 99, value=0, step=1, label=ui.t("simclr_item"), elem_id="simclr-item")
                preview = gr.Image(first_preview, label=ui.t("simclr_item_img"), format="png", height=120,
                                   elem_classes=["pixelated"], interactive=False, buttons=[])
            with gr.Column(min_width=240):
                sketch = gr.Sketchpad(label=ui.t("simclr_sketch"), sources=["upload"], canvas_size=(280, 280),
                                      type="numpy", brush=gr.Brush(colors=["#000000"], default_size=18), height=300)
                use = gr.Button(ui.t("simclr_use_drawing"), size="sm")
        item_status = ui.status_line(value=first_status)
        neigh = ui.pixels("simclr_neigh_img", 200, elem_id="simclr-neighbours")
        neigh_status = ui.status_line(elem_id="simclr-neigh-status")

        gr.Markdown(ui.t("simclr_space_h"))
        space_btn = gr.Button(ui.t("simclr_space_btn"), size="sm", elem_id="simclr-space-btn")
        with gr.Row():
            map_h = gr.HTML(elem_id="simclr-map-h")
            map_px = gr.HTML(elem_id="simclr-map-px")
        legend = gr.HTML()
        space_status = ui.status_line(elem_id="simclr-space-status")

        gr.Markdown(ui.t("simclr_probe_h"))
        probe_bars = gr.HTML(elem_id="simclr-probe")
        sv = gr.HTML(elem_id="simclr-singular")
        probe_status = ui.status_line(elem_id="simclr-probe-status")
        ui.training_panel("simclr", describe_training, "simclr_loss")

    gr.on(None, views, [n, seed, augs], [sheet, views_status], api_name="simclr_views", show_progress="hidden",
          trigger_mode="always_last")
    gr.on(None, loss_view, [n, seed, augs, anchor, tau], [heat, softmax, loss_status], api_name="simclr_loss",
          show_progress="hidden", trigger_mode="always_last", **ui.QUICK_MODEL)
    index.release(pick_item, index, [item, preview, label, item_status], api_name="simclr_pick", show_progress="hidden")
    use.click(use_drawing, sketch, [item, preview, label, item_status], api_name="simclr_draw")
    gr.on(None, neighbours, [item, label], [neigh, neigh_status], api_name="simclr_neighbours", show_progress="hidden",
          trigger_mode="always_last", **ui.QUICK_MODEL)
    space_btn.click(space, None, [map_h, map_px, legend, space_status], api_name="simclr_space", **ui.QUICK_MODEL)
    gr.on(None, probe_view, None, [probe_bars, sv, probe_status], api_name="simclr_probe", show_progress="hidden")
    return note
