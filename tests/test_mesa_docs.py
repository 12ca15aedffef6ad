"""The examples in docs/mesa.md run, and the Mesa tools they build work offline."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path

import ipyvuetify as v
import ipywidgets
import pandas as pd
import pytest
import solara

from abm import ICSModel, MODEL_METRICS

DOC = Path(__file__).resolve().parents[1] / "docs" / "mesa.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def run_block(index: int) -> dict:
    namespace = {"__name__": f"mesa_doc_example_{index}"}
    exec(compile(BLOCKS[index], f"{DOC}:block{index}", "exec"), namespace)
    return namespace


def block_with(text: str) -> int:
    (index,) = [i for i, block in enumerate(BLOCKS) if text in block]
    return index


def test_the_page_has_its_examples():
    assert len(BLOCKS) == 5


@pytest.mark.parametrize("index", [i for i, b in enumerate(BLOCKS) if "batch_run" not in b and "SolaraViz" not in b])
def test_example_runs(index, capsys):
    run_block(index)
    assert capsys.readouterr().out.strip()


def test_batch_run_example_gives_organisation_rows_for_each_run(capsys):
    method = multiprocessing.get_start_method(allow_none=True)
    try:
        namespace = run_block(block_with("mesa.batch_run("))
    finally:
        multiprocessing.set_start_method(method, force=True)  # batch_run forces 'spawn' on the process
    assert capsys.readouterr().out.strip()
    results: pd.DataFrame = namespace["results"]
    n_orgs = len(ICSModel(n_vcse=4).organisations)
    assert len(results) == 4 * 3 * n_orgs  # 2 regimes x 2 seeds, months 0, 12, 24
    assert {"RunId", "Step", "regime", "rng", "AgentID", "kind", "turf", *MODEL_METRICS} <= set(results.columns)


def test_solaraviz_example_steps_and_resets_without_a_browser():
    namespace = run_block(block_with("SolaraViz("))
    # `solara run` puts the page in an app layout, where SolaraViz keeps its controls
    box, rc = solara.render(solara.AppLayout(children=[namespace["page"]]), handle_error=False)
    try:
        plots = lambda: [bytes(w.value) for w in rc.find(ipywidgets.Image).widgets]  # noqa: E731 - matplotlib PNGs
        shows = lambda time: len(rc.find(v.Html, children=[f"Time: {time}"]).widgets) == 1  # noqa: E731 - Mesa's clock
        before = plots()
        assert len(before) == 3 and shows(0.0)
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert shows(2.0)
        assert all(a != b for a, b in zip(plots(), before))  # every plot redrawn with the new months
        rc.find(v.Slider, label="VCSE providers per ICS").widget.v_model = 3
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert shows(0.0) and not rc.find(v.Alert).widgets
    finally:
        rc.close()


@pytest.mark.browser
def test_solaraviz_example_serves_offline_in_a_browser(tmp_path):
    """The example as `solara run` serves it, in headless Chromium: every request stays on
    the machine, the three plots show, and Step and Reset work."""
    from test_viz_browser import ARGS, CHROMIUM, REQUIRE, Recorder, _browser_missing

    from viz.server import background_server

    missing = _browser_missing()
    if missing:
        if REQUIRE:
            pytest.fail(f"{missing} and ICS_ABM_REQUIRE_BROWSER=1")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    app = tmp_path / "mesa_app.py"
    app.write_text(BLOCKS[block_with("SolaraViz(")])
    with background_server(app=app, log_path=tmp_path / "server.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.set_default_timeout(60_000)
            recorder = Recorder(page)
            page.goto(url)
            page.get_by_text("Time: 0.0").wait_for()
            page.wait_for_function("document.querySelectorAll('.vue-grid-item img').length === 3")
            page.get_by_role("button", name="Step").click()
            page.get_by_text("Time: 1.0").wait_for()
            page.get_by_role("button", name="Reset").click()
            page.get_by_text("Time: 0.0").wait_for()
            assert recorder.outside() == [], "requests left the machine"
            assert recorder.failed == [], "requests failed"
            assert recorder.errors == [], "console errors"
        finally:
            browser.close()
