"""What every page must pass in the browser (ADR 0027): it fits the screen, its controls are thumb-sized
on a phone, axe-core finds nothing serious, and a focused control shows a ring one can see.

Helpers only, for the Playwright tests; the vendored axe-core is injected through the DevTools protocol
(``page.evaluate``), which the platform's Content-Security-Policy does not govern, so the page under test
keeps the policy it ships with.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parents[1] / "data" / "axe" / "axe-4.14.1.min.js"
# The two impacts that fail a page; "moderate" and "minor" are reported by axe but left to judgement.
FAILING_IMPACTS = ("serious", "critical")
PHONE = 375
DESKTOP = 1366
THUMB_PX = 44  # WCAG 2.5.5's target size, and Apple's and Android's guidance

_axe_source: str | None = None


def screenshot_dir(fallback: Path) -> Path:
    """Where the tests leave their screenshots for a reviewer: $BANGFU_SCREENSHOTS, else ``fallback``."""
    chosen = os.environ.get("BANGFU_SCREENSHOTS")
    folder = Path(chosen) if chosen else fallback
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def overflow(page: Any) -> int:
    """How many pixels the page is wider than its viewport (0 when nothing scrolls sideways)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as it stands, one line each."""
    global _axe_source
    if _axe_source is None:
        _axe_source = AXE.read_text(encoding="utf-8")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[node['target'] for node in v['nodes'][:3]]}"
        for v in results["violations"]
        if v["impact"] in FAILING_IMPACTS
    ]


# The controls a thumb has to hit: buttons, fields, menus, the navigation's and the pager's links.
_SMALL_TARGETS = """
(minimum) => Array.from(document.querySelectorAll(
  'button, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), ' +
  'label.check, .main-nav a, .who a, .pager a, td a'))
  .filter(el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
  .filter(el => el.getBoundingClientRect().height < minimum)
  .map(el => el.outerHTML.slice(0, 80) + ' ' + Math.round(el.getBoundingClientRect().height) + 'px')
"""


def small_targets(page: Any) -> list[str]:
    """The visible controls less than 44 px high."""
    return list(page.evaluate(_SMALL_TARGETS, THUMB_PX))


# The focused element's outline colour and the colour it is drawn on: the first ancestor (or the element
# itself when the ring is drawn inside it) with an opaque background.
_FOCUS_RING = """
() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let host = parseFloat(style.outlineOffset) < 0 ? el : el.parentElement;
  let background = 'rgb(255, 255, 255)';
  for (; host; host = host.parentElement) {
    const colour = getComputedStyle(host).backgroundColor;
    if (colour !== 'rgba(0, 0, 0, 0)' && colour !== 'transparent') { background = colour; break; }
  }
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth), colour: style.outlineColor, background};
}
"""


def focus_ring(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(_FOCUS_RING))


def _channels(rgb: str) -> tuple[float, float, float]:
    inside = rgb[rgb.index("(") + 1 : rgb.index(")")]
    red, green, blue = (float(part) for part in inside.split(",")[:3])
    return red, green, blue


def _luminance(rgb: str) -> float:
    """WCAG 2 relative luminance of a CSS ``rgb(…)`` colour."""

    def linear(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(v) for v in _channels(rgb))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two CSS ``rgb(…)`` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
