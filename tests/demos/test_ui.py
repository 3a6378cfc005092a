"""The scaffold every tab shares (demos/ui): clamping and the status line, the digit picker, the streaming helper,
the SVG plots, the strings."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from demos import TABS, ui
from genlib.sampling import Step


def test_clamped_helpers():
    c = ui.Clamped()
    assert c.int("n", "7", 1, 5, 2) == 5 and c.float("x", float("nan"), 0, 1, 0.5) == 0.5
    assert c.choice("s", "x", ["a"], "a") == "a" and c.int("n", None, 0, 1, 1) == 1
    assert c.flag("f", True) is True and c.flag("f", "yes") is False
    assert len(c.messages) == 5 and c.note().startswith("⚠️")


def test_status_line_shows_the_result_and_then_what_was_clamped():
    c = ui.Clamped()
    c.int("steps", 10**6, 1, 1000, 50)
    line = ui.status(c, "16 images ✓")
    assert line.index("16 images ✓") < line.index("steps: 1000000 is outside")  # the result is never hidden
    assert ui.status(ui.Clamped(), "done") == "ℹ️ done" and ui.status(None, "<b>", "warn") == "⚠️ &lt;b&gt;"


def test_pick_digit_clamps_and_use_drawing_handles_odd_images():
    digit, preview, status = ui.pick_digit(10**6)
    assert np.array_equal(digit, ui.sample_digits()[0][-1]) and "outside" in status and "#99" in status
    assert preview.shape == (112, 112)
    blank = {"composite": np.zeros((280, 280, 4), np.uint8), "background": None, "layers": []}
    out = ui.use_drawing(blank)
    import gradio as gr

    assert "blank" in out[2] and all(isinstance(o, type(gr.skip())) for o in out[:2])
    assert "Nothing drawn" in ui.use_drawing(None)[2] and "Nothing drawn" in ui.use_drawing({"composite": None})[2]
    big = np.full((4000, 4000, 3), 255, np.uint8)
    big[1000:3000, 1800:2200] = (200, 0, 0)
    digit, preview, status = ui.use_drawing(big)
    assert digit.shape == (28, 28) and preview.shape == (112, 112) and "centred" in status
    assert "Could not use" in ui.use_drawing(np.zeros((2, 2, 2, 2)))[2]


def _steps(total):
    return (Step(k, total, torch.full((1,), float(k)), total - k) for k in range(1, total + 1))


@pytest.mark.parametrize("total,frames,expected", [(1000, 20, 20), (7, 20, 7), (28, 28, 28), (45, 20, 23)])
def test_stream_yields_about_frames_updates_and_always_the_last(total, frames, expected):
    out = list(ui.stream(_steps(total), lambda s: (int(s.x),), "head", frames=frames))
    assert len(out) == expected and out[-1][0] == total and out[-1][1].endswith(f"step {total}/{total} ✓")
    c = ui.Clamped()
    c.int("n", 99, 1, 36, 16)
    first = next(ui.stream(_steps(3), lambda s: (), "head", c, where=lambda s: f"row {s.t}"))
    assert first[0].startswith("ℹ️ head — row 2") and "outside" in first[0]


def test_lines_svg_marks_the_chosen_index():
    svg = ui.svg.lines_svg({"ᾱ_t": np.linspace(1, 0, 1001)}, title="ᾱ_t", marker=500)
    assert svg.startswith("<svg") and "<circle" in svg and "stroke-dasharray" in svg and "ᾱ_t" in svg
    two = ui.svg.lines_svg({"a": np.zeros(5), "b": np.ones(5)}, np.arange(5), "two")
    assert two.count("<polyline") == 2 and ">a</text>" in two and ">b</text>" in two


def test_heatmap_svg_cells_masks_and_undefined_rows():
    v = np.array([[0.2, 0.8], [np.nan, np.nan]])
    svg = ui.svg.heatmap_svg(v, ["q1", "q2"], ["k1", "k2"], "w", masked=np.array([[False, True], [False, False]]),
                             undefined=np.array([False, True]))
    assert "0.20" in svg and "−∞" in svg and "undefined" in svg and "nan" not in svg.lower()
    small = ui.svg.heatmap_svg(np.eye(3), list("abc"), list("xyz"), "attn", numbers=False, cell=(14, 14))
    assert "rotate(-60)" in small and small.count("<rect") == 9 and "a → x: 1.00" in small


def test_every_tab_declares_the_scaffold_contract():
    """TAB_ID, TITLE (a UI string), MODELS (registry names) and build(); api names start with the tab id."""
    from genlib import registry

    for tab in TABS:
        assert tab.TITLE in ui.STRINGS["en"] and callable(tab.build)
        assert tab.__name__ == f"demos.{tab.TAB_ID}"  # demos/<tab>.py, notes/<lang>/<tab>.md: one name per tab
        assert all(name in registry.MODELS for name in tab.MODELS)


def test_ui_strings_exist_in_both_languages():
    assert set(ui.STRINGS["en"]) == set(ui.STRINGS["zh"])
    with pytest.raises(ValueError):
        ui.add_strings(en={"x_only_en": "x"}, zh={})


def test_shared_link_values_are_checked_against_each_control():
    import gradio as gr

    slider, radio = gr.Slider(1, 1000, value=50, step=1), gr.Radio([("DDIM", "ddim"), ("anc", "ancestral")])
    number, box, smooth = gr.Number(0, precision=0), gr.Textbox(), gr.Slider(0.0, 1.0, step=0.05)
    assert ui.links.parse_value(slider, "10") == 10 and ui.links.parse_value(radio, "ancestral") == "ancestral"
    assert ui.links.parse_value(number, "-3") == -3 and ui.links.parse_value(smooth, "0.25") == 0.25
    assert ui.links.parse_value(box, "three hundred") == "three hundred"
    for component, raw, why in [(slider, "0", "outside [1, 1000]"), (slider, "2.5", "not a whole number"),
                                (slider, "nan", "not a finite number"), (slider, "abc", "not a number"),
                                (radio, "euler", "not one of ddim, ancestral"), (box, "x" * 301, "longer than 300")]:
        with pytest.raises(ValueError) as err:
            ui.links.parse_value(component, raw)
        assert why in str(err.value)


def test_shared_link_query_names_what_it_ignored():
    import app

    app.build_app()
    tab, values, notices = ui.links.read_query({"tab": "ddpm", "steps": "10", "seed": "3", "eta": "7", "x": "1"})
    assert tab == "ddpm" and values == {"steps": 10, "seed": 3}
    assert any("'eta=7' was ignored: outside [0, 1]" in n for n in notices) and any("'x' was ignored" in n for n in notices)
    assert ui.links.read_query({"tab": "nope"})[2][0].startswith("tab 'nope' is unknown")
    assert ui.links.read_query({}) == (None, {}, [])
    assert {tab.TAB_ID for tab in TABS} >= set(ui.links.LINKS)


def test_say_builds_server_side_text_in_the_request_language():
    ui.add_strings(en={"test_say_hello": "Hello {n}"}, zh={"test_say_hello": "你好 {n}"})
    assert ui.say("test_say_hello", n=3) == "Hello 3"  # outside a request: English
    with ui.language("zh"):
        assert ui.say("test_say_hello", n=3) == "你好 3"
    assert ui.request_language() == "en"
    with pytest.raises(KeyError):
        ui.say("test_say_no_such_key")


# ---- the zh UI: server-built text in Chinese (issue 19) -------------------------------------------------------
def _zh_calls():
    """(what, callable returning the status text) for callbacks of several tabs, each given bad input that clamps."""
    from demos import attention, cnn, ddpm, evaluation, flow, linear, pixelcnn, transformer

    nan = float("nan")
    blank = {"composite": np.zeros((280, 280, 4), np.uint8), "background": None, "layers": []}
    digit = ui.sample_digits()[0][0]
    return [
        ("ui.pick_digit", lambda: ui.pick_digit(10**6)[2]),
        ("ui.use_drawing blank", lambda: ui.use_drawing(blank)[2]),
        ("ui.use_drawing nothing", lambda: ui.use_drawing(None)[2]),
        ("ui.use_drawing odd", lambda: ui.use_drawing(np.zeros((2, 2, 2, 2)))[2]),
        ("ui.links", lambda: " ".join(ui.links.read_query({"tab": "nope"}, {})[2] + ui.links.read_query({"x": "1"})[2])),
        ("ui.Clamped", lambda: ui.status(_clamped_everything(), "")),
        ("ui.training_summary", lambda: ui.training_summary("ddpm", ddpm.describe_training)
         + ui.training_summary("pixelcnn", pixelcnn.describe_training) + ui.training_summary("flow", flow.describe_training)),
        ("ddpm.forward_step", lambda: ddpm.forward_step(None, "abc")[1] + ddpm.forward_step(None, -5)[1]),
        ("ddpm.denoise t=0", lambda: list(ddpm.denoise(digit, 0, "euler", 10**6, 9.0, -1, 99))[-1][2]),
        ("pixelcnn.complete", lambda: list(pixelcnn.complete(np.zeros((5, 5)), 99, 10**6, nan, -1))[-1][1]),
        ("pixelcnn.influence", lambda: pixelcnn.influence("masked", -4, 99)[1]),
        ("attention.single_query", lambda: attention.single_query(nan, 99, 0)[2] + attention.single_query(30, 0, 1)[2]),
        ("attention.matrix_view", lambda: attention.matrix_view([[1, "x"]], [[1, 2, 3]], None, "yes", 99, "middle")[3]
         + attention.matrix_view([[1, 0]], [[1, 0], [0, 1]], [[1], [2]], True, 9, "end")[3]),
        ("attention.example", lambda: attention.example("nope")[-1]),
        ("cnn.convolve", lambda: cnn.convolve(digit, [[nan]], 99, 0)[1] + cnn.convolve(digit, None, 99, 0)[1]),
        ("cnn.pick_fashion", lambda: cnn.pick_fashion(10**6)[2]),
        ("linear.regression", lambda: linear.regression(1, 1, nan, 99, -1, 0.0, 10**6, 0)[3]
         + linear.regression(1, 1, 0.5, 0, 0, 0.1, 10, 8)[3]),
        ("linear.perceptron", lambda: linear.perceptron_view(10**6, nan, -1, 3)[1]),
        ("linear.logistic", lambda: linear.logistic_view(1, 0.8, -1, 1.0, 0)[3]),
        ("evaluation.cost_view", lambda: evaluation.cost_view("nope", "nope", nan, 2.0, [[0, -1], [1, 0]])[1]),
        ("evaluation.tests_view", lambda: evaluation.tests_view(["stump", "bogus"], "x", 99, 2.0, 0.1, 0)[2]),
        ("evaluation.multiclass", lambda: evaluation.multiclass_view("nope", 99)[2]),
        ("transformer.decode", lambda: transformer.decode("klingon", "twelve hundred", "telepathy", 99, nan, -1, "x")[3]
         + transformer.decode("numbers", "five foo", "greedy", 4, 1.0, 0, "dec_src")[3]
         + transformer.decode("zh_numbers", "一万五", "greedy", 4, 1.0, 0, "dec_src")[3]),
        ("transformer.parts", lambda: transformer.mask_view(99)[1] + transformer.posenc_view("a, 999", 3)[1]
         + transformer.noam_view(0, -1, nan)[1] + transformer.smoothing_view(5, 10**6)[1]),
        ("flow.animate", lambda: flow.animate("spiral", 0, -1)[1]),
        ("flow.langevin_run", lambda: next(flow.langevin_run(10**9, nan, -1))[1]),
    ]


def _clamped_everything() -> ui.Clamped:
    c = ui.Clamped()
    c.int("ui_arg_seed", "x", 0, 9, 0), c.float("ui_arg_steps", 1e9, 1, 10, 5)
    c.choice("ddpm_arg_sampler", "euler", ["ddim"], "ddim"), c.flag("attention_arg_causal", "yes")
    return c


@pytest.mark.parametrize("what,call", _zh_calls(), ids=[w for w, _ in _zh_calls()])
def test_zh_status_lines_have_no_english(what, call):
    """Called under the zh language (what a zh-CN browser's request selects), every status line, clamping note and
    message is Chinese: no English word outside names, notation and the caller's own input (quoted)."""
    from tests.genlib.test_glossary import english_words

    with ui.language("zh"):
        text = call()
    assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{what}: {text!r}"
    assert not english_words(text), f"{what}: English in the zh UI: {sorted(english_words(text))} in {text!r}"
    assert english_words(call()), f"{what}: the same call in English"  # outside a request: English, as before


def test_every_registered_zh_string_has_no_english():
    """ui.STRINGS after every tab module is imported (strings built at import time included): the zh text of every
    key is free of English words outside names and notation (tests/genlib/test_glossary.py checks the literals)."""
    from tests.genlib.test_glossary import english_words

    assert len(TABS) >= 8 and len(ui.STRINGS["zh"]) > 300
    found = {key: sorted(english_words(text)) for key, text in ui.STRINGS["zh"].items() if english_words(text)}
    assert not found, f"English left in the zh UI strings: {found}"


def test_cached_first_views_follow_the_language():
    from demos import evaluation

    with ui.language("zh"):
        zh = evaluation.first_split()[2]
    assert "误差" in zh and evaluation.first_split()[2] != zh and "error" in evaluation.first_split()[2]
