"""Refresh the README's screenshots: `python -m tools.take_screenshots` (from the repository root).

Starts the app with `streamlit run`, drives each page in headless Chromium the way a
person would (a click on Explore, the default path on Interpolate, a stroke on Draw) and
writes PNGs to docs/screenshots/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tools.browser import (
    CHROMIUM_ARGS,
    SEVEN,
    StreamlitServer,
    chromium_path,
    draw_strokes,
    hover_centre,
    open_page,
    screen_point,
    wait_for_plane,
    wait_idle,
)

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
VIEWPORT = {"width": 1440, "height": 960}


def explore(page: object, url: str) -> None:
    """The manifold behind the points, a selected digit, and the mouse over another point."""
    open_page(page, url)
    wait_for_plane(page)
    page.get_by_text("decoded manifold behind the points").click()
    x, y = screen_point(page, 1.5, -1.0)
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.get_by_text("Nearest test images").wait_for(timeout=30_000)
    wait_idle(page)
    page.mouse.move(*screen_point(page, -1.2, 1.6))
    page.wait_for_timeout(1500)  # the backdrop is decoded in a worker


def interpolate(page: object, url: str) -> None:
    open_page(page, f"{url}/interpolate")
    wait_for_plane(page)
    page.locator("[data-testid=plane-t]").fill("0.45")
    page.wait_for_timeout(500)


def draw(page: object, url: str) -> None:
    open_page(page, f"{url}/draw")
    draw_strokes(page, SEVEN, steps=15)


def sample(page: object, url: str) -> None:
    open_page(page, f"{url}/sample")
    wait_for_plane(page)
    hover_centre(page, ".lp-overlay [data-sample='2']")


def train(page: object, url: str) -> None:
    """A quick 2-epoch run on 6,000 images, shown when it has finished (with the replay)."""
    open_page(page, f"{url}/train")
    for label, value in (("Training images", "6000"), ("Epochs", "2")):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
    name = page.get_by_role("textbox", name="Save as (file name)")
    name.fill(f"screenshot_run_{page.viewport_size['width']}")
    name.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Trained 2 epochs.").wait_for(timeout=300_000)
    wait_idle(page)
    page.locator("[data-testid='stPlotlyChart']").last.scroll_into_view_if_needed()  # the replay and the curves


def present(page: object, url: str) -> None:
    """Presenter mode on Explore: a 7 selected, the mouse over an 8."""
    open_page(page, f"{url}/?present=1&sel=i6586")
    wait_for_plane(page)
    page.mouse.move(*screen_point(page, 0.8, 0.6))
    page.wait_for_timeout(800)


def compare(page: object, url: str) -> None:
    """The AE and the VAE decoding the same samples from N(0, I), one diamond hovered."""
    open_page(page, f"{url}/compare?left=dense_ae_2d&right=dense_vae_2d&show=samples&seed=1")
    page.wait_for_selector(".lp-root[data-ready=true] .lp-overlay [data-sample='5']", timeout=60_000)
    wait_idle(page)
    diamond = page.locator(".lp-overlay [data-sample='5']").last
    box = diamond.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(800)


def lesson(page: object, url: str) -> None:
    """The lesson's third step, walking from a 3 to an 8, with its banner (opened by its link)."""
    from app.classroom.lesson import step_params

    params = {**step_params(3), "t": "0.55"}
    open_page(page, f"{url}/interpolate?" + "&".join(f"{name}={value}" for name, value in params.items()))
    wait_for_plane(page)
    page.get_by_text("Lesson, step 3 of").wait_for(timeout=30_000)
    page.wait_for_timeout(800)


ACTIONS = {"explore": explore, "interpolate": interpolate, "draw": draw, "sample": sample, "train": train,
           "present": present, "compare": compare, "lesson": lesson}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default: the README's)")
    parser.add_argument(
        "--sizes",
        default=f"{VIEWPORT['width']}x{VIEWPORT['height']}",
        help="comma-separated viewports, e.g. 1280x800,1920x1080 (a suffix per size when several)",
    )
    parser.add_argument("--pages", default=",".join(ACTIONS), help="comma-separated pages to shoot")
    parser.add_argument("--dark", action="store_true", help="ask for the browser's dark colour scheme")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not only the viewport")
    args = parser.parse_args(argv)
    executable = chromium_path()
    if executable is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    sizes = [tuple(int(n) for n in size.split("x")) for size in args.sizes.split(",")]
    args.out.mkdir(parents=True, exist_ok=True)
    # Models trained for the screenshot go to a throwaway folder, not checkpoints/user.
    server = StreamlitServer(env={"LATENT_USER_CHECKPOINTS": tempfile.mkdtemp(prefix="screenshots_")})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            for name in args.pages.split(","):
                for width, height in sizes:
                    page = browser.new_page(viewport={"width": width, "height": height},
                                            color_scheme="dark" if args.dark else "light")  # fmt: skip
                    ACTIONS[name](page, server.url)
                    page.wait_for_timeout(1000)
                    suffix = f"_{width}x{height}" if len(sizes) > 1 else ""
                    path = args.out / f"{name}{suffix}.png"
                    page.screenshot(path=str(path), full_page=args.full_page)
                    print(f"wrote {path}")
                    page.close()
            browser.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
