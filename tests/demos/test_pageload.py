"""demos/ui/pageload.py: every figure drawn on page load comes from one load event; change triggers, API names and
the events that must keep their own load trigger are left alone."""
from __future__ import annotations

import gradio as gr

from demos.ui import pageload


def _loads(demo: gr.Blocks) -> list:
    return [f for f in demo.fns.values() if any(t[1] == "load" for t in f.targets)]


def _build():
    def boom():
        raise RuntimeError("a broken figure")

    with gr.Blocks() as demo:
        x = gr.Number(2)
        doubled, squared, broken, both_a, both_b, js_out, req_out = (gr.Textbox() for _ in range(7))
        gr.on(None, lambda v: str(2 * v), x, doubled, api_name="double")
        gr.on(None, lambda v: str(v * v), x, squared)
        gr.on(None, boom, None, broken)
        gr.on(None, lambda: ("a", "b"), None, [both_a, both_b], api_name="pair")
        demo.load(None, None, js_out, js="() => 'js'")  # runs in the browser: keeps its own trigger

        def with_request(request: gr.Request):
            return "r"

        demo.load(with_request, None, req_out)  # needs the request Gradio injects: keeps its own trigger
        n = pageload.merge(demo)
    return demo, n, (x, doubled, squared, broken, both_a, both_b)


def test_merge_leaves_one_load_event_and_keeps_change_triggers_and_api_names():
    demo, n, (x, doubled, squared, *_rest) = _build()
    assert n == 4
    loads = _loads(demo)
    assert len(loads) == 3 and sum(f.name == "page_load" for f in loads) == 1  # + the JS one + the gr.Request one
    by_api = {f.api_name: f for f in demo.fns.values()}
    assert by_api["double"].targets == [(x._id, "change")]  # the input's change still redraws it
    assert by_api["pair"].targets == []  # load was its only trigger; the endpoint stays callable by name
    merged = next(f for f in loads if f.name == "page_load")
    assert [c._id for c in merged.inputs] == [x._id, x._id]
    assert len(merged.outputs) == 5


def test_the_merged_event_returns_every_output_and_skips_a_broken_one():
    demo, _, _ = _build()
    merged = next(f for f in _loads(demo) if f.name == "page_load")
    out = merged.fn(3, 3)
    assert out[:2] == ["6", "9"] and out[2] == gr.skip() and out[3:] == ["a", "b"]


def test_the_app_draws_its_page_load_figures_in_one_event():
    import app

    loads = _loads(app.build_app())
    # the merged figures, the language pick (browser JS) and the shared-link restore (needs the request, has a .then)
    assert sorted(f.name or "js" for f in loads) == ["js", "page_load", "restore"]
    figures = next(f for f in loads if f.name == "page_load")
    assert len(figures.outputs) > 100  # every tab's first figures


def test_the_app_configures_its_queue_before_the_page_is_built():
    import app

    demo = app.build_app()  # main() launches it as built: the bound and the default concurrency come with it
    assert (demo._queue.max_size, demo._queue.default_concurrency_limit) == (256, 2)
