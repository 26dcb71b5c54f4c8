"""On a phone (390 px wide) the overview fits the screen: no sideways scrolling, also
with long job messages and a long email address."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 20
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
LONG_MESSAGE = ("Scored 500,000 customers over 180 days. Best lifetime-value model: "
                "BG/NBD + Gamma-Gamma; best churn model: recency.")


def _add_job(user, **columns):
    from dashboard.database import db
    from dashboard.schema import Job

    db.session.add(Job(tenant_id=user.tenant_id, user_id=user.id, kind="demo", **columns))
    db.session.commit()


def test_the_overview_with_jobs_fits_a_390_px_screen(browser, live_server, make_user,
                                                     tenant_a, screenshot):
    user = make_user(tenant_a, role="analyst",
                     email="someone.with.a.long.name@analytics.example.com")
    _add_job(user, status="succeeded", progress=100.0, message=LONG_MESSAGE)
    _add_job(user, status="running", progress=35.0, message="Churn: backtesting XGBoost")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)

    browser.get(f"{live_server}/login")
    wait = WebDriverWait(browser, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.NAME, "email"))).send_keys(user.email)
    browser.find_element(By.NAME, "password").send_keys(user.password)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "jobs-table"), "running"))
    screenshot("overview-390px")

    page_width, screen_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert screen_width == PHONE["width"]
    assert page_width <= screen_width
    assert "Best lifetime-value model" in browser.find_element(By.ID, "jobs-table").text
