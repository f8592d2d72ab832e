"""A person at a keyboard in Debian's Chromium (headless), through chromedriver: nothing is downloaded."""
import base64
import json
import os
import re
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

OUTPUT = Path(os.environ.get("KMS_TEST_OUTPUT", Path(__file__).resolve().parents[2] / ".build" / "test-output")) / "browser"


def chromium_paths():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise RuntimeError("Debian's chromium and chromium-driver are required: scripts/install-deps.sh --test installs them")
    return browser, driver


class Browser:
    shots = 0  # numbered across the session, so every screenshot of a run has its own name
    def __init__(self, base_url, width=1280, height=900):
        browser, driver = chromium_paths()
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=driver), options=options)
        self.driver.implicitly_wait(0)
        if width < 500:  # below Chrome's smallest window: emulate the phone's viewport instead
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        self.base = base_url
        self.pages_checked = set()
        OUTPUT.mkdir(parents=True, exist_ok=True)
        try:  # lets the copy buttons write and the test read the clipboard
            self.driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base_url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        except Exception:
            pass

    def quit(self):
        self.driver.quit()

    # navigation -------------------------------------------------------------------------
    def visit(self, path):
        self.driver.get(self.base + path)
        self.settle()

    def settle(self):
        WebDriverWait(self.driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")

    @property
    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def text(self):
        return self.driver.find_element(By.TAG_NAME, "body").text

    def h1(self):
        return self.driver.find_element(By.TAG_NAME, "h1").text

    # forms ------------------------------------------------------------------------------
    def form(self, action_contains=None, button=None):
        """The form whose action contains `action_contains` (and has a button `button`)."""
        for form in self.driver.find_elements(By.TAG_NAME, "form"):
            if action_contains and action_contains not in (form.get_attribute("action") or ""):
                continue
            if button and not [b for b in form.find_elements(By.TAG_NAME, "button") if b.text.strip() == button]:
                continue
            return form
        raise AssertionError(f"no form {action_contains!r} with button {button!r} on {self.path}")

    def field(self, form, label):
        """The input a label names, the way a screen reader finds it."""
        for lab in form.find_elements(By.TAG_NAME, "label"):
            if lab.text.strip().rstrip("*").strip() == label or lab.text.strip().startswith(label):
                target = lab.get_attribute("for")
                if target:
                    return self.driver.find_element(By.ID, target)
                return lab.find_element(By.TAG_NAME, "input")
        raise AssertionError(f"no field labelled {label!r} in the form on {self.path}")

    def fill(self, form, values):
        for label, value in values.items():
            el = self.field(form, label)
            tag = el.tag_name
            if tag == "select":
                from selenium.webdriver.support.ui import Select
                Select(el).select_by_value(value)
            elif el.get_attribute("type") == "checkbox":
                if bool(value) != el.is_selected():
                    el.click()
            else:
                el.clear()
                el.send_keys(value)

    def submit(self, form, button, navigates=True):
        for b in form.find_elements(By.TAG_NAME, "button"):
            if b.text.strip() == button:
                if navigates:
                    self.follow(b)
                else:
                    b.click()
                return
        raise AssertionError(f"no button {button!r}")

    def follow(self, element):
        """Clicks `element` and waits for the next page to have loaded."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        element.click()

        def replaced(_):
            try:
                old.tag_name
                return False
            except WebDriverException:  # stale, or "does not belong to the document"
                return True
        WebDriverWait(self.driver, 30).until(replaced)
        self.settle()

    def flash(self):
        found = self.driver.find_elements(By.CSS_SELECTOR, ".flash")
        return found[0].text if found else ""

    def errors(self):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".error")]

    # evidence and page checks ---------------------------------------------------------------
    def screenshot(self, name):
        Browser.shots += 1
        path = OUTPUT / f"{Browser.shots:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        # The whole page, not only the viewport.
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                                      "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def refused(self):
        """After a post the server refused on purpose: its 4xx is in the console log, drop it
        (and nothing else: any other error is still reported)."""
        errors = [e for e in self.console_errors() if not ("Failed to load resource" in e["message"] and " 40" in e["message"])]
        assert errors == [], f"{self.path}: console errors: {json.dumps(errors)[:500]}"

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def check_basics(self):
        """Lighthouse-style basics: a title, a label for every input, no inline script or
        handler, no console error (a CSP violation is one)."""
        d = self.driver
        assert d.title.strip() and d.title.strip() != "· kms", f"{self.path}: no title"
        unlabelled = d.execute_script("""
            return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(el => {
              if (el.getAttribute('aria-label')) return false;
              if (el.id && document.querySelector('label[for="' + el.id + '"]')) return false;
              return !el.closest('label');
            }).map(el => el.name || el.id || el.outerHTML.slice(0, 80));""")
        assert unlabelled == [], f"{self.path}: inputs without a label: {unlabelled}"
        inline = d.execute_script("""
            const scripts = [...document.scripts].filter(s => !s.src).length;
            const handlers = [...document.querySelectorAll('*')].filter(el => [...el.attributes].some(a => a.name.startsWith('on'))).length;
            const styles = [...document.querySelectorAll('[style], style')].length;
            return {scripts, handlers, styles};""")
        assert inline == {"scripts": 0, "handlers": 0, "styles": 0}, f"{self.path}: inline script or style: {inline}"
        errors = self.console_errors()
        assert errors == [], f"{self.path}: console errors: {json.dumps(errors)[:500]}"
        self.pages_checked.add(re.sub(r"[0-9a-f-]{36}", "{id}", self.path.split("?")[0]))

    def fits(self, width):
        assert self.driver.execute_script("return window.innerWidth") == width
        overflow = self.driver.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width, f"{self.path}: {overflow}px wide at a {width}px viewport"
