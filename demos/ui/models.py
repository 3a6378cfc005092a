"""Model records for the page: the trained model (loaded lazily, on first use), its training record and the
bundled test digits. A missing or broken file becomes a message in that tab; the other tabs are not affected."""
from __future__ import annotations

import functools
import re

import numpy as np

from demos.ui.inputs import message
from demos.ui.strings import add_strings, say
from genlib import data, hub, images

add_strings(
    en={"ui_msg_model_unknown": "unknown model '{name}'; known: {known}",
        "ui_msg_model_missing": "No weights for '{name}': not in the Hub cache ({repo}) and not in weights/{name}/. "
                                "Train them with `python genlib/train.py {name}`.",
        "ui_msg_model_broken": "The weights of '{name}' in {folder} could not be read ({error}).",
        "ui_msg_no_metrics": "weights from {src}; no metrics.json",
        "ui_msg_nothing_drawn": "Nothing drawn yet: draw a digit or upload an image.",
        "ui_msg_blank_image": "Could not use this image: the image is blank: draw a digit (a bright or dark stroke on a "
                              "plain background).",
        "ui_msg_not_image": "Could not use this image: expected an image, got an array of shape {shape}.",
        "ui_msg_your_digit": "Your digit, centred and resized to 28×28 the way MNIST was.",
        "ui_msg_threads": "{n} threads",
        "ui_msg_warm_start": " · started from `{name}` ({init_epochs} epochs, {init_minutes:.1f} min): {total:.1f} min in all"},
    zh={"ui_msg_model_unknown": "未知模型“{name}”；已知的模型：{known}",
        "ui_msg_model_missing": "没有“{name}”的权重：Hub 缓存（{repo}）和 `weights/{name}/` 里都没有。"
                                "请用 `python genlib/train.py {name}` 训练。",
        "ui_msg_model_broken": "无法读取 {folder} 中“{name}”的权重（`{error}`）。",
        "ui_msg_no_metrics": "权重来自 {src}；没有 `metrics.json`",
        "ui_msg_nothing_drawn": "还没有手写内容：请手写一个数字或上传一张图片。",
        "ui_msg_blank_image": "无法使用这张图片：图片是空白的。请手写一个数字（素色背景上的亮色或暗色笔画）。",
        "ui_msg_not_image": "无法使用这张图片：需要一张图像，收到的是形状为 {shape} 的数组。",
        "ui_msg_your_digit": "你的数字，已按 MNIST 的方式居中并缩放到 28×28。",
        "ui_msg_threads": "{n} 个线程",
        "ui_msg_warm_start": " · 从 `{name}` 开始（{init_epochs} 轮，{init_minutes:.1f} 分钟）：共 {total:.1f} 分钟"},
)


def unavailable(err: hub.ModelUnavailable) -> str:
    """The message of a hub.ModelUnavailable in the request's language."""
    if err.reason in ("unknown", "missing", "broken"):
        return say(f"ui_msg_model_{err.reason}", **err.fields)
    return str(err)


def hardware(text: str) -> str:
    """A metrics.json hardware record ("x86_64 CPU, 2 threads") with its thread count said in the request's language."""
    return re.sub(r"(\d+) threads?\b", lambda m: say("ui_msg_threads", n=m.group(1)), str(text))


def warm_start(m: dict) -> str:
    """The training record's suffix for a run that continued another model (metrics.json["init"], written by
    genlib.train.warm_start): which model, its epochs and minutes, and the minutes of both runs; '' otherwise."""
    init = m.get("init")
    if not init:
        return ""
    return say("ui_msg_warm_start", name=init["from"], init_epochs=init["epochs"], init_minutes=init["wall_time_s"] / 60,
               total=hub.training_minutes(m))


def load_model(name: str):
    """(model, "") from genlib.hub, or (None, a message for the page) when its weights cannot be read.
    The weights are read on the first call in this process (lazy loading: the cold start does not wait for them)."""
    try:
        return hub.load(name), ""
    except hub.ModelUnavailable as err:
        return None, unavailable(err)


def availability(name: str) -> str:
    """'' when the weights of `name` are on disk (or in the Hub cache), else the message a tab shows at the top.
    Locates the files only, so building a tab never reads weights."""
    try:
        hub.source(name)
        return ""
    except hub.ModelUnavailable as err:
        return unavailable(err)


def loss_frame(name: str, y: str = "loss"):
    """A model's metrics.json loss curve as a DataFrame (step, y) for gr.LinePlot; None when there is none."""
    import pandas as pd

    try:
        curve = hub.load_metrics(name).get("loss_curve", [])
    except hub.ModelUnavailable:
        curve = []
    return pd.DataFrame(curve, columns=["step", y]) if curve else None


def training_summary(name: str, describe) -> str:
    """A line about a model's training run: describe(metrics, source) for the page, or a message when the weights or
    metrics.json cannot be found."""
    try:
        m, src = hub.load_metrics(name), hub.source(name)
    except hub.ModelUnavailable as err:
        return message(unavailable(err), "error")
    if not m:
        return message(say("ui_msg_no_metrics", src=src), "warn")
    return describe(m, src)


@functools.lru_cache(maxsize=1)
def sample_digits() -> tuple[np.ndarray, np.ndarray]:
    """The bundled MNIST test digits (uint8 (N, 28, 28), labels (N,)), read once."""
    return data.load_sample()


def drawing_to_digit(editor_value) -> tuple[np.ndarray | None, str]:
    """A sketchpad/upload value -> (28x28 uint8 digit prepared the MNIST way, message), or (None, warning) when
    nothing is drawn or the image cannot be used (blank, odd shapes)."""
    image = editor_value.get("composite") if isinstance(editor_value, dict) else editor_value
    if image is None:
        return None, message(say("ui_msg_nothing_drawn"), "warn")
    try:
        digit = images.prepare_digit(np.asarray(image))
    except images.BlankImage:
        return None, message(say("ui_msg_blank_image"), "warn")
    except ValueError:
        return None, message(say("ui_msg_not_image", shape=np.shape(image)), "warn")
    return digit, message(say("ui_msg_your_digit"))
