"""End to end: axe-core finds no WCAG 2.0 or 2.1 A or AA violation on any page, at 1280x800.

Every page, Explore as it opens and with a selection, Interpolate and Compare with a selection made
by a click on the plane, Draw with a drawing (tools/accessibility_audit.py's states and functions). One server
and one browser serve them all; each state gets a fresh browser context.
"""

from __future__ import annotations

import pytest

from tools.accessibility_audit import PLANE_ROOT, PageResult, audit_state
from tools.browser import StreamlitServer

pytestmark = pytest.mark.e2e
VIEWPORT = (1280, 800)  # a school laptop
# Every page; those with a plane with a selection too (Interpolate's and Compare's opening states
# show nothing their selected states do not), Draw with a drawing.
STATES = ("explore", "explore:select", "interpolate:select", "compare:select", "draw:drawn", "sample", "lesson",
          "train")  # fmt: skip


def report(result: PageResult) -> str:
    """Each failing node as `rule [impact] page: target`, marked when it lies inside the plane."""
    lines = [f"{result.name}: {result.nodes} nodes fail {len(result.violations)} axe rules" +
             (f" ({result.note})" if result.note else "")]  # fmt: skip
    for violation in result.violations:
        for node in violation.nodes:
            where = f" (inside {PLANE_ROOT})" if node["in_plane"] else ""
            lines.append(f"  {violation.rule} [{violation.impact}] {result.name}: {node['target']}{where}"
                         f" - {violation.help}")  # fmt: skip
    return "\n".join(lines)


@pytest.mark.parametrize("state", STATES)
def test_axe_finds_no_wcag_a_or_aa_violation(browser: object, server: StreamlitServer, state: str) -> None:
    result = audit_state(browser, server.url, state, VIEWPORT)
    assert not result.violations, report(result)
