"""The running app, called through gradio_client: every named endpoint, and out-of-range input."""
from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

gradio_client = pytest.importorskip("gradio_client")
from gradio_client.exceptions import AppError  # noqa: E402

APP_ENDPOINTS = {"/note_language"}  # app-level; every other endpoint belongs to a tab


def _endpoints_of_the_built_app() -> set[str]:
    """The public api names, read off the app as app.py builds it from demos.TABS (no copied list)."""
    import app

    return {"/" + fn.api_name for fn in app.build_app().fns.values() if fn.api_visibility == "public"}


ENDPOINTS = _endpoints_of_the_built_app()


def test_every_tab_has_endpoints_named_after_it():
    from demos import TABS

    prefix = {tab.TAB_ID: getattr(tab, "API_PREFIX", tab.TAB_ID) for tab in TABS}  # the evaluation tab's is "eval"
    by_tab = {t: {e for e in ENDPOINTS if e[1:].startswith(p)} for t, p in prefix.items()}
    assert all(by_tab.values()), f"a tab without endpoints: {by_tab}"
    assert set().union(*by_tab.values()) | APP_ENDPOINTS == ENDPOINTS  # <tab>_<action>, nothing else


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server, verbose=False)


def _png(tmp_path, array, name):
    path = tmp_path / name
    Image.fromarray(array).save(path)
    return gradio_client.handle_file(str(path))


def _editor(file):
    return {"background": None, "layers": [], "composite": file}


def test_every_named_endpoint_is_covered(client):
    named = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert named == ENDPOINTS


def test_forward_slider_endpoint(client):
    img0, html0 = client.predict(0, api_name="/ddpm_forward")
    img1, html1 = client.predict(700, api_name="/ddpm_forward")
    a0, a1 = np.asarray(Image.open(img0)), np.asarray(Image.open(img1))
    assert a0.shape[:2] == (112, 112) and not np.array_equal(a0, a1)
    assert "<td>700</td>" in html1
    with pytest.raises(AppError, match="less than minimum value 0"):  # Gradio refuses out-of-range slider values
        client.predict(-5, api_name="/ddpm_forward")


def test_pick_sample_and_language(client):
    preview, status = client.predict(7, api_name="/ddpm_pick_sample")
    assert "#7" in status
    with pytest.raises(AppError, match="greater than maximum value 99"):
        client.predict(10**6, api_name="/ddpm_pick_sample")
    (note,) = [client.predict("zh", api_name="/note_language")]
    assert "去噪扩散模型" in (note if isinstance(note, str) else note[0])


