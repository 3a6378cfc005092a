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
