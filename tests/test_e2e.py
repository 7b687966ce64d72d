"""End to end, in a real browser: the app serves every page, and a run trains live on the Train page.

AppTest cannot see what only a browser shows (the fragment's timer, Plotly drawing its traces, the
sample grid as an image), so this test starts `streamlit run app.py` and drives Debian's chromium
with Playwright. Set E2E_SCREENSHOTS=<folder> to keep a screenshot of each page.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CuttableProxy,
    child_cpu_seconds,
    no_exception,
    require_browser,
    shot,
    streamlit_server,
    wait_idle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pw():
    """One Playwright for the module: its sync API cannot be started while another one runs."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser_page(pw):
    with streamlit_server() as url:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield url, page
        browser.close()


MENU_TITLES = ("Home", "Train", "D* on 1-D", "2-D toys", "Conditional GAN", "CycleGAN", "Compare", "Theory")


def _first_visit(p, path: str) -> tuple[list[str], str, int]:
    """Open ``path`` as the first visitor of a freshly started server. While the page loads, sample
    the sidebar every 0.1 s: return every sidebar text seen, the final h1 and the dialogs seen."""
    seen: list[str] = []
    dialogs = 0
    with streamlit_server() as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{url}/{path}", wait_until="commit")
        for _ in range(80):  # the first 8 s, when the legacy pages/ menu and the dialog showed
            sidebar = page.locator('[data-testid="stSidebar"]')
            if sidebar.count():
                seen.append(sidebar.first.inner_text())
            dialogs += page.locator('[role="dialog"]').count()
            if page.locator("text=Training on:").count() and page.locator("h1").count():
                break
            page.wait_for_timeout(100)
        wait_idle(page)
        page.wait_for_selector("text=Training on:", timeout=30_000)
        seen.append(page.locator('[data-testid="stSidebar"]').inner_text())
        dialogs += page.locator('[role="dialog"]').count()
        h1 = page.locator("h1").first.inner_text()
        no_exception(page)
        shot(page, "fresh-" + (path.replace("/", "_").replace("?", "_") or "root"))
        browser.close()
    return seen, h1, dialogs


@pytest.mark.parametrize(
    "path, title",
    [("", "GAN Lab"), ("toys_2d?preset=healthy-ring8", "2-D toys")],
    ids=["root", "preset-link"],
)
def test_first_visitor_of_a_fresh_server_gets_the_menu_and_the_page(pw, path, title):
    """Each case starts its own server. The first visitor sees the app's menu (page titles, never
    the file names of a scanned pages/ folder: "d star 1d", "toys 2d"), the page asked for, and no
    "Page not found" dialog, from the first paint on (issue 13.1)."""
    seen, h1, dialogs = _first_visit(pw, path)
    assert seen, "the sidebar never appeared"
    for text in seen:
        assert "d star 1d" not in text and "toys 2d" not in text, text
    final = seen[-1]
    for name in MENU_TITLES:
        assert name in final, (name, final)
    assert h1.startswith(title), h1
    assert dialogs == 0


def test_every_page_opens(browser_page):
    url, page = browser_page
    for path in ("", "train", "d_star_1d", "toys_2d", "cgan", "cyclegan", "compare", "theory"):
        page.goto(f"{url}/{path}")
        wait_idle(page)
        page.wait_for_selector("h1", timeout=30_000)
        no_exception(page)
        shot(page, path or "home")


def _train_lesson(page, url: str, preset: str, steps: int, heatmap_rows: int) -> None:
    """Open a CycleGAN lesson link, shorten it to ``steps``, press Start and wait until the run's
    heatmap of ``heatmap_rows`` rows is drawn and the run is done, with no exception on the page."""
    page.goto(f"{url}/cyclegan?preset={preset}")
    wait_idle(page)
    page.wait_for_selector("text=Watch for:", timeout=30_000)
    box = page.get_by_label("Steps", exact=True)
    box.fill(str(steps))
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(
        """(rows) => [...document.querySelectorAll('.js-plotly-plot')].some(
               el => (el._fullData || []).some(t => t.type === 'heatmap' && (t.z || []).length === rows))""",
        arg=heatmap_rows,
        timeout=90_000,
    )
    page.wait_for_selector("text=done", timeout=150_000)
    wait_idle(page)
    no_exception(page)


