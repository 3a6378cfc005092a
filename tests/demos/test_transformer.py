"""The Transformer tab's callbacks as plain functions: decoding, bad input, the plots of the parts."""
from __future__ import annotations

import pytest
import torch

from demos import transformer as tab
from genlib import data, hub
from genlib.transformer import Transformer


@pytest.fixture
def tiny_models(tmp_path, monkeypatch):
    """Untrained tiny Transformers for both tasks in GENLIB_WEIGHTS_DIR."""
    for task, spec in data.SEQ_TASKS.items():
        torch.manual_seed(0)
        Transformer(len(spec.src_vocab), len(spec.tgt_vocab), N=1, d_model=16, d_ff=32, h=2, dropout=0.0,
                    max_len=64).save_pretrained(tmp_path / f"transformer_{task}")
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    yield tmp_path
    hub.clear_cache()


@pytest.mark.parametrize("method", ["greedy", "beam", "sample"])
def test_decode_shows_output_probabilities_and_attention(tiny_models, method):
    out, steps, attn, status = tab.decode("numbers", "three hundred and twelve", method, 3, 0.7, 4, "dec_src")
    assert out.startswith("**") and "<table>" in steps and steps.count("<tr>") >= 2
    assert attn.count("<svg") == 1 * 2  # 1 layer x 2 heads
    assert "three" in attn and "‹bos›" in attn  # rows are output tokens, columns source words
    assert {"greedy": "greedy", "beam": "beam search, width 3", "sample": "sampling, T = 0.7, seed 4"}[method] in status
    again = tab.decode("numbers", "three hundred and twelve", method, 3, 0.7, 4, "dec_src")
    assert again == (out, steps, attn, status)  # seeded


@pytest.mark.parametrize("kind,count", [("enc_self", 2), ("dec_self", 2), ("dec_src", 2)])
def test_every_kind_of_attention(tiny_models, kind, count):
    _, _, attn, _ = tab.decode("copy", "1 2 3", "greedy", 1, 1.0, 0, kind)
    assert attn.count("<svg") == count and "layer 1, head 2" in attn


@pytest.mark.parametrize("text,expect", [
    ("", "the input is empty"), ("   ", "the input is empty"), ("three dozen", "unknown token 'dozen'"),
    ("x" * 10_000, "10000 characters; this demo reads at most 300"),
    ("one " * 40, "40 tokens; this model reads at most 16"), (None, "the input is empty"),
])
def test_bad_text_gets_a_message(tiny_models, text, expect):
    out, steps, attn, status = tab.decode("numbers", text, "greedy", 4, 1.0, 0, "dec_src")
    assert expect in status and out == steps == attn == ""


def test_out_of_range_settings_are_clamped(tiny_models):
    *_, status = tab.decode("numbers", "seven", "beam", 10**6, 1.0, 0, "dec_src")
    assert "beam width: 1000000 is outside [1, 8]" in status
    *_, status = tab.decode("numbers", "seven", "sample", 4, 0.0, 0, "dec_src")
    assert "temperature: 0 is outside [0.05, 5]" in status
    *_, status = tab.decode("numbers", "seven", "sample", 4, 1e9, 0, "dec_src")
    assert "temperature: 1e+09 is outside" in status
    *_, status = tab.decode("klingon", "7", "telepathy", 4, float("nan"), 0, "nope")
    assert "task: 'klingon'" in status and "decoding: 'telepathy'" in status and "temperature: nan" in status


def test_copy_task_reads_digits(tiny_models):
    out, *_ , status = tab.decode("copy", "31415", "greedy", 1, 1.0, 0, "enc_self")
    assert "Cannot read" not in status
    *_, status = tab.decode("copy", "3 a 1", "greedy", 1, 1.0, 0, "enc_self")
    assert "unknown token 'a'" in status