def test_status_lines_follow_the_request_language(server):
    """A zh-CN browser's Accept-Language reaches the callbacks: the status a callback builds (ui.say) is Chinese, for a
    plain endpoint and a streamed one, clamping notes included; the same calls without the header stay English."""
    zh = gradio_client.Client(server, verbose=False, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    preview, status = zh.predict(7, api_name="/ddpm_pick_sample")
    assert "MNIST 测试数字 #7（标签" in status
    xt, x0, status = zh.predict(0, "ddim", 10, 0.0, -3, 4, api_name="/ddpm_denoise")  # a generator (streamed)
    assert "t = 0 就是干净的数字" in status and "随机种子：-3 超出范围" in status
    en = gradio_client.Client(server, verbose=False)
    assert "MNIST test digit #7 (label" in en.predict(7, api_name="/ddpm_pick_sample")[1]


def test_use_drawing_endpoint_with_odd_uploads(client, tmp_path):
    blank = np.zeros((280, 280, 4), np.uint8)
    preview, status = client.predict(_editor(_png(tmp_path, blank, "blank.png")), api_name="/ddpm_use_drawing")
    assert "blank" in status
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[40:240, 120:160] = (0, 0, 0, 255)
    preview, status = client.predict(_editor(_png(tmp_path, rgba, "rgba.png")), api_name="/ddpm_use_drawing")
    assert "centred" in status
    big = np.full((4000, 4000, 3), 230, np.uint8)
    big[500:3500, 1700:2300] = (30, 60, 200)
    preview, status = client.predict(_editor(_png(tmp_path, big, "big.png")), api_name="/ddpm_use_drawing")
    assert "centred" in status and np.asarray(Image.open(preview)).shape[:2] == (112, 112)


def test_sample_endpoint_bounds_the_work(client):
    with pytest.raises(AppError, match="greater than maximum value 36"):  # a grid of 10^4 images
        client.predict("ddim", 3, 0.0, 10**4, 0, api_name="/ddpm_sample")
    with pytest.raises(AppError, match="greater than maximum value 1000"):  # 10^6 steps
        client.predict("ddim", 10**6, 0.0, 1, 0, api_name="/ddpm_sample")
    with pytest.raises(AppError):  # not one of the sampler choices
        client.predict("euler", 3, 0.0, 1, 0, api_name="/ddpm_sample")
    xt, x0, status = client.predict("ddim", 3, 0.0, 36, -3, api_name="/ddpm_sample")
    assert "seed: -3 is outside" in status and "✓" in status  # the seed box has no bounds of its own: clamped
    assert np.asarray(Image.open(xt)).shape[:2] == (6 * 30 + 2, 6 * 30 + 2)
    xt, x0, status = client.predict("ddim", 3, 0.0, 4, 0, "5", 2.0, api_name="/ddpm_sample")  # class 5, guided
    assert "label 5, w = 2" in status and "✓" in status
    with pytest.raises(AppError, match="greater than maximum value 5"):  # guidance scale out of the slider's range
        client.predict("ddim", 3, 0.0, 4, 0, "all", 50.0, api_name="/ddpm_sample")


def test_denoise_endpoint(client):
    xt, x0, status = client.predict(0, "ddim", 10, 0.0, 0, 4, api_name="/ddpm_denoise")
    assert "t = 0 is the clean digit" in status
    xt, x0, status = client.predict(400, "ddim", 10, 0.0, 0, 4, api_name="/ddpm_denoise")
    assert "from t = 400: ddim — step 10/10" in status and "✓" in status
    with pytest.raises(AppError, match="greater than maximum value 8"):
        client.predict(400, "ddim", 10, 0.0, 0, 10**3, api_name="/ddpm_denoise")


def test_flow_2d_endpoints(client):
    svg, status = client.predict("ring8", 0.4, api_name="/flow2d_field")
    assert svg.startswith("<svg") and "t = 0.40" in svg
    with pytest.raises(AppError, match="greater than maximum value 1"):
        client.predict("ring8", 2.0, api_name="/flow2d_field")
    with pytest.raises(AppError):  # not one of the data sets
        client.predict("spiral", 0.4, api_name="/flow2d_field")
    svg, status = client.predict("moons", 20, 1, api_name="/flow2d_animate")
    assert svg.count("<animate ") == 2 * 300
    ode, sde, status = client.predict("checkerboard", 10, 0.8, "vanishing", 2, api_name="/flow2d_compare")
    assert "ODE" in status and "SDE" in status and sde.startswith("<svg")
    left, right, status = client.predict("moons", "vp-cosine", 1.0, -1.0, 0.5, api_name="/flow2d_paths")
    assert "β_t = 0.707" in status
    with pytest.raises(AppError, match="greater than maximum value 2000"):
        client.predict(10**6, 0.01, 0, api_name="/flow2d_langevin")
    svg, status = client.predict(40, 0.05, 0, api_name="/flow2d_langevin")
    assert "step 40/40" in status


def test_flow_sample_endpoint_refuses_bad_input(client):
    grid, status = client.predict(5, 3.0, 10, "euler", 0.5, 4, 0, api_name="/flow_sample")
    assert "class 5, w = 3, euler, 10 steps (10 evaluations)" in status and "✓" in status
    assert np.asarray(Image.open(grid)).shape[:2] == (62, 62)
    with pytest.raises(AppError, match="greater than maximum value 10"):  # w = 1e9
        client.predict(5, 1e9, 10, "euler", 0.5, 4, 0, api_name="/flow_sample")
    with pytest.raises(AppError, match="less than minimum value 1"):  # 0 steps
        client.predict(5, 2.0, 0, "euler", 0.5, 4, 0, api_name="/flow_sample")
    with pytest.raises(AppError, match="greater than maximum value 100"):  # 10^6 steps
        client.predict(5, 2.0, 10**6, "euler", 0.5, 4, 0, api_name="/flow_sample")
    with pytest.raises(AppError):  # an unknown class
        client.predict(12, 2.0, 10, "euler", 0.5, 4, 0, api_name="/flow_sample")
    # NaN: gradio_client refuses to encode it, so send the raw HTTP request a script could send
    events = _raw_call(client.src, "flow_sample", '[5, NaN, 10, "euler", 0.5, 4, 0]')
    assert "guidance scale w: nan is not a number; using 2" in events and "✓" in events


def _raw_call(base: str, api_name: str, data_json: str) -> str:
    """POST /gradio_api/call/<api_name> with a literal JSON body, then read the event stream to its end."""
    import json
    import urllib.request

    base = base.rstrip("/")
    req = urllib.request.Request(f"{base}/gradio_api/call/{api_name}", data=('{"data": ' + data_json + "}").encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}/gradio_api/call/{api_name}/{event_id}", timeout=120) as r:
        lines = r.read().decode().splitlines()
    return "\n".join(json.dumps(json.loads(line[5:]), ensure_ascii=False) for line in lines if line.startswith("data:"))


def test_flow_guidance_endpoint(client):
    sheet, status = client.predict(2, 5, "euler", 0.5, 4, 0, api_name="/flow_guidance")
    assert np.asarray(Image.open(sheet)).shape[:2] == (7 * 30 + 2, 4 * 30 + 2) and "w=10:" in status


def test_transformer_decode_endpoint(client):
    out, steps, attn, status = client.predict("numbers", "three hundred and twelve thousand and five", "beam", 4, 1.0, 0,
                                              "dec_src", api_name="/transformer_decode")
    assert out == "**312005**" and "matches the grammar's reading" in status and attn.count("<svg") == 2 * 4
    with pytest.raises(AppError, match="greater than maximum value 8"):  # beam 10^6
        client.predict("numbers", "seven", "beam", 10**6, 1.0, 0, "dec_src", api_name="/transformer_decode")
    with pytest.raises(AppError, match="less than minimum value 0.05"):  # temperature 0
        client.predict("numbers", "seven", "sample", 4, 0, 0, "dec_src", api_name="/transformer_decode")
    out, _, _, status = client.predict("numbers", "x" * 10_000, "greedy", 4, 1.0, 0, "dec_src", api_name="/transformer_decode")
    assert out == "" and "10000 characters" in status
    out, _, _, status = client.predict("numbers", "", "greedy", 4, 1.0, 0, "dec_src", api_name="/transformer_decode")
    assert "empty" in status
    out, _, _, status = client.predict("copy", "9 8 7 6 5", "greedy", 4, 1.0, 0, "enc_self", api_name="/transformer_decode")
    assert out == "**9 8 7 6 5**"


@pytest.mark.parametrize("task,text,reason", [
    ("numbers", "thousand", "'thousand' needs a number before it"), ("numbers", "and", "'and' joins two parts of a number"),
    ("numbers", "twelve hundred", "'hundred' takes one to nine before it"), ("zh_numbers", "万", "'万' needs a number before it"),
    ("zh_numbers", "一万五", "needs 零 first"),
])
def test_transformer_refuses_non_phrases_with_the_parsers_reason(client, task, text, reason):
    out, steps, attn, status = client.predict(task, text, "greedy", 4, 1.0, 0, "dec_src", api_name="/transformer_decode")
    assert out == steps == attn == "" and "Not a number phrase" in status and reason in status


@pytest.mark.parametrize("task", ["numbers", "zh_numbers"])
def test_transformer_decodes_one_example_of_every_shape(client, task):
    """One random number of each shape (100 English, 64 Chinese), in a random accepted form, decoded through the API."""
    from genlib import numerals

    rng, wrong = np.random.default_rng(7), []
    for shape in numerals.shapes(task):
        n = numerals.sample_of_shape(task, shape, rng)
        text = numerals.phrase(task, n, rng)
        out, _, _, status = client.predict(task, text, "greedy", 4, 1.0, 0, "dec_src", api_name="/transformer_decode")
        if out != f"**{n}**" or "✓" not in status:
            wrong.append((shape, text, out, status))
    assert not wrong


def test_transformer_plot_endpoints(client):
    svg, status = client.predict(6, api_name="/transformer_mask")
    assert svg.count("<rect") == 36
    svg, status = client.predict("0, 1", 128, api_name="/transformer_posenc")
    assert svg.count("<polyline") == 2
    svg, status = client.predict(256, 1000, api_name="/transformer_noam")
    assert "at step 1000" in status
    svg, status = client.predict(0.3, 20, api_name="/transformer_smoothing")
    assert "0.7" in status


def test_attention_endpoints(client):
    plane, table, status = client.predict(30, 1.5, 1.0, api_name="/attention_single")
    assert plane.startswith("<") and "<table" in table
    with pytest.raises(AppError, match="greater than maximum value 5"):
        client.predict(30, 1.5, 1e6, api_name="/attention_single")
    out = client.predict(
        {"headers": ["1", "2"], "data": [[1, 0], [0, 1]]}, {"headers": ["1", "2"], "data": [[1, 0], [0, 1], [1, 1]]},
        {"headers": ["1"], "data": [[1], [2], [3]]}, True, 0, "end", api_name="/attention_matrix")
    assert "causal" in out[-1].lower()  # 2 queries, 3 keys: the causal mask cannot apply, and the page says so


def test_pixelcnn_endpoints(client):
    grid, status = client.predict(0.9, 2, 5, api_name="/pixelcnn_sample")
    assert "row 28/28 ✓" in status and np.asarray(Image.open(grid)).shape[:2] == (32, 62)  # 2 samples side by side
    for bad, match in ((0, "less than minimum value 0.1"), (-1, "less than minimum value 0.1"), (1e6, "greater than maximum value 2")):
        with pytest.raises(AppError, match=match):
            client.predict(bad, 2, 0, api_name="/pixelcnn_sample")
    grid, status = client.predict(1.0, 2, 5, "3", 2.0, api_name="/pixelcnn_sample")
    assert "label 3, w = 2" in status and "row 28/28 ✓" in status
    with pytest.raises(AppError, match="greater than maximum value 5"):
        client.predict(1.0, 2, 5, "3", 6.0, api_name="/pixelcnn_sample")
    with pytest.raises(AppError, match="not in the list of choices"):
        client.predict(1.0, 2, 5, "eleven", api_name="/pixelcnn_sample")
    sheet, status = client.predict(26, 2, 1.0, 0, api_name="/pixelcnn_complete")
    assert "26 rows kept" in status and "✓" in status and "p(y | kept rows)" in status
    with pytest.raises(AppError, match="greater than maximum value 27"):
        client.predict(40, 2, 1.0, 0, api_name="/pixelcnn_complete")
    img, status = client.predict("masked", 20, 10, api_name="/pixelcnn_influence")
    assert "blind spot" in status and "later pixels with influence: 0." in status
    img, status = client.predict("pixelsnail", 20, 10, api_name="/pixelcnn_influence")
    assert "(all of them)" in status


def test_eval_endpoints(client):
    cm, pr, roc, status = client.predict("mnist_3v5", "logistic", 1.0, 0.3, 2.0, api_name="/eval_scores")
    assert roc.startswith("<svg") and "AUC = " in status and "F_β(β = 2)" in status
    svg, status = client.predict("mnist_3v5", "logistic", 1.0, 0.3, {"headers": ["a", "b"], "data": [[0, None], [1, 0]]},
                                 api_name="/eval_costs")
    assert svg == "" and "⛔" in status  # an empty cost entry: a message, not a crash
    table, cd, status = client.predict(["logistic", "stump"], "blobs", 5, 0.05, 0.1, 0, api_name="/eval_tests")
    assert "| McNemar" in table and "CD = " in cd
    with pytest.raises(AppError, match="greater than maximum value 0.2"):  # alpha outside the slider
        client.predict(["logistic", "stump"], "blobs", 5, 0.5, 0.1, 0, api_name="/eval_tests")
    with pytest.raises(AppError, match="greater than maximum value 20"):  # k folds
        client.predict(["logistic", "stump"], "blobs", 10**6, 0.05, 0.1, 0, api_name="/eval_tests")
    where, est, status = client.predict("blobs", "knn7", 1.0, "kfold", 0.3, True, 20, 30, -1, api_name="/eval_split")
    assert "using 6" in status and "seed: -1 is outside" in status  # work per request is bounded


def test_linear_endpoints(client):
    contour, curves, table, status = client.predict(1, 40, 0.5, 0, 0, 0.1, 60, 8, api_name="/linear_regression")
    assert contour.startswith("<svg") and "2/λ_max" in table and "× 2/λ_max" in status
    *_, status = client.predict(1, 40, 0.5, 0, 0, 0.6, 300, 8, api_name="/linear_regression")  # above 2/λ_max
    assert "diverged" in status
    with pytest.raises(AppError, match="greater than maximum value"):  # the slider refuses 1e9 before the callback
        client.predict(1, 40, 0.5, 0, 0, 1e9, 60, 8, api_name="/linear_regression")
    svg, status = client.predict(40, 0.8, 0, 400, api_name="/linear_perceptron")
    assert "Novikoff" in status
    *_, status = client.predict(1, 0.8, 0.01, 1.0, 0, api_name="/linear_logistic")
    assert "one class" in status
    plane, hist, status = client.predict(80, 1.0, 30, 0, api_name="/linear_lda")
    assert "Rayleigh" in status


def test_cnn_endpoints(client):
    probs, maps, filters, status = client.predict(api_name="/cnn_predict")
    assert probs.startswith("<svg") and "Prediction" in status
    img, status = client.predict({"headers": ["1", "2"], "data": [[1, -1], [2, -2]]}, 2, 3, api_name="/cnn_convolve")
    assert "Output 11×11" in status and "F.conv2d: 0." in status  # (28 + 4 - 2) // 3 + 1
    img, status = client.predict({"headers": ["1", "2"], "data": [["nan", 1], [1, 1]]}, 1, 1, api_name="/cnn_convolve")
    assert img is None and "NaN" in status
    conf, acc, cell, confident, status = client.predict("cnn", 9, 4, api_name="/cnn_confusion")
    assert "MNIST test set" in status and "Cell (true 9, predicted 4)" in status
    *_, status = client.predict("cnn_fashion", 6, 0, api_name="/cnn_confusion")
    assert "Fashion-MNIST test set" in status and "Cell (true shirt, predicted T-shirt/top)" in status
    out = client.predict(3, api_name="/cnn_pick_fashion")
    assert "Fashion-MNIST test item #3" in str(out)
    *_, status = client.predict("cnn_fashion", api_name="/cnn_predict")
    assert "Fashion-MNIST classifier" in status


def test_compare_endpoints(client):
    table, scatter, made = client.predict(api_name="/compare_board")
    assert "compare-table" in table and "<circle" in scatter and "benchmarks/compare.py" in made
    assert client.predict(api_name="/compare_roads").count("<svg") == 5
    rows, status = client.predict(["flow:w = 1, Euler-5"], 2, -5, api_name="/compare_draw")
    assert len(rows) == 1 and "-5 is outside" in status
    with pytest.raises(AppError, match="not in the list of choices"):  # Gradio refuses an unknown setting
        client.predict(["no such model"], 2, 0, api_name="/compare_draw")
    with pytest.raises(AppError, match="greater than maximum value 8"):  # the slider refuses it before the callback
        client.predict(["flow:w = 1, Euler-5"], 10**6, 0, api_name="/compare_draw")


def test_rnn_endpoints(client):
    job = client.submit("shakespeare_lstm", "ROMEO:", 0.8, 5, 120, 1, api_name="/rnn_sample")
    text, chart, status = job.result()
    assert text.startswith("ROMEO:") and len(text) == 126 and "<svg" in chart and "120/120 characters ✓" in status
    lengths = [len(frame[0]) for frame in job.outputs()]  # streamed: the text grows frame by frame
    assert len(lengths) >= 20 and lengths == sorted(lengths) and lengths[0] < lengths[-1] == 126
    text, _, status = client.predict("shakespeare_gru", "x" * 10_000 + "😀", 1.0, 0, 10, 0, api_name="/rnn_sample")
    assert "10001 characters; the model reads the last 400" in status and len(text) == 409  # the emoji was left out
    _, _, status = client.predict("shakespeare_rnn", "", 0.5, 0, 10, 0, api_name="/rnn_sample")
    assert "the prompt is empty" in status
    with pytest.raises(AppError, match="greater than maximum value"):  # the slider refuses 1e9 before the callback
        client.predict("shakespeare_lstm", "To", 1e9, 0, 10, 0, api_name="/rnn_sample")
    with pytest.raises(AppError, match="greater than maximum value"):
        client.predict("shakespeare_lstm", "To", 1.0, 0, 10**6, 0, api_name="/rnn_sample")
    poem, status = client.predict("7", "春江花月", 0.8, 2, True, api_name="/rnn_quatrain")
    assert "form ✓" in status and poem.count("<br>") == 3 and "江" in poem
    heat, status = client.predict("tang_lstm", "床前明月光，疑是地上霜。", api_name="/rnn_state")
    assert heat.startswith("<svg") and "position in the line" in status
    plot, status = client.predict("To be, or not to be", api_name="/rnn_gradients")
    assert all(k in plot for k in ("RNN", "GRU", "LSTM")) and "T − t = 18" in status
    plot, table, status = client.predict("lstm", 30, api_name="/rnn_toy")
    assert "<polyline" in plot and "LSTM, 30 steps" in status
    records, curves = client.predict(api_name="/rnn_records")
    assert records.count("<tr>") == 5 and curves.count("<polyline") == 3  # RNN, GRU, LSTM: one CPU-time budget


def test_gan_endpoints(server, client):
    """Two gradio_client sessions play separate 2-D games; every gan_* endpoint; out-of-range input is refused."""
    other = gradio_client.Client(server, verbose=False)
    frame, status = client.predict("ring8", "nonsaturating", 0.001, 0.001, 1, 0, False, api_name="/gan_reset")
    assert 'data-step="0"' in frame and "New game" in status
    for _ in range(3):
        frame, status = client.predict("ring8", "nonsaturating", 0.001, 0.001, 1, 0, False, api_name="/gan_step")
    frame_b, status_b = other.predict("ring8", "nonsaturating", 0.001, 0.001, 1, 0, False, api_name="/gan_step")
    assert 'data-step="48"' in frame and 'data-step="16"' in frame_b  # each session has its own game
    play = client.submit("ring8", "lsgan", 0.01, 0.001, 1, 0, True, api_name="/gan_play")  # streams frames until paused
    deadline = time.monotonic() + 60
    while len(play.outputs()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(play.outputs()) >= 3 and 'data-step="64"' in play.outputs()[0][0] and "polyline" in play.outputs()[0][0]
    status = client.predict(api_name="/gan_pause")
    assert "paused at step" in status
    play.result(timeout=30)  # the stream has ended
    shown = [int(f.split('data-step="')[1].split('"')[0]) for f, _ in play.outputs()]
    assert shown == list(range(64, 64 + 16 * len(shown), 16))  # one frame per yield, none lost or repeated
    assert client.predict("oscillation", api_name="/gan_preset")[:3] == ("gaussian", "nonsaturating", 0.01)
    with pytest.raises(AppError, match="greater than maximum value"):  # the slider refuses 1e9 before the callback
        client.predict("ring8", "nonsaturating", 1e9, 0.001, 1, 0, False, api_name="/gan_step")
    with pytest.raises(AppError, match="greater than maximum value"):
        client.predict("ring8", "nonsaturating", 0.001, 0.001, 10**6, 0, False, api_name="/gan_step")
    grid, status = client.predict(16, 3, "all", api_name="/gan_sample")
    assert grid and "16 samples, seed 3" in status and "the classifier reads" in status
    sheet, curves, status = client.predict(1, api_name="/gan_replay")
    assert sheet and "<polyline" in curves and "epoch 1/" in status and "FID" in status
    sheet, status = client.predict(0, 1, "7", api_name="/gan_walk")
    assert sheet and "digit 7" in status and "slerp" in status
    sheet, status = client.predict(2, 5, "all", api_name="/gan_nearest")
    assert sheet and "cosine" in status



def test_score_endpoints(client):
    svg, status = client.predict("two_modes", 0.3, api_name="/score_field")
    assert svg.count("<line") > 50 and "σ = 0.3" in status
    svg, status = client.predict("two_modes", 0.1, 1e9, 50, 0, api_name="/score_langevin")  # a huge step: diverges
    assert "using 5" in status and "Diverged" in status
    svg, status = client.predict("two_modes", 0.1, -1, 50, 0, api_name="/score_langevin")  # a negative step
    assert "using 0.0001" in status and "data weights 0.80 : 0.20" in status
    one, ann, status = client.predict("two_modes", 0.1, 2.0, 10, 0.01, 40, 0, api_name="/score_annealed")
    assert one is None and ann is None and "must go down" in status  # a ladder out of order: nothing runs
    one, ann, status = client.predict("ring8", 3.0, 0.1, 4, 0.01, 40, 0, api_name="/score_annealed")
    assert "<svg" in one and "<svg" in ann and "annealed over 4 rungs" in status
    x, x0, status = client.predict(3, 1, 0.16, 2, 0, api_name="/score_sample")
    assert x and x0 and "level 3/3" in status and "classifier: mean confidence" in status
    plot, sheet, status = client.predict(2, 0.16, 1, 0, api_name="/score_sweep")
    assert "<polyline" in plot and sheet and "3 corrector steps" in status
    img, curves, status = client.predict(5, 300, api_name="/score_schedules")
    assert img and curves.count("<svg") == 2 and "cosine" in status
    *figs, status = client.predict("mixture", 40, "learned", 0, api_name="/score_sde")
    assert all("<polyline" in f for f in figs) and "learned score" in status
    with pytest.raises(AppError, match="greater than maximum value"):  # sliders refuse out-of-range work up front
        client.predict(3, 99, 0.16, 2, 0, api_name="/score_sample")


def test_vae_endpoints(client, tmp_path):
    ae_map, vae_map, img, status = client.predict("vae2", 0.5, -0.5, api_name="/vae_decode_point")
    assert ae_map.startswith("<svg") and vae_map.startswith("<svg") and "VAE-2 at z = (0.50, -0.50)" in status
    assert np.asarray(Image.open(img)).shape[:2] == (112, 112)
    *_, status = client.predict("ae2", 0.0, 11.0, api_name="/vae_decode_point")
    assert "AE-2 at z = (0.00, 11.00)" in status
    *_, status = client.predict("vae2", 11.0, 0.0, api_name="/vae_decode_point")  # inside the slider, outside VAE-2's map
    assert "z₁: 11 is outside [-4, 4]; using 4" in status
    with pytest.raises(AppError, match="greater than maximum value"):
        client.predict("vae2", 1e9, 0.0, api_name="/vae_decode_point")
    events = _raw_call(client.src, "vae_decode_point", '["vae2", NaN, 0]')  # a script can send NaN
    assert "z₁: nan is not a number; using 0.0" in events
    grid, table, status = client.predict("vae32_kl", 4, 0, api_name="/vae_prior")
    assert "KL only" in status and "| VAE-32 |" in table
    with pytest.raises(AppError, match="greater than maximum value 36"):
        client.predict("vae32", 10**4, 0, api_name="/vae_prior")
    model, status = client.predict(2.6, api_name="/vae_beta")
    assert model == "vae32_beta4" and "nearest trained β = 4" in status
    preview, status = client.predict(7, api_name="/vae_pick")
    assert "#7" in status
    blank = np.zeros((280, 280, 4), np.uint8)
    assert "blank" in client.predict(_editor(_png(tmp_path, blank, "blank.png")), api_name="/vae_draw")[-1]
    big = np.full((3000, 3000, 3), 230, np.uint8)
    big[400:2600, 1300:1700] = (30, 60, 200)
    assert "centred" in client.predict(_editor(_png(tmp_path, big, "big.png")), api_name="/vae_draw")[-1]
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    with pytest.raises(AppError):  # a file that is not an image: refused before the callback, as a message
        client.predict(_editor(gradio_client.handle_file(str(junk))), api_name="/vae_draw")
    grid, mu_sigma, post_map, status = client.predict("vae2", 8, 0, api_name="/vae_posterior")
    assert "ℒ_1000" in status and post_map.count("<ellipse") == 2
    with pytest.raises(AppError, match="greater than maximum value 16"):
        client.predict("vae32", 10**6, 0, api_name="/vae_posterior")
    strip, status = client.predict(5, "2", 7, api_name="/vae_interpolate")
    assert "7 points" in status and "2-D codes" in status
    grid, status = client.predict(3.0, 6, api_name="/vae_traverse")
    assert "Rows: dimensions" in status
    plot, table, status = client.predict(api_name="/vae_few_labels")
    assert plot.startswith("<svg") and "| pixels |" in table


def test_simclr_endpoints(client, tmp_path):
    sheet, status = client.predict(4, 3, ["crop", "flip"], api_name="/simclr_views")
    assert sheet and "4 images" in status and "random resized crop, horizontal flip" in status
    heat, bars, status = client.predict(4, 3, ["crop", "flip"], 5, 0.2, api_name="/simclr_loss")
    assert heat.startswith("<svg") and "★" in bars and "Anchor b2: positive a2" in status and "rank" in status
    with pytest.raises(AppError, match="greater than maximum value 12"):  # a batch of 500: refused before the callback
        client.predict(500, 0, ["crop"], 0, 0.5, api_name="/simclr_loss")
    with pytest.raises(AppError, match="less than minimum value 0.01"):  # tau = 0
        client.predict(4, 0, ["crop"], 0, 0.0, api_name="/simclr_loss")
    with pytest.raises(AppError):  # not one of the augmentations
        client.predict(4, 0, ["solarize"], api_name="/simclr_views")
    _, _, status = client.predict(2, 0, [], 20, 1.0, api_name="/simclr_loss")
    assert "anchor: 20 is outside [0, 3]" in status
    out = client.predict(7, api_name="/simclr_pick")
    assert "Fashion-MNIST test item #7" in str(out)
    sheet, status = client.predict(api_name="/simclr_neighbours")
    assert sheet and "Neighbours sharing its class" in status
    blank = np.zeros((280, 280, 4), np.uint8)
    assert "blank" in str(client.predict(_editor(_png(tmp_path, blank, "blank.png")), api_name="/simclr_draw"))
    shirt = np.full((280, 280, 3), 255, np.uint8)
    shirt[40:240, 70:210] = 0
    assert "your drawing" in str(client.predict(_editor(_png(tmp_path, shirt, "shirt.png")), api_name="/simclr_draw"))
    sheet, status = client.predict(api_name="/simclr_neighbours")  # the session's item is now the drawing
    assert sheet and "Query: your drawing" in status
    h_map, px_map, legend, status = client.predict(api_name="/simclr_space")
    assert h_map.count("<circle") == 1000 and "PCA" in px_map and "1000 test images" in status
    bars, sv, status = client.predict(api_name="/simclr_probe")
    assert bars.count("<rect") == 9 and "<polyline" in sv and "benchmarks/simclr.py" in status
