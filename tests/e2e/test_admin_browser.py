"""The admin view in a real headless chromium: both roles, the launch wizard, live progress, refused access."""
import re
import time
from dataclasses import replace

import pytest
from sqlalchemy import select

from service import create_app
from service.infra import runtime as runtimes
from service.admin import progress_page
from service.models import AuditEvent
from service.models import Invitation
from service.models import utcnow
from tests.e2e.browser import ServedApp
from tests.e2e.browser import make_driver
from tests.e2e.browser import needs_chromium
from tests.e2e.browser import screenshot
from tests.service.admin_support import PASSWORD
from tests.service.admin_support import make_campaign
from tests.service.admin_support import make_org
from tests.service.conversation import last_reply
from tests.service.conversation import say

pytestmark = [pytest.mark.e2e, needs_chromium]

CODE = re.compile(r"\b[A-Z2-9]{4}-[A-Z2-9]{4}\b")


@pytest.fixture
def served(config, redis, runtime, monkeypatch):
    """The app over HTTP on 127.0.0.1:<free port>, on the test database; its progress page refreshes every second."""
    monkeypatch.setattr(progress_page, "REFRESH_SECONDS", 1)
    holder = {}
    served = ServedApp(lambda environ, start: holder["app"](environ, start), 0)
    app = create_app(replace(config, public_base_url=served.url), redis=redis)
    app.extensions["svar"] = runtime
    runtimes.install(runtime)
    holder["app"] = app
    served.start()
    yield served
    served.stop()


@pytest.fixture
def browser(tmp_path):
    driver = make_driver(tmp_path / "profile")
    yield driver
    driver.quit()


def log_in(browser, base, email):
    from selenium.webdriver.common.by import By

    browser.get(f"{base}/admin/login")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The click returns before the next page is in: read nothing of it until it is.
    wait_for(lambda: "/admin/login" not in browser.current_url and text(browser), what="the page after logging in")


def text(browser) -> str:
    """The page's visible text; empty while the page is being replaced."""
    from selenium.common.exceptions import NoSuchElementException
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return browser.find_element(By.TAG_NAME, "body").text
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def figure(browser, name: str) -> str:
    """One of the progress page's figures; empty while the refresh swaps the fragment."""
    from selenium.common.exceptions import NoSuchElementException
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        return browser.find_element(By.CSS_SELECTOR, f"[data-figure={name}]").text
    except (StaleElementReferenceException, NoSuchElementException):
        return ""


