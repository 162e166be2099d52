"""Drive Debian's headless Chromium: screenshot a page and dump its DOM after scripts ran.

The browser is started with no network-facing extras (no sync, no component updates, no
background networking, no QUIC) and a throw-away profile, so it only ever reads the file:// page.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lxml import html as lxml_html

CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
BASE_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
)
TIMEOUT_S = 90


def find_chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if Path(path).is_file():
            return path
    return shutil.which("chromium")


def _run(page: Path, extra: list[str], binary: str | None = None) -> subprocess.CompletedProcess:
    binary = binary or find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (make browser-check installs it)")
    with tempfile.TemporaryDirectory(prefix="newsclean-chromium-") as profile:
        cmd = [binary, *BASE_FLAGS, f"--user-data-dir={profile}", *extra, Path(page).resolve().as_uri()]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=True)


def screenshot(page: Path, png: Path, width: int = 1280, height: int = 2400, binary: str | None = None) -> Path:
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    _run(page, [f"--screenshot={png}", f"--window-size={width},{height}"], binary)
    if not png.exists() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot at {png}")
    return png


def dump_dom(page: Path, binary: str | None = None) -> str:
    """The DOM after load (the page's inline check script has run)."""
    return _run(page, ["--dump-dom", "--window-size=1280,2400"], binary).stdout


@dataclass(frozen=True)
class PlotCheck:
    render: str  # the page's own verdict: ok | fail | pending (scripts did not run)
    plots_total: int
    plots_drawn: int
    drawn_per_plot: dict[str, int]  # marks with a non-empty box, as measured in the browser
    marks_per_plot: dict[str, int]  # marks in the markup
    no_data: tuple[str, ...]  # panels shown as "no data"

    @property
    def ok(self) -> bool:
        return (
            self.render == "ok"
            and self.plots_total == self.plots_drawn == len(self.drawn_per_plot)
            and all(n > 0 for n in self.drawn_per_plot.values())
        )


def check_plots(dom: str) -> PlotCheck:
    """Read the render verdict and per-plot mark counts out of a dumped DOM."""
    tree = lxml_html.fromstring(dom)
    body = tree.find(".//body")
    drawn, marks = {}, {}
    for svg in tree.xpath("//svg[contains(concat(' ', @class, ' '), ' plot ')]"):
        key = svg.get("data-plot")
        drawn[key] = int(svg.get("data-drawn", "0"))
        marks[key] = len(svg.xpath(".//*[contains(concat(' ', @class, ' '), ' mark ')]"))
    no_data = tuple(el.get("data-plot") for el in tree.xpath("//div[@class='nodata']"))
    return PlotCheck(
        render=body.get("data-render", "missing"),
        plots_total=int(body.get("data-plots-total", "-1")),
        plots_drawn=int(body.get("data-plots-drawn", "-1")),
        drawn_per_plot=drawn,
        marks_per_plot=marks,
        no_data=no_data,
    )
