"""The Compare tab's callbacks as plain functions: the board read from its file, the scatter, the roads, the live rows
and bad input."""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from demos import compare, ui

ROW = {"model": "flow", "label": "w = 1, Euler-20", "family": "flow", "n": 100, "fid": 20.0, "is": 9.5, "is_std": 0.0,
       "classes_covered": 10, "class_histogram": [10] * 10, "likelihood": None, "seconds_16": 0.5,
       "parameters": 687473, "training_minutes": 17.1}


@pytest.fixture
def board_file(tmp_path, monkeypatch):
    path = tmp_path / "compare.json"
    monkeypatch.setattr(compare, "BOARD", path)
    return path


def _write(path, rows):
    path.write_text(json.dumps({"command": "python benchmarks/compare.py --n 100", "date": "2026-11-29", "n": 100,
                                "machine": "test", "real": {"fid_train_vs_test": 1.5}, "rows": rows}))


def test_the_board_is_read_from_the_file_the_benchmark_writes(board_file):
    like = dict(ROW, model="pixelcnn", label="T = 1", family="autoregressive", fid=80.0, seconds_16=2.0,
                likelihood={"value": 1.1748, "unit": "bits/dim"})
    _write(board_file, [ROW, like])
    table, scatter, made = compare.board_view()
    assert table.count("<tr>") == 3 and "1.175 bits/dim" in table and "687,473" in table
    assert "python benchmarks/compare.py --n 100" in made and "n = 100" in made and "1.5" in made
    assert scatter.count("<circle") == 2
    with ui.language("zh"):
        table, _, made = compare.board_view()
        assert "流匹配" in table and "自回归" in table and "测得" in made


def test_missing_or_broken_board_gives_a_message_not_a_traceback(board_file):
    assert compare.board_view()[:2] == ("", "") and "benchmarks/compare.py" in compare.board_view()[2]
    board_file.write_text("{not json")
    assert "could not be read" in compare.board_view()[2]
    board_file.write_text(json.dumps({"rows": "nope"}))
    assert "could not be read" in compare.board_view()[2]


def test_scatter_puts_points_on_log_axes():
    rows = [dict(ROW, seconds_16=0.01, fid=10.0), dict(ROW, seconds_16=1.0, fid=100.0), dict(ROW, seconds_16=0.1, fid=0.0)]
    svg = compare.scatter_svg(rows, width=460, height=300)
    xs = [float(v) for v in re.findall(r'<circle cx="([\d.]+)"', svg)]
    ys = [float(v) for v in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert len(xs) == 2  # a zero FID cannot sit on a log axis and is left out
    # decades -2..0 on x and 1..2 on y: the first point at the lower left corner, the second at the upper right
    assert xs == pytest.approx([50.0, 440.0]) and ys == pytest.approx([264.0, 24.0])


def test_every_family_has_a_road_with_its_equation():
    svg = compare.roads()
    assert svg.count("<svg") == len(compare.ROADS) == 5
    for family, (_, _, _, equation) in compare.ROADS.items():
        assert equation.replace("<", "&lt;").replace(">", "&gt;") in svg


def test_live_rows_stream_one_row_per_model_with_the_same_seed():
    keys = ["flow:w = 1, Euler-5", "ddpm:DDIM-10"]
    frames = list(compare.draw_rows(keys, n=2, seed=4))
    assert [len(f[0]) for f in frames] == [1, 2, 2]
    image, caption = frames[-1][0][1]
    assert image.shape == (3 * 32, 3 * 62) and "DDIM-10" in caption
    again = list(compare.draw_rows(keys[:1], n=2, seed=4))[-1][0][0][0]
    assert np.array_equal(again, frames[-1][0][0][0])  # same seed, same row
    assert "done: 2 × 2 images, seed 4" in frames[-1][1]


@pytest.mark.parametrize("keys, n, seed", [(None, float("nan"), "x"), ([], 1e9, -5), ("ddpm:DDIM-500", 3, 0),
                                           (["<script>", 7], None, math.inf)])
def test_bad_input_gives_a_message(keys, n, seed):
    frames = list(compare.draw_rows(keys, n, seed))
    assert frames[-1][0] == [] and "Choose at least one model" in frames[-1][1]


def test_zh_status_has_no_english():
    with ui.language("zh"):
        status = list(compare.draw_rows(["bogus"], 99, "x"))[-1][1]
    assert "请至少选择一个模型" in status and not re.search(r"[A-Za-z]{3,}", status.replace("bogus", ""))


def test_default_choices_are_one_live_setting_per_model():
    chosen = compare.default_choices()
    assert "ddpm:DDIM-50" in chosen and "flow:w = 1, Euler-20" in chosen and "pixelcnn:T = 1, w = 2.5" in chosen
    assert len({k.split(":")[0] for k in chosen}) == len(chosen)
