"""The scaffold every tab uses, split by concern:

    strings  gr.I18n UI strings (en/zh) and the page's language;     add_strings, t, say, i18n_object, LANG_CHOICES
             say(key, **fields): server-built text in the request's language
    inputs   clamping with messages, and the status line              Clamped, message, status
    svg      every plot as inline SVG                                 svg.lines_svg, svg.heatmap_svg, svg.figure, ...
    models   lazy model loading, training records, bundled digits     load_model, training_summary, sample_digits, hardware
    panels   the two columns, note, training panel, digit picker,     tab_columns, training_panel, digit_picker,
             streaming helper, event groups                           stream, SAMPLER, QUICK_MODEL
    links    shareable links: ?tab=ddpm&steps=50&seed=3               share_link (app.py wires links.restore)
    pageload every tab's page-load figures in one event               pageload.merge (app.py calls it)

Tabs import the package (`from demos import ui`) and use the names below.
"""
from demos.ui import links, pageload, svg
from demos.ui.links import share_link
from demos.ui.inputs import Clamped, message, status
from demos.ui.models import (availability, drawing_to_digit, hardware, load_model, loss_frame, sample_digits,
                             training_summary, warm_start)
from demos.ui.panels import (CSS, LATEX, QUICK_MODEL, SAMPLER, DigitPicker, digit_picker, intra_op_threads,
                             note_panel, pick_digit, pixels, sample_controls, seed_box, sheet, status_line, stream,
                             tab_columns, training_panel, use_drawing)
from demos.ui.strings import (BROWSER_LANGUAGE_JS, LANG_CHOICES, STRINGS, add_strings, choices, i18n_object,
                              language, request_language, say, t)
from genlib.images import upscale

__all__ = ["links", "pageload", "share_link", "svg", "Clamped", "message", "status", "availability", "drawing_to_digit", "hardware",
           "load_model", "loss_frame", "sample_digits", "training_summary", "CSS", "LATEX", "QUICK_MODEL", "SAMPLER",
           "DigitPicker", "digit_picker", "intra_op_threads", "note_panel", "pick_digit", "pixels", "sample_controls",
           "seed_box", "sheet", "status_line", "stream", "tab_columns", "training_panel", "use_drawing", "warm_start",
           "BROWSER_LANGUAGE_JS", "LANG_CHOICES", "STRINGS", "add_strings", "choices", "i18n_object", "language",
           "request_language", "say", "t", "upscale"]
