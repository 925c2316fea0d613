"""The HTML report in a real browser: headless Chromium loads it, every image decodes, a
screenshot is taken. `make test` installs Debian's chromium when it is missing."""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from report import SECTION_IDS

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = [pytest.mark.servers,  # starts real servers; make test-fast leaves it out
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: `make test` "
                                "installs Debian's chromium (apt-get install -y chromium)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Test-only probe, added to a copy: the report itself carries no script.
PROBE = """<script>window.addEventListener("load", () => {
  const images = [...document.images];
  const ok = images.filter(i => i.complete && i.naturalWidth > 0);
  document.body.dataset.images = images.length + ":" + ok.length;
  document.body.dataset.sections = [...document.querySelectorAll("section[id] > h2")]
    .map(h => h.parentElement.id).join(",");
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


def test_screenshot_of_the_report(built_report, tmp_path: Path) -> None:
    _, built = built_report
    shot = tmp_path / "report.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000",
             built.html.as_uri())
    with Image.open(shot) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, "the screenshot is blank"
