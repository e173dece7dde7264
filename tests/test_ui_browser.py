"""``tabgen ui`` end to end in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, driven by Selenium; nothing is downloaded).

The tests skip when the browser is absent, except under ``CI=true`` where that is a failure.
``TABGEN_UI_CHROMIUM`` and ``TABGEN_UI_CHROMEDRIVER`` name other binaries.
Screenshots of every page go to ``ui-screenshots/`` at the repository root (git-ignored;
``TABGEN_UI_SCREENSHOTS`` moves it); the path is printed at the end of the run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("TABGEN_UI_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TABGEN_UI_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("TABGEN_UI_SCREENSHOTS") or ROOT / "ui-screenshots")


def _missing() -> str | None:
    for module in ("flask", "selenium"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module!r} is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


_REASON = _missing()
if _REASON is not None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but the browser tests cannot run: {_REASON}", pytrace=False)
    pytest.skip(f"browser tests skipped: {_REASON}", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

import tabgen  # noqa: E402
from tabgen.ui import UIServer  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = UIServer(port=0, workspace_parent=tmp_path_factory.mktemp("ui")).start()
    yield server
    server.stop()
    assert not server.workspace.exists()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads, request):
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never download anything
    profile = tempfile.mkdtemp(prefix="tabgen-ui-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():  # shown whatever the capture mode
        print(f"\ntabgen ui screenshots: {SHOTS}")


_UNLABELLED = """
return Array.from(document.querySelectorAll("input, select, textarea, button, progress"))
  .filter(function (el) { return el.type !== "hidden"; })
  .filter(function (el) {
    var named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby") || (el.tagName === "BUTTON" && el.textContent.trim());
    return !named;
  })
  .map(function (el) { return el.outerHTML.slice(0, 120); });
