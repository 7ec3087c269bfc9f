"""An axe-core audit of every page: `python -m tools.accessibility_audit` (from the repository root).

Starts the app with `streamlit run` (or uses `--url`), opens each page in headless Chromium at one
viewport, puts it in a state (its default, a selection made by a click on the plane, a drawing)
and runs axe-core (bundled by axe-playwright-python, so it works offline) with the WCAG 2.0 and
2.1 A and AA rules. Prints a table (rules and affected nodes per page, and how many of those
nodes lie inside the latent plane, `.lp-root`) and writes every violation as JSON.

    python -m tools.accessibility_audit --viewport 1280x800 explore explore:select draw:drawn
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.browser import (
    CHROMIUM_ARGS,
    ONE,
    PLANE_READY,
    REPO_ROOT,
    StreamlitServer,
    chromium_path,
    draw_strokes,
    open_page,
    screen_point,
    wait_for_plane,
    wait_idle,
)

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
PLANE_ROOT = ".lp-root"
# Each page's path under the server's URL (streamlit_app.py: Explore is the default page).
PAGES = {
    "explore": "", "interpolate": "/interpolate", "draw": "/draw", "sample": "/sample",
    "compare": "/compare", "lesson": "/lesson", "train": "/train",
}  # fmt: skip
WITH_PLANE = {"explore", "interpolate", "draw", "sample", "compare"}
# The states audited when no list is given: every page as it opens, and the three pages whose
# click selects something, with a selection.
DEFAULT_STATES = (*PAGES, "explore:select", "interpolate:select", "compare:select")
SELECTED_IMAGE = 200  # the test image a selection clicks (through the plane's own coordinates)
# Whether each target node lies inside the plane component.
IN_PLANE_JS = """
([targets, root]) => targets.map((target) => {
  let node = document;
  for (const part of target) {
    const selector = Array.isArray(part) ? part[part.length - 1] : part;
    node = (node.shadowRoot || node).querySelector(selector);
    if (!node) return false;
  }
  return Boolean(node.closest(root));
})
"""
TEST_IMAGE_POINT_JS = """
(index) => {
  const plane = document.querySelector('.lp-root[data-ready=true]').parentElement.__latentPlane;
  return Array.from(plane.points.subarray(2 * index, 2 * index + 2));
}
"""


@dataclass
class Violation:
    """One failed axe rule on one page state, with its nodes."""

    rule: str
    impact: str | None
    help: str
    nodes: list[dict] = field(default_factory=list)  # target, html, message, in_plane

    @property
    def in_plane(self) -> int:
        return sum(node["in_plane"] for node in self.nodes)


@dataclass
class PageResult:
    """The violations found on one page in one state (`name` is `page` or `page:state`)."""

    name: str
    violations: list[Violation]
    note: str = ""  # e.g. that the state could not be reached

    @property
    def nodes(self) -> int:
        return sum(len(v.nodes) for v in self.violations)

    @property
    def plane_nodes(self) -> int:
        return sum(v.in_plane for v in self.violations)


def click_plane(page: object) -> str:
    """Click test image SELECTED_IMAGE on the (first) plane, or the middle of the plot if the plane's
    coordinates cannot be read; returns a note when the click went to the middle."""
    wait_for_plane(page)
    try:
        x, y = screen_point(page, *page.evaluate(TEST_IMAGE_POINT_JS, SELECTED_IMAGE))
        note = ""
    except Exception as error:  # the plane's internals changed: a plain click on the plot
        box = page.locator(f"{PLANE_ROOT} .nsewdrag, {PLANE_ROOT}").first.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        note = f"clicked the plot's middle ({type(error).__name__})"
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_timeout(1_000)  # the details are drawn in the browser, the server records the click
    wait_idle(page)
    return note


def draw_a_digit(page: object) -> str:
    draw_strokes(page, ONE)
    return ""


STATES: dict[str, Callable[[object], str]] = {"select": click_plane, "drawn": draw_a_digit}


def settle(page: object, name: str) -> None:
    """Wait until a page has run its script and, if it has a plane, drawn it."""
    wait_idle(page)
    if name in WITH_PLANE:
        page.wait_for_selector(PLANE_READY, timeout=60_000)
    page.wait_for_timeout(500)


def run_axe(page: object) -> list[Violation]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)}, "resultTypes": ["violations"]}
    found = Axe().run(page, options=options).response["violations"]
    violations = []
    for rule in found:
        targets = [node["target"] for node in rule["nodes"]]
        inside = page.evaluate(IN_PLANE_JS, [targets, PLANE_ROOT])
        nodes = [
            {"target": node["target"], "html": node["html"][:300], "message": node.get("failureSummary", ""),
             "in_plane": flag}
            for node, flag in zip(rule["nodes"], inside, strict=True)
        ]  # fmt: skip
        violations.append(Violation(rule["id"], rule.get("impact"), rule["help"], nodes))
    return violations


def audit_state(browser: object, url: str, state: str, viewport: tuple[int, int]) -> PageResult:
    """Open one page, put it in `state` (`page` or `page:select` / `page:drawn`) and audit it."""
    name, _, action = state.partition(":")
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    try:
        open_page(page, url + PAGES[name])
        settle(page, name)
        note = STATES[action](page) if action else ""
        return PageResult(state, run_axe(page), note)
    finally:
        context.close()


@contextmanager
def app_url(url: str | None, root: Path) -> Iterator[str]:
    """`url` as it is, or a fresh server started in `root` (saving models into a temporary folder)."""
    if url:
        yield url.rstrip("/")
        return
    with tempfile.TemporaryDirectory() as user:
        server = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": user}, root=root, keep_output=False)
        try:
            yield server.url
        finally:
            server.stop()


def audit(states: list[str], viewport: tuple[int, int] = (1280, 800), url: str | None = None,
          root: Path = REPO_ROOT) -> list[PageResult]:  # fmt: skip
    """Every state audited in one headless Chromium against one server."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium, or set LATENT_CHROMIUM)")
    with app_url(url, root) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            return [audit_state(browser, base, state, viewport) for state in states]
        finally:
            browser.close()


