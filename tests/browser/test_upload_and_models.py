"""A person uploads sales data on /data and watches the real worker take it through ingest,
train, score and explain; the overview then shows its KPIs. An admin retrains on /models,
watches the job finish, and rolls a model back."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.test_login_flow import sign_in
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TIMEOUT = 30
CHAIN_SECONDS = 240
FINISHED = ("succeeded", "failed", "cancelled")


def job_status(browser, box_id: str) -> str | None:
    """The status a progress box shows, read in one step: the box re-renders every second."""
    return browser.execute_script(
        "var box = document.querySelector(arguments[0] + ' [data-status]');"
        "return box ? box.getAttribute('data-status') : null;", f"#{box_id}")


def upload_status(browser) -> str | None:
    return job_status(browser, "upload-progress-box")


def choose_upload(browser, live_server, user, path) -> WebDriverWait:
    """Sign in as `user`, open the Data page and choose the file at `path`; the drop zone
    opens this input, and a file dropped on the zone takes the same path."""
    wait = sign_in(browser, live_server, user)
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))
    browser.get(f"{live_server}/data")
    wait.until(EC.presence_of_element_located((By.ID, "upload-drop")))
    wait.until(EC.presence_of_element_located((By.ID, "upload-file"))).send_keys(str(path))
    wait.until(EC.text_to_be_present_in_element((By.ID, "upload-status"), path.name))
    return wait


def live_customers(app, tenant_id: str):
    from dashboard.database import db
    from dashboard.runs import live_run_data
    from dashboard.store import store_for

    with app.app_context():
        db.session.expire_all()  # the worker moved the tenant's live run pointer
        data = live_run_data(store_for(tenant_id))
        return None if data is None else data.customers


def test_an_analyst_uploads_a_csv_checks_the_columns_and_watches_it_reach_done(
        celery_worker, app, browser, live_server, make_user, tenant_a, sales_csv, screenshot):
    wait = choose_upload(browser, live_server, make_user(tenant_a, role="analyst"), sales_csv)

    browser.find_element(By.ID, "upload-check").click()
    wait.until(EC.presence_of_element_located((By.ID, "preview-rows")))
    picker = browser.find_element(By.CSS_SELECTOR, "#mapping-pickers select")
    assert Select(picker).first_selected_option.text == "customer_id"
    assert "comma-separated" in browser.find_element(By.ID, "preview-layout").text
    assert "C0" in browser.find_element(By.ID, "preview-rows").text
    screenshot("data-preview")

    browser.find_element(By.ID, "upload-start").click()
    long_wait = WebDriverWait(browser, CHAIN_SECONDS, poll_frequency=0.2)
    long_wait.until(lambda b: upload_status(b) in ("running", *FINISHED))
    screenshot("data-progress")
    long_wait.until(lambda b: upload_status(b) in FINISHED)
    assert upload_status(browser) == "succeeded", browser.find_element(
        By.ID, "upload-progress-box").text
    progress = browser.find_element(By.ID, "upload-progress")
    assert progress.text == "done"
    steps = browser.find_element(By.ID, "upload-progress-box").text
    for step in ("ingest: succeeded", "train: succeeded", "score: succeeded",
                 "explain: succeeded"):
        assert step in steps
    wait.until(EC.text_to_be_present_in_element((By.ID, "datasets-table"), "ready · live"))
    screenshot("data-done")

    customers = live_customers(app, tenant_a.id)
    assert customers is not None and len(customers) > 100
    browser.get(f"{live_server}/")
    wait.until(EC.presence_of_element_located((By.ID, "overview-changes")))
    first_kpi = browser.find_element(By.CSS_SELECTOR, ".vl-kpi")
    label = first_kpi.find_element(By.CSS_SELECTOR, ".vl-kpi-label").text
    value = first_kpi.find_element(By.CSS_SELECTOR, ".vl-kpi-value").text
    assert (label.upper(), value) == ("CUSTOMERS", f"{len(customers):,}")


def start_chain(app, user, csv_path) -> str:
    """Upload through the service (as `valuelens upload` does) and wait for the chain."""
    from dashboard.auth.users import LoginUser
    from dashboard.database import db
    from dashboard.datasets import upload_dataset
    from dashboard.schema import Job, User
    from dashboard.store import store_for

    with app.app_context(), open(csv_path, "rb") as stream:
        uploader = LoginUser(db.session.get(User, user.id))
        _, job = upload_dataset(store_for(user.tenant_id), uploader, stream, csv_path.name,
                                limit_bytes=10 * 1024 * 1024)
        job_id = job.id

    def finished():
        with app.app_context():
            db.session.expire_all()
            row = db.session.get(Job, job_id)
            status = row.status
            db.session.commit()
            return status if status in FINISHED else None

    assert wait_for(finished, "the upload's chain", timeout=CHAIN_SECONDS, interval=0.5) == "succeeded"
    return job_id


def retrain_status(browser) -> str | None:
    return job_status(browser, "retrain-progress")


def test_an_admin_retrains_watches_it_finish_and_rolls_a_model_back(
        celery_worker, app, browser, live_server, make_user, tenant_a, sales_csv, screenshot):
    admin = make_user(tenant_a, role="admin")
    start_chain(app, admin, sales_csv)
    wait = sign_in(browser, live_server, admin)
    wait.until(EC.presence_of_element_located((By.ID, "jobs-table")))
    browser.get(f"{live_server}/models")
    wait.until(EC.element_to_be_clickable((By.ID, "retrain"))).click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "retrain-feedback"), "Retraining started"))

    long_wait = WebDriverWait(browser, CHAIN_SECONDS, poll_frequency=0.2)
    long_wait.until(lambda b: retrain_status(b) is not None)
    screenshot("models-retraining")
    long_wait.until(lambda b: retrain_status(b) in FINISHED)
    assert retrain_status(browser) == "succeeded", browser.find_element(
        By.ID, "retrain-progress").text
    assert browser.find_element(By.ID, "retrain-bar").text == "done"
    wait.until(EC.text_to_be_present_in_element((By.ID, "model-versions"), "archived"))
    wait.until(EC.text_to_be_present_in_element((By.ID, "model-jobs"), "retrain"))

    choice = Select(browser.find_element(By.ID, "promote-choice"))
    archived = next(option for option in choice.options
                    if option.text.startswith("Customer value") and "(archived)" in option.text)
    archived_id = archived.get_attribute("value")
    choice.select_by_value(archived_id)
    browser.find_element(By.ID, "promote").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "promote-feedback"),
                                                "is now the customer value champion"))
    screenshot("models")

    from dashboard.schema import ModelVersion
    from dashboard.store import store_for

    with app.app_context():
        promoted = store_for(tenant_a.id).get(ModelVersion, archived_id)
        assert promoted.status == "champion"
