"""Small SVG pictures of 2-D point clouds, densities and vector fields: cheap enough to redraw on every
slider tick (no matplotlib), sharp at any size, and animated in the browser itself (SVG <animate>).

All functions take world coordinates in the square [-LIM, LIM]^2 and return an SVG string.
"""
from __future__ import annotations

import base64
import html
import io

import numpy as np
from PIL import Image

LIM = 3.5  # half-width of the world square shown
SIZE = 320  # SVG user units


def _px(p: np.ndarray) -> np.ndarray:
    """World (N, 2) -> SVG (N, 2): x to the right, y up."""
    p = np.asarray(p, dtype=np.float64)
    return np.stack([(p[:, 0] + LIM) / (2 * LIM) * SIZE, (LIM - p[:, 1]) / (2 * LIM) * SIZE], axis=1)


def _svg(body: str, title: str = "") -> str:
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


def _heat_png(h: np.ndarray) -> str:
    v = h / h.max() if h.max() > 0 else h
    v = np.sqrt(v)  # show low-density regions too
    white, blue = np.array([255.0, 255.0, 255.0]), np.array([96.0, 140.0, 240.0])
    rgb = (white + (blue - white) * v[..., None]).astype(np.uint8)
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
    return _svg("".join(layers), title)