def test_cyclegan_lesson_link_trains_live(browser_page):
    """The healthy lesson's link fills the form; Start trains it live (shortened to 300 steps: the
    machine may be shared): the two planes, the mode table (a heatmap of 8 rows) and the readouts are
    drawn, and the four readouts show."""
    url, page = browser_page
    _train_lesson(page, url, "healthy-cyclegan", steps=300, heatmap_rows=8)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert len(values) == 4 and re.fullmatch(r"\d / 8", values[2]), values
    shot(page, "cyclegan-healthy")


def test_cyclegan_digits_lesson_link_trains_live(browser_page):
    """The healthy digits lesson's link fills the form (the conv translators); Start trains it live
    (shortened to 100 steps): the nine image grids, the label table (a heatmap of 10 rows), the
    label readouts and the steganography probe's numbers show."""
    url, page = browser_page
    _train_lesson(page, url, "healthy-cyclegan-digits", steps=100, heatmap_rows=10)
    assert page.locator('[data-testid="stImage"]').count() == 9
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert labels[0] == "G(x) read as x's digit" and "|F(G(x) + noise) − x| per pixel" in labels, labels
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert len(values) == 7 and re.fullmatch(r"\d+\.\d %", values[0]), values
    shot(page, "cyclegan-digits")


def test_train_live_run(browser_page):
    url, page = browser_page
    page.goto(f"{url}/train")
    wait_idle(page)
    steps = page.get_by_label("Steps", exact=True)
    steps.fill("3000")
    steps.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()

    # the live fragment draws the loss curves: wait for a Plotly trace with points
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
               el => (el._fullData || []).some(t => ((t.x && t.x.length) || 0) >= 3))""",
        timeout=90_000,
    )
    # the fixed-noise grid is an image with a real size
    img = page.locator('[data-testid="stImage"] img').first
    img.wait_for(timeout=60_000)
    # the <img> is in the page before its bytes arrive (naturalWidth 0 until then: seen on a loaded machine)
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=30_000)
    assert page.evaluate("el => el.naturalWidth", img.element_handle()) >= 64
    n_points = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('.js-plotly-plot')].map(el => (el._fullData||[]).reduce((m,t)=>Math.max(m,(t.x && t.x.length) || 0),0)))"
    )
    # ... and the view moves: more points a few seconds later
    page.wait_for_function(
        """n => [...document.querySelectorAll('.js-plotly-plot')].some(
               el => (el._fullData || []).some(t => ((t.x && t.x.length) || 0) > n))""",
        arg=n_points,
        timeout=60_000,
    )
    shot(page, "train-running")
    # it trains in a worker process of the server (the app's default, GAN_DEMO_TRAIN_IN=process):
    # one of the server's children burns CPU while the run goes on
    before = child_cpu_seconds(url)
    page.wait_for_timeout(1500)
    after = child_cpu_seconds(url)
    assert after, "the server has no child process"
    assert max(after[pid] - before.get(pid, after[pid]) for pid in after) > 0.3, (before, after)
    page.get_by_role("button", name="Stop").click()
    page.wait_for_selector("text=stopped", timeout=30_000)
    wait_idle(page)
    no_exception(page)
    shot(page, "train-stopped")


def test_cgan_page_trains_a_preset_and_shows_the_grid_and_label_accuracy(browser_page):
    """The Conditional GAN page opened on a preset link: a short run draws the per-class grid (an
    image 8 columns wide, one row per class), the label accuracy chart and the GIF of the interpolation."""
    url, page = browser_page
    page.goto(f"{url}/cgan?preset=cgan-healthy")
    wait_idle(page)
    page.wait_for_selector("text=Watch for:", timeout=30_000)
    steps = page.get_by_label("Steps", exact=True)
    steps.fill("400")
    steps.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("text=step 400 of 400", timeout=120_000)
    wait_idle(page)
    no_exception(page)
    img = page.locator('[data-testid="stImage"] img').first
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=30_000)
    w, h = page.evaluate("el => [el.naturalWidth, el.naturalHeight]", img.element_handle())
    # 8 columns and 10 rows of 8x8 digits with 2 px padding, enlarged by one integer factor: 82 x 102
    assert w * 102 == h * 82, (w, h)
    page.get_by_role("tab", name="Label accuracy").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.js-plotly-plot')].some(
               el => (el._fullData || []).some(t => t.name === 'mean' && t.x && t.x.length >= 3))""",
        timeout=30_000,
    )
    shot(page, "cgan-label-accuracy")
    page.get_by_role("tab", name="Per-class grid").click()
    shot(page, "cgan-done")
    no_exception(page)


