"""End-to-end tests of the browser view in headless Chromium (Playwright).

The test starts the view's server (``viz.server.background_server``: the same
command as ``ics-abm viz``) on a free port, loads the page, works the controls
and checks what a trainer would see. Every request the page makes is recorded:
none may leave the machine. Screenshots go to tests/artifacts/ (gitignored).

Chromium: Debian's /usr/bin/chromium (or $ICS_ABM_CHROMIUM). Without it the
tests are skipped, unless ICS_ABM_REQUIRE_BROWSER=1, when they fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("ICS_ABM_CHROMIUM", "/usr/bin/chromium")
REQUIRE = os.environ.get("ICS_ABM_REQUIRE_BROWSER") == "1"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHARTS = ("levels", "trust", "outcome")  # the key charts on the Model tab


def _browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="module")
def browser():
    missing = _browser_missing()
    if missing:
        if REQUIRE:
            pytest.fail(f"{missing} and ICS_ABM_REQUIRE_BROWSER=1")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def server_url(browser):
    from viz.server import background_server

    ARTIFACTS.mkdir(exist_ok=True)
    with background_server(log_path=ARTIFACTS / "viz_server.log") as url:
        yield url


class Recorder:
    """Everything the page asked for, and everything that went wrong in it."""

    def __init__(self, page):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)

        def guard(route):  # nothing may leave the machine, even if something tries
            if _is_local(route.request.url):
                route.continue_()
            else:
                route.abort()

        page.route("**/*", guard)

    def outside(self) -> list[str]:
        return [u for u in self.requests if not _is_local(u)]


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about"):
        return True
    return parsed.hostname in LOCAL_HOSTS


@pytest.fixture
def page(browser, server_url):
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    recorder = Recorder(pg)
    pg.goto(server_url)
    _wait_drawn(pg, 0)
    pg.recorder = recorder
    yield pg
    try:
        assert recorder.requests, "no requests recorded"
        assert recorder.outside() == [], "requests left the machine"
        assert recorder.failed == [], "requests failed"
        assert recorder.errors == [], "console errors"
    finally:
        context.close()


def _wait_drawn(pg, month: int) -> None:
    """Wait until the counter, the network and the three key charts show ``month``."""
    pg.wait_for_function(
        """(m) => {
            const counter = document.querySelector('.ics-month-counter');
            const net = document.querySelector('.ics-network');
            const charts = [...document.querySelectorAll('.ics-chart')];
            return counter && counter.textContent.trim() === `Month ${m}`
                && net && net.dataset.month === String(m)
                && charts.length === 3 && charts.every(c => c.dataset.month === String(m));
        }""",
        arg=month,
        polling="raf",
    )


def _pictures(pg) -> dict[str, bytes]:
    shots = {"network": pg.locator(".ics-network canvas").screenshot()}
    for name in CHARTS:
        shots[name] = pg.locator(f".ics-chart-{name}").screenshot()
    return shots


def _step(pg, times: int, start: int) -> int:
    for k in range(times):
        pg.locator(".ics-step").click()
        _wait_drawn(pg, start + k + 1)
    return start + times


def _month(pg) -> int:
    return int(pg.locator(".ics-month-counter").inner_text().replace("Month", "").strip())


def _play_until(pg, month: int) -> int:
    """Press Play, wait until the counter reaches ``month``, press Pause; return the month it stopped at.

    No month starts after Pause (see ``viz.app``), but the page's parts are updated
    one by one: the month returned is the one the counter, the network and the
    charts all show once the button reads Play.
    """
    pg.locator(".ics-play").click()
    pg.wait_for_function(
        "(m) => parseInt(document.querySelector('.ics-month-counter').textContent.replace('Month', '')) >= m",
        arg=month, timeout=120_000)
    pg.locator(".ics-play").click()  # Pause
    pg.wait_for_function("() => document.querySelector('.ics-play').textContent.includes('Play')")
    return pg.wait_for_function("""() => {
        const counter = document.querySelector('.ics-month-counter').textContent.replace('Month', '').trim();
        const drawn = [document.querySelector('.ics-network'), ...document.querySelectorAll('.ics-chart')]
            .map(el => el.dataset.month);
        return drawn.every(m => m === counter) && parseInt(counter);
    }""", polling="raf").json_value()


def _assert_no_traceback(pg) -> None:
    text = pg.locator("body").inner_text()
    assert "Traceback" not in text and not re.search(r"\b\w+Error\b", text), text[:2000]
    assert pg.locator(".ics-month-counter").count() == 1 and pg.locator(".ics-chart").count() == 3


def test_page_loads_offline_with_network_and_charts(page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "viz_month0.png", full_page=True)
    assert page.locator(".ics-month-counter").inner_text().strip() == "Month 0"
    # the canvas has been drawn on: it is not one flat colour
    distinct = page.evaluate("""() => {
        const c = document.querySelector('.ics-network canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const seen = new Set();
        for (let i = 0; i < d.length; i += 4 * 97) seen.add(`${d[i]},${d[i+1]},${d[i+2]}`);
        return seen.size;
    }""")
    assert distinct > 10
    assert page.locator(".ics-legend").get_by_text("ICB").first.is_visible()  # the key
    # the assets came from this machine: solara's local asset cache served the JS and fonts
    assert any("/_solara/cdn/echarts@5.4.0/" in u for u in page.recorder.requests)


def test_controls_step_and_regime_change_redraw_network_and_charts(page):
    before = _pictures(page)
    # change a control: drag the system-focus knob to the far right
    slider = page.locator(".ics-param-system_focus .v-slider")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => /focus (0\\.9\\d|1\\.00)/.test(document.querySelector('.ics-regime-knobs').textContent)")
    month = _step(page, 3, 0)

    # switch regime while running
    page.locator(".ics-regime-select").click()
    page.get_by_role("option", name="Top down").click()
    page.wait_for_function("() => document.querySelector('.ics-regime').textContent.includes('Top down')")
    assert page.locator(".ics-month-counter").inner_text().strip() == f"Month {month}"  # no reset
    month = _step(page, 6, month)
    page.screenshot(path=ARTIFACTS / "viz_after_regime_change.png", full_page=True)

    after = _pictures(page)
    for name, image in after.items():
        (ARTIFACTS / f"viz_{name}.png").write_bytes(image)
        assert image != before[name], f"{name} did not change"
    assert page.locator(".ics-month-counter").inner_text().strip() == "Month 9"


def test_events_and_play_pause(page):
    page.locator(".ics-event-winter").click()
    page.locator(".ics-message-info").filter(has_text="winter").wait_for()
    page.locator(".ics-event-merger").click()
    page.locator(".ics-message-info").filter(has_text="merge").wait_for()
    stopped = _play_until(page, 4)
    page.wait_for_timeout(800)
    assert _month(page) == stopped


def test_hover_shows_figures_and_click_selects(page):
    canvas = page.locator(".ics-network canvas")
    box = canvas.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the ICB sits in the middle
    page.mouse.move(*centre)
    tip = page.locator(".ics-tip")
    tip.wait_for()
    text = tip.inner_text()
    for row in ("Integrated Care Board", "Turf", "Pressure", "Trust in partners", "Trust from partners",
                "Performance (true)", "Performance (reported)"):
        assert row in text
    page.screenshot(path=ARTIFACTS / "viz_hover.png", clip={"x": box["x"], "y": box["y"],
                                                             "width": box["width"] + 380, "height": box["height"]})
    page.mouse.click(*centre)
    page.locator(".ics-org-name").filter(has_text="Integrated Care Board").wait_for()
    assert re.search(r"Turf\s+0\.\d\d", page.locator(".ics-org").inner_text())


def test_a_bad_seed_is_explained_and_the_model_kept(page):
    _step(page, 2, 0)
    page.locator(".ics-seed input").fill("forty-two")
    page.locator(".ics-reset").click()
    message = page.locator(".ics-message-error")
    message.wait_for()
    assert "whole number" in message.inner_text()
    assert page.locator(".ics-month-counter").inner_text().strip() == "Month 2"
    page.locator(".ics-seed input").fill("123")
    page.locator(".ics-reset").click()
    page.locator(".ics-message-info").filter(has_text="seed 123").wait_for()
    _wait_drawn(page, 0)


def test_info_tab_and_link_to_the_odd(page):
    page.locator(".ics-tab-info").click()
    page.get_by_role("heading", name="Guided demonstrations").wait_for()
    page.screenshot(path=ARTIFACTS / "viz_info.png")
    page.get_by_role("link", name="ODD tab").click()
    page.wait_for_function("() => !document.querySelector('.ics-info').textContent.includes('Guided demonstrations')")
    assert "ODD" in page.locator(".ics-info h1").first.inner_text()
    assert page.locator(".ics-tab-odd").get_attribute("aria-selected") == "true"
    page.screenshot(path=ARTIFACTS / "viz_odd.png")


def test_the_request_guard_catches_a_request_to_the_internet(browser):
    """The check the other tests rely on: a request off the machine is seen and blocked."""
    context = browser.new_context()
    pg = context.new_page()
    recorder = Recorder(pg)
    pg.set_content('<img src="http://example.org/logo.png"><img src="http://127.0.0.1:9/local.png">')
    pg.wait_for_timeout(300)
    context.close()
    assert recorder.outside() == ["http://example.org/logo.png"]
    assert any("example.org" in f for f in recorder.failed)  # aborted, never fetched


def test_play_after_a_long_history_twice_and_the_levels_chart_draws_what_it_was_given(page):
    """Issue 7: pressing Play after some history replaced the page with a traceback, and the
    levels chart drew its (stacked) areas in the wrong place."""
    slider = page.locator(".ics-speed .v-slider")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)  # fastest
    page.get_by_text("Speed: 24 months per second").wait_for()
    _play_until(page, 36)
    page.locator(".ics-regime-select").click()
    page.get_by_role("option", name="Top down").click()
    page.wait_for_function("() => document.querySelector('.ics-regime').textContent.includes('Top down')")
    month = _play_until(page, 100)
    for _ in range(2):  # Play with a long history, twice
        month = _play_until(page, month + 6)
        _assert_no_traceback(page)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.locator(".ics-chart-levels").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "viz_levels_after_play_1280x720.png")
    page.locator(".ics-chart-levels").screenshot(path=ARTIFACTS / "viz_levels_chart.png")

    # What ECharts drew (its points, in pixels, turned back into months and shares) is what it was given.
    drawn = page.evaluate("""() => {
        const chart = document.querySelector('.ics-chart-levels').__vue__.chart;
        const out = [];
        chart.getModel().eachSeries((series, i) => {
            const points = series.getData().getLayout('points');
            const xy = [];
            for (let k = 0; k < points.length; k += 2) {
                xy.push(chart.convertFromPixel({seriesIndex: i}, [points[k], points[k + 1]]));
            }
            const given = chart.getOption().series[i];
            out.push({name: series.name, given: given.data, drawn: xy,
                      marks: given.markLine ? given.markLine.data.map(d => d.xAxis) : null});
        });
        return out;
    }""")
    assert [s["name"] for s in drawn] == ["None", "Connecting", "Cooperating", "Coordinating", "Collaborating"]
    for series in drawn:
        assert len(series["drawn"]) == len(series["given"]) >= month + 1, series["name"]
        for (x, y), (m, top, _share) in zip(series["drawn"], series["given"]):
            assert x == pytest.approx(m, abs=0.05) and y == pytest.approx(top, abs=0.005), (series["name"], m)
    switches = drawn[0]["marks"]
    assert len(switches) == 1 and 36 <= switches[0] < 100  # the regime change, where it happened



@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_one_screen_shows_monitors_controls_network_and_key_charts(browser, server_url, size):
    """Issue 13: on a projector (1280x720) and at 1920x1080 everything a room needs fits without scrolling."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    recorder = Recorder(pg)
    try:
        pg.goto(server_url)
        _wait_drawn(pg, 0)
        month = _step(pg, 3, 0)
        pg.locator(".ics-event-merger").click()
        pg.locator(".ics-message-info").filter(has_text="merged into").wait_for()
        month = _step(pg, 3, month)
        pg.wait_for_timeout(300)
        pg.screenshot(path=ARTIFACTS / f"viz_screen_{width}x{height}.png")
        # nothing scrolls: the page is exactly one screen
        assert pg.evaluate("() => document.documentElement.scrollHeight") <= height
        assert pg.evaluate("() => document.documentElement.scrollWidth") <= width
        visible = [".ics-month-counter", ".ics-regime", ".ics-network canvas", ".ics-step", ".ics-play", ".ics-reset",
                   ".ics-event-winter", ".ics-event-merger", ".ics-event-budget_cut", ".ics-export-pictures",
                   *(f".ics-chart-{name}" for name in CHARTS),
                   *(f".ics-monitor-{m}" for m in ("trust_mean", "turf_mean", "collaboration_index",
                                                   "system_outcome", "delayed_discharge_days", "gaming_gap"))]
        for selector in visible:
            box = pg.locator(selector).first.bounding_box()
            assert box is not None, selector
            assert box["y"] >= 0 and box["y"] + box["height"] <= height + 1, (selector, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (selector, box)
        # text a room can read: the key and the monitors' labels are at least 16 px
        smallest = pg.evaluate("""() => Math.min(...[...document.querySelectorAll(
            '.ics-legend *, .ics-monitor-label, .ics-section, .ics-slider-label')]
            .filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize)))""")
        assert smallest >= 16
        # the merger is labelled on the charts
        labels = pg.evaluate("""() => document.querySelector('.ics-chart-outcome').__vue__.chart.getOption()
            .series[0].markLine.data.map(d => d.label.formatter)""")
        assert labels == ["Merger"]

        if (width, height) == (1280, 720):
            # export: the metrics as CSV and the pictures as PNG, made on this machine
            with pg.expect_download() as csv_download:
                pg.locator(".ics-export .v-btn").first.click()
            text = Path(csv_download.value.path()).read_text(encoding="utf-8")
            lines = text.strip().splitlines()
            assert lines[0].startswith("month,") and "delayed_discharge_days" in lines[0]
            assert len(lines) == month + 2
            with pg.expect_download() as png_download:
                pg.locator(".ics-export-pictures").click()
            png = Path(png_download.value.path()).read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
            (ARTIFACTS / "viz_export.png").write_bytes(png)
            # the detail charts have their own tab, on the same screen
            pg.locator(".ics-tab-detail").click()
            pg.wait_for_function("""(m) => {
                const charts = [...document.querySelectorAll('.ics-chart')];
                return charts.length === 4 && charts.every(c => c.dataset.month === String(m));
            }""", arg=month)
            pg.wait_for_timeout(300)
            pg.screenshot(path=ARTIFACTS / "viz_detail_1280x720.png")
            assert pg.evaluate("() => document.documentElement.scrollHeight") <= height
        assert recorder.outside() == [] and recorder.errors == [] and recorder.failed == []
    finally:
        context.close()


def test_a_real_ics_names_its_organisations_after_their_places(page):
    """Issue 13: picked from the list, a real ICS's organisations are named after their councils'
    places in the tooltip, the card and the list ("Acute hospital trust (Wirral)"), never "(place 9)"."""
    picker = page.locator(".ics-ics-select input[type=text]")
    picker.click()
    picker.fill("Cheshire and Merseyside")
    page.get_by_role("option", name="Cheshire and Merseyside").click()
    page.locator(".ics-reset").click()
    page.locator(".ics-message-info").filter(has_text="Cheshire and Merseyside").wait_for()
    _wait_drawn(page, 0)
    names = page.evaluate("() => document.querySelector('.ics-network').__vue__.structure.name")
    assert "Wirral council" in names and not [n for n in names if "place" in n.lower()]
    # hover over Wirral's acute trust: the tooltip names it after its place
    target = next(n for n in names if n.startswith("Acute hospital trust") and n.endswith("(Wirral)"))
    x, y = page.evaluate("""(name) => {
        const net = document.querySelector('.ics-network').__vue__;
        const i = net.structure.name.indexOf(name);
        const node = net.nodes.find(n => n[0] === i);
        return [node[1], node[2]];
    }""", target)
    box = page.locator(".ics-network canvas").bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.locator(".ics-tip-name").filter(has_text=target).wait_for()
    page.screenshot(path=ARTIFACTS / "viz_real_ics_hover.png")
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.locator(".ics-org-name").filter(has_text=target).wait_for()
