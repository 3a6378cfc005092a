"""A real browser (headless Chromium driven by Playwright): math renders, the slider moves the image, zh-CN gets Chinese.

Chromium comes from Debian (`apt-get install chromium fonts-noto-cjk`); `.ci/run` installs it. Outside CI the
test is skipped when no Chromium is found; in CI (CI=true) a missing browser is a failure.
"""
from __future__ import annotations

import os
import shutil

import pytest

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]

if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("Chromium is not installed (apt-get install -y chromium fonts-noto-cjk)", pytrace=False)
    pytest.skip("no Chromium on this machine", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _open(browser, url, locale, ready: str = "#ddpm-note", timeout: int = 60_000):
    """A fresh page at `url` (a link such as server + "/?tab=vae" opens that tab, even one in the overflow menu),
    once `ready` is visible. A link that opens a tab must wait for that tab's note: the DDPM note is visible only until
    the page switches tabs, so waiting for it races with the switch."""
    ctx = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.console = []  # what the page logged, shown when a wait fails
    page.on("console", lambda m: page.console.append(f"{m.type}: {m.text}"[:300]))
    page.on("pageerror", lambda e: page.console.append(f"pageerror: {e}"[:300]))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector(ready, timeout=timeout)
    return ctx, page


def _wait_text(page, selector: str, text: str, timeout: int = 60_000) -> None:
    """Wait until the element's text contains `text`; on timeout fail with what it showed and what the page logged."""
    try:
        page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.innerText.includes(t); }",
                               arg=[selector, text], timeout=timeout)
    except sync_api.TimeoutError:
        shown = page.evaluate("(s) => { const e = document.querySelector(s); return e ? e.innerText : '(no such element)'; }",
                              selector)
        pytest.fail(f"{selector} never showed {text!r}; it shows {shown[:300]!r}; console: {page.console[-15:]}")


def _set_number(page, selector: str, value: str) -> None:
    """Type a value into a slider's number box and press Enter, as a visitor does."""
    box = page.locator(f"{selector} input[type=number]").first
    box.fill(value)
    box.press("Enter")


def _open_tab(page, name: str, note: str) -> None:
    """Click a tab by its (localised) name and wait until its note's math has rendered."""
    page.get_by_role("tab", name=name).click()
    page.wait_for_selector(f"{note} .katex", timeout=30_000)


def _xt_src(page) -> str:
    return page.locator("#ddpm-xt img").first.get_attribute("src") or ""


def test_math_renders_and_slider_moves_the_image(browser, server, tmp_path):
    ctx, page = _open(browser, server, "en-US")
    try:
        page.wait_for_selector("#ddpm-note .katex", timeout=30_000)
        assert page.locator("#ddpm-note .katex").count() > 20  # display and inline equations typeset by KaTeX
        assert "Denoising diffusion" in page.locator("#ddpm-note").inner_text()
        page.wait_for_selector("#ddpm-xt img")
        # The page-load event fills the stats table at t = 0; moved before it returns, the slider's 600 would be
        # overwritten by that late t = 0 table (CI caught this on a slow run), so wait for it as a visitor would.
        _wait_text(page, "#ddpm-stats", "SNR")
        before = _xt_src(page)
        _set_number(page, "#ddpm-t", "600")
        page.wait_for_function("(b) => { const i = document.querySelector('#ddpm-xt img'); return i && i.src !== b; }",
                               arg=before, timeout=20_000)
        assert _xt_src(page) != before
        _wait_text(page, "#ddpm-stats", "600")
        page.screenshot(path=str(tmp_path / "en.png"), full_page=False)
    finally:
        ctx.close()


def test_chinese_locale_shows_chinese_notes(browser, server):
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _wait_text(page, "#ddpm-note", "去噪扩散模型")
        assert page.locator("#ddpm-note .katex").count() > 20
        assert "采样" in page.content()  # UI strings follow the locale too (gr.I18n)
        from demos import TABS, ui

        titles = [page.get_by_role("tab").nth(i).inner_text().strip() for i in range(page.get_by_role("tab").count())]
        expected = [ui.STRINGS["zh"][tab.TITLE] for tab in TABS]  # the tabs, in demos.TABS order, in Chinese
        assert len(titles) >= 5 and titles == expected[: len(titles)]  # the rest sit in the tab bar's overflow menu
    finally:
        ctx.close()