def table(results: list[PageResult]) -> str:
    """A markdown table: per page state, rules and nodes (and nodes inside the plane), rule ids."""
    lines = ["| page | rules | nodes | in plane | rules (nodes) |", "|---|---|---|---|---|"]
    for result in results:
        ids = ", ".join(f"{v.rule} ({len(v.nodes)})" for v in result.violations) or "none"
        note = f" ({result.note})" if result.note else ""
        lines.append(f"| {result.name}{note} | {len(result.violations)} | {result.nodes} | {result.plane_nodes} "
                     f"| {ids} |")  # fmt: skip
    total_rules = len({v.rule for r in results for v in r.violations})
    total_nodes = sum(r.nodes for r in results)
    lines.append(f"| **all** | {total_rules} distinct | {total_nodes} | {sum(r.plane_nodes for r in results)} | |")
    return "\n".join(lines)


def parse_viewport(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def check_states(states: list[str]) -> list[str]:
    for state in states:
        name, _, action = state.partition(":")
        if name not in PAGES or (action and action not in STATES):
            raise SystemExit(f"unknown page state {state!r}: pages {', '.join(PAGES)}; states {', '.join(STATES)}")
    return states


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("states", nargs="*", default=list(DEFAULT_STATES),
                        help="page or page:state (select, drawn); default: every page, and "
                        "explore/interpolate/compare with a selection")  # fmt: skip
    parser.add_argument("--viewport", default="1280x800", help="WIDTHxHEIGHT in CSS px (default 1280x800)")
    parser.add_argument("--url", help="audit a running server at this URL (default: start one)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--json", type=Path, help="also write every violation to this file")
    args = parser.parse_args(argv)
    results = audit(check_states(args.states), parse_viewport(args.viewport), args.url, args.root)
    print(table(results))
    report = json.dumps([{**asdict(r), "nodes": r.nodes, "plane_nodes": r.plane_nodes} for r in results], indent=1)
    if args.json:
        args.json.write_text(report)
    else:
        print(report)
    return 1 if any(r.violations for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