@pytest.mark.parametrize("task,text,reason", [
    ("numbers", "thousand", "'thousand' needs a number before it"), ("numbers", "and", "'and' joins two parts"),
    ("numbers", "twelve hundred", "'hundred' takes one to nine before it"),
    ("numbers", "five thousand thousand", "'thousand' can appear only once"),
    ("zh_numbers", "万", "'万' needs a number before it"), ("zh_numbers", "一万五", "needs 零 first"),
    ("zh_numbers", "两十", "'两' is used only right before 百, 千 or 万"),
])
def test_non_phrases_are_refused_with_the_parsers_reason(tiny_models, task, text, reason):
    out, steps, attn, status = tab.decode(task, text, "greedy", 4, 1.0, 0, "dec_src")
    assert out == steps == attn == "" and "Not a number phrase" in status and reason in status


@pytest.mark.parametrize("task,text,value", [
    ("numbers", "a hundred and twenty thousand", 120000), ("numbers", "three hundred twelve thousand forty five", 312045),
    ("zh_numbers", "三十万零五", 300005), ("zh_numbers", "两百", 200),
])
def test_valid_phrases_are_decoded_and_checked_against_the_grammar(tiny_models, task, text, value):
    out, steps, attn, status = tab.decode(task, text, "greedy", 4, 1.0, 0, "dec_src")
    assert out.startswith("**") and attn.count("<svg") == 2
    assert "✓ matches the grammar's reading" in status or f"✗ the grammar reads {value}" in status


def test_decode_runs_on_one_thread_and_restores_the_count(tiny_models, monkeypatch):
    seen, real = [], tab.greedy_decode
    monkeypatch.setattr(tab, "greedy_decode", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        tab.decode("numbers", "seven", "greedy", 1, 1.0, 0, "dec_src")
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_every_example_is_a_phrase_of_its_task():
    for task, items in tab.EXAMPLES.items():
        for text in items:
            assert tab._example_task(text) == task
            if task != "copy":
                assert data.SEQ_TASKS[task].parse(text) >= 0


def test_missing_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GENLIB_WEIGHTS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    hub.clear_cache()
    try:
        out, _, _, status = tab.decode("numbers", "seven", "greedy", 1, 1.0, 0, "dec_src")
        assert out == "" and "⛔" in status and "transformer_numbers" in status
    finally:
        hub.clear_cache()


def test_mask_view():
    svg, status = tab.mask_view(5)
    assert svg.count("<rect") == 25 and "15 of 25" in status
    _, status = tab.mask_view(10**6)
    assert "outside [1, 32]" in status


def test_posenc_view():
    svg, status = tab.posenc_view("0, 1, 30", 64)
    assert svg.count("<polyline") == 3 and "dim 1 (cos" in svg
    svg, status = tab.posenc_view("a, 999, -1", 64)
    assert svg.count("<polyline") == 4 and "'a' is not an integer" in status  # falls back to the default dimensions


def test_noam_view_marks_the_peak():
    svg, status = tab.noam_view(512, 4000)
    assert "at step 4000" in status and f"{512 ** -0.5 * 4000 ** -0.5:.3g}" in status and "<circle" in svg


def test_smoothing_view_minimum_is_at_one_minus_eps():
    svg, status = tab.smoothing_view(0.2, 10)
    assert svg.count("<rect") == 10 and "p(true) ≈ 0.8" in status
    _, status = tab.smoothing_view(5.0, 10**6)
    assert "epsilon: 5 is outside" in status and "vocabulary size: 1000000 is outside" in status


def test_concurrent_decodes_each_get_their_own_attention_maps():
    """The server runs quick model calls two at a time; the attention maps live on the shared model, so without the
    tab's lock one request drew another's maps (IndexError under benchmarks/load.py)."""
    import threading

    texts = ["three hundred and twelve", "fourteen thousand and seven", "seventeen"]
    serial = {t: tab.decode("numbers", t) for t in texts}
    results, errors = [], []

    def run(text):
        for _ in range(5):
            try:
                results.append((text, tab.decode("numbers", text)))
            except Exception as err:  # noqa: BLE001 - the test reports any failure
                errors.append(repr(err))

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(results) == 15
    assert all(out == serial[text] for text, out in results)
