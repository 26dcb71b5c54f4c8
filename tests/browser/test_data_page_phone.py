"""The data page on a 390 px phone: the uploads table fits the screen, also with a long
file name, and the target column box shows only for a customer table."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_analytics_pages import PHONE, _console_errors
from tests.browser.test_login_flow import sign_in
from tests.integration.live_run import publish_run

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 30
LONG_NAME = "quarterly_customer_export_all_regions_including_returns_2024-12-31_final_v2.csv"


def _add_dataset(app, tenant_id: str, **columns) -> None:
    from dashboard.schema import Dataset
    from dashboard.store import store_for

    with app.app_context():
        store = store_for(tenant_id)
        store.add(Dataset(**columns))
        store.commit()


def test_the_uploads_table_fits_a_phone(app, browser, live_server, make_user, tenant_a,
                                         screenshot):
    publish_run(app, tenant_a.id)
    _add_dataset(app, tenant_a.id, filename=LONG_NAME, kind="customers", status="failed",
                 rows=1_234_567, mode="append")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    sign_in(browser, live_server, make_user(tenant_a, role="analyst"))
    browser.get(f"{live_server}/data")
    table = WebDriverWait(browser, TIMEOUT).until(
        EC.presence_of_element_located((By.ID, "datasets-table")))
    browser.execute_script("arguments[0].scrollIntoView()", table)
    screenshot("data-uploads-390px")

    page_width, screen_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width <= screen_width
    # Nothing scrolls sideways inside the table's own box either.
    inner, box = browser.execute_script(
        "var t = document.querySelector('#datasets-table table');"
        "return [t.scrollWidth, t.parentElement.clientWidth]")
    assert inner <= box
    text = table.text
    assert "ready · live" in text and "1,234,567 rows" in text and "customers · append" in text
    assert "Uploaded (UTC)" not in text  # the time column is for wide screens
    assert _console_errors(browser) == []


def test_the_target_box_shows_only_for_a_customer_table(browser, live_server, make_user,
                                                        tenant_a):
    sign_in(browser, live_server, make_user(tenant_a, role="analyst"))
    browser.get(f"{live_server}/data")
    wait = WebDriverWait(browser, TIMEOUT)
    kind = wait.until(EC.presence_of_element_located((By.ID, "upload-kind")))
    target = browser.find_element(By.ID, "upload-target")
    assert not target.is_displayed()
    kind.find_element(By.CSS_SELECTOR, "option[value=customers]").click()
    wait.until(EC.visibility_of(target))
    assert _console_errors(browser) == []
