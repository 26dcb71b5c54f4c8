"""A company that uploads a customer table (one row per customer with a number to
predict) instead of transactions: the drivers page and the persona scatter draw without
console errors on a wide screen and on a phone, the navbar links the drivers page and
none of the transaction-only pages, and a real upload of a table through the data page
ends with the drivers the explain step aggregated."""

from __future__ import annotations

import base64
import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_analytics_pages import PHONE, _console_errors, _open
from tests.browser.test_login_flow import sign_in
from tests.browser.test_upload_and_models import (
    CHAIN_SECONDS,
    FINISHED,
    choose_upload,
    upload_status,
)
from tests.integration.live_run import publish_run

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 30
TRANSACTION_ONLY = {"Value", "Churn", "Campaigns"}
# path → (element only the page's content has, charts it draws at least)
PAGES = {
    "/drivers": ("drivers-leakage", 2),
    "/segments": ("personas-scatter", 2),
}


def full_page(browser, name: str) -> None:
    """The whole page as one picture, also what lies below the screen."""
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))


def nav_links(browser) -> set[str]:
    """Every navbar link's text, also those folded into the phone menu."""
    return {link.get_attribute("textContent").strip()
            for link in browser.find_elements(By.CSS_SELECTOR, ".vl-nav-link")}


def scatter_points(browser) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, "#personas-scatter .scatterlayer .point"))


@pytest.fixture
def signed_in_with_table(app, browser, live_server, make_user, tenant_a):
    publish_run(app, tenant_a.id, kind="customers", customers=300)
    user = make_user(tenant_a, role="viewer")
    sign_in(browser, live_server, user)
    WebDriverWait(browser, TIMEOUT).until(EC.presence_of_element_located((By.ID, "jobs-table")))
    return user


@pytest.mark.parametrize("path", list(PAGES))
def test_the_customer_table_pages_draw_their_charts_wide_and_on_a_phone(
        browser, live_server, signed_in_with_table, path, screenshot):
    element_id, charts = PAGES[path]
    for size, metrics in (("1280px", None), ("390px", PHONE)):
        if metrics:
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        _open(browser, live_server, path, element_id, charts)
        name = f"customer-table-{path.strip('/')}-{size}"
        screenshot(name)
        full_page(browser, f"{name}-full")
        page_width, screen_width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert page_width <= screen_width, size
        assert _console_errors(browser) == [], size


def test_the_drivers_page_names_the_target_its_effects_the_metrics_and_the_leak(
        browser, live_server, signed_in_with_table):
    _open(browser, live_server, "/drivers", "drivers-leakage", 2)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "What drives purchase amount" in body
    # The published table's target is annual_income / 100: the guard must have left it out.
    leakage = browser.find_element(By.ID, "drivers-leakage").text
    assert "Column “annual_income” was left out: it is almost the same as “purchase_amount”" in leakage
    assert "Checked by 5-fold cross-validation" in browser.find_element(By.ID, "drivers-summary").text
    metrics = browser.find_element(By.ID, "drivers-metrics").text
    assert "Mean absolute error" in metrics and "Always the average" in metrics
    assert browser.find_elements(By.CSS_SELECTOR, "#drivers-importance .bars .point")
    table = browser.find_element(By.ID, "drivers-table").text
    assert "\nAge\n" in table and "Highest for “" in table


def test_the_persona_scatter_plots_the_tables_own_columns(browser, live_server,
                                                         signed_in_with_table):
    _open(browser, live_server, "/segments", "personas-scatter", 2)
    WebDriverWait(browser, TIMEOUT).until(lambda b: scatter_points(b) > 100)
    scatter = browser.find_element(By.ID, "personas-scatter")
    assert "No personas in this run" not in scatter.text
    # The published table clusters on age alone (its income leaks the target), so age is
    # plotted against the prediction.
    titles = [title.text for title in scatter.find_elements(By.CSS_SELECTOR, ".g-xtitle, .g-ytitle")]
    assert titles == ["Age", "Predicted purchase amount"]


def test_the_navbar_links_the_drivers_page_and_no_transaction_page(browser, live_server,
                                                                  signed_in_with_table):
    links = nav_links(browser)
    assert {"Overview", "Segments", "Drivers", "Customers"} <= links
    assert not links & TRANSACTION_ONLY


