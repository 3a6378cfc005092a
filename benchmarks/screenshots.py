"""Screenshots of the real page for the README (headless Chromium): docs/screenshot-en.png, docs/screenshot-zh.png,
the flow-matching tab: docs/screenshot-flow-en.png (2-D part) and docs/screenshot-flow-mnist.png (guidance rows),
docs/screenshot-pixelcnn.png, docs/screenshot-transformer.png (attention maps of a decoded number) and
docs/screenshot-attention.png.

    python benchmarks/screenshots.py [--parts ddpm,flow,transformer,pixelcnn]
"""
from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.speed import free_port, start_app, stop  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]


@contextlib.contextmanager
def served_browser(**env: str):
    """`python app.py` on a free port (`env` added to its environment) and headless Chromium -> (browser, port);
    both are closed on the way out."""
    from playwright.sync_api import sync_playwright

    proc, _ = start_app(port := free_port(), **env)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            try:
                yield browser, port
            finally:
                browser.close()
    finally:
        stop(proc)


def main() -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="ddpm,flow,transformer,pixelcnn", help="which screenshots to retake")
    parts = set(p.parse_args().parts.split(","))
    with served_browser() as (browser, port):
        if "ddpm" in parts:
            ddpm_tab(browser, port)
        for name, take in (("flow", flow_tab), ("transformer", transformer_tabs), ("pixelcnn", pixelcnn_tab)):
            if name in parts:
                take(browser, port)


def ddpm_tab(browser, port: int) -> None:
    """docs/screenshot-en.png (the sampled grid) and docs/screenshot-zh.png (the top of the page in zh-CN)."""
    for locale, name in (("en-US", "en"), ("zh-CN", "zh")):
        page = browser.new_page(locale=locale, viewport={"width": 1440, "height": 1100})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#ddpm-note .katex", timeout=60_000)
        box = page.locator("#ddpm-t input[type=number]").first
        box.fill("350")
        box.press("Enter")
        page.locator("#ddpm-sample").click()
        page.wait_for_function("() => document.body.innerText.includes('✓')", timeout=120_000)
        page.wait_for_timeout(500)
        if name == "zh":  # one view of the sampled grid (en), one of the top of the page (zh)
            page.evaluate("window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
        page.screenshot(path=str(ROOT / "docs" / f"screenshot-{name}.png"))
        page.close()


def pixelcnn_tab(browser, port: int) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1440, "height": 1100})
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("#ddpm-note .katex", timeout=60_000)
    page.get_by_role("tab", name="PixelCNN / PixelSNAIL").click()
    page.wait_for_selector("#pixelcnn-note .katex", timeout=30_000)
    page.locator("#pixelcnn-sample").click()
    page.wait_for_function("() => document.body.innerText.includes('row 28/28')", timeout=120_000)
    page.locator("#pixelcnn-complete").click()
    page.wait_for_function("() => (document.body.innerText.match(/row 28\\/28/g) || []).length >= 2", timeout=120_000)
    page.locator("#pixelcnn-sample").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-pixelcnn.png"))
    page.close()


def transformer_tabs(browser, port: int) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1440, "height": 1100})
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("#ddpm-note .katex", timeout=60_000)
    page.get_by_role("tab", name="Transformer").click()
    page.wait_for_selector("#transformer-note .katex", timeout=30_000)
    page.locator("#transformer-input textarea").first.fill("three hundred and twelve thousand and forty five")
    page.locator("#transformer-run").click()
    page.wait_for_selector("#transformer-attn svg", timeout=60_000)
    page.locator("#transformer-attn").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-transformer.png"))
    page.get_by_role("tab", name="Attention basics").click()
    page.wait_for_selector("#attention-note .katex", timeout=30_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-attention.png"))
    page.close()


def flow_tab(browser, port: int) -> None:
    page = browser.new_page(locale="en-US", viewport={"width": 1440, "height": 1100})
    page.goto(f"http://127.0.0.1:{port}/")
    page.wait_for_selector("#ddpm-note .katex", timeout=60_000)
    page.get_by_role("tab", name="Flow matching").click()
    page.wait_for_selector("#flow-note .katex", timeout=30_000)
    page.locator("#flow-compare").click()
    page.wait_for_selector("#flow-sde svg", timeout=60_000)
    page.locator("#flow-play").click()
    page.wait_for_selector("#flow-anim svg", timeout=60_000)
    page.locator("#flow-field").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let the animation run a little
    page.screenshot(path=str(ROOT / "docs" / "screenshot-flow-en.png"))
    page.locator("#flow-row-btn").click()
    page.wait_for_function("() => document.body.innerText.includes('Classifier agreement per row')", timeout=120_000)
    page.locator("#flow-row-btn").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "docs" / "screenshot-flow-mnist.png"))
    page.close()


if __name__ == "__main__":
    main()