def wait_for(predicate, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def answer_everything(runtime, phone, code):
    """A respondent texts a paper code and answers every question with the first option (or a word)."""
    say(runtime, phone, code, now=utcnow())
    for _step in range(40):
        if _done(runtime, phone):
            return
        reply = last_reply(runtime, phone)
        offered = [option["reply"] for option in reply.options or () if option["reply"] != "-"]
        say(runtime, phone, offered[0] if offered else "Bra", now=utcnow())
    raise AssertionError("the survey did not finish")


def _done(runtime, phone):
    reply = last_reply(runtime, phone)
    with runtime.session() as session:
        return reply.invitation_id is not None and session.get(Invitation, reply.invitation_id).status == "completed"


def test_an_admin_launches_through_the_wizard_and_watches_answers_arrive(served, browser, runtime):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    org = make_org(runtime)
    base = served.url
    browser.get(f"{base}/admin/login")
    screenshot(browser, "01-login")
    log_in(browser, base, org.admin)
    assert "Users" in text(browser) and "Audit log" in text(browser)

    browser.find_element(By.LINK_TEXT, "New campaign").click()
    browser.find_element(By.ID, "name").send_keys("Autumn 2026")
    screenshot(browser, "02-wizard-survey")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    # Units: keep only Nord.
    wait_for(lambda: "/setup/units" in browser.current_url, what="units step")
    sor = browser.find_element(By.CSS_SELECTOR, f"input[name=unit_ids][value='{org.unit_ids[1]}']")
    if sor.is_selected():
        sor.click()
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    # Respondents: three paper codes, read off the printable sheet.
    wait_for(lambda: "/setup/respondents" in browser.current_url, what="respondents step")
    screenshot(browser, "03-wizard-respondents")
    count = browser.find_element(By.ID, "count")
    count.clear()
    count.send_keys("3")
    browser.find_element(By.XPATH, "//button[contains(., 'Generate and print')]").click()
    wait_for(lambda: len(set(CODE.findall(browser.page_source))) == 3, what="the code sheet")
    codes = sorted(set(CODE.findall(browser.page_source)))
    screenshot(browser, "04-code-sheet")

    browser.get(f"{browser.current_url}")  # the step page again (a GET)
    browser.find_element(By.LINK_TEXT, "Continue").click()
    wait_for(lambda: "/setup/languages" in browser.current_url, what="languages step")
    assert "Parts per invitation" in text(browser)
    screenshot(browser, "05-wizard-languages")
    browser.find_element(By.XPATH, "//button[normalize-space()='Save and continue']").click()
    wait_for(lambda: "/setup/reminders" in browser.current_url, what="reminders step")
    screenshot(browser, "06-wizard-reminders")
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(lambda: "/setup/review" in browser.current_url, what="review step")
    screenshot(browser, "07-wizard-review")
    browser.find_element(By.ID, "launch").click()

    wait_for(lambda: "Invitations are on their way" in text(browser), what="launch")
    assert figure(browser, "invited") == "3" and figure(browser, "completed") == "0"
    screenshot(browser, "08-progress-open")

    # Two respondents answer; the open page picks it up by itself.
    answer_everything(runtime, "+4791110001", codes[0])
    answer_everything(runtime, "+4791110002", codes[1])
    wait_for(lambda: figure(browser, "completed") == "2", what="completed to reach 2 without a reload")
    assert figure(browser, "response_rate") == "66.7%"
    screenshot(browser, "09-progress-answers")

    browser.find_element(By.LINK_TEXT, "Results").click()
    assert "Hidden" in text(browser) or "hidden" in text(browser)
    screenshot(browser, "10-results")
    browser.get(f"{base}/admin/audit")
    assert "Launched a campaign" in text(browser)
    screenshot(browser, "11-audit")
    browser.get(f"{base}/admin/users")
    screenshot(browser, "12-users")

    # A phone-width screen: nothing overflows the page sideways.
    browser.set_window_size(390, 844)
    browser.get(f"{base}/admin/")
    screenshot(browser, "13-phone-home")
    overflow = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow


def test_a_coordinator_follows_their_unit_and_cannot_reach_another(served, browser, runtime):
    from selenium.webdriver.common.by import By

    org = make_org(runtime)
    mine = make_campaign(runtime, org, unit_ids=org.unit_ids[:1], name="Nord only")
    theirs = make_campaign(runtime, org, unit_ids=org.unit_ids[1:], name="Sør only")
    base = served.url
    log_in(browser, base, org.coordinator)
    body = text(browser)
    assert "Nord only" in body and "Sør only" not in body
    assert not browser.find_elements(By.LINK_TEXT, "Users")
    screenshot(browser, "20-coordinator-home")

    browser.get(f"{base}/admin/campaigns/{theirs}")
    assert "Not found" in text(browser) and "Sør" not in text(browser)
    screenshot(browser, "21-coordinator-refused")
    browser.get(f"{base}/admin/campaigns/{theirs}/results")
    assert "Not found" in text(browser)
    browser.get(f"{base}/admin/users")
    assert "Not allowed" in text(browser)
    browser.get(f"{base}/admin/campaigns/{mine}")
    assert "Nord" in text(browser)

    with runtime.session() as session:
        refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "refused")).all()
        assert {(event.actor, event.object_id) for event in refused} >= {(org.coordinator, str(theirs))}
        assert len(refused) == 3
