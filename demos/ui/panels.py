"""The scaffold every tab shares: the two columns (note | demos), the note, the status line, the training record,
the digit picker, the streaming helper and the event groups. A tab module writes only its callbacks and its own
layout inside `tab_columns`."""
from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass

import gradio as gr
import numpy as np

from demos.ui.inputs import Clamped, message, status
from demos.ui.models import availability, drawing_to_digit, loss_frame, sample_digits, training_summary
from demos.ui.strings import STRINGS, add_strings, language, say, t
from genlib import images, notes

add_strings(
    en={"ui_arg_digit_index": "digit index", "ui_msg_test_digit": "MNIST test digit #{i} (label {label})",
        "ui_msg_step": "step {index}/{total}", "ui_plot_step": "step", "ui_plot_loss": "loss"},
    zh={"ui_arg_digit_index": "数字序号", "ui_msg_test_digit": "MNIST 测试数字 #{i}（标签 {label}）",
        "ui_msg_step": "第 {index}/{total} 步", "ui_plot_step": "步数", "ui_plot_loss": "损失"},
)

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

# Event groups. Image samplers (seconds of work) run one at a time in their own group; quick model calls (a
# Transformer decode, a 2-D field: milliseconds) have a group of their own, so they never queue behind a sampler;
# slider and plot events use the default group of each event.
SAMPLER = dict(concurrency_id="sampler", concurrency_limit=1)
QUICK_MODEL = dict(concurrency_id="quick_model", concurrency_limit=2)


def note_panel(tab: str) -> gr.Markdown:
    """The annotated note of a tab, English until the page load event picks the browser's language."""
    return gr.Markdown(notes.load(tab, "en"), latex_delimiters=LATEX, elem_classes=["note"], elem_id=f"{tab}-note")


@contextlib.contextmanager
def tab_columns(tab: str, models: tuple[str, ...] = ()):
    """The tab's layout: its note on the left, the demos (built inside the `with`) on the right. Yields the note
    component (the app switches its language). A model whose weights are missing gets a message at the top; the
    weights themselves are read on first use, never while the page is built."""
    with gr.Row():
        with gr.Column(scale=5, elem_classes=["note-column"]):
            note = note_panel(tab)
        with gr.Column(scale=6):
            for name in models:
                if problem := availability(name):
                    shown = gr.Markdown(message(problem, "error"), elem_id=f"{tab}-model-error")
                    # said again on page load, in the visitor's language (only when weights are missing)
                    gr.on(None, functools.partial(_unavailable_message, name), None, shown, show_progress="hidden",
                          api_visibility="private")
            yield note


def _unavailable_message(name: str) -> str:
    return message(availability(name), "error")


def pixels(label_key: str, height: int = 300, value=None, **kw) -> gr.Image:
    """An output image of digits or sample sheets, drawn with crisp (nearest-neighbour) pixels."""
    return gr.Image(value, label=t(label_key), format="png", height=height, elem_classes=["pixelated"], interactive=False,
                    **kw)


def seed_box(label_key: str) -> gr.Number:
    return gr.Number(0, precision=0, label=t(label_key))


def sample_controls(tab: str, max_n: int, n: int = 16) -> tuple[gr.Slider, gr.Number, gr.Button]:
    """One row: how many images, the seed, and the tab's Sample button (strings <tab>_n, <tab>_seed,
    <tab>_sample_btn; the button's elem_id is <tab>-sample)."""
    with gr.Row():
        count = gr.Slider(1, max_n, value=n, step=1, label=t(f"{tab}_n"))
        seed = seed_box(f"{tab}_seed")
        button = gr.Button(t(f"{tab}_sample_btn"), variant="primary", elem_id=f"{tab}-sample")
    return count, seed, button


def status_line(**kw) -> gr.Markdown:
    """Where a callback's result and any clamping message appear (see ui.status)."""
    return gr.Markdown(**kw)


def training_panel(name: str, describe, label_key: str, y: str = "loss") -> None:
    """The training record of model `name`: one line from its metrics.json (describe(metrics, source) -> markdown)
    and its loss curve, filled when the page loads (so building the app reads no files), or a clear message."""
    summary = gr.Markdown()
    plot = gr.LinePlot(x="step", y=y, label=t(label_key), height=220)
    gr.on(None, lambda: (training_summary(name, describe), loss_curve(name, y)), None, [summary, plot],
          show_progress="hidden", api_visibility="private")


def loss_curve(name: str, y: str = "loss") -> gr.LinePlot:
    """The loss curve as a LinePlot update whose axis titles are in the request's language (Gradio translates a
    plot's label, not its axis titles)."""
    return gr.LinePlot(loss_frame(name, y), x_title=say("ui_plot_step"), y_title=say("ui_plot_loss") if y == "loss" else y)


# ---- the digit picker -------------------------------------------------------------------------------------
def pick_digit(index):
    """Bundled test digit `index` -> (digit, preview, status)."""
    digits, labels = sample_digits()
    c = Clamped()
    i = c.int("ui_arg_digit_index", index, 0, len(digits) - 1, 0)
    return digits[i], images.upscale(digits[i]), status(c, say("ui_msg_test_digit", i=i, label=labels[i]))


