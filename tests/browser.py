"""Open an HTML report in headless Chromium (Debian's chromium + chromium-driver) and say what a person sees.

No browser download: Selenium is pointed at /usr/bin/chromium and /usr/bin/chromedriver; tests
skip where they are absent (CI installs them, see .ci/run). Each page gets a fresh profile and
no network: the report must carry everything it needs.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage")


def available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


@dataclass(frozen=True)
class Seen:
    """What the page showed: console errors, plots and how many drew an SVG or WebGL marks, and per table the rows
    drawn, the rows it holds and the count it says."""

    errors: list[str]
    plots: int
    drawn: int
    empty: list[str]
    table_rows: dict[str, list]
    page_width: int
    body_width: int


DRAWN_JS = """
const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
const empty = [];
let drawn = 0;
for (const p of plots) {
  const svg = p.querySelector('svg.main-svg');
  const marks = p.querySelectorAll('.scatterlayer .trace path, .scatterlayer .point, .barlayer .point, '
                                   + '.boxlayer .trace path, .annotation-text, .gl-container canvas');
  const ok = svg && svg.getBoundingClientRect().width > 100 && svg.getBoundingClientRect().height > 50
             && marks.length > 0;
  if (ok) drawn += 1; else empty.push(p.id + ': ' + (p.querySelector('.gtitle') || {textContent: ''}).textContent);
}
const rows = {};
document.querySelectorAll('div.sortable').forEach((box, i) => {
  rows[box.querySelector('input').getAttribute('aria-label')] = [box.querySelectorAll('tbody tr').length,
    JSON.parse(box.querySelector('script.rows').textContent).length, box.querySelector('.count').textContent];
});
return [plots.length, drawn, empty, rows, document.documentElement.scrollWidth, window.innerWidth];
"""


def open_page(path: Path, screenshot: Path | None = None, width: int = 1300):
    """A Selenium driver with ``path`` loaded and its plots drawn (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="aethersim-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    driver.profile_dir = profile
    driver.set_page_load_timeout(120)
    driver.get(Path(path).resolve().as_uri())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # Plotly draws after load; wait until every plot has its SVG
        done = driver.execute_script("return document.readyState === 'complete' && Array.from("
                                     "document.querySelectorAll('.js-plotly-plot')).every(p => p.querySelector("
                                     "'svg.main-svg'))")
        if done:
            break
        time.sleep(0.2)
    time.sleep(0.5)
    return driver


def close(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


def look(path: Path, screenshot: Path | None = None, width: int = 1300) -> Seen:
    """Open ``path``, collect what it shows and its console errors, optionally save a full-page screenshot."""
    driver = open_page(path, width=width)
    try:
        plots, drawn, empty, rows, page_width, inner = driver.execute_script(DRAWN_JS)
        logs = driver.get_log("browser")
        errors = [e["message"] for e in logs if e["level"] in ("SEVERE", "ERROR")]
        if screenshot is not None:
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, min(int(height) + 100, 16000))
            time.sleep(1.0)
            driver.save_screenshot(str(screenshot))
        return Seen(errors, plots, drawn, empty, rows, page_width, inner)
    finally:
        close(driver)
