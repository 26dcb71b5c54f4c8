"""The analytics pages in a real browser, with a live run published without a worker:
each page draws its charts without console errors, on a wide screen and on a phone."""

from __future__ import annotations

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_login_flow import sign_in
from tests.integration.live_run import publish_run

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 30
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
# path → (element that only the page's content has, charts it draws at least)
PAGES = {
    "/": ("overview-changes", 3),
    "/segments": ("segments-table", 5),
    "/value": ("value-models", 3),
    "/churn": ("churn-grid", 4),
    "/campaigns": ("campaign-table", 1),
}


def _open(browser, live_server, path, element_id, charts):
    browser.get(f"{live_server}{path}")
    wait = WebDriverWait(browser, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.ID, element_id)))
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, ".js-plotly-plot .main-svg")) >= charts)
    return wait


def _console_errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture
def signed_in_with_run(app, browser, live_server, make_user, tenant_a):
    publish_run(app, tenant_a.id)
    user = make_user(tenant_a, role="viewer")
    sign_in(browser, live_server, user)
    WebDriverWait(browser, TIMEOUT).until(EC.presence_of_element_located((By.ID, "jobs-table")))
    return user


@pytest.mark.parametrize("path", list(PAGES))
def test_each_analytics_page_draws_its_charts_wide_and_on_a_phone(browser, live_server,
                                                                 signed_in_with_run, path,
                                                                 screenshot):
    element_id, charts = PAGES[path]
    name = path.strip("/") or "overview"
    _open(browser, live_server, path, element_id, charts)
    screenshot(f"analytics-{name}-1280px")
    assert _console_errors(browser) == []

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    _open(browser, live_server, path, element_id, charts)
    screenshot(f"analytics-{name}-390px")
    page_width, screen_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width <= screen_width
    assert _console_errors(browser) == []


def test_the_overview_shows_kpis_in_the_tenants_terms_and_keeps_the_job_list(
        browser, live_server, signed_in_with_run):
    _open(browser, live_server, "/", "overview-changes", 3)
    body = browser.find_element(By.TAG_NAME, "body").text
    for label in ("CUSTOMERS", "REVENUE, LAST 12 MONTHS", "AT CHURN RISK", "AVERAGE CLV"):
        assert label in body.upper()
    assert "600" in body and "$" in body
    assert browser.find_element(By.ID, "jobs-table").is_displayed()


def test_trying_a_threshold_updates_precision_recall_and_the_count(browser, live_server,
                                                                  signed_in_with_run):
    wait = _open(browser, live_server, "/churn", "churn-grid", 4)
    numbers = wait.until(EC.presence_of_element_located((By.ID, "churn-threshold-numbers")))
    before = numbers.text
    assert "Precision" in before and "customers flagged today" in before
    handle = browser.find_element(By.CSS_SELECTOR, "#churn-threshold [role=slider]")
    handle.click()
    handle.send_keys(Keys.HOME)
    # The callback replaces the numbers' element: read it afresh until the text changed.
    WebDriverWait(browser, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_element(By.ID, "churn-threshold-numbers").text != before)
    assert "600 customers flagged today (100.0 %)" in browser.find_element(
        By.ID, "churn-threshold-numbers").text


def test_without_a_live_run_each_page_guides_to_the_first_upload(browser, live_server, make_user,
                                                                 tenant_a):
    sign_in(browser, live_server, make_user(tenant_a))
    for path in PAGES:
        browser.get(f"{live_server}{path}")
        button = WebDriverWait(browser, TIMEOUT).until(
            EC.presence_of_element_located((By.ID, "empty-upload")))
        assert button.get_attribute("href").endswith("/data")


def test_a_customer_table_run_has_personas_and_explains_the_missing_forecasts(
        app, browser, live_server, make_user, tenant_a, screenshot):
    publish_run(app, tenant_a.id, kind="customers", customers=300)
    sign_in(browser, live_server, make_user(tenant_a))
    _open(browser, live_server, "/segments", "personas-table", 1)
    screenshot("analytics-segments-customer-table")
    for path in ("/value", "/churn", "/campaigns"):
        browser.get(f"{live_server}{path}")
        state = WebDriverWait(browser, TIMEOUT).until(
            EC.presence_of_element_located((By.ID, "empty-state")))
        assert "customer table" in state.text
