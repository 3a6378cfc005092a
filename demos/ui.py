"""Helpers every tab shares: UI strings (gr.I18n), the note panel, image display and input clamping."""
from __future__ import annotations

import html
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
from gradio.i18n import I18nData

from genlib import images, notes

LANG_CHOICES = [("English", "en"), ("中文", "zh")]
LATEX = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "\\(", "right": "\\)", "display": False},
]
CSS = """
.pixelated img { image-rendering: pixelated; width: 100% !important; height: 100% !important; object-fit: contain; }
.note { max-height: 92vh; overflow-y: auto; padding-right: 0.5em; position: sticky; top: 8px; }
.note-column { align-self: flex-start; position: sticky; top: 8px; }
.gradio-container { overflow: clip !important; }  /* 'hidden' would make it a scroll box and stop the note sticking */
.note .katex-display { overflow-x: auto; overflow-y: hidden; padding: 2px 0; }
.stats table { font-variant-numeric: tabular-nums; }
"""

# UI strings. Keys are short ids; the frontend picks the language from the browser locale (or Settings).
STRINGS: dict[str, dict[str, str]] = {"en": {}, "zh": {}}


def add_strings(en: dict[str, str], zh: dict[str, str]) -> None:
    """Register a tab's UI strings; both languages must define the same keys."""
    if set(en) != set(zh):
        raise ValueError(f"UI strings differ between languages: {sorted(set(en) ^ set(zh))}")
    STRINGS["en"].update(en)
    STRINGS["zh"].update(zh)


add_strings(
    en={"app_title": "Annotated Generative Models", "language": "Note language", "status": "Status"},
    zh={"app_title": "生成模型注解", "language": "笔记语言", "status": "状态"},
)


def i18n_object() -> gr.I18n:
    zh = STRINGS["zh"]
    return gr.I18n(en=STRINGS["en"], zh=zh, **{"zh-CN": zh, "zh-TW": zh, "zh-HK": zh})


def t(key: str) -> I18nData:
    """A translatable label (resolved in the browser)."""
    if key not in STRINGS["en"]:
        raise KeyError(f"no UI string {key!r}")
    return I18nData(key)


BROWSER_LANGUAGE_JS = "() => ((navigator.languages && navigator.languages[0]) || navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en'"


def note_language(navigator_language: str | None) -> str:
    """Radio value for the browser's language (called on page load with navigator.language)."""
    return notes.language_from_header(navigator_language)


# ---- inputs ---------------------------------------------------------------------------------------
@dataclass
class Clamped:
    """A value forced into range, with the messages that explain what changed."""

    messages: list[str] = field(default_factory=list)

    def int(self, name: str, value, lo: int, hi: int, default: int) -> int:
        try:
            v = int(round(float(value)))
        except (TypeError, ValueError, OverflowError):
            self.messages.append(f"{name}: {value!r} is not a number; using {default}")
            return default
        if not lo <= v <= hi:
            self.messages.append(f"{name}: {v} is outside [{lo}, {hi}]; using {min(max(v, lo), hi)}")
        return min(max(v, lo), hi)

    def float(self, name: str, value, lo: float, hi: float, default: float) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if v != v:  # NaN
            self.messages.append(f"{name}: {value!r} is not a number; using {default}")
            return default
        if not lo <= v <= hi:
            self.messages.append(f"{name}: {v:g} is outside [{lo:g}, {hi:g}]; using {min(max(v, lo), hi):g}")
        return min(max(v, lo), hi)

    def choice(self, name: str, value, choices: list[str], default: str) -> str:
        if value in choices:
            return value
        self.messages.append(f"{name}: {value!r} is not one of {choices}; using {default!r}")
        return default

    def note(self) -> str:
        return "" if not self.messages else "⚠️ " + "; ".join(self.messages) + "."


def load_model(name: str):
    """(model, "") from genlib.hub, or (None, a message for the page) when its weights cannot be read."""
    from genlib import hub

    try:
        return hub.load(name), ""
    except hub.ModelUnavailable as err:
        return None, str(err)


