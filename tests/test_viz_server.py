"""``viz.server.serve`` (what ``ics-abm viz`` runs): starts, serves every asset locally, stops cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from viz.server import free_port, wait_until_serving


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def served():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", f"from viz.server import serve; serve(port={port}, open_browser=False)"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert wait_until_serving("127.0.0.1", port, timeout=90, process=process), "server did not start"
        yield process, f"http://127.0.0.1:{port}/"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_page_and_assets_come_from_this_machine(served):
    _, url = served
    status, body = _get(url)
    assert status == 200
    page = body.decode("utf-8")
    # what the page loads (scripts, style sheets, fonts, images, frames); a plain <a href> to
    # solara.dev in solara's footer loads nothing
    loads = re.findall(r'<(?:script|img|iframe)[^>]*\ssrc="([^"]+)"', page)
    loads += re.findall(r'<link[^>]*\shref="([^"]+)"', page)
    loads += re.findall(r'@import\s+(?:url\()?["\']?([^"\')\s;]+)', page)
    assert any("/_solara/cdn/" in s for s in loads)
    external = [s for s in loads if re.match(r"(https?:)?//", s) and "127.0.0.1" not in s and "localhost" not in s]
    assert external == []
    # the chart library the view loads, from solara's local asset cache
    status, body = _get(url + "_solara/cdn/echarts@5.4.0/dist/echarts.min.js")
    assert status == 200 and len(body) > 100_000


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_server_and_leaves_nothing_running(served):
    process, url = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) is not None
    output = process.stdout.read()
    assert "serving the model at http://127.0.0.1:" in output
    with pytest.raises(OSError):
        _get(url)
