"""Inputs: every value a callback receives is forced into range here, and the status line says what changed.

    c = Clamped()
    n = c.int("number of images", n, 1, 36, 16)
    return ..., status(c, f"{n} images")   # the result first, then any clamping message after it
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

ICONS = {"info": "ℹ️", "warn": "⚠️", "error": "⛔"}


@dataclass
class Clamped:
    """A value forced into range, with the messages that explain what changed."""

    messages: list[str] = field(default_factory=list)

    def int(self, name: str, value, lo: int, hi: int, default: int) -> int:
        try:
            v = int(round(float(value)))
        except (TypeError, ValueError, OverflowError):
            self.messages.append(f"{name}: {value!r} is not a number; using {default}")
            return default
        if not lo <= v <= hi:
            self.messages.append(f"{name}: {v} is outside [{lo}, {hi}]; using {min(max(v, lo), hi)}")
        return min(max(v, lo), hi)

    def float(self, name: str, value, lo: float, hi: float, default: float) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if v != v:  # NaN
            self.messages.append(f"{name}: {value!r} is not a number; using {default}")
            return default
        if not lo <= v <= hi:
            self.messages.append(f"{name}: {v:g} is outside [{lo:g}, {hi:g}]; using {min(max(v, lo), hi):g}")
        return min(max(v, lo), hi)

    def choice(self, name: str, value, choices: list[str], default: str) -> str:
        if value in choices:
            return value
        self.messages.append(f"{name}: {value!r} is not one of {choices}; using {default!r}")
        return default

    def flag(self, name: str, value) -> bool:
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
            return bool(value)
        self.messages.append(f"{name}: {value!r} is not true or false; using false")
        return False

    def note(self) -> str:
        return "" if not self.messages else "⚠️ " + "; ".join(self.messages) + "."


def message(text: str, kind: str = "info") -> str:
    """One status message for a gr.Markdown: an icon and the escaped text ('' for no text)."""
    return f"{ICONS[kind]} {html.escape(text, quote=False)}" if text else ""


def status(c: Clamped | None, text: str, kind: str = "info") -> str:
    """The status line: the callback's result, then (on its own line) what was clamped, if anything."""
    return "  \n".join(s for s in (message(text, kind), c.note() if c else "") if s)
