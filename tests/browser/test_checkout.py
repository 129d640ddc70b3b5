"""The local checkout, driven in Debian's Chromium by Selenium.

Run by infra/browser-tests.sh against a local server without a Stripe key:
  BASE_URL=http://127.0.0.1:PORT SCREENSHOTS=docs/screenshots python tests/browser/test_checkout.py

Sign up and sign in, choose a pack under "Buy credits" on the account page
(the packs come from the served OpenAPI document), land on the local pay
page (the pack and its price, the pages' policy, no script), press Pay:
the browser is back on the account page and the credits and the purchase
ledger entry are there, on the page and through the API.
"""

import os
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pages import BASE, PASSWORD, Pages, api, browser, signup_values, step  # noqa: E402

RUN = str(int(time.time()))[-6:]
USERNAME = f"buyer{RUN}"


def main():
    driver = browser()
    p = Pages(driver)
    try:
        step("sign up and sign in")
        p.open("/ui/signup")
        form = p.el('form[aria-label="Create an account"]')
        values = signup_values(form)
        values.update({"username": USERNAME, "email": f"{USERNAME}@example.com"})
        p.fill("Create an account", values)
        p.submit(form)
        p.at("/ui/account")
        status, answer = api("POST", "/auth/login", {"login": USERNAME, "password": PASSWORD})
        assert status == 200, answer
        token = answer["data"]["access_token"]

        step("buy credits on the account page: the local pay page")
        status, before = api("GET", "/users/me/credits", token=token)
        assert status == 200, before
        start = before["data"]["balance"]
        buy = p.el('form[aria-label="Buy credits"]')
        choice = buy.find_element(By.CSS_SELECTOR, '[data-pack="starter"]')
        assert "100 credits" in choice.text, choice.text
        choice.find_element(By.CSS_SELECTOR, "input[type=radio]").click()
        p.submit(buy)
        p.wait.until(lambda d: d.current_url.startswith(f"{BASE}/_local/checkout/"))
        url = driver.current_url
        session = url.rsplit("/", 1)[1]
        status, answer = api("POST", "/billing/checkout", {"pack": "no-such-pack"}, token=token)
        assert status == 400 and answer["errors"]["pack"][0]["code"] == "invalid", answer

        driver.get(url)
        assert p.el('[data-field="pack"]').text == "starter"
        assert p.el('[data-field="credits"]').text == "100"
        assert p.el('[data-field="price"]').text == "5.00 USD"
        assert not driver.find_elements(By.TAG_NAME, "script")
        with urllib.request.urlopen(url) as response:
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
        p.no_policy_violations()
        p.shot("local-checkout")

        step("pay: back on the account page, the credits are there")
        p.el('form[aria-label="Pay"] button[type=submit]').click()
        p.wait.until(lambda d: d.current_url.startswith(f"{BASE}/ui/account?checkout=success"))
        assert f"session_id={session}" in driver.current_url, driver.current_url
        p.text_appears("#view", f"Signed in as {USERNAME}")
        p.text_appears(".balance", f"Balance: {start + 100} credits")
        status, answer = api("GET", "/users/me/credits", token=token)
        assert status == 200, answer
        assert answer["data"]["balance"] == start + 100, answer
        entry = answer["data"]["items"][0]
        assert (entry["amount"], entry["reason"], entry["reference"]) == (100, "purchase", session), entry

        step("pay again (back button, double click): credited once")
        driver.back()
        p.el('form[aria-label="Pay"] button[type=submit]').click()
        p.wait.until(lambda d: "checkout=success" in d.current_url)
        assert api("GET", "/users/me/credits", token=token)[1]["data"]["balance"] == start + 100
        p.no_policy_violations()
        print("checkout browser tests passed", flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
