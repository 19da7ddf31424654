"""The app in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by selenium
loads the page from a live uvicorn server, names the model that labelled the catalogue, lists its verdicts
(other, silent) apart from the triggers, searches by name and by AudioSet tag, filters by a label, plays a segment, blends two, lists the
segments similar to one, uploads a file to classify, and saves a screenshot (ASMR_SERVE_SCREENSHOT=PATH keeps it, e.g. docs/platform.png);
then, on an app started without --model, adds a recording labelled by the ASMR / speech detector and names that model.

Without Chromium the test skips with the reason; `.ci/run` installs it and sets ASMR_REQUIRE_BROWSER=1,
which turns that skip into a failure, so CI always runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from serve_fixtures import LiveServer, app_on_copy, built, engines

from asmr_platform.engines import Engines
from asmr_platform.names import DETECTOR

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def chromium():
    if not (CHROMIUM and DRIVER):
        reason = "headless Chromium is not installed (apt-get install -y chromium chromium-driver)"
        if os.environ.get("ASMR_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM  # and the driver below: selenium never looks for a browser to download
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio",
                "--autoplay-policy=no-user-gesture-required", "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(DRIVER))


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_the_page_filters_plays_and_blends_in_chromium(small_layout, tmp_path_factory, tmp_path):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    made = built(small_layout, tmp_path_factory)
    app, _ = app_on_copy(made, tmp_path, engines(made))
    shot = Path(os.environ.get("ASMR_SERVE_SCREENSHOT", tmp_path / "platform.png"))
    try:
        with LiveServer(app) as server:
            config = get_json(f"{server.url}/api/config")
            triggers = [x for x in config["labels"] if x not in config["none_of_these"]]
            label = max(triggers, key=lambda x: get_json(f"{server.url}/api/segments?label={x.replace(' ', '+')}")["total"])
            wait = WebDriverWait(driver, 90, ignored_exceptions=(StaleElementReferenceException,))  # a table redrawn
            driver.get(f"{server.url}/")
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#segments tbody tr"))
            assert driver.find_element(By.ID, "labelled-by").text == (
                f"labelled by classifier/best.keras ({len(config['recordings'])} recordings; other under p 0.20)")
            boxes = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#labels label")]
            greyed = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#labels label.verdict")]
            assert boxes == [*triggers, *greyed] and greyed == config["none_of_these"]  # triggers first, then the rest

            driver.find_element(By.ID, "q").send_keys("STEREO")  # the search box: any part of a name, any case
            driver.find_element(By.ID, "search").click()
            wait.until(lambda d: {r.find_elements(By.TAG_NAME, "td")[0].text
                                  for r in d.find_elements(By.CSS_SELECTOR, "#segments tbody tr")} == {"extra/stereo_44k.wav"})
            tag = get_json(f"{server.url}/api/segments?recording=1")["rows"][0]["tags"][0]["label"]
            driver.find_element(By.ID, "q").clear()
            driver.find_element(By.ID, "q").send_keys(tag.upper())  # an AudioSet tag: its segments, each showing it
            driver.find_element(By.ID, "search").click()
            wait.until(lambda d: (rows := d.find_elements(By.CSS_SELECTOR, "#segments tbody tr")) and all(
                tag in r.find_elements(By.TAG_NAME, "td")[4].get_attribute("title") for r in rows)
                and d.find_element(By.ID, "count").text.endswith(
                    f" of {get_json(f'{server.url}/api/segments?q={quote(tag)}')['total']}"))
            driver.find_element(By.ID, "q").clear()
            driver.find_element(By.CSS_SELECTOR, f'#labels input[value="{label}"]').click()
            driver.find_element(By.ID, "search").click()

            def filtered(d):
                cells = [r.find_elements(By.TAG_NAME, "td")[2].text for r in d.find_elements(By.CSS_SELECTOR, "#segments tbody tr")]
                return cells if cells and set(cells) == {label} else None

            assert len(wait.until(filtered)) >= 2
            rows = driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")
            rows[0].click()
            duration = wait.until(lambda d: d.execute_script(
                "const p = document.getElementById('player'); return p.error ? null : (p.duration > 0 ? p.duration : null);"))
            segment = get_json(f"{server.url}/api/segments/{rows[0].get_attribute('data-id')}")
            assert duration == pytest.approx(segment["end"] - segment["start"], abs=2e-3)
            assert driver.find_element(By.ID, "selected").text.endswith("; labelled by classifier/best.keras")
            wait.until(lambda d: d.execute_script("const m = document.getElementById('mel'); return m.complete && m.naturalWidth > 0;"))

            driver.find_element(By.ID, "set-a").click()
            rows[1].click()
            driver.find_element(By.ID, "set-b").click()
            driver.find_element(By.ID, "blend").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results audio")) == 3)
            assert len(driver.find_elements(By.TAG_NAME, "audio")) >= 2
            wait.until(lambda d: d.execute_script(
                "return [...document.querySelectorAll('#results audio')].every(a => a.duration > 0)"
                " && [...document.querySelectorAll('#results img')].every(i => i.complete && i.naturalWidth > 0);"))
            names = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#results h3")]
            assert names == ["a", "b", "blend_alpha0.50"]
            driver.find_element(By.ID, "similar-btn").click()  # for B, the segment selected last
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#similar tbody tr"))
            driver.find_element(By.ID, "file").send_keys(str(made.stereo))
            driver.find_element(By.ID, "upload").click()
            wait.until(lambda d: d.find_element(By.ID, "add-btn").is_displayed())
            assert driver.find_element(By.ID, "add-status").text.startswith("stereo_44k.wav (0:12.0): ")
            assert "; labelled by classifier/best.keras" in driver.find_element(By.ID, "add-status").text
            assert driver.find_element(By.ID, "add-note").text == "uploads are labelled by classifier/best.keras"

            for _ in range(2):  # the whole page: resizing reflows it, so measure again
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1400, max(1000, height + 140))  # + the window's frame
            driver.execute_script("window.scrollTo(0, 0)")
            shot.parent.mkdir(parents=True, exist_ok=True)
            assert driver.save_screenshot(str(shot))
        plain = tmp_path / "no-model"
        plain.mkdir()
        with LiveServer(app_on_copy(made, plain, Engines())[0]) as server:  # --db alone
            driver.get(f"{server.url}/")
            wait.until(lambda d: d.find_element(By.ID, "add-note").text == f"uploads are labelled by {DETECTOR}")
            driver.find_element(By.ID, "file").send_keys(str(made.gap))
            driver.find_element(By.ID, "upload").click()
            wait.until(lambda d: d.find_element(By.ID, "add-btn").is_displayed())
            assert f"; labelled by {DETECTOR}" in driver.find_element(By.ID, "add-status").text
            driver.find_element(By.ID, "add-btn").click()
            wait.until(lambda d: d.find_element(By.ID, "add-status").text ==
                       f"gap.wav: added to the catalogue, labelled by {DETECTOR}")
            # the list is redrawn after an add: read the chosen option in one step, once it names the new recording
            chosen = wait.until(lambda d: (t := d.execute_script(
                "const o = document.querySelector('#recording option:checked'); return o ? o.textContent : null;"))
                and t.startswith("gap.wav") and t)
            assert chosen.startswith("gap.wav (0:09.0") and chosen.endswith(f", {DETECTOR})")  # two models: named
            wait.until(lambda d: (rows := d.find_elements(By.CSS_SELECTOR, "#segments tbody tr")) and all(
                r.find_elements(By.TAG_NAME, "td")[0].get_attribute("title") == f"labelled by {DETECTOR}" for r in rows))
    finally:
        driver.quit()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
