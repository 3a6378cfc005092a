"""Model records for the page: the trained model (loaded lazily, on first use), its training record and the
bundled test digits. A missing or broken file becomes a message in that tab; the other tabs are not affected."""
from __future__ import annotations

import functools

import numpy as np

from demos.ui.inputs import message
from genlib import data, hub, images


def load_model(name: str):
    """(model, "") from genlib.hub, or (None, a message for the page) when its weights cannot be read.
    The weights are read on the first call in this process (lazy loading: the cold start does not wait for them)."""
    try:
        return hub.load(name), ""
    except hub.ModelUnavailable as err:
        return None, str(err)


def availability(name: str) -> str:
    """'' when the weights of `name` are on disk (or in the Hub cache), else the message a tab shows at the top.
    Locates the files only, so building a tab never reads weights."""
    try:
        hub.source(name)
        return ""
    except hub.ModelUnavailable as err:
        return str(err)


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
        return message(str(err), "error")
    if not m:
        return message(f"weights from {src}; no metrics.json", "warn")
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
        return None, message("Nothing drawn yet: draw a digit or upload an image.", "warn")
    try:
        digit = images.prepare_digit(np.asarray(image))
    except ValueError as err:
        return None, message(f"Could not use this image: {err}.", "warn")
    return digit, message("Your digit, centred and resized to 28×28 the way MNIST was.")