def use_drawing(editor_value):
    """Sketchpad/upload -> (digit, preview, status); a blank or unreadable image keeps the current digit."""
    digit, msg = drawing_to_digit(editor_value)
    if digit is None:
        return gr.skip(), gr.skip(), msg
    return digit, images.upscale(digit), msg


@dataclass
class DigitPicker:
    digit: gr.State  # the chosen digit, uint8 (28, 28)
    index: gr.Slider
    preview: gr.Image
    sketch: gr.Sketchpad
    use: gr.Button
    status: gr.Markdown

    def wire(self, pick_api: str, draw_api: str, then=None) -> None:
        """Connect the slider and the button; then(...) = (fn, inputs, outputs) runs after either changes the digit."""
        outputs = [self.digit, self.preview, self.status]
        events = [self.index.release(pick_digit, self.index, outputs, api_name=pick_api, show_progress="hidden"),
                  self.use.click(use_drawing, self.sketch, outputs, api_name=draw_api)]
        if then is not None:
            fn, inputs, outs = then
            for event in events:
                event.then(fn, inputs, outs, show_progress="hidden", api_visibility="private")


def digit_picker() -> DigitPicker:
    """A bundled test digit (slider) or the user's own drawing / upload, with its preview and a status line. The first
    status line is a UI string in both languages (the browser picks one, like the labels): built here, outside any
    request, ui.say alone would give English."""
    first, first_preview, _ = pick_digit(0)
    if "ui_msg_first_digit" not in STRINGS["en"]:
        first_status = {}
        for lang in ("en", "zh"):
            with language(lang):
                first_status[lang] = pick_digit(0)[2]
        add_strings(en={"ui_msg_first_digit": first_status["en"]}, zh={"ui_msg_first_digit": first_status["zh"]})
    digit = gr.State(first)
    with gr.Row():
        with gr.Column(min_width=200):
            index = gr.Slider(0, len(sample_digits()[0]) - 1, value=0, step=1, label=t("ui_digit_index"))
            preview = gr.Image(first_preview, label=t("ui_digit"), format="png", height=120, elem_classes=["pixelated"],
                               interactive=False, buttons=[])
        with gr.Column(min_width=240):
            sketch = gr.Sketchpad(label=t("ui_sketch"), sources=["upload"], canvas_size=(280, 280), type="numpy",
                                  brush=gr.Brush(colors=["#000000"], default_size=18), height=300)
            use = gr.Button(t("ui_use_drawing"), size="sm")
    return DigitPicker(digit, index, preview, sketch, use, gr.Markdown(t("ui_msg_first_digit")))


# ---- streaming --------------------------------------------------------------------------------------------
# Intra-op threads per sampler step (0: torch's default, all cores). One: with two, every OpenMP barrier waits whenever the
# other core is busy with another visitor's event, and both slow down (benchmarks/load.py); GENLIB_SAMPLER_THREADS=2
# suits a machine with one user.
SAMPLER_THREADS = int(os.environ.get("GENLIB_SAMPLER_THREADS", "1"))


def stream(steps, render, head: str, c: Clamped | None = None, frames: int = 20, where=None, threads: int | None = None):
    """Turn any genlib sampler (it yields genlib.sampling.Step) into about `frames` page updates and the last one:
    yields (*render(step), status line). where(step) -> text says where the sampler is (default: "step k/n"); `head`
    and where's text come from ui.say, like every status text.
    Each step runs with `threads` intra-op threads (default SAMPLER_THREADS; 0 = torch's default)."""
    threads = SAMPLER_THREADS if threads is None else threads
    every = None
    for step in (with_threads(steps, threads) if threads else steps):
        every = every or max(1, step.total // frames)
        if step.index % every == 0 or step.last:
            at = where(step) if where else say("ui_msg_step", index=step.index, total=step.total)
            text = f"{head} — {at}" + (" ✓" if step.last else "")
            yield (*render(step), status(c, text))


@contextlib.contextmanager
def intra_op_threads(n: int):
    """Run the block with `n` torch intra-op threads, restoring the count after. Torch's count is per worker
    thread, and Gradio's workers are reused, so every change is undone before the work is handed on."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def with_threads(steps, n: int):
    """Run each step of a generator of torch work with `n` intra-op threads (the count is restored before the item
    is handed on). The PixelCNN's per-pixel loop gains nothing from two threads and kept both cores busy, so the
    server's event loop, which sends every streamed frame, waited: 16 samples took ~3.4 s through the API with two
    threads and ~1.9 s with one (1.5 s in-process)."""
    while True:
        with intra_op_threads(n):
            try:
                item = next(steps)
            except StopIteration:
                return
        yield item


def sheet(x, nrow: int | None = None) -> np.ndarray:
    """Images (N, 1, H, W) in about [-1, 1] -> one uint8 sheet for gr.Image."""
    return images.image_grid(x.float().clamp(-1, 1), nrow)
