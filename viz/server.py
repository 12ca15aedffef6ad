"""Start the browser view: ``ics-abm viz`` calls ``serve``.

The view must work on a locked-down network with no internet at all:
- every JS, CSS and font file comes from solara's local asset cache
  (solara-assets, pinned with solara 1.58.2), served by solara's asset proxy;
  the proxy's upstream is pointed at a closed local port, so a missing asset
  fails at once instead of being fetched from a CDN;
- solara's usage telemetry and its one-off "call home" check are switched off.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"

# Environment for an offline solara server (solara reads these at start-up).
OFFLINE_ENV = {
    "SOLARA_ASSETS_PROXY": "true",                        # serve /_solara/cdn from the local cache
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/npm/",       # upstream for cache misses: a closed local port
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",          # no usage statistics
    "SOLARA_THEME_SHOW_BANNER": "false",                  # no "runs on Solara" banner over the charts
}


def offline_environment(base: dict | None = None) -> dict:
    """A copy of ``base`` (default: os.environ) with the offline settings."""
    env = dict(os.environ if base is None else base)
    env.update(OFFLINE_ENV)
    return env


def command(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False, app: str | Path = APP) -> list[str]:
    """The command line that runs the view's solara server (``app``: another solara app file)."""
    if not isinstance(port, int) or isinstance(port, bool) or not (0 < port < 65536):
        raise ValueError(f"port {port!r} must be a whole number from 1 to 65535")
    if not isinstance(host, str) or not host.strip():
        raise ValueError(f"host {host!r} must be a host name or address such as 127.0.0.1")
    return [
        sys.executable, "-m", "solara", "run", str(app),
        "--host", host, "--port", str(port), "--production",
        "--open" if open_browser else "--no-open",
        "--no-check-version",  # solara would ask pypi.org for a newer version
        "--log-level", "warning",
    ]


def _is_loopback(host: str) -> bool:
    """Does ``host`` listen on this machine only (so the view needs no authentication)?"""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False   # a host name other than localhost: it may be reachable from elsewhere


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def wait_until_serving(host: str, port: int, timeout: float = 60.0, process=None) -> bool:
    """Wait until the server answers on host:port (False on timeout or if ``process`` ended)."""
    target = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((target, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool | None = None) -> int:
    """Run the view's server until Ctrl-C; return its exit code.

    ``open_browser`` None opens a browser tab (once the server is up) when
    there is a display. On Linux and macOS the solara server replaces this
    process, so Ctrl-C, ``kill`` and closing the terminal stop it directly and
    nothing is left running; elsewhere it runs as a child process.
    """
    want_browser = _has_display() if open_browser is None else bool(open_browser)
    cmd = command(host, port, open_browser=want_browser)
    shown = f"[{host}]" if ":" in host else host
    print(f"ics-abm viz: serving the model at http://{shown}:{port}/ (Ctrl-C stops it)", flush=True)
    if not _is_loopback(host):
        print(f"ics-abm viz: warning: listening on {host}, not only on this machine: anyone who can reach "
              f"port {port} here can use the view, which has no authentication", file=sys.stderr, flush=True)
    env = offline_environment()
    if os.name == "posix":
        sys.stderr.flush()
        os.execve(sys.executable, cmd, env)  # does not return
    process = subprocess.Popen(cmd, env=env)  # pragma: no cover - Windows
    try:  # pragma: no cover
        return process.wait()
    except KeyboardInterrupt:  # pragma: no cover
        process.terminate()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


def quiet_solara() -> None:
    """Switch off solara's telemetry and call-home check in this process.

    For ``solara run viz/app.py`` without ``ics-abm viz``: the app calls this
    when it loads. (``ics-abm viz`` also sets the environment before start-up.)
    """
    try:
        import solara.checks
        import solara.server.settings as server_settings
    except ImportError:  # pragma: no cover
        return
    import solara.settings

    server_settings.telemetry.mixpanel_enable = False
    solara.checks.should_perform_solara_check = lambda: False
    # Opened as http://127.0.0.1 (not "localhost") solara warns on every page load that
    # its session cookie falls back to SameSite=Lax; that is right for this view.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")
    if solara.settings.assets.proxy:
        solara.settings.assets.cdn = OFFLINE_ENV["SOLARA_ASSETS_CDN"]
    else:  # solara turns its local asset server off in VS Code, Colab and Voila
        print("ics-abm viz: solara's local asset server is off (SOLARA_ASSETS_PROXY), so the page would "
              "load its scripts from the internet. Start the view with `ics-abm viz`, or set "
              "SOLARA_ASSETS_PROXY=true before `solara run`.", file=sys.stderr, flush=True)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (for tests and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def background_server(host: str = "127.0.0.1", port: int | None = None, app: str | Path = APP,
                      timeout: float = 90.0, log_path: str | Path | None = None):
    """Run the view's server in the background; yield its URL; stop it afterwards.

    The server's output goes to ``log_path`` (or is discarded); a server that
    does not come up within ``timeout`` seconds raises RuntimeError with its log.
    """
    port = free_port(host) if port is None else port
    log = open(log_path, "w+", encoding="utf-8") if log_path else tempfile.TemporaryFile("w+", encoding="utf-8")
    process = subprocess.Popen(command(host, port, app=app), env=offline_environment(),
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        if not wait_until_serving(host, port, timeout=timeout, process=process):
            log.seek(0)
            raise RuntimeError(f"the view's server did not start on {host}:{port}:\n{log.read()[-3000:]}")
        yield f"http://{host}:{port}/"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(serve())
