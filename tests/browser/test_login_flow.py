"""A person opens ValueLens, signs in, sees the overview, and signs out."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 20


def sign_in(browser, live_server, user):
    browser.get(f"{live_server}/")
    wait = WebDriverWait(browser, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(user.password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The login has answered once the form is gone (or says why not): a page opened
    # earlier would race the login and be sent back to it.
    wait.until(lambda b: "/login" not in b.current_url
               or b.find_elements(By.CSS_SELECTOR, ".alert-danger"))
    return wait


def test_sign_in_shows_overview_with_tenant_and_user(browser, live_server, make_user, tenant_a,
                                                    screenshot):
    user = make_user(tenant_a, role="analyst")
    browser.get(f"{live_server}/")
    WebDriverWait(browser, TIMEOUT).until(EC.url_contains("/login"))
    screenshot("login")

    wait = sign_in(browser, live_server, user)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Overview"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Tenant A" in body
    # At 1280 px the bar names the role; the full identity shows from 1400 px and on phones.
    assert "analyst" in browser.find_element(By.CSS_SELECTOR, ".navbar").text
    identity = browser.find_element(By.ID, "user-identity").get_attribute("textContent")
    assert identity == f"{user.email} · analyst"
    wait.until(EC.text_to_be_present_in_element((By.ID, "jobs-table"), "No jobs yet."))
    screenshot("overview")


def test_wrong_password_keeps_user_on_login_page_with_message(browser, live_server, make_user,
                                                             tenant_a):
    user = make_user(tenant_a)
    user.password = "not the right password at all"
    wait = sign_in(browser, live_server, user)
    wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), "Invalid email or password"))
    assert "/login" in browser.current_url


def test_log_out_button_ends_the_session(browser, live_server, make_user, tenant_a):
    user = make_user(tenant_a)
    wait = sign_in(browser, live_server, user)
    button = wait.until(EC.element_to_be_clickable((By.XPATH, "//button[text()='Log out']")))
    button.click()
    wait.until(EC.url_contains("/login"))
    browser.get(f"{live_server}/")
    wait.until(EC.url_contains("/login"))


def _add_job(user, **columns):
    from dashboard.database import db
    from dashboard.schema import Job

    db.session.add(Job(tenant_id=user.tenant_id, user_id=user.id, kind="self_test", **columns))
    db.session.commit()


def test_job_list_shows_only_own_tenant_and_renders_text_not_html(browser, live_server,
                                                                  make_user, tenant_a, tenant_b):
    user = make_user(tenant_a, role="analyst")
    hostile = '<img src=x onerror="document.title=\'owned\'">'
    _add_job(user, status="failed", progress=40.0, error=hostile)
    _add_job(make_user(tenant_b), status="running", progress=10.0, message="tenant B canary")

    wait = sign_in(browser, live_server, user)
    wait.until(EC.text_to_be_present_in_element((By.ID, "jobs-table"), "failed"))
    table = browser.find_element(By.ID, "jobs-table")
    assert hostile in table.text
    assert not table.find_elements(By.TAG_NAME, "img")
    assert browser.title != "owned"
    assert "tenant B canary" not in table.text