def test_with_transactions_the_drivers_page_explains_itself_and_is_not_linked(
        app, browser, live_server, make_user, tenant_a):
    publish_run(app, tenant_a.id)
    sign_in(browser, live_server, make_user(tenant_a))
    browser.get(f"{live_server}/drivers")
    state = WebDriverWait(browser, TIMEOUT).until(
        EC.presence_of_element_located((By.ID, "empty-state")))
    assert "customer table" in state.text
    links = nav_links(browser)
    assert "Drivers" not in links and TRANSACTION_ONLY <= links
    assert _console_errors(browser) == []


def test_before_the_first_upload_the_drivers_page_guides_to_it_and_is_not_linked(
        browser, live_server, make_user, tenant_a):
    sign_in(browser, live_server, make_user(tenant_a))
    browser.get(f"{live_server}/drivers")
    button = WebDriverWait(browser, TIMEOUT).until(
        EC.presence_of_element_located((By.ID, "empty-upload")))
    assert button.get_attribute("href").endswith("/data")
    assert "Drivers" not in nav_links(browser)


@pytest.fixture
def table_csv(tmp_path):
    """A shop's customer table (the sample-data generator's) with next year's spend to
    predict and a column computed from it, which the leakage guard must leave out."""
    from dashboard.cli_samples import customer_table

    table = customer_table(400, seed=3)
    table["spend_with_tax"] = (table["purchase_amount"] * 1.2).round(2)
    path = tmp_path / "customer-table.csv"
    table.to_csv(path, index=False)
    return path


def live_aggregates(app, tenant_id: str) -> dict:
    from dashboard.database import db
    from dashboard.runs import AGGREGATES_FILE, live_run, read_json
    from dashboard.store import store_for

    with app.app_context():
        db.session.expire_all()  # the worker moved the tenant's live run pointer
        store = store_for(tenant_id)
        return read_json(store, live_run(store), AGGREGATES_FILE)


def test_an_uploaded_customer_table_ends_with_its_drivers(
        celery_worker, app, browser, live_server, make_user, tenant_a, table_csv, screenshot):
    wait = choose_upload(browser, live_server, make_user(tenant_a, role="analyst"), table_csv)
    target = browser.find_element(By.ID, "upload-target")
    assert not target.is_displayed()  # transactions have no target column
    Select(browser.find_element(By.ID, "upload-kind")).select_by_value("customers")
    wait.until(EC.visibility_of_element_located((By.ID, "upload-target"))).send_keys("purchase_amount")

    browser.find_element(By.ID, "upload-start").click()
    long_wait = WebDriverWait(browser, CHAIN_SECONDS, poll_frequency=0.2)
    long_wait.until(lambda b: upload_status(b) in FINISHED)
    assert upload_status(browser) == "succeeded", browser.find_element(
        By.ID, "upload-progress-box").text
    wait.until(EC.text_to_be_present_in_element((By.ID, "datasets-table"), "ready · live"))

    # The explain step added the drivers to the run's aggregates.
    drivers = live_aggregates(app, tenant_a.id).get("drivers")
    assert drivers and {row["feature"] for row in drivers} >= {"previous_spend", "age"}
    json.dumps(drivers, allow_nan=False)

    _open(browser, live_server, "/drivers", "drivers-importance", 2)
    leakage = browser.find_element(By.ID, "drivers-leakage").text
    assert "Column “spend_with_tax” was left out" in leakage
    screenshot("customer-table-drivers-after-upload")
    assert _console_errors(browser) == []

    # The target box goes away again, empty, when the kind is back to transactions.
    browser.get(f"{live_server}/data")
    Select(wait.until(EC.presence_of_element_located((By.ID, "upload-kind")))).select_by_value(
        "customers")
    box = wait.until(EC.visibility_of_element_located((By.ID, "upload-target")))
    box.send_keys("purchase_amount")
    Select(browser.find_element(By.ID, "upload-kind")).select_by_value("transactions")
    wait.until(EC.invisibility_of_element_located((By.ID, "upload-target")))
    assert browser.find_element(By.ID, "upload-target").get_attribute("value") == ""
