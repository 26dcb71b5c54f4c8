"""Customers in a real browser: the grid pages and sorts on the server, a customer's page
explains the numbers, another tenant's customer is not found, and each role sees only
the links and buttons it may use."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.browser.test_login_flow import sign_in
from tests.browser.test_upload_and_models import live_customers, start_chain
from tests.integration.live_run import analysed_transactions, publish_run

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PAGE_ROWS = 50
FIRST_ROW_LINK = ".ag-pinned-left-cols-container .ag-row[row-index='{}'] a"


def paging_summary(browser) -> str:
    return browser.find_element(By.CSS_SELECTOR, ".ag-paging-row-summary-panel").text


def first_customer(browser, row: int = 0) -> str | None:
    links = browser.find_elements(By.CSS_SELECTOR, FIRST_ROW_LINK.format(row))
    return links[0].text if links else None


def test_the_customers_grid_pages_and_sorts_on_the_server_and_a_customer_is_explained(
        celery_worker, app, browser, live_server, make_user, tenant_a, sales_csv, screenshot):
    start_chain(app, make_user(tenant_a, role="analyst"), sales_csv)
    customers = live_customers(app, tenant_a.id)
    total = len(customers)
    assert total > 2 * PAGE_ROWS
    wait = sign_in(browser, live_server, make_user(tenant_a, role="viewer"))
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))
    browser.get(f"{live_server}/customers")
    wait.until(lambda b: first_customer(b) is not None)
    assert paging_summary(browser).replace("\n", " ") == f"1 to {PAGE_ROWS} of {total:,}"
    shown = browser.find_elements(By.CSS_SELECTOR, ".ag-pinned-left-cols-container .ag-row")
    assert len(shown) <= PAGE_ROWS < total  # the browser holds a page, not the customer list
    screenshot("customers")

    browser.find_element(By.CSS_SELECTOR, ".ag-paging-button[aria-label='Last Page']").click()
    last_page_start = (total - 1) // PAGE_ROWS * PAGE_ROWS
    wait.until(lambda b: first_customer(b, last_page_start) is not None)
    assert paging_summary(browser).replace("\n", " ") == (
        f"{last_page_start + 1} to {total:,} of {total:,}")
    assert first_customer(browser, last_page_start) == str(
        customers["customer_id"].iloc[last_page_start])

    browser.find_element(By.CSS_SELECTOR, ".ag-paging-button[aria-label='First Page']").click()
    header = browser.find_element(By.CSS_SELECTOR, ".ag-header-cell[col-id='clv'] .ag-header-cell-label")
    header.click()  # ascending
    header.click()  # descending
    top = customers.sort_values(["clv", "customer_id"], ascending=[False, True])["customer_id"].iloc[0]
    wait.until(lambda b: first_customer(b) == str(top))

    browser.find_element(By.CSS_SELECTOR, FIRST_ROW_LINK.format(0)).click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "customer-id"), str(top)))
    sentence = wait.until(EC.presence_of_element_located((By.ID, "sentence-clv"))).text
    assert sentence.startswith("Predicted value is high mainly because of")
    assert wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#waterfall-clv .main-svg"))
    assert browser.find_element(By.ID, "sentence-churn").text.startswith("Churn risk is")
    assert browser.find_element(By.ID, "purchase-history").text
    screenshot("customer-detail")


def test_another_tenants_customer_id_answers_not_found(app, browser, live_server, make_user,
                                                       tenant_a, tenant_b):
    _, _, table = analysed_transactions(600, 1)
    publish_run(app, tenant_a.id)
    theirs = table.assign(customer_id="B-" + table["customer_id"].astype(str))
    publish_run(app, tenant_b.id, customers_frame=theirs)
    own, foreign = str(table["customer_id"].iloc[0]), str(theirs["customer_id"].iloc[0])
    wait = sign_in(browser, live_server, make_user(tenant_a, role="admin"))
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))

    browser.get(f"{live_server}/customers/{own}")
    wait.until(EC.text_to_be_present_in_element((By.ID, "customer-id"), own))
    browser.get(f"{live_server}/customers/{foreign}")
    notice = wait.until(EC.presence_of_element_located((By.ID, "customer-not-found")))
    assert notice.text == "Customer not found."
    assert foreign not in browser.find_element(By.TAG_NAME, "body").text


def nav_links(browser) -> list[str]:
    return [link.text for link in browser.find_elements(By.CSS_SELECTOR, ".vl-nav-link")]


@pytest.mark.parametrize(("role", "data_link", "admin_link", "retrain"), [
    ("viewer", False, False, False),
    ("analyst", True, False, False),
    ("admin", True, True, True),
])
def test_each_role_sees_only_the_links_and_buttons_it_may_use(
        app, browser, live_server, make_user, tenant_a, role, data_link, admin_link, retrain,
        screenshot):
    publish_run(app, tenant_a.id)
    wait = sign_in(browser, live_server, make_user(tenant_a, role=role))
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))
    links = nav_links(browser)
    assert {"Overview", "Customers", "Models"} <= set(links)
    assert ("Data" in links, "Admin" in links) == (data_link, admin_link)

    browser.get(f"{live_server}/models")
    wait.until(EC.presence_of_element_located((By.ID, "model-versions")))
    assert bool(browser.find_elements(By.ID, "retrain")) == retrain
    assert bool(browser.find_elements(By.ID, "promote")) == retrain
    screenshot(f"models-as-{role}")
