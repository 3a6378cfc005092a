"""Annotated Generative Models: `python app.py` serves the Gradio app (one tab per model).

Host and port come from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860).
"""
from __future__ import annotations

import ctypes
import os
import sys


def limit_malloc_arenas(n: int = 2) -> bool:
    """Cap glibc's malloc arenas before the server starts its worker threads. By default glibc gives busy threads
    arenas of their own (up to 8 per core), and the server's RSS kept growing under many clients (benchmarks/load.py).
    A no-op (False) where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_ARENA_MAX = -8  # <malloc.h>
    return bool(libc.mallopt(M_ARENA_MAX, n))


# The app runs offline and needs no usage reporting: Gradio's analytics would only try to reach the network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from demos import TABS, ui  # noqa: E402
from genlib import notes  # noqa: E402

HEADER = {
    "en": "# Annotated Generative Models\nRead the idea, see each equation as the code that runs, and play with a model "
    "that was really trained — on a plain CPU, offline.",
    "zh": "# 生成模型注解\n读懂思想，看每个公式对应的真实代码，再亲手试一试真正训练过的模型——只需普通 CPU，离线也能用。",
}
ui.add_strings(en={"app_header": HEADER["en"], "notation": "Notation: one symbol table for all tabs"},
               zh={"app_header": HEADER["zh"], "notation": "符号表：所有标签页共用"})


def set_language(lang: str):
    """Re-render every tab's note, then the notation table, in `lang` ('en' or 'zh'; anything else means English)."""
    lang = lang if lang in notes.LANGS else "en"
    return [notes.load(tab.TAB_ID, lang) for tab in TABS] + [notes.load(notes.NOTATION, lang)]


def build_app() -> gr.Blocks:
    ui.links.LINKS.clear()  # the tabs built below register their links
    demo = gr.Blocks(title="Annotated Generative Models")
    # Each page view queues a few small events on load (the figures drawn on load, the shared-link restore), so the
    # queue must hold far more than a handful of visitors' worth; model events still run one at a time. Set while
    # the page is still empty: queue() builds the server app, which launch() builds again (~0.1 s of the cold start
    # with 14 tabs, benchmarks/startup.py).
    demo.queue(default_concurrency_limit=2, max_size=256)
    with demo:
        with gr.Row():
            with gr.Column(scale=5):
                gr.Markdown(ui.t("app_header"))
            with gr.Column(scale=1, min_width=160):
                lang = gr.Radio(ui.LANG_CHOICES, value="en", label=ui.t("language"), elem_id="note-language")
        # the one symbol table of all notes; every note links here (notes.render points "notation.md" at #notation)
        with gr.Accordion(ui.t("notation"), open=False, elem_id="notation"):
            notation = gr.Markdown(notes.load(notes.NOTATION, "en"), latex_delimiters=ui.LATEX)
        link_notice = gr.Markdown(elem_id="link-notice")  # what a shared link could not restore
        note_panels = []
        with gr.Tabs() as tabs:
            for tab in TABS:
                with gr.Tab(ui.t(tab.TITLE), id=tab.TAB_ID):
                    note_panels.append(tab.build())
        # Its own concurrency group, without a limit: on a zh page the notes' switch must not wait in the queue behind
        # the page-load figures of this and other visitors' page views.
        lang.change(set_language, lang, note_panels + [notation], api_name="note_language", show_progress="hidden",
                    concurrency_id="note_language", concurrency_limit=None)
        # On page load, follow the browser's language (navigator.language, e.g. "zh-CN"), in the browser alone (no
        # round trip); the radio's change then re-renders the notes. The JS result must be one of the radio's choices.
        demo.load(None, None, lang, js=ui.BROWSER_LANGUAGE_JS, show_progress="hidden", api_visibility="private")
        # Every tab's figures drawn on page load, in one event (demos/ui/pageload.py says why); benchmarks/startup.py
        # measures the page without it (GENLIB_MERGE_PAGE_LOAD=0)
        if os.environ.get("GENLIB_MERGE_PAGE_LOAD", "1") != "0":
            ui.pageload.merge(demo)
        # A shared link (?tab=ddpm&steps=50&seed=3): select the tab, set its controls, then press its primary button once.
        primary = gr.Textbox(visible=False)
        restore, controls = ui.links.restorer()
        demo.load(restore, None, [tabs, link_notice, primary, *controls], show_progress="hidden",
                  api_visibility="private").then(None, primary, primary, js=ui.links.CLICK_PRIMARY_JS,
                                                 api_visibility="private")
    return demo


def main() -> None:
    limit_malloc_arenas(int(os.environ.get("GENLIB_MALLOC_ARENAS", "2")))
    demo = build_app()
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        i18n=ui.i18n_object(),
        css=ui.CSS,
        max_file_size="10mb",
        footer_links=["api", "settings"],
    )


if __name__ == "__main__":
    main()
