"""The web pages of `tdm serve` in a real browser: Debian's headless
Chromium driven over WebDriver (chromedriver) by Selenium, with axe-core
checking every page for accessibility violations.

Usage: python3 web_check.py SCENARIO BASE_URL [--axe AXE_JS] [--screenshots DIR] [--root DIR] [--token TOKEN]
Scenarios: pharmacist (evaluate, typo, course), committee (review), login.
Prints one line per check; exits 1 at the first failure, with what was seen.
"""

import argparse
import json
import os
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1100,1400", f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Check:
    def __init__(self, driver, args):
        self.driver, self.args = driver, args
        self.axe = open(args.axe, encoding="utf-8").read() if args.axe else None

    def fail(self, what):
        print(f"FAILED: {what}\n--- page {self.driver.current_url} ---\n{self.driver.find_element(By.TAG_NAME, 'main').text[:3000]}")
        sys.exit(1)

    def ok(self, cond, what):
        if not cond:
            self.fail(what)
        print(f"ok: {what}")

    def accessible(self, name):
        """No axe-core violation on the page as it is; a screenshot of it."""
        if self.axe:
            self.driver.execute_script(self.axe)
            result = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations));")
            found = [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in result]
            self.ok(not found, f"axe-core finds no violation on {name}: {json.dumps(found, indent=1)}")
        if self.args.screenshots:
            height = self.driver.execute_script("return document.body.scrollHeight")
            self.driver.set_window_size(1100, min(max(height + 40, 600), 3000))
            self.driver.save_screenshot(os.path.join(self.args.screenshots, f"web-{name}.png"))
            self.driver.set_window_size(1100, 1400)

    def text(self, css):
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found[0].text if found else ""

    def open(self, path):
        self.driver.get(self.args.base + path)

    def click(self, css):
        """Clicks what sends a form and waits for the page it answers with."""
        self.navigate(lambda: self.driver.find_element(By.CSS_SELECTOR, css).click())

    def navigate(self, action):
        """Runs `action` and waits until a new page has loaded: the old one
        is marked, and the mark is gone only from a new document."""
        self.driver.execute_script("window.tdmOldPage = true;")
        action()
        WebDriverWait(self.driver, 30, ignored_exceptions=[WebDriverException]).until(
            lambda d: d.execute_script("return !window.tdmOldPage && document.readyState === 'complete';"))

    def choose_drug(self, drug):
        self.open("/ui")
        Select(self.driver.find_element(By.ID, "drug")).select_by_value(drug)
        self.click("form.choose button")

    def fill(self, values):
        for name, value in values.items():
            element = self.driver.find_element(By.ID, name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)
        self.click("form.sample button[type=submit]")


