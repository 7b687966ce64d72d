"""In a real browser: a preset link opens its recording (Replay), the Compare page draws two recorded
runs side by side, and an uploaded run .zip is opened or refused. Set E2E_SCREENSHOTS=<folder> to
keep the screenshots."""

from __future__ import annotations

import pytest

from gan_demo.runs import recordings
from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    no_exception,
    require_browser,
    shot,
    streamlit_server,
    wait_idle,
)

pytestmark = pytest.mark.browser
TRACE_POINTS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(
    el => (el._fullData || []).map(t => (t.x && t.x.length) || 0))"""




@pytest.fixture(scope="module")
def browser_page():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw, streamlit_server() as url:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield url, page
        browser.close()


def test_a_preset_link_replays_its_recording(browser_page):
    url, page = browser_page
    run = recordings.load("healthy-non-saturating")
    page.goto(f"{url}/train?preset=healthy-non-saturating")
    wait_idle(page)
    page.wait_for_selector("text=Replay of the recording of the preset 'healthy-non-saturating'", timeout=30_000)
    rows = len(run.metrics["step"])
    page.wait_for_function(f"() => ({TRACE_POINTS})().flat().some(n => n === {rows})", timeout=30_000)
    img = page.locator('[data-testid="stImage"] img').first
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=30_000)
    assert page.get_by_text("fixed noise, step 3,000").count() == 1
    no_exception(page)
    shot(page, "replay-train")


def test_the_whole_run_zip_of_a_replay_is_the_recording_itself(browser_page, tmp_path):
    """The .zip button of a replay downloads the recording's archive, byte for byte (it came out as
    0 bytes when the data callable looked up the session's state outside the script thread)."""
    url, page = browser_page
    page.goto(f"{url}/train?preset=d-overpowers-g")
    wait_idle(page)
    page.wait_for_selector("text=Replay of the recording of the preset 'd-overpowers-g'", timeout=30_000)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_role("button", name="Whole run (.zip)").click()
    path = tmp_path / "run.zip"
    download.value.save_as(path)
    entry = recordings.entries()["d-overpowers-g"]
    assert path.read_bytes() == (recordings.CHECKPOINTS / entry["file"]).read_bytes()
    assert path.stat().st_size == entry["size"] > 0
    no_exception(page)


def test_compare_shows_two_recordings_side_by_side(browser_page):
    url, page = browser_page
    page.goto(f"{url}/compare")
    wait_idle(page)
    page.get_by_role("button", name="Minimax vs non-saturating G loss").click()
    wait_idle(page)
    page.wait_for_selector("text=Highlighted: the settings that differ (loss).", timeout=30_000)
    rows = len(recordings.load("d-overpowers-g").metrics["step"])
    # the overlay: one chart with two traces of every logged row
    page.wait_for_function(f"() => ({TRACE_POINTS})().some(c => c.length === 2 && c.every(n => n === {rows}))",
                           timeout=30_000)  # fmt: skip
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() == 2
    no_exception(page)
    shot(page, "compare")


def test_an_uploaded_run_opens_and_a_foreign_file_is_refused(browser_page, tmp_path):
    url, page = browser_page
    page.goto(f"{url}/compare")
    wait_idle(page)
    page.get_by_text("Open a saved run (.zip)").click()
    bad = tmp_path / "notes.zip"
    bad.write_bytes(b"not a zip at all")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    page.wait_for_selector("text=Not opened: notes.zip: not a zip file", timeout=30_000)
    good = recordings.CHECKPOINTS / recordings.entries()["mode-collapse"]["file"]
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(good))
    page.wait_for_selector("text=Opened mode-collapse.zip", timeout=30_000)
    # on Compare the run joins the list (the message said its data "belongs on another page")
    assert page.get_by_text("It is in the list of runs to compare.").count() == 1
    assert page.get_by_text("belongs on another page").count() == 0
    no_exception(page)
    shot(page, "compare-upload")
