"""The dashboard works under its Content-Security-Policy: no violation while a person signs
in and uses the overview, and an injected inline script is blocked."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.test_login_flow import TIMEOUT, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Runs before any page script (DevTools scripts are exempt from the page's policy) and
# records every violation the browser reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.__cspViolations.push(event.violatedDirective + ' ' + (event.blockedURI || 'inline') + ' ' + event.sourceFile + ':' + event.lineNumber);
});
"""


def violations(browser) -> list[str]:
    return browser.execute_script("return window.__cspViolations || [];")


def test_sign_in_and_overview_raise_no_policy_violation(browser, live_server, make_user,
                                                        tenant_a):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                            {"source": RECORD_VIOLATIONS})
    browser.get(f"{live_server}/login")
    WebDriverWait(browser, TIMEOUT).until(EC.presence_of_element_located((By.NAME, "email")))
    assert violations(browser) == []

    wait = sign_in(browser, live_server, make_user(tenant_a, role="analyst"))
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))
    wait.until(lambda driver: driver.execute_script(
        "return !!document.querySelector('#jobs-table') && "
        "!document.querySelector('._dash-loading');"))
    assert violations(browser) == []

    browser.execute_script(
        "var s = document.createElement('script');"
        "s.textContent = 'window.__injected = true;';"
        "document.body.appendChild(s);")
    wait.until(lambda driver: violations(driver))
    assert browser.execute_script("return window.__injected === true;") is False
    assert any(entry.startswith("script-src") for entry in violations(browser))


PAGES = ["/", "/data", "/segments", "/value", "/churn", "/customers", "/campaigns", "/models",
         "/admin", "/account"]


def test_every_page_renders_without_policy_violations(browser, live_server, make_user,
                                                      tenant_a):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                            {"source": RECORD_VIOLATIONS})
    wait = sign_in(browser, live_server, make_user(tenant_a, role="admin"))
    wait.until(EC.presence_of_element_located((By.ID, "react-entry-point")))
    for path in PAGES:
        browser.get(f"{live_server}{path}")
        wait.until(lambda driver: driver.execute_script(
            "return document.readyState === 'complete' && "
            "!document.querySelector('._dash-loading') && "
            "!document.querySelector('[data-dash-is-loading=\"true\"]');"))
        assert violations(browser) == [], path