def pharmacist(c):
    c.open("/ui")
    c.accessible("evaluate-choose")
    c.choose_drug("imatinib")
    labels = [e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "form.sample label")]
    c.ok("Indication" in labels and not any(l.startswith("Level of N-desethyl") for l in labels),
         f"the imatinib form asks for its own fields only: {labels}")
    indications = [o.get_attribute("value") for o in c.driver.find_elements(By.CSS_SELECTOR, "#indication option")]
    c.ok(indications == ["", "CML", "GIST"], f"imatinib's indications are offered: {indications}")
    c.fill({"indication": "CML", "value": "1400", "unit": "ng/mL", "dose_mg": "400",
            "hours_since_dose": "10", "days_on_dose": "30"})
    c.ok(c.text(".answer .advice") == "Increase the dose", f"imatinib advice: {c.text('.answer .advice')!r}")
    c.ok(c.text(".answer .next-dose") == "600 mg once daily", f"imatinib next dose: {c.text('.answer .next-dose')!r}")
    c.ok("below the CML target of >= 1000 ng/mL" in c.text(".answer .rationale"), "the rationale says why")
    c.ok(c.text(".answer .conditions") .startswith("only if the current dose is tolerated"), "the condition is shown")
    record = c.driver.find_element(By.ID, "record-text").get_attribute("value")
    c.ok(record.startswith("**increase dose**: 600 mg every 24 h"), f"the Markdown for the record: {record[:60]!r}")
    copy = c.driver.find_element(By.CSS_SELECTOR, "button.copy")
    c.ok(copy.is_displayed(), "the copy button is shown where JavaScript runs")
    c.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": c.args.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy.click()
    WebDriverWait(c.driver, 10).until(lambda d: copy.text == "Copied")
    pasted = c.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, e => done('error: ' + e));")
    c.ok(pasted == record, f"the button copies the Markdown for the record: {pasted[:60]!r}")
    reference = c.driver.find_element(By.CSS_SELECTOR, ".evidence a")
    href = reference.get_attribute("href")
    c.accessible("evaluate-answer")
    c.navigate(reference.click)
    target = href.split("#")[1]
    c.ok(c.driver.find_elements(By.ID, target) and "references 19" in c.text(f"#{target}"),
         f"the reference resolves to the target's row of the pack page ({target})")
    source = c.driver.find_element(By.CSS_SELECTOR, f"#{target} a").get_attribute("href").split("#")[1]
    citation = c.driver.find_element(By.CSS_SELECTOR, f"#{source} + dd").text
    c.ok(source == "source-verheijen2017" and citation.startswith("Verheijen RB"),
         f"and the row to its source in the pack: {source}: {citation[:40]!r}")

    c.choose_drug("sunitinib")
    labels = [e.text for e in c.driver.find_elements(By.CSS_SELECTOR, "form.sample label")]
    c.ok("Level of N-desethylsunitinib (same unit)" in labels and "Regimen" in labels,
         f"the sunitinib form asks for its metabolite and regimen: {labels}")
    c.fill({"regimen": "intermittent", "value": "32", "unit": "ng/mL", "metabolite:N-desethylsunitinib": "11",
            "dose_mg": "50", "hours_since_dose": "24", "days_on_dose": "28", "toxicity_grade": "1"})
    c.ok(c.text(".answer .advice") == "Increase the dose", f"sunitinib advice: {c.text('.answer .advice')!r}")
    c.ok(c.text(".answer .next-dose") == "62.5 mg once daily", f"sunitinib next dose: {c.text('.answer .next-dose')!r}")
    c.ok("(sunitinib + N-desethylsunitinib) is below the intermittent target" in c.text(".answer .rationale"),
         "the total of both analytes is judged")

    c.choose_drug("imatinib")
    c.fill({"indication": "CML", "value": "14x0", "unit": "ng/mL"})
    error = c.text("#value-error")
    c.ok("must be a number" in error, f"a typo shows its error beside the field: {error!r}")
    c.ok(c.driver.find_element(By.ID, "value").get_attribute("aria-invalid") == "true", "the field is marked invalid")
    c.ok(not c.driver.find_elements(By.CSS_SELECTOR, ".answer"), "no advice is shown for it")
    summary = c.driver.find_element(By.CSS_SELECTOR, ".alert a")
    c.ok(summary.get_attribute("href").endswith("#value") and "must be a number" in summary.text,
         "and the problem is said at the top, linked to its field")
    c.accessible("evaluate-error")

    c.open("/ui/course")
    c.accessible("course-form")
    history = os.path.join(c.args.root, "examples/history.csv")
    c.driver.find_element(By.ID, "file").send_keys(history)
    c.click("form.upload button[type=submit]")
    rows = [l for l in open(history, encoding="utf-8").read().splitlines()[1:] if l.strip()]
    header = open(history, encoding="utf-8").readline().strip().split(",")
    by_patient = {}
    for row in rows:
        by_patient.setdefault(row.split(",")[header.index("patient")], []).append(row)
    for patient, samples in by_patient.items():
        points = c.driver.find_elements(By.CSS_SELECTOR, f"article[aria-labelledby='patient-{patient}'] circle.trough")
        c.ok(len(points) == len(samples), f"patient {patient}: one point per sample in the chart ({len(points)} of {len(samples)})")
    c.accessible("course-report")

    c.open("/ui/pack")
    c.ok(c.driver.find_elements(By.ID, "drug-imatinib") and "Verheijen" in c.text("#sources ~ dl"),
         "the pack page lists the drugs and the sources")
    c.accessible("pack")


def committee(c):
    c.open("/ui/review")
    c.accessible("review-form")
    Select(c.driver.find_element(By.ID, "old")).select_by_value("in use")
    Select(c.driver.find_element(By.ID, "new")).select_by_visible_text("examples/packs/ki-oncology-next")
    c.driver.find_element(By.ID, "samples").send_keys(os.path.join(c.args.root, "examples/near-threshold.csv"))
    c.click("form.review button[type=submit]")
    rows = [r.text for r in c.driver.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")]
    c.ok(any("target `cml` lower bound" in r and "1000 ng/mL -> 1100 ng/mL" in r and "major" in r for r in rows),
         f"the changed target is shown: {rows}")
    c.ok("1 of 2 samples would get another result" in c.text(".impact"), "whose advice changes")
    changed = c.text("table.changed-samples tbody tr")
    c.ok("within continue" in changed and "below increase_dose, 600 mg q24h" in changed, f"the changed sample: {changed!r}")
    c.accessible("review-diff")


def login(c):
    c.open("/ui")
    c.ok(c.driver.current_url.endswith("/ui/login"), f"without the token, the login page: {c.driver.current_url}")
    c.accessible("login")
    c.driver.find_element(By.ID, "token").send_keys("wrong")
    c.click("form button[type=submit]")
    c.ok("not one of the server's tokens" in c.text("#token-error"), "a wrong token is refused beside the field")
    c.driver.find_element(By.ID, "token").send_keys(c.args.token)
    c.click("form button[type=submit]")
    c.ok(c.driver.current_url.endswith("/ui") and c.driver.find_elements(By.ID, "drug"),
         "with the token, the evaluate page")
    c.choose_drug("imatinib")
    c.fill({"indication": "CML", "value": "1400", "unit": "ng/mL", "dose_mg": "400",
            "hours_since_dose": "10", "days_on_dose": "30"})
    c.ok(c.text(".answer .advice") == "Increase the dose", "a signed-in pharmacist evaluates a sample")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["pharmacist", "committee", "login"])
    parser.add_argument("base")
    parser.add_argument("--axe")
    parser.add_argument("--screenshots")
    parser.add_argument("--root", default=".")
    parser.add_argument("--token")
    args = parser.parse_args()
    driver = browser()
    try:
        {"pharmacist": pharmacist, "committee": committee, "login": login}[args.scenario](Check(driver, args))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
