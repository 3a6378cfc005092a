"""One page-load event instead of one per figure.

Tabs draw their first figures with `gr.on(None, fn, inputs, outputs)`: on page load and whenever an input changes.
With 14 tabs that is ~50 load events per page view, and Gradio's front end pays for each of them far more than the
server does: on every status message of any event it re-sends the loading status of every component any event has
touched so far, and finds each component by walking the whole component tree. A page view kept the browser's main
thread busy for 17 s on the reference machine and a zh page showed its Chinese notes after 18 s; with one event,
5 s and 5 s (benchmarks/startup.py, the page part). The GAN stream's frames queued behind the same work.

`merge(demo)` takes the load trigger off every such event (its change triggers, API name and trigger mode stay) and
adds one load event that calls their functions in turn and returns all their outputs. A function that fails leaves its
outputs as they are (gr.skip()) and the others still run. Events that run JavaScript, stream, take a gr.Request or
have a `.then` after them (the shared-link restore) keep their own load trigger.
"""
from __future__ import annotations

import inspect
import logging

import gradio as gr

log = logging.getLogger(__name__)


def _mergeable(fn_id: int, block_fn, followed: set[int]) -> bool:
    f = block_fn.fn
    if f is None or block_fn.js or fn_id in followed or not any(t[1] == "load" for t in block_fn.targets):
        return False
    if inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f) or inspect.iscoroutinefunction(f):
        return False
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.annotation in (gr.Request, "gr.Request", gr.Progress, "gr.Progress") for p in params)


def merge(demo: gr.Blocks) -> int:
    """Move the load trigger of every mergeable event of `demo` into one load event; call inside `with demo:`.
    Returns how many events were merged."""
    followed = {f.trigger_after for f in demo.fns.values() if f.trigger_after is not None}
    merged = [f for i, f in demo.fns.items() if _mergeable(i, f, followed)]
    if not merged:
        return 0
    for f in merged:
        f.targets = [t for t in f.targets if t[1] != "load"]

    def page_load(*values):
        out, i = [], 0
        for f in merged:
            args, i = values[i : i + len(f.inputs)], i + len(f.inputs)
            try:
                result = f.fn(*args)
                result = list(result) if len(f.outputs) > 1 else [result]
                if len(result) != len(f.outputs):
                    raise ValueError(f"{len(result)} values for {len(f.outputs)} outputs")
            except Exception:  # one broken figure must not blank the others
                log.exception("page-load figure %s failed", f.name)
                result = [gr.skip()] * len(f.outputs)
            out += result
        return out

    demo.load(page_load, [c for f in merged for c in f.inputs], [c for f in merged for c in f.outputs],
              show_progress="hidden", api_visibility="private")
    return len(merged)