def test_flow_tab_slider_and_animation(browser, server):
    ctx, page = _open(browser, server, "en-US")
    try:
        _open_tab(page, "Flow matching", "#flow-note")
        assert page.locator("#flow-note .katex").count() > 20
        page.wait_for_selector("#flow-field svg")
        assert "t = 0.50" in page.locator("#flow-field").inner_html()
        _set_number(page, "#flow-t", "0.9")
        page.wait_for_function("() => document.querySelector('#flow-field').innerHTML.includes('t = 0.90')", timeout=20_000)
        page.locator("#flow-play").click()
        page.wait_for_function("() => document.querySelectorAll('#flow-anim svg circle animate').length >= 600", timeout=30_000)
        page.locator("#flow-sample").click()  # MNIST with guidance: the grid fills in
        page.wait_for_selector("#flow-grid img", timeout=60_000)
    finally:
        ctx.close()


def test_transformer_tab_decodes_and_draws_attention(browser, server):
    ctx, page = _open(browser, server, "en-US")
    try:
        _open_tab(page, "Transformer", "#transformer-note")
        box = page.locator("#transformer-input textarea").first
        box.fill("fourteen thousand and seven")
        page.locator("#transformer-run").click()
        _wait_text(page, "#transformer-output", "14007")
        assert page.locator("#transformer-attn svg").count() == 8  # 2 layers x 4 heads
        assert page.locator("#transformer-steps tr").count() >= 6
        box.fill("thousand")  # not a number phrase: refused with the parser's reason, output and attention cleared
        page.locator("#transformer-run").click()
        page.wait_for_function("() => document.body.innerText.includes(\"'thousand' needs a number before it\")",
                               timeout=30_000)
        assert "14007" not in page.locator("#transformer-output").inner_text()
        assert page.locator("#transformer-attn svg").count() == 0
    finally:
        ctx.close()


def test_chinese_locale_gets_chinese_status_lines(browser, server):
    """Status lines built on the server follow the browser's language (ui.say reads the request's Accept-Language):
    the digit picker's first status, the DDPM schedule table on load and after the slider moves, a clamping note."""
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _wait_text(page, "#ddpm-stats", "信噪比")
        assert page.get_by_text("MNIST 测试数字 #0（标签").count() >= 1
        _set_number(page, "#ddpm-t", "600")
        _wait_text(page, "#ddpm-stats", "600")
        assert "信号" in page.locator("#ddpm-stats").inner_text() and "signal" not in page.locator("#ddpm-stats").inner_text()
        _open_tab(page, "注意力基础", "#attention-note")
        page.get_by_role("tab", name="注意力基础").click()
        _wait_text(page, "#attention-weights", "键")
        assert page.get_by_text("最大权重").count() >= 1 and page.get_by_text("Largest weight").count() == 0
    finally:
        ctx.close()


def test_attention_tab_redraws_when_the_query_moves(browser, server):
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _open_tab(page, "注意力基础", "#attention-note")
        before = page.locator("#attention-weights").inner_html()
        _set_number(page, "#attention-angle", "-120")
        page.wait_for_function("(b) => document.querySelector('#attention-weights').innerHTML !== b", arg=before, timeout=20_000)
        assert page.locator("#attention-weight-matrix svg").count() >= 1
    finally:
        ctx.close()


def test_linear_tab_redraws_the_path_when_the_learning_rate_moves(browser, server):
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _open_tab(page, "线性模型", "#linear-note")
        page.wait_for_selector("#linear-contour svg polyline", timeout=30_000)
        before = page.locator("#linear-contour").inner_html()
        _set_number(page, "#linear-lr", "0.5")
        page.wait_for_function("(b) => document.querySelector('#linear-contour').innerHTML !== b", arg=before, timeout=20_000)
        _wait_text(page, "#linear-reg-status", "GD 发散了")  # zh-CN: the status line is in Chinese too
    finally:
        ctx.close()


def test_cnn_tab_predicts_and_convolves(browser, server):
    ctx, page = _open(browser, server, "en-US")
    try:
        page.get_by_role("tab", name="CNN classifier").click()
        _wait_text(page, "#cnn-status", "Prediction")
        _wait_text(page, "#cnn-conv-status", "Output 28×28")
        _set_number(page, "#cnn-padding", "0")
        _wait_text(page, "#cnn-conv-status", "Output 26×26")
        _wait_text(page, "#cnn-confusion-status", "MNIST test set")
    finally:
        ctx.close()


def test_pixelcnn_tab_fills_in_and_shows_the_blind_spot(browser, server):
    ctx, page = _open(browser, server, "en-US")
    try:
        _open_tab(page, "PixelCNN / PixelSNAIL", "#pixelcnn-note")
        # drawn on page load; moving the row slider redraws it (the masked PixelCNN is the default viewer)
        _set_number(page, "#pixelcnn-row", "20")
        _wait_text(page, "#pixelcnn-influence-status", "pixel (20, 14)")
        _wait_text(page, "#pixelcnn-influence-status", "blind spot")
        assert page.locator("#pixelcnn-influence img").count() == 1
        page.locator("#pixelcnn-sample").click()
        page.wait_for_selector("#pixelcnn-grid img", timeout=60_000)
    finally:
        ctx.close()