"""


def _check_page(driver) -> None:
    """Screen-reader basics of every page: one h1, a label for every control, the main
    landmark and the skip link."""
    assert len(driver.find_elements(By.TAG_NAME, "h1")) == 1
    assert driver.execute_script(_UNLABELLED) == []
    assert driver.find_element(By.CSS_SELECTOR, "a.skip").get_attribute("href").endswith("#main")
    assert driver.find_element(By.TAG_NAME, "main").get_attribute("id") == "main"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    origin = driver.execute_script("return location.origin")
    assets = driver.execute_script(
        "return Array.from(document.querySelectorAll('script[src], link[href], img[src]'))"
        ".map(function (el) { return el.src || el.href; })"
    )
    assert assets and all(a.startswith((origin + "/", "data:")) for a in assets), assets


def _shot(driver, name: str) -> None:
    _check_page(driver)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, max(800, min(int(height) + 100, 4000)))
    assert driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1280, 1000)


def _wait(driver, timeout=60):
    return WebDriverWait(driver, timeout, poll_frequency=0.05)


def _table(tmp_path, n=200) -> tuple[Path, pd.DataFrame]:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "score": rng.normal(50, 10, n).round(2),
            "grade": rng.integers(1, 4, n),
            "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n, p=[0.6, 0.3, 0.1]),
        }
    )
    path = tmp_path / "people.csv"
    df.to_csv(path, index=False)
    return path, df


def _upload(driver, server, path: Path) -> None:
    driver.get(server.url)
    driver.find_element(By.ID, "file").send_keys(str(path))
    driver.find_element(By.ID, "upload-button").click()
    _wait(driver).until(EC.presence_of_element_located((By.ID, "columns-form")))


def _choose_job(driver, kind: str, model: str, **fields) -> None:
    driver.find_element(By.CSS_SELECTOR, f"label[for=kind-{kind}]").click()
    Select(driver.find_element(By.ID, "model")).select_by_value(model)
    details = driver.find_element(By.CSS_SELECTOR, "details")
    if fields.keys() & {"epochs", "max_time", "seed"} and not details.get_attribute("open"):
        details.find_element(By.TAG_NAME, "summary").click()
    for name, value in fields.items():
        box = driver.find_element(By.ID, name)
        box.clear()
        box.send_keys(str(value))


def _state(driver) -> str:
    return driver.find_element(By.ID, "state").text


def test_upload_edit_kind_synthesize_watch_and_download(server, browser, downloads, tmp_path):
    path, df = _table(tmp_path)
    browser.get(server.url)
    assert browser.title.startswith("Step 1")
    webdriver.ActionChains(browser).send_keys(Keys.TAB).perform()  # keyboard: skip link first
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
    _shot(browser, "1-upload")
    _upload(browser, server, path)
    assert "people.csv" in browser.find_element(By.TAG_NAME, "main").text
    grade = Select(browser.find_element(By.CSS_SELECTOR, "select[data-column=grade]"))
    assert grade.first_selected_option.get_attribute("value") == "integer"
    grade.select_by_value("categorical")  # edit a column kind
    _shot(browser, "1-columns")
    browser.find_element(By.ID, "columns-next").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "job-form")))
    _choose_job(browser, "synthesize", "vae", rows=150, epochs=60)
    _wait(browser).until(lambda d: "(vae)" in d.find_element(By.ID, "estimate-text").text)
    assert browser.find_element(By.ID, "anon_rows").is_displayed() is False  # other job hidden
    _shot(browser, "2-job")
    browser.find_element(By.ID, "run-button").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "progress")))
    _wait(browser).until(lambda d: _state(d) == "running")
    _wait(browser).until(lambda d: d.find_element(By.ID, "epoch").text != "–")
    _shot(browser, "3-run")  # training under way (or its last epoch, on a fast machine)
    _wait(browser, 120).until(EC.visibility_of_element_located((By.ID, "results-link")))
    seen = browser.execute_script("return window.tabgenSeen")
    assert seen[-1] == 100
    assert any(0 < v < 100 for v in seen), seen  # the bar moved through the run
    assert seen == sorted(seen)
    assert browser.switch_to.active_element.get_attribute("id") == "results-link"
    assert browser.find_element(By.ID, "progress").get_attribute("value") == "100"
    browser.find_element(By.ID, "results-link").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "summary")))
    assert "grade → categorical" in browser.find_element(By.ID, "summary").text
    _shot(browser, "4-results-synthesize")
    browser.find_element(By.ID, "download-csv").click()
    target = downloads / "people-synthesize.csv"
    _wait(browser).until(lambda d: target.exists() and target.stat().st_size > 0)
    out = pd.read_csv(target)
    assert out.shape == (150, 4) and list(out.columns) == list(df.columns)
    assert set(out["grade"]) <= set(df["grade"]) and set(out["city"]) <= set(df["city"])
    browser.find_element(By.ID, "download-model").click()  # the separate, explicit action
    model_file = downloads / "people-synthesize.tabgen"
    _wait(browser).until(lambda d: model_file.exists() and model_file.stat().st_size > 0)
    model = tabgen.load(model_file)
    assert model.schema_["grade"].kind == "categorical" and model.sample(3).shape == (3, 4)


def test_anonymize_shows_the_privacy_report(server, browser, tmp_path):
    path, _ = _table(tmp_path, 300)
    _upload(browser, server, path)
    browser.find_element(By.ID, "columns-next").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "job-form")))
    _choose_job(browser, "anonymize", "preset:fast", anon_rows=120, holdout=5)
    browser.find_element(By.ID, "run-button").click()  # the server refuses the holdout
    summary = _wait(browser).until(EC.visibility_of_element_located((By.ID, "error-summary")))
    assert "holdout=5 leaves 5 holdout and 295 training rows" in summary.text
    assert browser.find_element(By.ID, "holdout").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "kind-anonymize").is_selected()  # the form is kept
    _shot(browser, "2-job-error")
    box = browser.find_element(By.ID, "holdout")
    box.clear()
    box.send_keys("0.2")
    browser.find_element(By.ID, "run-button").click()
    _wait(browser, 120).until(EC.visibility_of_element_located((By.ID, "results-link")))
    browser.find_element(By.ID, "results-link").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "report")))
    assert "not offered for download" in browser.find_element(By.ID, "no-model").text
    assert "Privacy report" in browser.find_element(By.ID, "report-heading").text
    frame = browser.find_element(By.ID, "report")
    browser.switch_to.frame(frame)
    text = browser.find_element(By.TAG_NAME, "body").text.lower()
    browser.switch_to.default_content()
    assert "privacy" in text and "dcr" in text
    _shot(browser, "4-results-anonymize")


def test_cancel_a_running_job(server, browser, tmp_path):
    path, _ = _table(tmp_path)
    _upload(browser, server, path)
    browser.find_element(By.ID, "columns-next").click()
    _wait(browser).until(EC.presence_of_element_located((By.ID, "job-form")))
    _choose_job(browser, "synthesize", "vae", epochs=100000)
    browser.find_element(By.ID, "run-button").click()
    _wait(browser).until(lambda d: d.find_element(By.ID, "epoch").text not in ("–", ""))
    browser.find_element(By.ID, "cancel-button").click()
    _wait(browser).until(lambda d: _state(d) == "cancelled")
    assert browser.find_element(By.ID, "again-link").is_displayed()
    assert not browser.find_element(By.ID, "results-link").is_displayed()
    epoch = int(browser.find_element(By.ID, "epoch").text.split("/")[0])
    assert epoch < 100000
    _shot(browser, "3-run-cancelled")
    runner = server.state.runner
    deadline = time.monotonic() + 10
    while runner.current is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.current is None  # the work really stopped
    job_id = browser.current_url.rstrip("/").rsplit("/", 1)[-1]
    assert runner.get(job_id).state == "cancelled"


def test_malformed_upload_shows_the_error(server, browser, tmp_path):
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b\n1,2\n3,4,5,6\n")
    browser.get(server.url)
    browser.find_element(By.ID, "file").send_keys(str(bad))
    browser.find_element(By.ID, "upload-button").click()
    summary = _wait(browser).until(EC.visibility_of_element_located((By.ID, "error-summary")))
    assert "cannot read 'broken.csv' as CSV" in summary.text and "Expected 2 fields" in summary.text
    assert browser.switch_to.active_element.get_attribute("id") == "error-summary"
    assert browser.find_element(By.ID, "file").get_attribute("aria-invalid") == "true"
    _shot(browser, "1-upload-error")


def test_token_session_works_in_the_browser(browser, tmp_path):
    """With a token, the first address carries it; the cookie then serves the pages, the
    status polling, the report frame and the downloads."""
    server = UIServer(port=0, token="browser-token-123", workspace_parent=tmp_path).start()
    try:
        browser.get(server.url.split("?")[0])
        assert "missing or wrong token" in browser.find_element(By.ID, "error-message").text
        browser.get(server.url)
        assert "token" not in browser.current_url
        path, _ = _table(tmp_path, 120)
        _upload(browser, server, path)
        browser.find_element(By.ID, "columns-next").click()
        _wait(browser).until(EC.presence_of_element_located((By.ID, "job-form")))
        _choose_job(browser, "synthesize", "copula", rows=40)
        browser.find_element(By.ID, "run-button").click()
        _wait(browser, 120).until(EC.visibility_of_element_located((By.ID, "results-link")))
        browser.find_element(By.ID, "results-link").click()
        browser.switch_to.frame(_wait(browser).until(lambda d: d.find_element(By.ID, "report")))
        text = browser.find_element(By.TAG_NAME, "body").text
        browser.switch_to.default_content()
        assert "tabgen evaluation report" in text
    finally:
        browser.delete_all_cookies()
        server.stop()
