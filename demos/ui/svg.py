"""Every plot of the app as inline SVG: cheap enough to redraw on every slider tick (no matplotlib), sharp at any
size, themeable, and animated in the browser itself (SVG <animate>).

- charts: `lines_svg` (one or more curves over a shared x, with a marker), `heatmap_svg` (a labelled matrix)
- the plane: `figure(dots(...), arrows(...), density_image(...), ...)` in world coordinates [-LIM, LIM]^2
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np
from PIL import Image

from demos.ui.strings import add_strings, say

add_strings(en={"ui_msg_undefined": "undefined"}, zh={"ui_msg_undefined": "无定义"})

COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"]


def _svg(width: float, height: float, title: str, body: str, fixed: bool = False) -> str:
    """The <svg> element every chart shares: a viewBox, responsive width (or a fixed size), an accessible label."""
    size = f'width="{width}" height="{height}" style="max-width:100%;height:auto"' if fixed else \
        f'width="100%" style="max-width:{width}px"'
    return f'<svg viewBox="0 0 {width} {height}" {size} role="img" aria-label="{html.escape(title)}">{body}</svg>'


def canvas(width: float, height: float, title: str, body: str) -> str:
    """An empty chart to draw on: `body` is SVG markup in a width x height viewBox (responsive, labelled)."""
    return _svg(width, height, title, body)


# ---- charts ----------------------------------------------------------------------------------------------
def lines_svg(series: dict[str, np.ndarray], x: np.ndarray | None = None, title: str = "", width: int = 420,
              height: int = 200, marker: int | None = None) -> str:
    """Curves over a shared x axis (default: the index), a legend when there are several, and an optional marker
    at index `marker` of the first curve (a dashed vertical line and a dot)."""
    ys = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
    x = np.arange(len(next(iter(ys.values())))) if x is None else np.asarray(x, dtype=np.float64)
    every = np.concatenate(list(ys.values()))
    lo, hi = float(every.min()), float(every.max())
    span, xspan = (hi - lo) or 1.0, float(x[-1] - x[0]) or 1.0
    px = lambda v: 46 + (width - 56) * (v - x[0]) / xspan  # noqa: E731
    py = lambda v: 22 + (height - 46) * (1 - (v - lo) / span)  # noqa: E731
    parts = [f'<text x="46" y="14" font-size="11">{html.escape(title)}</text>',
             f'<text x="2" y="26" font-size="10">{hi:.3g}</text><text x="2" y="{height - 22}" font-size="10">{lo:.3g}</text>',
             f'<text x="46" y="{height - 6}" font-size="10">{x[0]:g}</text>',
             f'<text x="{width - 10}" y="{height - 6}" font-size="10" text-anchor="end">{x[-1]:g}</text>']
    step = max(1, len(x) // 300)
    for k, (label, v) in enumerate(ys.items()):
        color = COLORS[k % len(COLORS)]
        pts = " ".join(f"{px(x[i]):.1f},{py(v[i]):.1f}" for i in range(0, len(x), step))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        if len(ys) > 1 or label != title:
            parts.append(f'<text x="{width - 10}" y="{30 + 12 * k}" font-size="10" fill="{color}" text-anchor="end">'
                         f'{html.escape(label)}</text>')
    if marker is not None:
        mx, my = px(x[marker]), py(next(iter(ys.values()))[marker])
        parts.append(f'<line x1="{mx:.1f}" y1="22" x2="{mx:.1f}" y2="{height - 24}" stroke="#f97316" stroke-dasharray="3"/>'
                     f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="4" fill="#f97316"/>')
    return _svg(width, height, title, "".join(parts))


def _cell_color(v: float, lo: float, hi: float, signed: bool) -> tuple[str, str]:
    """(fill, text colour) for a cell: white to blue on [0, 1], or blue-white-red around 0."""
    if signed:
        s = max(abs(lo), abs(hi)) or 1.0
        t = max(-1.0, min(1.0, v / s))
        end = np.array([220.0, 38.0, 38.0]) if t > 0 else np.array([37.0, 99.0, 235.0])
        t = abs(t)
    else:
        t = max(0.0, min(1.0, v))
        end = np.array([37.0, 99.0, 235.0])
    rgb = 255 + (end - 255) * t
    return f"rgb({int(rgb[0])},{int(rgb[1])},{int(rgb[2])})", ("#fff" if t > 0.55 else "#111827")


def _cell_text(v: float) -> str:
    return f"{v:.2g}" if abs(v) >= 1000 else f"{v:.2f}"


def heatmap_svg(values: np.ndarray, rows: list[str], cols: list[str], title: str, *, signed: bool = False,
                numbers: bool = True, cell: tuple[int, int] = (42, 24), masked: np.ndarray | None = None,
                masked_text: str = "−∞", undefined: np.ndarray | None = None, side: list[str] | None = None) -> str:
    """A labelled matrix (n, m): white to blue on [0, 1] (signed=True: blue-white-red around 0), the value in each
    cell (numbers=False: only in its tooltip, for small cells; column labels then stand at an angle).
    Masked cells are grey with `masked_text`; an undefined row is one grey bar reading "undefined" (never NaN);
    `side` adds a note right of each row."""
    values = np.asarray(values, dtype=np.float64)
    n, m = values.shape
    masked = np.zeros((n, m), bool) if masked is None else np.asarray(masked, bool)
    undefined = np.zeros(n, bool) if undefined is None else np.asarray(undefined, bool)
    cw, ch = cell
    left = max(34, 8 + 7 * max(map(len, rows), default=1))
    top = 40 if numbers else 24 + 7 * max(map(len, cols), default=1)
    side_w = 50 if side else 0
    width, height = left + m * cw + side_w + 6, top + n * ch + 6
    shown = values[~masked & ~undefined[:, None]]
    lo, hi = (float(shown.min()), float(shown.max())) if shown.size else (0.0, 1.0)
    parts = [f'<text x="4" y="14" font-size="12" fill="#111827">{html.escape(title)}</text>']
    for j, c in enumerate(cols):
        x = left + j * cw + cw / 2
        place = f'x="{x}" y="{top - 6}" text-anchor="middle"' if numbers else f'transform="translate({x:.0f},{top - 4}) rotate(-60)"'
        parts.append(f'<text {place} font-size="10" fill="#374151">{html.escape(c)}</text>')
    for i, r in enumerate(rows):
        y = top + i * ch
        parts.append(f'<text x="{left - 5}" y="{y + ch / 2 + 4}" font-size="10" text-anchor="end" fill="#374151">'
                     f'{html.escape(r)}</text>')
        if undefined[i]:
            parts.append(f'<rect x="{left}" y="{y}" width="{m * cw}" height="{ch}" fill="#e5e7eb" stroke="#fff"/>'
                         f'<text x="{left + m * cw / 2}" y="{y + ch / 2 + 4}" font-size="10" text-anchor="middle" '
                         f'fill="#6b7280" font-style="italic">{html.escape(say("ui_msg_undefined"))}</text>')
        for j in range(0 if undefined[i] else m):
            x = left + j * cw
            if masked[i, j]:
                fill, ink, text = "#f3f4f6", "#9ca3af", masked_text
            else:
                (fill, ink), text = _cell_color(values[i, j], lo, hi, signed), _cell_text(values[i, j])
            tip = f"<title>{html.escape(r)} → {html.escape(cols[j])}: {text}</title>"
            label = (f'<text x="{x + cw / 2}" y="{y + ch / 2 + 4}" font-size="10" text-anchor="middle" fill="{ink}">'
                     f'{text}</text>') if numbers else ""
            parts.append(f'<rect x="{x}" y="{y}" width="{cw - (0 if numbers else 1)}" height="{ch - (0 if numbers else 1)}" '
                         f'fill="{fill}" stroke="#fff">{tip}</rect>{label}')
        if side:
            parts.append(f'<text x="{left + m * cw + 6}" y="{y + ch / 2 + 4}" font-size="10" fill="#374151">'
                         f'{html.escape(side[i])}</text>')
    return _svg(width, height, title, "".join(parts), fixed=True)


# ---- the plane: points, densities and fields in world coordinates ------------------------------------------
LIM = 3.5  # half-width of the world square shown
SIZE = 320  # SVG user units


def _px(p: np.ndarray) -> np.ndarray:
    """World (N, 2) -> SVG (N, 2): x to the right, y up."""
    p = np.asarray(p, dtype=np.float64)
    return np.stack([(p[:, 0] + LIM) / (2 * LIM) * SIZE, (LIM - p[:, 1]) / (2 * LIM) * SIZE], axis=1)


def _square(body: str, title: str = "") -> str:
    label = html.escape(title)
    caption = f'<text x="6" y="16" font-size="13" fill="#111827">{label}</text>' if title else ""
    return (f'<svg viewBox="0 0 {SIZE} {SIZE}" width="100%" style="max-width:{SIZE}px;background:#fff;border:1px solid #e5e7eb"'
            f' role="img" aria-label="{label}">{body}{caption}</svg>')


def density_image(points: np.ndarray, bins: int = 64, blur: int = 1) -> str:
    """A histogram of `points` smoothed by a (2 blur + 1)^2 box, as an <image> (PNG data URI) filling the square."""
    h, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=bins, range=[[-LIM, LIM], [-LIM, LIM]])
    h = h[::-1]  # rows from the top: y up
    if blur:
        k = 2 * blur + 1
        padded = np.pad(h, blur)
        h = sum(padded[i : i + bins, j : j + bins] for i in range(k) for j in range(k)) / k**2
    return _heat_png(h)


def density_grid(values: np.ndarray) -> str:
    """A density already evaluated on a (bins, bins) grid, row 0 at the top, as an <image>."""
    return _heat_png(np.asarray(values))


def diverging_grid(values: np.ndarray, lo: float = 0.0, hi: float = 1.0, low: str = "#9333ea",
                   high: str = "#16a34a") -> str:
    """A function on a (bins, bins) grid, row 0 at the top, as an <image>: `low` colour at lo, white at the midpoint,
    `high` colour at hi (a classifier's output over the plane, e.g. the GAN discriminator's D(x))."""
    v = np.clip((np.asarray(values, dtype=np.float64) - lo) / ((hi - lo) or 1.0), 0, 1) * 2 - 1  # [-1, 1]
    rgb_of = lambda c: np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)  # noqa: E731
    white = np.array([255.0, 255.0, 255.0])
    ends = np.where(v[..., None] > 0, rgb_of(high), rgb_of(low))
    rgb = (white + (ends - white) * (0.55 * np.abs(v))[..., None]).astype(np.uint8)  # pale, so dots stay visible
    return _png_image(rgb)


def _heat_png(h: np.ndarray) -> str:
    v = h / h.max() if h.max() > 0 else h
    v = np.sqrt(v)  # show low-density regions too
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([96.0, 140.0, 240.0])
    rgb = (white + (blue - white) * v[..., None]).astype(np.uint8)
    return _png_image(rgb)


def _png_image(rgb: np.ndarray) -> str:
    """An (h, w, 3) uint8 picture as an <image> (PNG data URI) filling the square."""
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    return f'<image href="{uri}" x="0" y="0" width="{SIZE}" height="{SIZE}" preserveAspectRatio="none" style="image-rendering:pixelated"/>'


def dots(points: np.ndarray, color: str = "#1f2937", r: float = 1.6, opacity: float = 0.7) -> str:
    q = _px(points)
    return "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{color}" fill-opacity="{opacity}"/>' for x, y in q)


def arrows(points: np.ndarray, vectors: np.ndarray, color: str = "#b91c1c", max_len: float = 14.0) -> str:
    """A quiver: an arrow per point, lengths scaled so the longest is `max_len` SVG units."""
    q = _px(points)
    v = np.asarray(vectors, dtype=np.float64) * np.array([1.0, -1.0])  # y up
    norm = np.linalg.norm(v, axis=1)
    scale = max_len / max(norm.max(), 1e-9)
    out = []
    for (x, y), (dx, dy), n in zip(q, v * scale, norm * scale):
        if n < 0.5:
            continue
        out.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x + dx:.1f}" y2="{y + dy:.1f}" stroke="{color}" '
                   f'stroke-width="1.2" marker-end="url(#head)"/>')
    head = (f'<defs><marker id="head" viewBox="0 0 6 6" refX="5" refY="3" markerWidth="4" markerHeight="4" orient="auto">'
            f'<path d="M0,0 L6,3 L0,6 z" fill="{color}"/></marker></defs>')
    return head + "".join(out)


def polylines(trajectories: np.ndarray, color: str = "#6b7280", width: float = 0.8, opacity: float = 0.6) -> str:
    """Paths (N, T, 2) as polylines."""
    out = []
    for path in trajectories:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in _px(path))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="{width}" stroke-opacity="{opacity}"/>')
    return "".join(out)


def animated_dots(trajectories: np.ndarray, seconds: float = 4.0, color: str = "#1d4ed8", r: float = 1.8) -> str:
    """Particles (N, T, 2) moving along their trajectories, looping, with a pause at the data end."""
    q = np.stack([_px(p) for p in trajectories])  # (N, T, 2)
    T = q.shape[1]
    hold = max(1, T // 4)  # repeat the last frame: a pause before the loop restarts
    q = np.concatenate([q, np.repeat(q[:, -1:], hold, axis=1)], axis=1)
    out = []
    for p in q:
        xs = ";".join(f"{v:.1f}" for v in p[:, 0])
        ys = ";".join(f"{v:.1f}" for v in p[:, 1])
        out.append(f'<circle r="{r}" fill="{color}" fill-opacity="0.75">'
                   f'<animate attributeName="cx" values="{xs}" dur="{seconds}s" repeatCount="indefinite"/>'
                   f'<animate attributeName="cy" values="{ys}" dur="{seconds}s" repeatCount="indefinite"/></circle>')
    return "".join(out)


def figure(*layers: str, title: str = "") -> str:
    """Stack layers (strings from the functions above) into one SVG."""
    return _square("".join(layers), title)