def test_eval_tab_threshold_moves_the_roc_point(browser, server):
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _open_tab(page, "模型评估", "#evaluation-note")
        _wait_text(page, "#eval-scores-status", "AUC")
        before = page.locator("#eval-roc").inner_html()
        _set_number(page, "#eval-threshold", "0.95")
        page.wait_for_function("(b) => document.querySelector('#eval-roc').innerHTML !== b", arg=before, timeout=20_000)
        _wait_text(page, "#eval-scores-status", "阈值 0.950")  # zh-CN: the status line is in Chinese too
    finally:
        ctx.close()


def test_a_shared_link_restores_the_tab_and_its_controls_and_runs_it_once(browser, server):
    """?tab=pixelcnn&n=4&seed=3 selects the tab, sets the controls, samples once; bad parameters get a notice."""
    ctx, page = _open(browser, server + "?tab=pixelcnn&n=4&seed=3&temperature=99&bogus=1", "en-US",
                      ready="#pixelcnn-note .katex")
    try:
        _wait_text(page, "#link-notice", "'bogus' was ignored")
        _wait_text(page, "#link-notice", "'temperature=99' was ignored: outside [0.1, 2]")
        page.wait_for_selector("#pixelcnn-grid img", timeout=90_000)  # the primary action ran once, on its own
        assert page.get_by_role("tab", name="PixelCNN / PixelSNAIL").get_attribute("aria-selected") == "true"
        page.locator("#pixelcnn-copy-link").click()
        page.wait_for_function("() => (document.querySelector('#pixelcnn-link textarea, #pixelcnn-link input') || {}).value"
                               "?.includes('tab=pixelcnn')", timeout=30_000)
        link = page.locator("#pixelcnn-link textarea, #pixelcnn-link input").first.input_value()
        assert "n=4" in link and "seed=3" in link and "temperature=1" in link  # the restored values, not the bad one
    finally:
        ctx.close()


def test_compare_tab_shows_the_board_and_draws_rows(browser, server):
    # opened by its link: the last of many tabs sits in the tab bar's overflow menu
    ctx, page = _open(browser, server.rstrip("/") + "/?tab=compare", "zh-CN", ready="#compare-note .katex", timeout=90_000)
    try:
        page.wait_for_selector("#compare-table tr", timeout=30_000)
        _wait_text(page, "#compare-board", "流匹配")  # in zh once the page load event has picked the language
        from demos.compare import default_choices

        # a link names a tab, so the page presses its primary button once: the default rows are drawn first. Until
        # that draw ends, a second click on the button is ignored (trigger mode "once"), so wait for it.
        _wait_text(page, "#compare-status", f"共 {len(default_choices())} 行")
        assert page.locator("#compare-roads svg").count() == 5
        checked = page.locator("#compare-settings input[type=checkbox]:checked")
        while checked.count():
            checked.first.uncheck()
        page.locator("#compare-settings label", has_text="flow:w = 1, Euler-5").click()
        page.locator("#compare-sample").click()
        page.wait_for_selector("#compare-rows img", timeout=60_000)
        _wait_text(page, "#compare-status", "共 1 行")
    finally:
        ctx.close()


def test_rnn_tab_samples_in_chinese(browser, server):
    """Opened by a link (the tab sits in the tab bar's overflow menu), which samples once; then a new prompt and the
    Sample button. (That the text streams frame by frame is checked through the API: a busy browser may draw only
    the last frames.)"""
    ctx, page = _open(browser, server + "?tab=rnn&length=300&seed=2", "zh-CN", ready="#rnn-note .katex")
    try:
        _wait_text(page, "#rnn-status", "300/300 个字符 ✓", timeout=120_000)
        assert "随机种子 2" in page.locator("#rnn-status").inner_text() and page.locator("#rnn-chart svg").count() == 1
        assert page.evaluate("() => document.querySelector('#rnn-text textarea').value.length") == len("ROMEO:\n") + 300
        page.locator("#rnn-prompt textarea").fill("JULIET:\n")
        page.locator("#rnn-sample").click()
        page.wait_for_function("() => document.querySelector('#rnn-text textarea').value.startsWith('JULIET:')",
                               timeout=60_000)
        _wait_text(page, "#rnn-status", "300/300 个字符 ✓")
    finally:
        ctx.close()


