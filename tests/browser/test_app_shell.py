"""The app shell and the operational pages in a real browser: each role sees the links
and controls it may use, every page renders without console errors, at 1280 and 390 px."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 20
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
PAGES = {"/customers": "Customers", "/data": "Data", "/models": "Models", "/admin": "Admin",
         "/account": "API tokens"}


def sign_in(browser, live_server, user):
    browser.get(f"{live_server}/login")
    wait = WebDriverWait(browser, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(user.password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.ID, "tenant-name")))
    return wait


def open_page(browser, live_server, path: str, text: str):
    browser.get(f"{live_server}{path}")
    WebDriverWait(browser, TIMEOUT).until(
        EC.text_to_be_present_in_element((By.ID, "_pages_content"), text))


def console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE" and "favicon" not in entry["message"]]


def nav_links(browser) -> set[str]:
    return {link.text for link in browser.find_elements(By.CSS_SELECTOR, ".vl-nav-link")}


@pytest.mark.parametrize(("role", "hidden", "shown"), [
    ("viewer", {"Data", "Admin"}, {"Customers", "Models"}),
    ("analyst", {"Admin"}, {"Data", "Customers", "Models"}),
    ("admin", set(), {"Data", "Admin", "Customers", "Models"}),
])
def test_each_role_sees_only_the_links_it_may_use(browser, live_server, make_user, tenant_a,
                                                  role, hidden, shown):
    sign_in(browser, live_server, make_user(tenant_a, role=role))
    links = nav_links(browser)
    assert shown <= links
    assert not hidden & links
    open_page(browser, live_server, "/models", "Model versions")
    assert bool(browser.find_elements(By.ID, "retrain")) == (role == "admin")
    assert bool(browser.find_elements(By.ID, "cancel-job")) == (role != "viewer")


def test_a_viewer_opening_the_data_page_is_refused(browser, live_server, make_user, tenant_a):
    sign_in(browser, live_server, make_user(tenant_a, role="viewer"))
    browser.get(f"{live_server}/data")
    WebDriverWait(browser, TIMEOUT).until(
        EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Your role does not allow"))
    assert not browser.find_elements(By.ID, "upload-drop")


@pytest.mark.parametrize("width", [1280, 390])
def test_every_operational_page_renders_cleanly(browser, live_server, make_user, tenant_a,
                                                screenshot, width):
    if width == 390:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    sign_in(browser, live_server, make_user(tenant_a, role="admin"))
    browser.get_log("browser")
    for path, text in PAGES.items():
        open_page(browser, live_server, path, text)
        screenshot(f"{path.strip('/')}-{width}px")
        assert console_errors(browser) == [], path
        page_width, screen_width = browser.execute_script(
            "return [document.documentElement.scrollWidth, window.innerWidth]")
        assert page_width <= screen_width, path


def test_an_unknown_customer_id_shows_not_found(browser, live_server, make_user, tenant_a):
    sign_in(browser, live_server, make_user(tenant_a, role="viewer"))
    open_page(browser, live_server, "/customers/no-such-customer", "not found")
    assert browser.find_elements(By.ID, "customer-not-found")
