"""UI strings in English and Chinese (gr.I18n, resolved in the browser), and the page's language choice."""
from __future__ import annotations

import contextlib
import contextvars

import gradio as gr
from gradio.i18n import I18nData

from genlib import notes

LANG_CHOICES = [("English", "en"), ("中文", "zh")]
STRINGS: dict[str, dict[str, str]] = {"en": {}, "zh": {}}  # key -> text; both languages define the same keys
BROWSER_LANGUAGE_JS = ("() => ((navigator.languages && navigator.languages[0]) || navigator.language || 'en')"
                       ".toLowerCase().startsWith('zh') ? 'zh' : 'en'")


def add_strings(en: dict[str, str], zh: dict[str, str]) -> None:
    """Register a tab's UI strings; both languages must define the same keys."""
    if set(en) != set(zh):
        raise ValueError(f"UI strings differ between languages: {sorted(set(en) ^ set(zh))}")
    STRINGS["en"].update(en)
    STRINGS["zh"].update(zh)


def i18n_object() -> gr.I18n:
    zh = STRINGS["zh"]
    return gr.I18n(en=STRINGS["en"], zh=zh, **{"zh-CN": zh, "zh-TW": zh, "zh-HK": zh})


def t(key: str) -> I18nData:
    """A translatable label (resolved in the browser)."""
    if key not in STRINGS["en"]:
        raise KeyError(f"no UI string {key!r}")
    return I18nData(key)


_LANGUAGE: contextvars.ContextVar[str | None] = contextvars.ContextVar("genlib_ui_language", default=None)


def request_language() -> str:
    """'en' or 'zh' for the text a callback builds on the server: an explicit `language(...)` block wins, else the
    Accept-Language header of the Gradio request being served (the same choice gr.I18n makes for the labels), else 'en'."""
    lang = _LANGUAGE.get()
    if lang:
        return lang
    try:
        from gradio.context import LocalContext
        request = LocalContext.request.get(None)
        header = request.headers.get("accept-language") if request is not None else None
    except Exception:  # outside a request (tests, scripts) or a request without headers
        header = None
    return notes.language_from_header(header)


@contextlib.contextmanager
def language(lang: str):
    """Build server-side messages in `lang` inside this block (tests, scripts)."""
    token = _LANGUAGE.set(lang)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def say(key: str, **fields) -> str:
    """A UI string as plain text in the request's language, with `{field}`s filled: for status lines and other text a
    callback builds (labels use t(), which the browser resolves)."""
    lang = request_language()
    if key not in STRINGS["en"]:
        raise KeyError(f"no UI string {key!r}")
    return STRINGS[lang].get(key, STRINGS["en"][key]).format(**fields)


def choices(prefix: str, values) -> list[tuple[I18nData, str]]:
    """Radio / dropdown choices whose labels are the UI strings `<prefix>_<value>` (so they follow the language)."""
    return [(t(f"{prefix}_{v}"), v) for v in values]


add_strings(
    en={"app_title": "Annotated Generative Models", "language": "Note language", "status": "Status",
        "ui_digit_index": "Test digit (bundled MNIST sample)", "ui_sketch": "…or draw / upload your own digit",
        "ui_use_drawing": "Use my drawing", "ui_digit": "Chosen digit", "ui_copy_link": "🔗 Copy link"},
    zh={"app_title": "生成模型注解", "language": "笔记语言", "status": "状态",
        "ui_digit_index": "测试数字（随附的 MNIST 样本）", "ui_sketch": "……或者手写 / 上传你自己的数字",
        "ui_use_drawing": "使用我的手写", "ui_digit": "选中的数字", "ui_copy_link": "🔗 复制链接"},
)
