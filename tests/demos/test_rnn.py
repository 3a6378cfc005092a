"""The RNN tab's callbacks as plain functions, on tiny untrained models: sampling, the quatrain, the heat map, the
gradient plot, the toy RNN, the records, and bad input (empty / huge / emoji prompts, T = 0 / 1e9 / NaN, lengths)."""
from __future__ import annotations

import json

import pytest
import torch

from demos import rnn as tab
from demos import ui
from genlib import hub, rnn

SHAKESPEARE_VOCAB = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TANG_VOCAB = rnn.UNK + "\n，。？" + "春風花月山水人日夜雲天江秋"


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    """Untrained tiny CharLMs under every rnn_* name in GENLIB_WEIGHTS_DIR, with a small metrics.json each."""
    for name in tab.MODELS:
        kind = name.split("_")[-1]
        vocab = TANG_VOCAB if "tang" in name else SHAKESPEARE_VOCAB
        torch.manual_seed(0)
        rnn.CharLM(kind, vocab, emb=8, hidden=12, layers=2).save_pretrained(tmp_path / name)
        final = {"val_nats_per_char": 2.5, "val_perplexity": 12.18, "training_minutes": 0.1, "training_cpu_minutes": 0.05}
        if "tang" in name:
            final |= {"free_poem_regular_share": 0.5, "free_poem_quatrain_share": 0.25, "free_poem_samples": 4}
        (tmp_path / name / "metrics.json").write_text(json.dumps(
            {"final": final, "steps": 10, "parameters": 123, "val_curve": [[0, 0.0, 4.0, 0.0], [5, 3.0, 3.0, 4.0], [10, 6.0, 2.6, 8.0], [10, 6.0, 2.5, 8.0]],
             "loss_curve": [[5, 3.0], [10, 2.6]]}))
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    tab._grad_norms.cache_clear()
    yield tmp_path
    hub.clear_cache()
    tab._grad_norms.cache_clear()


def _last(gen):
    out = None
    for out in gen:
        pass
    return out


def test_sample_streams_text_and_both_distributions(tiny_models):
    frames = list(tab.sample_text("shakespeare_gru", "ROMEO:", 0.7, 5, 60, 3))
    assert len(frames) >= 20  # streamed, not one final frame
    texts = [f[0] for f in frames]
    assert all(t.startswith("ROMEO:") for t in texts) and len(texts[-1]) == len("ROMEO:") + 60
    assert all(len(a) <= len(b) for a, b in zip(texts, texts[1:]))
    assert "#9ca3af" in frames[-1][1] and "#2563eb" in frames[-1][1]  # before and after T
    assert "T = 0.7" in frames[-1][2] and "60/60 characters ✓" in frames[-1][2]
    assert _last(tab.sample_text("shakespeare_gru", "ROMEO:", 0.7, 5, 60, 3)) == frames[-1]  # seeded


@pytest.mark.parametrize("prompt,expect", [
    ("", "the prompt is empty"), (None, "the prompt is empty"),
    ("a" * 10_000, "the prompt has 10000 characters; the model reads the last 400"),
    ("hello 😀 мир", "4 prompt characters are outside the model's 65 characters and were left out"),
])
def test_bad_prompts_get_a_message(tiny_models, prompt, expect):
    text, chart, status = _last(tab.sample_text("shakespeare_rnn", prompt, 1.0, 0, 20, 0))
    assert expect in status and "<svg" in chart and len(text) >= 20


def test_unknown_characters_in_a_tang_prompt_are_read_as_unk(tiny_models):
    text, _, status = _last(tab.sample_text("tang_lstm", "春😀風", 1.0, 0, 10, 0))
    assert "1 prompt characters are outside the vocabulary and were read as the unknown symbol" in status
    assert text.startswith("春" + rnn.UNK + "風") and rnn.UNK not in text[3:]


@pytest.mark.parametrize("value,expect,used", [
    (0, "temperature: 0 is outside [0.1, 2]; using 0.1", 0.1), (1e9, "outside [0.1, 2]; using 2", 2.0),
    (float("nan"), "temperature: nan is not a number; using 0.8", 0.8), ("junk", "is not a number", 0.8),
])
def test_bad_temperatures_are_clamped_with_a_message(tiny_models, value, expect, used):
    _, _, status = _last(tab.sample_text("shakespeare_lstm", "To", value, 0, 5, 0))
    assert expect in status and f"T = {used:g}" in status