def _progress(page) -> tuple[int, str]:
    """The live panel's progress bar: (the run's step, its text "step X of N · ... · status")."""
    bar = page.locator('[data-testid="stProgress"]').first
    bar.scroll_into_view_if_needed()
    text = bar.inner_text()
    match = re.search(r"step ([\d,]+) of", text)
    assert match, text
    return int(match.group(1).replace(",", "")), text


CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
CURVE_STEPS = """() => Math.max(0, ...[...document.querySelectorAll('.js-plotly-plot')].flatMap(
    el => (el._fullData || []).map(t => Math.max(0, ...((t.x && Array.from(t.x)) || []).filter(Number.isFinite)))))"""


def test_a_run_survives_a_six_second_network_cut(pw):
    """Issue 13.2: a student's Wi-Fi drops for a few seconds. The browser talks to the server
    through a proxy that closes every connection (the websocket too) and refuses new ones for 6 s.
    Streamlit releases the session's resources at the disconnect; the run must go on (the session
    comes back within the grace period), and after the page reconnects it shows the same run,
    still training, its curves reaching further than before the cut. The old code stopped it."""
    with streamlit_server() as url:
        proxy = CuttableProxy(int(url.rsplit(":", 1)[1]))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"http://127.0.0.1:{proxy.port}/toys_2d?preset=healthy-ring8")
            wait_idle(page)
            # a run far longer than the test: on an idle machine the preset's 10,000 steps can end
            # during the 6 s cut, and then nothing could move after it
            steps = page.get_by_label("Steps", exact=True)
            steps.fill("1000000")
            steps.press("Enter")
            wait_idle(page)
            page.get_by_role("button", name="Start").click()
            # the live run has replaced the preset's recorded replay (whose curves reach 10,000)
            page.wait_for_selector("text=of 1,000,000", timeout=60_000)
            # the curves (modes over the snapshots) have a few points: the run trains
            page.wait_for_function(f"() => ({CURVE_STEPS})() >= 1000", timeout=120_000)
            step_before, text_before = _progress(page)
            curve_before = page.evaluate(CURVE_STEPS)
            page.screenshot(path="/tmp/sessions_before_cut.png", full_page=True)

            cut_at = time.monotonic()
            assert proxy.cut(6.0) >= 1  # the websocket (and any other open connection)
            page.wait_for_selector(
                '[data-testid="stApp"]:not([data-test-connection-state="CONNECTED"])', timeout=5_000
            )
            page.screenshot(path="/tmp/sessions_during_cut.png", full_page=True)
            page.wait_for_selector(CONNECTED, timeout=60_000)
            back_after = time.monotonic() - cut_at
            page.screenshot(path="/tmp/sessions_reconnected.png", full_page=True)
            assert back_after >= 5.5, back_after  # it really was cut off for the 6 s
            assert proxy.refused >= 1  # ... and the browser tried to reconnect during the cut

            # the same run, still training: its step and its curves move on after the reconnect
            page.wait_for_function(f"() => ({CURVE_STEPS})() > {curve_before}", timeout=60_000)
            step_back, _ = _progress(page)
            page.wait_for_timeout(3_000)
            step_later, text_later = _progress(page)
            assert step_later > step_back > step_before, (step_before, step_back, step_later)
            assert "stopped" not in text_later, text_later
            # read the curves once a redraw has drawn them (Plotly drops a chart's data while it redraws
            # it at a new snapshot, and an instant read can fall in between: it read 0 once in CI)
            page.wait_for_function(f"() => ({CURVE_STEPS})() > {curve_before}", timeout=30_000)
            no_exception(page)
            page.screenshot(path="/tmp/sessions_after_cut.png", full_page=True)
            page.get_by_role("button", name="Stop").click()
            page.wait_for_selector("text=stopped", timeout=30_000)
        finally:
            browser.close()
            proxy.close()