def test_gan_tab_plays_the_2d_game_in_chinese(browser, server):
    """Opened by a link (?tab=gan, whose primary action resets the game); pressing ▶ streams frames (one event),
    the generated points move frame after frame, and pause stops it."""
    ctx, page = _open(browser, server.rstrip("/") + "/?tab=gan&seed2d=0", "zh-CN", ready="#gan-note .katex")
    try:
        page.wait_for_selector("#gan-frame .gan-frame", timeout=60_000)  # the first frame, drawn on page load
        step = "() => +(document.querySelector('#gan-frame .gan-frame') || {dataset: {step: -1}}).dataset.step"
        _wait_text(page, "#gan-status", "新的一局")
        assert page.evaluate(step) == 0
        before = page.locator("#gan-frame").inner_html()
        page.locator("#gan-play").click()
        page.wait_for_function(f"() => ({step})() >= 48", timeout=60_000)  # three frames or more, with no further click
        assert page.locator("#gan-frame").inner_html() != before
        assert "D 的损失" in page.locator("#gan-frame .gan-caption").inner_text()  # the frame's caption: step, losses
        assert "开始播放" in page.locator("#gan-status").inner_text()
        page.locator("#gan-pause").click()
        _wait_text(page, "#gan-status", "暂停")
        paused = page.evaluate(step)
        page.wait_for_timeout(1500)
        assert page.evaluate(step) <= paused + 16  # at most the frame already in flight
    finally:
        ctx.close()


def test_simclr_tab_temperature_reshapes_the_softmax_in_chinese(browser, server):
    """Opened by a link that sets the anchor; the τ slider redraws the anchor's NT-Xent softmax; the status line says
    the loss in Chinese."""
    ctx, page = _open(browser, server.rstrip("/") + "/?tab=simclr&anchor=2", "zh-CN", ready="#simclr-note .katex")
    try:
        _wait_text(page, "#simclr-loss-status", "锚点 a3")
        before = page.locator("#simclr-softmax").inner_html()
        assert "τ = 0.5" in before
        _set_number(page, "#simclr-tau", "0.05")
        page.wait_for_function("() => document.querySelector('#simclr-softmax').innerHTML.includes('τ = 0.05')",
                               timeout=30_000)
        assert page.locator("#simclr-softmax").inner_html() != before
        assert "损失项" in page.locator("#simclr-loss-status").inner_text()
        _wait_text(page, "#simclr-views-status", "张图像")
    finally:
        ctx.close()



def test_score_tab_in_chinese_field_annealing_and_predictor_corrector(browser, server):
    ctx, page = _open(browser, server, "zh-CN")
    try:
        _open_tab(page, "得分与朗之万动力学", "#score-note")
        assert page.locator("#score-note .katex").count() > 20
        page.wait_for_selector("#score-field svg line")
        _set_number(page, "#score-sigma", "1.5")
        _wait_text(page, "#score-field-status", "σ = 1.5 时")
        page.locator("#score-annealed-btn").click()
        _wait_text(page, "#score-annealed-status", "退火")
        assert page.locator("#score-ann svg circle").count() > 100
        page.locator("#score-sample").click()  # the DDPM's network as a score: predictor-corrector, streamed
        _wait_text(page, "#score-pc-status", "分类器", timeout=90_000)
    finally:
        ctx.close()


def test_vae_tab_map_click_decodes_that_point_in_chinese(browser, server):
    """A click on the VAE-2 map sets the sliders to the clicked code and decodes it; the zh-CN page is in Chinese.
    The tab is opened by its link (?tab=vae): with many tabs it may sit in the tab bar's overflow menu."""
    import re

    ctx, page = _open(browser, server.rstrip("/") + "/?tab=vae", "zh-CN", ready="#vae-note .katex", timeout=90_000)
    try:
        _wait_text(page, "#vae-note", "证据下界")  # the note is English until the page load event picks zh
        page.wait_for_selector("#vae-map-vae2 svg image", timeout=60_000)  # the test codes, drawn on page load
        _wait_text(page, "#vae-map-status", "z = (0.00, 0.00)")
        before = page.locator("#vae-decoded img").first.get_attribute("src")
        box = page.locator("#vae-map-vae2 svg").bounding_box()
        page.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + 0.25 * box["height"])  # z = (2, 2) on [-4, 4]^2
        page.wait_for_function("() => { const s = document.querySelector('#vae-map-status').innerText;"
                               " return s.includes('z = (') && !s.includes('(0.00, 0.00)'); }", timeout=30_000)
        status = page.locator("#vae-map-status").inner_text()
        assert "VAE-2 在 z = (" in status and "解码器给出的均值图像" in status
        z = [float(v) for v in re.search(r"z = \(([-\d.]+), ([-\d.]+)\)", status).groups()]
        assert abs(z[0] - 2) < 0.1 and abs(z[1] - 2) < 0.1
        page.wait_for_function("(b) => { const i = document.querySelector('#vae-decoded img'); return i && i.src !== b; }",
                               arg=before, timeout=30_000)
        assert page.locator("#vae-map-vae2 svg circle").count() >= 1  # the marker at the clicked point
    finally:
        ctx.close()
