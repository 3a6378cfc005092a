"""Shareable links: the URL carries the tab and its controls, e.g. `?tab=ddpm&sampler=ddim&steps=50&seed=3`.

A tab calls `share_link(TAB_ID, {"steps": steps, ...}, primary=button)` inside its layout: that adds a "Copy link"
button (the link is built in the browser from the controls' current values) and registers the controls. On page load
`restore` (wired once by app.py) reads the query string, selects the tab, sets every control whose value is valid,
says which parameters it ignored and why, and then clicks the tab's primary button once, as a visitor would.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import gradio as gr

from demos.ui.inputs import message
from demos.ui.strings import add_strings, say, t

add_strings(
    en={"ui_link_not_choice": "not one of {values}", "ui_link_not_number": "not a number",
        "ui_link_not_finite": "not a finite number", "ui_link_outside": "outside [{lo}, {hi}]",
        "ui_link_not_whole": "not a whole number", "ui_link_too_long": "longer than {n} characters",
        "ui_link_not_settable": "cannot be set from a link",
        "ui_link_no_tab": "'{name}' was ignored: the link names no tab",
        "ui_link_unknown_tab": "tab '{tab}' is unknown; tabs with links: {tabs}",
        "ui_link_not_control": "'{name}' was ignored: not a control of this tab ({controls})",
        "ui_link_ignored": "'{name}={raw}' was ignored: {reason}",
        "ui_link_notice": "Link: {notices}.", "ui_link_sep": "; "},
    zh={"ui_link_not_choice": "不是 `{values}` 之一", "ui_link_not_number": "不是数字",
        "ui_link_not_finite": "不是有限的数", "ui_link_outside": "超出范围 [{lo}, {hi}]",
        "ui_link_not_whole": "不是整数", "ui_link_too_long": "超过 {n} 个字符",
        "ui_link_not_settable": "无法通过链接设置",
        "ui_link_no_tab": "`{name}` 已忽略：链接没有指明标签页",
        "ui_link_unknown_tab": "标签页 `{tab}` 不存在；支持链接的标签页：`{tabs}`",
        "ui_link_not_control": "`{name}` 已忽略：不是这个标签页的控件（`{controls}`）",
        "ui_link_ignored": "`{name}={raw}` 已忽略：{reason}",
        "ui_link_notice": "链接：{notices}。", "ui_link_sep": "；"},
)


@dataclass
class TabLink:
    tab: str
    controls: dict[str, gr.components.Component]  # URL parameter -> component
    primary: str | None  # elem_id of the button a link presses once, or None


LINKS: dict[str, TabLink] = {}  # filled while the tabs are built
MAX_TEXT = 300  # a text parameter longer than this is ignored


def share_link(tab: str, controls: dict, primary: gr.Button | None = None) -> None:
    """A "Copy link" button for this tab's controls; registers them so a link can restore them."""
    if primary is not None and not primary.elem_id:
        raise ValueError("the primary button of a link needs an elem_id")
    LINKS[tab] = TabLink(tab, controls, primary.elem_id if primary is not None else None)
    with gr.Row():
        button = gr.Button(t("ui_copy_link"), size="sm", elem_id=f"{tab}-copy-link", scale=0, min_width=140)
        shown = gr.Textbox(show_label=False, container=False, interactive=False, elem_id=f"{tab}-link", scale=4)
    names = json.dumps(list(controls))
    js = f"""(...values) => {{
        const names = {names};
        const url = new URL(window.location.href.split('?')[0]);
        url.searchParams.set('tab', {json.dumps(tab)});
        names.forEach((name, i) => {{ if (values[i] !== null && values[i] !== undefined) url.searchParams.set(name, values[i]); }});
        const link = url.toString();
        if (navigator.clipboard) {{ navigator.clipboard.writeText(link).catch(() => {{}}); }}
        return link;
    }}"""
    button.click(None, list(controls.values()), shown, js=js, api_visibility="private")


def _choice_values(component) -> list:
    return [value for _, value in component.choices]


def parse_value(component, raw: str):
    """The value `raw` (from a URL) means for `component`, or raise ValueError saying why it cannot be used."""
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        for value in _choice_values(component):
            if str(value) == raw:
                return value
        raise ValueError(say("ui_link_not_choice", values=", ".join(str(v) for v in _choice_values(component))))
    if isinstance(component, (gr.Slider, gr.Number)):
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(say("ui_link_not_number")) from None
        if not math.isfinite(value):
            raise ValueError(say("ui_link_not_finite"))
        lo, hi = getattr(component, "minimum", None), getattr(component, "maximum", None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(say("ui_link_outside", lo=f"{lo:g}", hi=f"{hi:g}"))
        whole = isinstance(component, gr.Number) and component.precision == 0
        if whole or (isinstance(component, gr.Slider) and float(component.step).is_integer()):
            if not value.is_integer():
                raise ValueError(say("ui_link_not_whole"))
            return int(value)
        return value
    if isinstance(component, gr.Textbox):
        if len(raw) > MAX_TEXT:
            raise ValueError(say("ui_link_too_long", n=MAX_TEXT))
        return raw
    raise ValueError(say("ui_link_not_settable"))


def read_query(query: dict[str, str], links: dict[str, TabLink] | None = None) -> tuple[str | None, dict, list[str]]:
    """(tab, {parameter: value} to set, notices) for a query string; a missing or unknown tab selects nothing."""
    links = LINKS if links is None else links
    notices = []
    tab = query.get("tab")
    if tab is None:
        return None, {}, ([say("ui_link_no_tab", name=k) for k in query] if query else [])
    if tab not in links:
        return None, {}, [say("ui_link_unknown_tab", tab=tab, tabs=", ".join(links))]
    link, values = links[tab], {}
    for key, raw in query.items():
        if key == "tab":
            continue
        if key not in link.controls:
            notices.append(say("ui_link_not_control", name=key, controls=", ".join(link.controls)))
            continue
        try:
            values[key] = parse_value(link.controls[key], raw)
        except ValueError as err:
            notices.append(say("ui_link_ignored", name=key, raw=raw[:40], reason=err))
    return tab, values, notices


def restorer():
    """(restore, its outputs after (tabs, notice, primary)) for the tabs built so far; app.py wires it on page load.
    restore(request) -> (selected tab, notice, primary button id, then a value or gr.skip() per control)."""
    links = dict(LINKS)
    outputs = [c for link in links.values() for c in link.controls.values()]

    def restore(request: gr.Request):
        query = dict(request.query_params) if request is not None else {}
        tab, values, notices = read_query(query, links)
        updates = [values[key] if name == tab and key in values else gr.skip()
                   for name, link in links.items() for key in link.controls]
        notice = message(say("ui_link_notice", notices=say("ui_link_sep").join(notices)), "warn") if notices else ""
        primary = links[tab].primary if tab is not None else None  # ignored parameters keep their defaults
        return (gr.Tabs(selected=tab) if tab is not None else gr.skip()), notice, primary or "", *updates

    return restore, outputs


# After restore: press the tab's primary button once (as a visitor would), when the link named one.
CLICK_PRIMARY_JS = "(primary) => { if (primary) { setTimeout(() => document.getElementById(primary)?.click(), 300); } return primary; }"
