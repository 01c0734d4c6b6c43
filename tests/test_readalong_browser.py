"""The read-along page in a real browser: Debian's Chromium, headless, driven by Playwright.

Playwright is pinned (pyproject.toml) to the release whose driver expects the Chromium version
Debian ships, and launched with `executable_path`: `playwright install` downloads a browser,
which cannot happen here or in CI (.ci/run installs Debian's `chromium` package instead).
The page of a rendered seed is opened from `file://`, as a listener would open it, with the
MP3 beside it; the silence engine keeps the render fast, and the MP3 is real.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broadcast import render

from .conftest import ROOT, SEEDS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = ROOT / "out" / "readalong-screenshot.png"
SCREENSHOT_ZOOMED = ROOT / "out" / "readalong-screenshot-200.png"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
        "--autoplay-policy=no-user-gesture-required"]  # the test starts playback without a gesture

if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium here: install Debian's 'chromium' package (apt-get install chromium); "
                "the test never downloads a browser", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    return render(SEEDS / "cable-news.txt", out / "cable-news.mp3", engine="silence", jobs=1, formats="mp3,html")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, rendered):
    context = browser.new_context(viewport={"width": 1000, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(rendered.audio.with_suffix(".html").as_uri())
    page.wait_for_function("document.getElementById('audio').readyState >= 1", timeout=10_000)
    yield page
    context.close()
    assert not errors, errors


def turn_times(page) -> list[dict]:
    return page.evaluate("JSON.parse(document.getElementById('timeline').textContent).turns")


def seek(page, seconds: float) -> None:
    page.evaluate("t => { const a = document.getElementById('audio'); a.currentTime = t; }", seconds)
    page.wait_for_function("t => Math.abs(document.getElementById('audio').currentTime - t) < 0.05 && "
                           "!document.getElementById('audio').seeking", arg=seconds)


def current_turn(page) -> int:
    """The index of the highlighted turn, waiting a moment for the page to catch up."""
    page.wait_for_function("document.querySelectorAll('.turn[aria-current=\"true\"]').length === 1")
    return page.evaluate("Array.from(document.querySelectorAll('.turn')).findIndex(t => t.hasAttribute('aria-current'))")


def current_time(page) -> float:
    return page.evaluate("document.getElementById('audio').currentTime")


def test_the_mp3_loads_and_plays(page, rendered):
    assert page.evaluate("document.getElementById('audio').duration") == pytest.approx(rendered.timeline.duration_s,
                                                                                       abs=0.1)
    page.evaluate("document.getElementById('audio').play()")
    page.wait_for_function("document.getElementById('audio').currentTime > 0.3", timeout=5_000)
    page.evaluate("document.getElementById('audio').pause()")


def test_the_highlight_follows_the_audio_and_stays_in_view(page):
    times = turn_times(page)
    seek(page, times[2]["start_s"] + 0.05)  # the third turn
    assert current_turn(page) == 2
    page.screenshot(path=str(SCREENSHOT))
    for n in (0, 5, len(times) - 1, 2):
        seek(page, (times[n]["start_s"] + times[n]["end_s"]) / 2)
        page.wait_for_function("n => document.querySelectorAll('.turn')[n].hasAttribute('aria-current')", arg=n)
        assert current_turn(page) == n
    last = page.locator(".turn").nth(len(times) - 1)
    seek(page, times[-1]["start_s"] + 0.05)
    page.wait_for_function("document.querySelector('.turn:last-child').hasAttribute('aria-current')")
    box, viewport = last.bounding_box(), page.viewport_size
    assert box["y"] >= 0 and box["y"] + min(box["height"], 100) <= viewport["height"], "current turn out of view"


def test_a_click_enter_or_space_on_a_turn_seeks_to_it(page):
    times = turn_times(page)
    page.locator(".turn").nth(4).click()
    page.wait_for_function("t => Math.abs(document.getElementById('audio').currentTime - t) < 0.6",
                           arg=times[4]["start_s"])
    assert current_turn(page) == 4
    page.evaluate("document.getElementById('audio').pause()")
    for n, key in ((6, "Enter"), (1, " ")):
        page.locator(".turn").nth(n).focus()
        page.keyboard.press(key)
        page.wait_for_function("t => Math.abs(document.getElementById('audio').currentTime - t) < 0.6",
                               arg=times[n]["start_s"])
        page.evaluate("document.getElementById('audio').pause()")
        assert current_turn(page) == n


def test_clicking_the_strip_seeks_and_moves_the_playhead(page, rendered):
    strip = page.locator("#strip")
    box = strip.bounding_box()
    strip.click(position={"x": box["width"] * 0.75, "y": box["height"] / 2})
    expected = 0.75 * rendered.timeline.duration_s
    assert current_time(page) == pytest.approx(expected, abs=0.5)
    playhead = page.locator("#playhead").bounding_box()
    assert playhead["x"] + playhead["width"] / 2 == pytest.approx(box["x"] + 0.75 * box["width"], abs=3)
    assert "of 1:56" in strip.get_attribute("aria-valuetext")
    strip.focus()
    page.keyboard.press("Home")
    assert current_time(page) == 0
    page.keyboard.press("ArrowRight")
    assert current_time(page) == pytest.approx(5, abs=0.01)


def test_accessibility(page):
    for role, name in (("banner", None), ("main", None), ("navigation", "Who speaks when"),
                       ("slider", "Position in the program"), ("checkbox", "Keep the turn being heard in view"),
                       ("heading", "Transcript")):
        assert page.get_by_role(role, name=name, exact=True).count() == 1, (role, name)
    # every focusable thing has a name, as the browser computes it
    unnamed = page.evaluate("""() => Array.from(document.querySelectorAll(
        'a[href], audio[controls], button, input, select, textarea, [tabindex="0"], [role]'))
        .filter(e => !(e.getAttribute('aria-label') || e.getAttribute('aria-labelledby') || e.labels?.length
                       || e.textContent.trim())).map(e => e.outerHTML.slice(0, 80))""")
    assert unnamed == []
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:
        pytest.skip("axe-playwright-python is not installed: the structural checks above ran, axe did not")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        results = Axe().run(page).response
        found = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
                 for v in results["violations"] if v["impact"] in ("moderate", "serious", "critical")]
        assert found == [], scheme


def test_readable_at_200_percent_zoom(browser, rendered):
    """A 1280 × 900 window at 200 % zoom is a 640 × 450 CSS-pixel viewport: the page reflows,
    nothing scrolls sideways, and the player is no longer sticky (it would cover the text)."""
    context = browser.new_context(viewport={"width": 640, "height": 450}, device_scale_factor=2)
    page = context.new_page()
    page.goto(rendered.audio.with_suffix(".html").as_uri())
    assert page.evaluate("window.scrollY") == 0, "opening the page scrolled it away from the title and player"
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    assert page.evaluate("getComputedStyle(document.getElementById('top')).position") == "static"
    page.screenshot(path=str(SCREENSHOT_ZOOMED))
    context.close()