def _type_into(page, label: str, text: str) -> str:
    """Type ``text`` into a number field as a user does (select all, type, Enter); returns what the
    field shows once the app has rerun."""
    field = page.get_by_label(label, exact=True)
    field.click()
    field.press("Control+a")
    field.press("Backspace")
    page.keyboard.type(text)
    field.press("Enter")
    wait_idle(page)
    page.wait_for_timeout(500)
    wait_idle(page)
    return field.input_value()


def _errors(page) -> list[str]:
    return [e.inner_text().split("\n")[-1] for e in page.locator('[data-testid="stAlertContentError"]').all()]


def test_number_fields_keep_what_was_typed(browser_page):
    """Streamlit's integer number_input reads the text with parseInt: "1e6" became 1 and "64.5" 64
    without a word, "abc" became its default 0. The fields are float-typed now and the app checks."""
    url, page = browser_page
    page.goto(f"{url}/train")
    wait_idle(page)
    start = page.get_by_role("button", name="Start")
    try:
        assert _type_into(page, "Steps", "1e6") == "1000000"
        assert _errors(page) == [] and start.is_enabled()
        assert _type_into(page, "Steps", "2e3") == "2000"
        assert _type_into(page, "Batch size", "64.5") == "64.5"
        assert "must be a whole number in [2, 4096], got 64.5" in _errors(page)
        assert not start.is_enabled()
        assert _type_into(page, "Batch size", "abc") == ""
        assert ("enter a whole number in [2, 4096]: the field is empty or does not hold a finite number"
                in _errors(page))  # fmt: skip
        assert not any("got 0" in e for e in _errors(page))
        assert _type_into(page, "lr D", "1e309") == ""  # Infinity: Streamlit's backend gives None
        assert any(e.startswith("enter a finite number in (0, 1]") for e in _errors(page))
        no_exception(page)
    finally:
        _type_into(page, "Batch size", "64")
        _type_into(page, "lr D", "0.0002")
        _type_into(page, "Steps", "2000")
    assert _errors(page) == [] and start.is_enabled()


def test_a_preset_link_with_lang_zh_opens_in_chinese_and_the_switch_goes_back_to_english(browser_page):
    """Issue 19: a teacher's preset link with ``?lang=zh`` opens in Chinese: the menu, the page and the
    preset's "watch for" text (the catalogue's Chinese, with the claims' numbers); the sidebar switch
    turns the same page to English, and the address bar follows it."""
    from gan_demo import presets
    from gan_demo.content import t

    url, page = browser_page
    preset = presets.get("healthy-lsgan")
    story_zh = t("presets.healthy_lsgan.watch_for", lang="zh")
    story_en = t("presets.healthy_lsgan.watch_for", lang="en")
    page.goto(f"{url}/train?preset={preset.name}&lang=zh")
    wait_idle(page)
    page.wait_for_selector(f"text={story_zh[:12]}", timeout=30_000)
    sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
    for title in ("首页", "训练", "一维上的 D*", "二维玩具分布", "条件 GAN", "比较运行", "理论"):
        assert title in sidebar, (title, sidebar)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert story_zh in body and story_en[:30] not in body
    assert page.locator("h1").first.inner_text() == t("train.title", lang="zh")
    no_exception(page)
    shot(page, "train-preset-zh")
    # switch while a run trains: a selectbox keeps its *label* in the browser, so the old language's
    # label came back as the loss ("unknown loss '最小二乘（LSGAN）'", found in QA); the switch re-sets them
    steps = page.get_by_label(t("config.steps.label", lang="zh"), exact=True)
    steps.fill("40000")
    steps.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name=t("ui.start", lang="zh")).click()
    page.wait_for_selector('[data-testid="stProgress"]', timeout=30_000)
    page.get_by_text("English", exact=True).click()
    wait_idle(page)
    page.wait_for_selector(f"h1:has-text('{t('train.title', lang='en')}')", timeout=30_000)
    assert "lang=en" in page.url and "Train" in page.locator('[data-testid="stSidebar"]').inner_text()
    assert page.locator("h1").first.inner_text() == t("train.title", lang="en")
    no_exception(page)
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "unknown loss" not in body and "is not allowed" not in body, body[:2000]
    assert not page.locator('[data-testid="stAlertContentError"]').count()
    assert re.search(r"step [\d,]+ of 40,000", body), body[:2000]  # the run trains on, in English
    page.get_by_role("button", name="Stop").click()
    wait_idle(page)
    no_exception(page)
