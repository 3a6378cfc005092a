"""The attention-basics tab's callbacks as plain functions: normal input, bad input and the messages."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from demos import attention as tab
from demos import ui
from genlib.transformer import attention

CROSS = tab.EXAMPLES["cross"]
DEFAULT = object()


def _matrix(q=DEFAULT, k=DEFAULT, v=DEFAULT, causal=False, pad=0, side="end"):
    """matrix_view on the cross-attention example, with some of its arguments replaced."""
    q, k, v = (CROSS[name] if x is DEFAULT else x for name, x in (("q", q), ("k", k), ("v", v)))
    return tab.matrix_view(q, k, v, causal, pad, side)


# ---- UI strings -----------------------------------------------------------------------------------------
def test_strings_exist_in_both_languages_with_the_tab_prefix():
    keys = {k for k in ui.STRINGS["en"] if k.startswith("attention_")}
    assert {"attention_title", "attention_q", "attention_k", "attention_v", "attention_causal"} <= keys
    assert keys == {k for k in ui.STRINGS["zh"] if k.startswith("attention_")}
    assert ui.STRINGS["en"]["attention_title"] == "Attention basics" and ui.STRINGS["zh"]["attention_title"] == "注意力基础"
    assert tab.TAB_ID == "attention" and tab.TITLE == "attention_title"


# ---- Section 1: one query -------------------------------------------------------------------------------
def test_single_query_output_is_the_weighted_average_of_the_colours():
    svg, table, status = tab.single_query(30, 1.5, 1.0)
    q = 1.5 * np.array([math.cos(math.radians(30)), math.sin(math.radians(30))])
    s = tab.KEYS @ q / math.sqrt(2)
    w = np.exp(s) / np.exp(s).sum()
    out, w_tab = tab.single_query_attention(q, 1.0)
    assert np.allclose(w_tab, w) and np.allclose(out, w @ tab.VALUES)
    assert svg.startswith("<div") and svg.count("<svg") == 2 and svg.count("<circle") == len(tab.KEYS)
    assert "attention-qhead" in svg and "softmax weights" in svg
    assert table.count("<tr>") == len(tab.KEYS) + 2 and f"{w.max():.4f}" in table
    assert ", ".join(f"{x:.2f}" for x in out) in table
    assert status.startswith("ℹ️") and "Largest weight: k1 (red)" in status and "d_k = 2" in status


def test_temperature_sharpens_and_flattens():
    q = 2.0 * np.array([1.0, 0.0])
    _, cold = tab.single_query_attention(q, tab.TAU_MIN)
    _, hot = tab.single_query_attention(q, tab.TAU_MAX)
    assert cold.max() > 0.99 and hot.max() - hot.min() < 0.6 and hot.max() < cold.max()
    _, _, status = tab.single_query(0, 2.0, tab.TAU_MIN)
    assert "k1 (red) with 1.000" in status


def test_zero_length_query_gives_uniform_weights():
    svg, table, status = tab.single_query(45, 0.0, 1.0)
    _, w = tab.single_query_attention(np.zeros(2), 1.0)
    assert np.allclose(w, 0.2) and "uniform" in status and "0.2000" in table
    assert "marker-end" not in svg  # no arrow for a zero query


@pytest.mark.parametrize("args,expected", [
    ((float("nan"), 1.5, 1.0), "direction: nan is not a number; using 30"),
    ((720, 1.5, 1.0), "direction: 720 is outside [-180, 180]; using 180"),
    ((30, 1e9, 1.0), "length: 1e+09 is outside [0, 3]; using 3"),
    ((30, -1, 1.0), "length: -1 is outside [0, 3]; using 0"),
    ((30, 1.5, 0.0), "temperature τ: 0 is outside [0.05, 5]; using 0.05"),
    ((30, 1.5, "hot"), "temperature τ: 'hot' is not a number; using 1"),
    ((None, None, None), "direction: None is not a number"),
])
def test_single_query_clamps_bad_input(args, expected):
    svg, table, status = tab.single_query(*args)
    assert status.startswith("ℹ️") and "\n⚠️" in status and expected in status  # result first, then the clamping
    assert svg.count("<svg") == 2 and "nan" not in table.lower()


def test_dimension_view_measures_sqrt_dk():
    body, status = tab.dimension_view(256, 3)
    assert body.count("<svg") == 2 and "softmax(q·k / √256)" in body
    spread = float(status.split("standard deviation ")[1].split(" ")[0])
    assert abs(spread / 16 - 1) < 0.1 and "theory √d_k = 16.00" in status
    raw = float(status.split("without scaling ")[1].split(",")[0])
    scaled = float(status.split("with scaling ")[1].rstrip("."))
    assert raw > scaled
    assert tab.dimension_view(256, 3) == (body, status)  # the seed fixes the draw


def test_dimension_view_clamps_bad_input():
    _, status = tab.dimension_view(10**6, -1)
    assert "d_k: 1000000 is outside [1, 1024]; using 1024" in status and "seed: -1 is outside" in status
    _, status = tab.dimension_view(float("nan"), "x")
    assert "d_k: nan is not a number; using 64" in status and "seed: 'x' is not a number; using 0" in status


# ---- Section 2: the matrix form ---------------------------------------------------------------------------
def test_matrix_view_default_is_genlib_attention():
    scores, weights, output, status = _matrix()
    Q, K, V = (torch.tensor(CROSS[x], dtype=torch.float64) for x in "qkv")
    out, w = attention(Q, K, V)
    res = tab.matrix_attention(Q.numpy(), K.numpy(), V.numpy(), np.ones((4, 5), bool))
    assert np.allclose(res.output, out.numpy()) and np.allclose(res.weights, w.numpy())
    assert np.allclose(res.scores, (Q @ K.T).numpy() / math.sqrt(3)) and not res.undefined.any()
    assert all(f">q{i}<" in weights for i in range(1, 5)) and all(f">k{j}<" in weights for j in range(1, 6))
    assert weights.count("Σ = 1.00") == 4 and ">d2<" in output and f">{out[3, 0]:.2f}<" in output
    assert "no mask" in scores and "−∞" not in scores
    assert status.startswith("ℹ️") and "4 queries, 5 keys, d_k = 3, d_v = 2" in status


def test_causal_mask_zeroes_the_upper_triangle():
    e = tab.EXAMPLES["self_causal"]
    scores, weights, output, status = tab.matrix_view(e["q"], e["k"], e["v"], True, 0, "end")
    allowed = tab.key_mask(5, 5, True, 0)
    assert np.array_equal(allowed, np.tril(np.ones((5, 5), bool)))
    res = tab.matrix_attention(np.array(e["q"], float), np.array(e["k"], float), np.array(e["v"], float), allowed)
    assert np.all(res.weights[~allowed] == 0) and np.allclose(res.weights.sum(1), 1)
    assert np.allclose(res.output[0], e["v"][0])  # the first query sees only the first key
    assert scores.count(">−∞<") == 10 and "10 masked cells have weight exactly 0" in status
    assert "nan" not in (scores + weights + output).lower()


def test_causal_mask_needs_square_weights():
    _, weights, _, status = _matrix(causal=True)
    assert status.startswith("⚠️") and "needs as many queries as keys (here 4 and 5), so it is not applied" in status
    assert ">0<" not in weights and weights.count("Σ = 1.00") == 4


def test_padding_masks_the_last_or_first_keys():
    _, weights, _, status = _matrix(pad=2)
    assert "8 masked cells have weight exactly 0" in status
    res = tab.matrix_attention(np.array(CROSS["q"], float), np.array(CROSS["k"], float), np.array(CROSS["v"], float),
                               tab.key_mask(4, 5, False, 2, "end"))
    assert np.all(res.weights[:, 3:] == 0) and np.allclose(res.weights.sum(1), 1)
    assert np.array_equal(tab.key_mask(4, 5, False, 2, "start")[0], [False, False, True, True, True])


def test_all_keys_masked_rows_are_undefined_not_nan():
    _, weights, output, status = _matrix(pad=5)
    assert weights.count("undefined") == 4 + 4 and output.count(">undefined<") == 4  # bar text + row sums
    assert "nan" not in (weights + output).lower()
    assert status.startswith("⚠️") and "Every key is masked for q1, q2, q3, q4" in status
    assert "softmax over an empty set is undefined (0/0)" in status


def test_left_padding_with_causal_mask_leaves_the_first_rows_undefined():
    e = tab.EXAMPLES["left_pad_causal"]
    scores, weights, output, status = tab.matrix_view(e["q"], e["k"], e["v"], e["causal"], e["pad"], e["side"])
    res = tab.matrix_attention(np.array(e["q"], float), np.array(e["k"], float), np.array(e["v"], float),
                               tab.key_mask(5, 5, True, 2, "start"))
    assert res.undefined.tolist() == [True, True, False, False, False]
    assert np.isnan(res.weights[:2]).all() and np.allclose(res.weights[2:].sum(1), 1)
    assert "Every key is masked for q1, q2:" in status and "these rows have" in status
    assert output.count(">undefined<") == 2 and "nan" not in output.lower()


def test_pad_larger_than_keys_is_clamped_with_a_message():
    _, _, _, status = _matrix(pad=9)
    assert "padding: 9 is more than the 5 keys; masking all 5" in status
    _, _, _, status = _matrix(pad=99)
    assert "padding: 99 is outside [0, 16]; using 16" in status
    _, _, _, status = _matrix(pad=float("nan"))
    assert "padding: nan is not a number; using 0" in status


def test_mask_options_clamp_bad_values():
    _, _, _, status = _matrix(causal="yes", side="middle")
    assert "causal mask: 'yes' is not true or false; using false" in status
    assert "padding side: 'middle' is not one of ['end', 'start']; using 'end'" in status
    e = tab.EXAMPLES["self_causal"]
    assert tab.matrix_view(e["q"], e["k"], e["v"], 1, 0, "end") == tab.matrix_view(e["q"], e["k"], e["v"], True, 0, "end")
    assert tab.matrix_view(e["q"], e["k"], e["v"], 0, 0, "end") == tab.matrix_view(e["q"], e["k"], e["v"], False, 0, "end")


@pytest.mark.parametrize("q,expected", [
    (None, "Q is empty: enter at least one row of numbers"),
    ([], "Q is empty"),
    ([[]], "Q is empty"),
    ([["", " "], [None, None]], "Q is empty"),
    ([[1, "abc", 3]], "Q: row 1, column 2 is 'abc', not a number"),
    ([[1, float("nan"), 3]], "Q: row 1, column 2 is nan, not a finite number"),
    ([[1, 2, float("inf")]], "Q: row 1, column 3 is inf, not a finite number"),
    ([["-inf", 2, 3]], "Q: row 1, column 1 is -inf, not a finite number"),
    ([[1, 2, 3], [1, None, 3]], "Q: row 2, column 2 is empty"),
    ([[True, 2, 3]], "Q: row 1, column 1 is True, not a number"),
    ([[1e9, 2, 3]], "Q: row 1, column 1 is 1e+09; entries must lie in [-1000, 1000]"),
    ([[1, "x", "y"]], "(and 1 more cell)"),
    ([[1, 2, 3], [1, 2]], "Q: row 2 has 2 cells but row 1 has 3"),
    ([[1] * 3] * 17, "Q is 17 × 3; this demo takes at most 16 × 16"),
    ([[1] * 17], "Q is 1 × 17; this demo takes at most 16 × 16"),
    ([[1] * 3] * 10**4, "Q is far too large"),
    ("1, 2, 3", "Q is not a table (a list of rows)"),
    ([1, 2, 3], "Q is not a table (a list of rows)"),
])
def test_bad_tables_get_a_message(q, expected):
    scores, weights, output, status = _matrix(q=q)
    assert (scores, weights, output) == ("", "", "") and status.startswith("⛔") and expected in status


def test_mismatched_shapes_explain_the_rule():
    _, _, _, status = _matrix(q=[[1, 2], [3, 4]])
    assert "Q has 2 columns but K has 3: a query and a key need the same length d_k" in status
    _, _, _, status = _matrix(v=[[1, 0], [0, 1]])
    assert "K has 5 rows but V has 2: every key needs exactly one value" in status
    _, _, _, status = _matrix(q=None, v=[["x"]])  # all problems at once
    assert "Q is empty" in status and "V: row 1, column 1 is 'x'" in status


def test_tables_in_other_forms_and_blank_rows():
    import pandas as pd

    ref = _matrix()
    assert _matrix(q=pd.DataFrame(CROSS["q"], columns=["d1", "d2", "d3"])) == ref
    assert _matrix(q=np.array(CROSS["q"], dtype=float)) == ref
    assert _matrix(q={"headers": ["d1", "d2", "d3"], "data": CROSS["q"]}) == ref
    assert _matrix(q=[[str(x) for x in row] for row in CROSS["q"]]) == ref  # text cells that are numbers
    assert _matrix(q=CROSS["q"] + [["", "", ""]]) == ref  # a blank row added in the editor is ignored
    assert _matrix(q=[row + [None] for row in CROSS["q"]]) == ref  # so is a blank column
    assert _matrix(q=[["−1", "0", "0"]])[3].startswith("ℹ️")  # a typographic minus sign
    _, weights, output, status = _matrix(q=[[1, 2, 3]], k=[[1, 2, 3]], v=[[5]])  # one key: weight 1
    assert "Σ = 1.00" in weights and ">5.00<" in output and status.startswith("ℹ️")


def test_gradio_dataframe_payload_reaches_the_callback():
    import gradio as gr
    from gradio.components.dataframe import DataframeData

    df = gr.Dataframe(type="array", headers=["d1", "d2", "d3"], datatype="number")
    table = df.preprocess(DataframeData(headers=["d1", "d2", "d3"], data=CROSS["q"]))
    assert _matrix(q=table) == _matrix()
    table = df.preprocess(DataframeData(headers=["d1", "d2", "d3"], data=[[1, "two", 3]]))
    assert "row 1, column 2 is 'two'" in _matrix(q=table)[3]


def test_examples_fill_valid_tables():
    for name in tab.EXAMPLES:
        q, k, v, causal, pad, side, status = tab.example(name)
        assert status.startswith("ℹ️ Example:")
        *pictures, msg = tab.matrix_view(q, k, v, causal, pad, side)
        assert all(p.startswith("<svg") for p in pictures) and not msg.startswith("⛔")
        assert q["headers"] == ["d1", "d2", "d3"] and v["headers"] == ["d1", "d2"]
    *_, status = tab.example("nope")
    assert "example: 'nope' is not one of" in status


def test_heatmap_never_prints_nan():
    values = np.array([[np.nan, np.nan], [0.25, 0.75]])
    svg = ui.svg.heatmap_svg(values, ["q1", "q2"], ["k1", "k2"], "w", signed=False, undefined=np.array([True, False]))
    assert "nan" not in svg.lower() and "undefined" in svg and "0.75" in svg


# ---- the tab builds --------------------------------------------------------------------------------------
def test_tab_builds_with_named_endpoints():
    import gradio as gr

    with gr.Blocks() as demo:
        with gr.Tab("x"):
            note = tab.build()
    assert isinstance(note, gr.Markdown) and "Attention basics" in note.value
    named = {fn.api_name: [type(c).__name__ for c in fn.inputs] for fn in demo.fns.values()
             if fn.api_name and fn.api_visibility == "public"}  # the copy-link button is a private, browser-only event
    assert named == {
        "attention_single": ["Slider", "Slider", "Slider"],
        "attention_scaling": ["Slider", "Number"],
        "attention_example": ["Radio"],
        "attention_matrix": ["Dataframe", "Dataframe", "Dataframe", "Checkbox", "Slider", "Radio"],
    }
