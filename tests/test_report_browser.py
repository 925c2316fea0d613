"""The HTML report in a real browser: headless Chromium loads it at 1400×900, every image
decodes and fits the page, the first screen holds the claims and what to use, and a
screenshot is taken. `make test` installs Debian's chromium when it is missing (`make
chromium`)."""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import warnings
from pathlib import Path

import pytest
from PIL import Image

from report import SECTION_IDS, RunWarning
from report.analysis import analyse
from report.choices import choices
from report.frames import read_run
from report.sections.answers import first_screen_rows

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = [pytest.mark.servers,  # starts real servers; make test-fast leaves it out
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: `make test` "
                                "installs Debian's chromium (apt-get install -y chromium)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,900"]
SCREEN = (1400, 900)
# Test-only probe, added to a copy: the report itself carries no script.
PROBE = r"""<script>window.addEventListener("load", () => {
  const images = [...document.images];
  const ok = images.filter(i => i.complete && i.naturalWidth > 0);
  document.body.dataset.images = images.length + ":" + ok.length;
  document.body.dataset.sections = [...document.querySelectorAll("section[id] > h2")]
    .map(h => h.parentElement.id).join(",");
  // What the first 900 pixels show: the answers' tables, where they end, what they say.
  const bottom = e => Math.round(e.getBoundingClientRect().bottom + window.scrollY);
  const tables = [...document.querySelectorAll("#answers table")];
  document.body.dataset.first = JSON.stringify({
    width: window.innerWidth,
    tables: tables.map(t => ({bottom: bottom(t), rows: [...t.tBodies[0].rows].map(
      r => [...r.cells].map(c => c.textContent.trim()))})),
    alerts: [...document.querySelectorAll("#answers p.alert")].map(p => bottom(p)),
    images: images.map(i => [i.dataset.file, i.naturalWidth, Math.round(i.getBoundingClientRect().right)]),
    named: [...new Set(document.body.textContent.match(/fig-[a-z0-9.-]+?\.png/g) || [])],
    open: document.querySelectorAll("details[open]").length});
});</script>"""


def chromium(profile: Path, *args: str, timeout: float = 90) -> str:
    """Run chromium in its own process group; on a timeout the whole group is killed."""
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, f"chromium exited with {proc.returncode}"
    return out


def test_every_section_and_image_loads_in_chromium(built_report, tmp_path: Path) -> None:
    _, built = built_report
    probe = tmp_path / "probe.html"
    probe.write_text(built.html.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    body = re.search(r"<body([^>]*)>", dom).group(1)
    loaded = re.search(r'data-images="(\d+):(\d+)"', body)
    assert loaded, "the probe did not run: the page never finished loading"
    assert int(loaded[1]) == int(loaded[2]) == len(built.images)
    assert re.search(r'data-sections="([^"]*)"', body)[1].split(",") == list(SECTION_IDS)


def test_the_first_screen_holds_the_claims_and_what_to_use(built_report, tmp_path: Path) -> None:
    run, built = built_report
    probe = tmp_path / "probe.html"
    probe.write_text(built.html.read_text().replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    found = re.search(r'data-first="([^"]*)"', dom)
    assert found, "the probe did not run: the page never finished loading"
    first = json.loads(html.unescape(found[1]))
    assert first["width"] == SCREEN[0]
    claims_table, choices_table = first["tables"]
    # both tables end within the first screen
    assert claims_table["bottom"] < choices_table["bottom"] <= SCREEN[1], first["tables"]
    # a row per judged scope (those not judged share one): its verdict and how firm it is
    rows = claims_table["rows"]
    shown = [pair for c in built.claims for pair in first_screen_rows(c)]
    assert len(rows) == len(shown)
    for row, (verdict, result) in zip(rows, shown):
        assert verdict in row[1] and row[3].startswith(result.strength if result else "not judged")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RunWarning)
        expected = choices(analyse(read_run(run)))
    assert [(r[0], int(r[1]), r[3]) for r in choices_table["rows"]] == [
        (c.workload, c.cores, ("" if c.decided else "tie: ") + c.leader + c.marks) for c in expected]  # marks as superscripts
    assert first["open"] == 0  # every fold collapsed
    # no image wider than the page, none scaled down (its text stays the body's size)
    for name, natural, right in first["images"]:
        assert natural <= SCREEN[0] and right <= SCREEN[0], name
    shown = {name for name, _, _ in first["images"]}
    assert set(first["named"]) <= shown, set(first["named"]) - shown  # every figure named exists
    assert shown == {p.name for p in built.images}


def test_screenshot_of_the_report(built_report, tmp_path: Path) -> None:
    _, built = built_report
    shot = tmp_path / "report.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", built.html.as_uri())
    with Image.open(shot) as image:
        assert image.size == SCREEN
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "the screenshot is blank"
