"""The annotated notes: notes/<lang>/<tab>.md with live code includes.

A line of the form

    <!-- code: genlib.diffusion.GaussianDiffusion.q_sample -->

is replaced by the current source of that object (a fenced Python block with its file and line), so the
code a note shows is always the code that runs. Math uses $$...$$ (display) and \\( ... \\) (inline);
Gradio's Markdown renders both with KaTeX.

A note's "key equations" are lines of the form

    <!-- test: tests/genlib/test_diffusion.py::test_closed_form_matches_iterated_chain -->

placed next to the equation; tests/genlib/test_notes.py checks that every named test exists.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import re
import textwrap
from pathlib import Path

NOTES_DIR = Path(__file__).resolve().parents[1] / "notes"
LANGS = ("en", "zh")
NOTATION = "notation"  # notes/<lang>/notation.md: the symbol table every note links to
NOTATION_LINK = re.compile(r"\]\(notation\.md(#[\w-]*)?\)")
CODE_MARKER = re.compile(r"^<!--\s*code:\s*([\w.]+)\s*-->\s*$", re.MULTILINE)
TEST_MARKER = re.compile(r"<!--\s*test:\s*([\w/.]+\.py)::(\w+)\s*-->")


def resolve_object(dotted: str):
    """Import `pkg.module.Class.attr` and return (object, module)."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            module = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        obj = module
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj, module
    raise ImportError(f"cannot import {dotted}")


@functools.lru_cache(maxsize=None)
def code_block(dotted: str) -> str:
    """The source of `dotted` as a fenced block, headed by its file and first line number."""
    obj, module = resolve_object(dotted)
    obj = inspect.unwrap(obj)
    lines, first = inspect.getsourcelines(obj)
    path = Path(inspect.getsourcefile(obj)).resolve().relative_to(NOTES_DIR.parent).as_posix()
    source = textwrap.dedent("".join(lines)).rstrip()
    return f"`{path}`, line {first} — `{dotted.split('.', 1)[1]}`\n\n```python\n{source}\n```"


def render(text: str) -> str:
    """Replace every code marker with the live source, and point links to notation.md at the page's notation
    panel (#notation), since the app serves notes, not files."""
    text = NOTATION_LINK.sub("](#notation)", text)
    return CODE_MARKER.sub(lambda m: code_block(m.group(1)), text)


@functools.lru_cache(maxsize=None)
def load(tab: str, lang: str = "en") -> str:
    """The rendered note for a tab in 'en' or 'zh' (falls back to English for other languages)."""
    lang = lang if lang in LANGS else "en"
    path = NOTES_DIR / lang / f"{tab}.md"
    return render(path.read_text(encoding="utf-8"))


def sections(tab: str, lang: str) -> list[str]:
    """The note's heading levels, in order (e.g. ['#', '##', '##', ...]): both languages must match."""
    text = (NOTES_DIR / lang / f"{tab}.md").read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return re.findall(r"^(#{1,6}) ", text, flags=re.MULTILINE)


def key_equation_tests(tab: str, lang: str) -> list[tuple[str, str]]:
    """(test file, test function) for every key-equation marker in a note."""
    return TEST_MARKER.findall((NOTES_DIR / lang / f"{tab}.md").read_text(encoding="utf-8"))


def language_from_header(accept_language: str | None) -> str:
    """'zh' when the browser prefers Chinese (Accept-Language: zh, zh-CN, zh-TW ...), else 'en'."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"
