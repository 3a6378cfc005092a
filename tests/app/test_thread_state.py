"""The server runs every callback, and every step of a streaming one, on a pool of worker threads. Torch's grad
mode, inference mode and autocast are per-thread state: a streaming callback that yields inside `with
torch.no_grad():` leaves the thread without gradients, and a later callback that needs them (the PixelCNN
causality viewer) fails on that thread. The intra-op thread count, which the PixelCNN tab lowers while it computes
a row, must come back too. These tests step every streaming callback of the app once and check that the thread's
state is as it was."""
from __future__ import annotations

import inspect

import pytest
import torch


def _streaming_callbacks():
    import app

    demo = app.build_app()
    seen = {}
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is not None and inspect.isgeneratorfunction(inspect.unwrap(fn)) and fn.__module__.startswith("demos"):
            seen[f"{fn.__module__}.{fn.__name__}"] = fn
    return seen


CALLBACKS = _streaming_callbacks()


def _state():
    return (torch.is_grad_enabled(), torch.is_inference_mode_enabled(), torch.is_autocast_enabled("cpu"),
            torch.get_num_threads())


def test_the_app_has_streaming_callbacks():
    assert {"demos.ddpm.sample", "demos.flow.mnist_sample", "demos.flow.langevin_run", "demos.pixelcnn.sample",
            "demos.pixelcnn.complete"} <= set(CALLBACKS)


@pytest.mark.parametrize("name", sorted(CALLBACKS))
def test_a_streaming_step_leaves_the_thread_as_it_found_it(name):
    before = _state()
    fn = CALLBACKS[name]
    required = [p for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty]
    gen = fn(*[None] * len(required))  # the defaults; a missing digit means the bundled one
    first = next(gen)
    assert first is not None
    assert _state() == before, f"{name} left grad/inference/autocast/threads state {_state()} (was {before})"
    gen.close()
    assert _state() == before


def test_the_causality_viewer_works_on_a_thread_without_gradients():
    from demos import pixelcnn

    with torch.no_grad():
        _, status = pixelcnn.influence("masked", 20, 10)
    assert "blind spot" in status


def test_with_threads_limits_each_step_and_restores_the_count():
    from demos import ui

    before = torch.get_num_threads()

    def steps():
        for i in range(3):
            yield i, torch.get_num_threads()
        raise RuntimeError("a failing step")

    seen = []
    gen = ui.panels.with_threads(steps(), 1)
    with pytest.raises(RuntimeError):
        for item in gen:
            seen.append(item)
            assert torch.get_num_threads() == before  # restored while the consumer has the item
    assert seen == [(0, 1), (1, 1), (2, 1)] and torch.get_num_threads() == before
