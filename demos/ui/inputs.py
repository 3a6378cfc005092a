"""Inputs: every value a callback receives is forced into range here, and the status line says what changed.

    c = Clamped()
    n = c.int("ddpm_arg_n", n, 1, 36, 16)        # the control's name: a UI string key (or a symbol such as "t")
    return ..., status(c, say("ddpm_msg_images", n=n))   # the result first, then any clamping message after it

Every text here is built in the language of the request (ui.say); so is every text a tab passes to status().
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field

from demos.ui.strings import STRINGS, add_strings, say

ICONS = {"info": "ℹ️", "warn": "⚠️", "error": "⛔"}

add_strings(
    en={"ui_msg_not_number": "{name}: {value} is not a number; using {default}",
        "ui_msg_outside": "{name}: {value} is outside [{lo}, {hi}]; using {used}",
        "ui_msg_not_choice": "{name}: {value} is not one of {choices}; using {default}",
        "ui_msg_not_flag": "{name}: {value} is not true or false; using false",
        "ui_msg_clamped": "⚠️ {messages}.", "ui_msg_sep": "; ", "ui_arg_seed": "seed", "ui_arg_steps": "steps"},
    zh={"ui_msg_not_number": "{name}：{value} 不是数字；改用 {default}",
        "ui_msg_outside": "{name}：{value} 超出范围 [{lo}, {hi}]；改用 {used}",
        "ui_msg_not_choice": "{name}：{value} 不是可选值 {choices} 之一；改用 {default}",
        "ui_msg_not_flag": "{name}：{value} 不是真或假；改用假",
        "ui_msg_clamped": "⚠️ {messages}。", "ui_msg_sep": "；", "ui_arg_seed": "随机种子", "ui_arg_steps": "步数"},
)


def _name(name: str) -> str:
    """A control's name in a clamping message: a registered UI string key (said in the request's language), or the
    name itself (a symbol such as t or d_k)."""
    return say(name) if name in STRINGS["en"] else name


@dataclass
class Clamped:
    """A value forced into range, with the messages that explain what changed."""

    messages: list[str] = field(default_factory=list)

    def int(self, name: str, value, lo: int, hi: int, default: int) -> int:
        try:
            v = int(round(float(value)))
        except (TypeError, ValueError, OverflowError):
            self.messages.append(say("ui_msg_not_number", name=_name(name), value=repr(value), default=default))
            return default
        if not lo <= v <= hi:
            self.messages.append(say("ui_msg_outside", name=_name(name), value=v, lo=lo, hi=hi, used=min(max(v, lo), hi)))
        return min(max(v, lo), hi)

    def float(self, name: str, value, lo: float, hi: float, default: float) -> float:
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if v != v:  # NaN
            self.messages.append(say("ui_msg_not_number", name=_name(name), value=repr(value), default=default))
            return default
        if not lo <= v <= hi:
            self.messages.append(say("ui_msg_outside", name=_name(name), value=f"{v:g}", lo=f"{lo:g}", hi=f"{hi:g}",
                                     used=f"{min(max(v, lo), hi):g}"))
        return min(max(v, lo), hi)

    def choice(self, name: str, value, choices: list[str], default: str) -> str:
        if value in choices:
            return value
        self.messages.append(say("ui_msg_not_choice", name=_name(name), value=repr(value), choices=choices,
                                 default=repr(default)))
        return default

    def flag(self, name: str, value) -> bool:
        if isinstance(value, bool) or (isinstance(value, (int, float)) and value in (0, 1)):
            return bool(value)
        self.messages.append(say("ui_msg_not_flag", name=_name(name), value=repr(value)))
        return False

    def note(self) -> str:
        return "" if not self.messages else say("ui_msg_clamped", messages=say("ui_msg_sep").join(self.messages))


def message(text: str, kind: str = "info") -> str:
    """One status message for a gr.Markdown: an icon and the escaped text ('' for no text)."""
    return f"{ICONS[kind]} {html.escape(text, quote=False)}" if text else ""


def status(c: Clamped | None, text: str, kind: str = "info") -> str:
    """The status line: the callback's result, then (on its own line) what was clamped, if anything."""
    return "  \n".join(s for s in (message(text, kind), c.note() if c else "") if s)