def test_length_past_its_bound_is_clamped(tiny_models):
    text, _, status = _last(tab.sample_text("shakespeare_lstm", "To", 1.0, 1000, 10**9, 0))
    assert f"outside [1, {tab.MAX_LENGTH}]" in status and f"top-k: 1000 is outside [0, {tab.MAX_TOP_K}]" in status
    assert len(text) == 2 + tab.MAX_LENGTH


def test_missing_weights_are_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    text, chart, status = _last(tab.sample_text())
    assert "No weights for 'rnn_shakespeare_lstm'" in status and text == chart == ""
    poem, status = _last(tab.quatrain())
    assert "No weights for 'rnn_tang_lstm'" in status
    table, svg = tab.records_view()
    assert "—" in table and svg == ""
    hub.clear_cache()


@pytest.mark.parametrize("form", ["5", "7"])
def test_quatrain_keeps_the_form_and_the_heads(tiny_models, form):
    poem_html, status = _last(tab.quatrain(form, "春 山", 1.5, 4, False))
    L = int(form)
    lines = poem_html.split(">", 1)[1].rsplit("<", 1)[0].split("<br>")
    assert len(lines) == 4 and all(len(line) == L + 1 for line in lines)
    assert lines[0][0] == "春" and lines[1][0] == "山"
    assert "form ✓" in status and "50% of 4 poems" in status and "25% were quatrains" in status


def test_quatrain_heads_outside_the_vocabulary_and_simplified_view(tiny_models):
    poem_html, status = _last(tab.quatrain("5", "风X😀春花", 1.0, 0, True))
    assert "only the first four characters are used" in status
    assert "X 😀 not in the model's vocabulary" in status  # 风 is found as 風 (OpenCC s2t)
    lines = poem_html.split(">", 1)[1].rsplit("<", 1)[0].split("<br>")
    assert lines[0][0] == "风" and lines[3][0] == "春"  # shown simplified: 風 -> 风
    assert rnn.simplified("風雲") == "风云" and rnn.traditional("风") == "風"


def test_quatrain_bad_form_and_zh_status(tiny_models):
    with ui.language("zh"):
        _, status = _last(tab.quatrain("9", "", float("nan"), 0, False))
    assert "每句字数" in status and "格式 ✓" in status and "温度" in status


def test_state_heat_map(tiny_models):
    svg, status = tab.state_view("shakespeare_lstm", "To be, or not to be:\nthat is the question.")
    assert svg.count("<rect") == 12 * 42 and "unit" in status and "r = " in status
    svg, status = tab.state_view("shakespeare_gru", "😀😀")  # dropped: Shakespeare has no unknown symbol
    assert svg == "" and "type some text" in status
    svg, status = tab.state_view("tang_lstm", "春😀風")  # read as the unknown symbol: three columns
    assert svg.count("<rect") == 12 * 3 and "read as the unknown symbol" in status
    svg, status = tab.state_view("shakespeare_rnn", "x" * 10_000)
    assert "the first 120 are used" in status and svg.count("<rect") == 12 * 120


def test_gradient_plot_has_the_three_cells(tiny_models):
    svg, status = tab.gradient_view("To be, or not to be")
    assert all(name in svg for name in ("RNN", "GRU", "LSTM")) and "T − t = 18" in status
    svg, status = tab.gradient_view("😀")
    assert svg == "" and "at least two characters" in status
    _, status = tab.gradient_view("a" * 10_000)
    assert "the first 60 are used" in status


def test_toy_rnn_trains_in_the_page():
    svg, table, status = tab.toy_view("gru", -5, 0)  # training to the end is checked in tests/genlib/test_rnn.py
    assert "outside [10, 400]" in status and "<polyline" in svg and table.count("<tr>") == 5
    assert "GRU, 10 steps" in status and "hey how are you" in table


def test_records_table_and_curves(tiny_models):
    table, svg = tab.records_view()
    assert table.count("<tr>") == 5 and "2.500" in table and svg.count("<polyline") == 3