def loss_frame(name: str, y: str = "loss"):
    """A model's metrics.json loss curve as a DataFrame (step, y) for gr.LinePlot; None when there is none."""
    import pandas as pd

    from genlib import hub

    try:
        curve = hub.load_metrics(name).get("loss_curve", [])
    except hub.ModelUnavailable:
        curve = []
    return pd.DataFrame(curve, columns=["step", y]) if curve else None


def training_summary(name: str, describe) -> str:
    """A line about a model's training run: describe(metrics, source) for the page, or a message when the weights or
    metrics.json cannot be read."""
    from genlib import hub

    try:
        m, src = hub.load_metrics(name), hub.source(name)
    except hub.ModelUnavailable as err:
        return message(str(err), "error")
    if not m:
        return message(f"weights from {src}; no metrics.json", "warn")
    return describe(m, src)


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


# ---- torch in streaming callbacks ---------------------------------------------------------------------
def one_thread_per_step(steps):
    """Run each step of a generator of many small torch operations (the PixelCNN's per-pixel loop) with one
    intra-op thread, restoring the thread count before handing the item on. With two threads those operations
    gain nothing and keep both cores busy, and the server's event loop, which sends every streamed frame, waits:
    16 PixelCNN samples took ~3.4 s through the API with two threads and ~1.9 s with one (1.5 s in-process)."""
    import torch

    while True:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            item = next(steps)
        except StopIteration:
            return
        finally:
            torch.set_num_threads(before)
        yield item


# ---- display --------------------------------------------------------------------------------------
upscale = images.upscale


def message(text_: str, kind: str = "info") -> str:
    """A short status line for a gr.Markdown."""
    icon = {"info": "ℹ️", "warn": "⚠️", "error": "⛔"}[kind]
    return f"{icon} {html.escape(text_, quote=False)}" if text_ else ""


def line_svg(ys: np.ndarray, marker: int | None = None, width: int = 320, height: int = 120, label: str = "") -> str:
    """A tiny inline SVG line chart of ys over its index, with an optional marker: cheap enough per slider tick."""
    ys = np.asarray(ys, dtype=np.float64)
    lo, hi = float(ys.min()), float(ys.max())
    span = hi - lo or 1.0
    px = lambda i: 30 + (width - 40) * i / max(1, len(ys) - 1)  # noqa: E731
    py = lambda y: 10 + (height - 30) * (1 - (y - lo) / span)  # noqa: E731
    step = max(1, len(ys) // 200)
    pts = " ".join(f"{px(i):.1f},{py(ys[i]):.1f}" for i in range(0, len(ys), step))
    dot = ""
    if marker is not None:
        dot = (f'<line x1="{px(marker):.1f}" y1="10" x2="{px(marker):.1f}" y2="{height - 20}" stroke="#f97316" stroke-dasharray="3"/>'
               f'<circle cx="{px(marker):.1f}" cy="{py(ys[marker]):.1f}" r="4" fill="#f97316"/>')
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" aria-label="{html.escape(label)}">'
        f'<polyline points="{pts}" fill="none" stroke="#2563eb" stroke-width="2"/>{dot}'
        f'<text x="30" y="{height - 5}" font-size="10">0</text><text x="{width - 30}" y="{height - 5}" font-size="10">{len(ys) - 1}</text>'
        f'<text x="0" y="14" font-size="10">{hi:.2g}</text><text x="0" y="{height - 20}" font-size="10">{lo:.2g}</text>'
        f'<text x="{width / 2}" y="{height - 5}" font-size="10" text-anchor="middle">{html.escape(label)}</text></svg>'
    )


def note_panel(tab: str) -> gr.Markdown:
    """The annotated note of a tab, English until the page load event picks the browser's language."""
    return gr.Markdown(notes.load(tab, "en"), latex_delimiters=LATEX, elem_classes=["note"], elem_id=f"{tab}-note")
