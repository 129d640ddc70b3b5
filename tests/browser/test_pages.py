"""The pages under /ui/, driven in Debian's Chromium by Selenium.

Run by infra/browser-tests.sh against a local server it starts:
  BASE_URL=http://127.0.0.1:PORT SCREENSHOTS=docs/screenshots python tests/browser/test_pages.py
The server runs with SIGNUP_CREDITS (SIGNUP_CREDITS here too) and the
ADMIN_TOKEN given here, for the credits' ledger entries.

Sign up, edit the profile, upload an avatar (and see an unreadable file
refused, then remove it), read the credits and page through their ledger,
sign a device out, confirm the email from the local outbox's link, sign out and back in (by keyboard), reset the password
from its link, see the server's field errors, save notification
preferences, change the email through its link, sign in with a texted code
and delete that account; the sign-up page's transfer stays under 50 KiB and nothing is
fetched from another host. Screenshots of each page go to SCREENSHOTS.
"""

import json
import os
import re
import struct
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BASE_URL"].rstrip("/")
SHOTS = os.environ.get("SCREENSHOTS", "docs/screenshots")
SIGNUP_BUDGET = 50 * 1024
PASSWORD = "Tr1cky-Vole-Lantern"
NEW_PASSWORD = "Quiet-Heron-Copper-42"
RUN = str(int(time.time()))[-6:]
USERNAME = f"webuser{RUN}"
EMAIL = f"webuser{RUN}@example.com"
PHONE = "+9198" + RUN + "21"  # +91 98 nnnnnn 21: an Indian mobile number
SIGNUP_CREDITS = int(os.environ.get("SIGNUP_CREDITS", "0"))
ADMIN_TOKEN = os.environ.get("ADMIN_TOKEN", "")


def api(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(request, data) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def tiny_png(side=16):
    """A real PNG (RGB, 8 bits), written by hand: no imaging library."""
    rows = b"".join(b"\x00" + bytes((11, 92, 173)) * side for _ in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def outbox():
    return api("GET", "/_local/outbox")[1]["data"]


def mailed_link(address, page, timeout=15):
    """The newest link to /ui/<page> mailed to address (the relay and the
    worker run in the background: wait for it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for mail in reversed(outbox()["emails"]):
            text = json.dumps(mail)
            if address in text:
                found = re.search(r"(https?://[^\s\"'<>]+/ui/" + page + r"#token=[A-Za-z0-9_\-\.~%]+)", text)
                if found:
                    return found.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no {page} link mailed to {address}: {outbox()}")


def texted_code(number, after, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        texts = outbox()["sms"]
        if len(texts) > after:
            for sms in reversed(texts):
                code = re.search(r"\b(\d{6})\b", sms["text"])
                if code and sms["to"] == number:
                    return code.group(1)
        time.sleep(0.3)
    raise AssertionError(f"no code texted to the number: {outbox()['sms']}")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1000,900",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='pages-chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    return driver


class Pages:
    def __init__(self, driver):
        self.d = driver
        self.wait = WebDriverWait(driver, 15)

    def open(self, path):
        self.d.get(BASE + path)

    def el(self, css):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def text_appears(self, css, text):
        self.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))

    def at(self, path):
        self.wait.until(lambda d: d.current_url.split("#")[0] == BASE + path)

    def fill(self, form_label, values):
        form = self.el(f'form[aria-label="{form_label}"]')
        for name, value in values.items():
            box = form.find_element(By.CSS_SELECTOR, f'input[name="{name}"]')
            box.clear()
            box.send_keys(value)
        return form

    def submit(self, form):
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    def shot(self, name, width=375):
        """A full-page screenshot at a phone's width: the layout must fit it."""
        size = self.d.get_window_size()
        self.d.set_window_size(width, 900)
        overflow = self.d.execute_script("return document.documentElement.scrollWidth")
        assert overflow <= width, f"{name}: {overflow} px wide at {width} px"
        height = self.d.execute_script("return document.documentElement.scrollHeight")
        self.d.set_window_size(width, min(height + 120, 4000))
        self.d.execute_script("window.scrollTo(0, 0)")
        os.makedirs(SHOTS, exist_ok=True)
        self.d.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        self.d.set_window_size(size["width"], size["height"])

    def no_policy_violations(self):
        """The console of everything so far: a blocked script, style or
        connection is a page relying on what the CSP forbids."""
        blocked = [e["message"] for e in self.d.get_log("browser")
                   if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]
        assert not blocked, blocked

    def picture_loaded(self, css):
        self.wait.until(lambda d: d.execute_script(
            "const i = document.querySelector(arguments[0]); return !!i && i.complete && i.naturalWidth > 0", css))

    def token(self):
        return self.d.execute_script("return JSON.parse(sessionStorage.getItem('accounts.session')).access")

    def every_input_labelled(self):
        unlabelled = self.d.execute_script("""
            return [...document.querySelectorAll('input')].filter(i =>
              !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.name);""")
        assert not unlabelled, f"inputs without a label: {unlabelled}"


def signup_values(form):
    values = {}
    for box in form.find_elements(By.CSS_SELECTOR, "input[name]"):
        name, kind = box.get_attribute("name"), box.get_attribute("type")
        if name == "username":
            values[name] = USERNAME
        elif kind == "email":
            values[name] = EMAIL
        elif kind == "password":
            values[name] = PASSWORD
        elif kind == "tel":
            values[name] = "+919876543210"
        elif kind == "date":
            values[name] = "01011990"
        else:
            values[name] = "Signals" if box.get_attribute("required") is not None else ""
    return values


def step(name):
    print(f"  {name}", flush=True)


def main():
    driver = browser()
    p = Pages(driver)
    try:
        step("the sign-up page: under 50 KiB on the wire, nothing from elsewhere")
        p.open("/ui/signup")
        form = p.el('form[aria-label="Create an account"]')
        names = [b.get_attribute("name") for b in form.find_elements(By.CSS_SELECTOR, "input")]
        schema = api("GET", "/openapi.json")[1]["components"]["schemas"]["SignUpRequest"]
        assert set(names) == set(schema["properties"]) - {"status"}, (names, schema["properties"])
        resources = driver.execute_script("""
            const all = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
            return all.map(e => ({name: e.name, size: e.transferSize}));""")
        total = sum(r["size"] for r in resources)
        assert total < SIGNUP_BUDGET, f"sign-up page transfer {total} bytes: {resources}"
        assert all(r["name"].startswith(BASE) for r in resources), resources
        print(f"    transfer {total} bytes in {len(resources)} requests", flush=True)
        p.every_input_labelled()
        p.no_policy_violations()
        p.shot("signup")

        step("sign up: signed in, on the account page")
        values = signup_values(form)
        p.fill("Create an account", values)
        p.submit(form)
        p.at("/ui/account")
        p.text_appears("#view", f"Welcome, {USERNAME}")
        p.every_input_labelled()

        step("edit the profile")
        profile = p.fill("Profile", {"rank": "Major"})
        p.submit(profile)
        p.text_appears('form[aria-label="Profile"] .status', "Profile saved.")
        driver.refresh()
        assert p.el('form[aria-label="Profile"] input[name="rank"]').get_attribute("value") == "Major"

        step("the credits: the sign-up credits in the balance and the ledger")
        credits = 'section[aria-labelledby="h-credits"]'
        p.text_appears(f"{credits} .balance", f"Balance: {SIGNUP_CREDITS} credits")
        if SIGNUP_CREDITS:
            p.text_appears(f"{credits} ul.ledger", f"+{SIGNUP_CREDITS}")
            p.text_appears(f"{credits} ul.ledger", "Welcome credits")
        # The packs on sale (buying is tests/browser/test_checkout.py's).
        buy = p.el(f'{credits} form[aria-label="Buy credits"]')
        assert buy.find_elements(By.CSS_SELECTOR, 'input[type=radio][name="pack"]'), "no pack listed"
        assert not driver.find_element(By.CSS_SELECTOR, f"{credits} button.secondary").is_displayed(), "More with one page"

        step("the avatar: a real PNG, checked by the server, appears")
        files = tempfile.mkdtemp(prefix="pages-files-")
        png, fake = os.path.join(files, "me.png"), os.path.join(files, "notes.png")
        with open(png, "wb") as out:
            out.write(tiny_png())
        with open(fake, "w") as out:
            out.write("These are notes, not a picture.\n" * 8)
        avatar = 'section[aria-labelledby="h-avatar"]'
        p.text_appears(avatar, "No avatar yet.")
        form = p.el('form[aria-label="Avatar"]')
        chooser = form.find_element(By.CSS_SELECTOR, 'input[type="file"]')
        assert chooser.get_attribute("accept") == "image/png,image/jpeg,image/webp"
        chooser.send_keys(png)
        p.submit(form)
        p.text_appears('form[aria-label="Avatar"] .status', "Your new avatar is ready.")
        p.picture_loaded(f"{avatar} img.avatar")
        source = p.el(f"{avatar} img.avatar").get_attribute("src")
        assert source.startswith(BASE + "/_local/bucket/avatars/"), source
        status, answer = api("GET", "/users/me/avatar", token=p.token())
        assert answer["data"]["status"] == "ready", answer

        step("sign a device out")
        status, answer = api("POST", "/auth/login", {"login": USERNAME, "password": PASSWORD,
                                                     "device_id": "pixel-8-browser-test",
                                                     "device_info": {"platform": "android", "model": "Pixel 8"}})
        assert status == 200, answer
        phone_token = answer["data"]["access_token"]
        driver.refresh()
        other = p.el('li[data-device="pixel-8-browser-test"]')
        assert "Pixel 8" in other.text
        p.picture_loaded(f"{avatar} img.avatar")  # from the user's avatar_url now
        p.no_policy_violations()
        p.shot("account")
        other.find_element(By.TAG_NAME, "button").click()
        p.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, 'li[data-device="pixel-8-browser-test"]')))
        p.text_appears('section[aria-labelledby="h-devices-and-sessions"] .status', "is signed out")
        assert api("GET", "/users/me", token=phone_token)[0] == 401

        step("an unreadable file is refused with the server's reason")
        form = p.el('form[aria-label="Avatar"]')
        form.find_element(By.CSS_SELECTOR, 'input[type="file"]').send_keys(fake)
        p.submit(form)
        p.text_appears('[data-field="file"] .error', "not a PNG, JPEG or WebP picture")
        assert p.el('form[aria-label="Avatar"] input[type="file"]').get_attribute("aria-invalid") == "true"
        assert "not a PNG" in p.el('form[aria-label="Avatar"] .summary[role="alert"]').text
        p.text_appears(avatar, "That file was not used")
        status, answer = api("GET", "/users/me/avatar", token=p.token())
        assert answer["data"] == {"status": "rejected", "error": "unsupported_file"}, answer
        p.shot("account-avatar-rejected")

        step("remove the avatar, after confirming")
        remove = p.el(f"{avatar} button.secondary")
        assert remove.text == "Remove avatar"
        remove.click()
        p.wait.until(EC.alert_is_present()).accept()
        p.text_appears('form[aria-label="Avatar"] .status', "Your avatar is removed.")
        p.text_appears(avatar, "No avatar yet.")
        assert not remove.is_displayed()
        assert api("GET", "/users/me/avatar", token=p.token())[1]["data"]["status"] == "none"

        step("the ledger pages with More, newest first")
        status, me = api("GET", "/users/me", token=p.token())
        user_id = me["data"]["user"].get("userId") or me["data"]["user"]["id"]
        admin = f"/admin/users/{user_id}/credits"
        for n in range(1, 11):
            status, answer = api("POST", admin, {"amount": 2, "reason": f"Goodwill {n}"}, token=ADMIN_TOKEN)
            assert status in (200, 201), answer
        assert api("POST", admin, {"amount": -3, "reason": "Correction"}, token=ADMIN_TOKEN)[0] in (200, 201)
        driver.refresh()
        p.text_appears(f"{credits} .balance", f"Balance: {SIGNUP_CREDITS + 20 - 3} credits")
        entries = lambda: driver.find_elements(By.CSS_SELECTOR, f"{credits} ul.ledger li")
        p.wait.until(lambda d: len(entries()) == 10)
        first = entries()[0].text
        assert "\u22123" in first and "Correction" in first and "local-admin" in first, first
        more = p.el(f"{credits} button.secondary")
        assert more.text == "More"
        more.click()
        p.wait.until(lambda d: len(entries()) == 11 + (1 if SIGNUP_CREDITS else 0))
        p.text_appears(f"{credits} .status", "older entr")
        assert "Goodwill 1" in entries()[-2 if SIGNUP_CREDITS else -1].text
        assert not more.is_displayed(), "More after the last page"
        assert driver.switch_to.active_element.get_attribute("data-entry"), "the focus left the list"

        step("follow the confirmation link from the local outbox")
        link = mailed_link(EMAIL, "confirm-email")
        assert link.startswith(BASE + "/ui/confirm-email#token="), link
        driver.get(link)
        p.text_appears("#view", "Your email address is confirmed.")
        assert "#" not in driver.current_url, "the token stays in the address bar"
        p.shot("confirm-email")

        step("sign out, then back in by keyboard")
        p.open("/ui/account")
        p.el("#view button.secondary").click()  # "Sign out", the first button
        p.at("/ui/login")
        p.every_input_labelled()
        p.shot("login")
        login_box = p.el('form[aria-label="Sign in with a password"] input[name="login"]')
        login_box.send_keys(USERNAME, Keys.TAB)
        active = driver.switch_to.active_element
        assert active.get_attribute("name") == "password", "Tab does not reach the password"
        active.send_keys(PASSWORD, Keys.ENTER)
        p.at("/ui/account")
        p.text_appears("#view", f"Signed in as {USERNAME}")
        assert driver.execute_script("return document.querySelector('[data-device] .badge') !== null")

        step("reset the password from its link")
        p.open("/ui/reset-password")
        form = p.fill("Ask for a reset link", {"email": EMAIL})
        p.submit(form)
        p.text_appears(".status", "a link to reset its password is on its way")
        link = mailed_link(EMAIL, "reset-password")
        driver.get(link)
        form = p.fill("Choose a new password", {"new_password": "password", "confirm_password": "password"})
        p.submit(form)
        p.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-field="new_password"] .error').text)
        assert p.el('input[name="new_password"]').get_attribute("aria-invalid") == "true"
        form = p.fill("Choose a new password", {"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        p.submit(form)
        p.text_appears(".status", "Your password is changed")
        p.shot("reset-password")
        assert api("POST", "/auth/login", {"login": USERNAME, "password": NEW_PASSWORD})[0] == 200

        step("a server-side field error: the username is taken")
        p.open("/ui/signup")
        form = p.el('form[aria-label="Create an account"]')
        p.fill("Create an account", {**signup_values(form), "email": f"other{RUN}@example.com"})
        p.submit(form)
        p.text_appears('[data-field="username"] .error', "already exists")
        assert p.el('input[name="username"]').get_attribute("aria-invalid") == "true"
        summary = p.el(".summary")
        assert summary.get_attribute("role") == "alert" and "username" in summary.text.lower()
        assert driver.switch_to.active_element.get_attribute("name") == "username"
        p.shot("signup-error")

        step("notification preferences and an email change, confirmed from its link")
        p.open("/ui/login")
        form = p.fill("Sign in with a password", {"login": USERNAME, "password": NEW_PASSWORD})
        p.submit(form)
        p.at("/ui/account")
        box = p.el('input[name="marketing.email"]')
        was = box.is_selected()
        box.click()
        p.submit(p.el('form[aria-label="Notification preferences"]'))
        p.text_appears('form[aria-label="Notification preferences"] .status', "Preferences saved.")
        driver.refresh()
        assert p.el('input[name="marketing.email"]').is_selected() != was
        new_email = f"moved{RUN}@example.com"
        form = p.fill("Change the email address", {"email": new_email, "current_password": NEW_PASSWORD})
        p.submit(form)
        p.text_appears('form[aria-label="Change the email address"] .status', "A confirmation link is on its way")
        driver.get(mailed_link(new_email, "confirm-email"))
        p.text_appears("#view", "Your email address is confirmed.")
        p.open("/ui/account")
        p.text_appears("#view", f"Current address: {new_email}")

        step("sign in with a texted code")
        status, answer = api("POST", "/auth/phone/signup", {"name": "Asha Menon", "phone_number": PHONE})
        assert status == 201, answer
        p.open("/ui/logout-not-a-page")
        assert "not_found" in driver.page_source
        driver.execute_script("sessionStorage.clear()")
        p.open("/ui/login")
        before = len(outbox()["sms"])
        form = p.fill("Sign in with a texted code", {"phone_number": PHONE})
        p.submit(form)
        p.text_appears('form[aria-label="Sign in with a texted code"] .status', "a code is on its way")
        code = texted_code(PHONE, before)
        p.fill("Sign in with a texted code", {"code": code})
        p.submit(form)
        p.at("/ui/account")
        p.text_appears("#view", "Signed in as Asha Menon")

        step("delete the (phone) account")
        form = p.fill("Delete the account", {"phone_number": PHONE})
        p.submit(form)
        p.wait.until(EC.alert_is_present()).accept()
        p.at("/ui/login")
        assert driver.execute_script("return sessionStorage.length") == 0

        step("the headers: CSP without inline scripts, caching")
        with urllib.request.urlopen(BASE + "/ui/signup") as response:
            policy = response.headers["content-security-policy"]
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, policy
            assert response.headers["cache-control"] == "no-cache"
            page = response.read().decode()
        asset = re.search(r'/ui/assets/app\.[0-9a-f]{10}\.js', page).group(0)
        with urllib.request.urlopen(BASE + asset) as response:
            assert "immutable" in response.headers["cache-control"]
        p.no_policy_violations()
        print("browser tests passed", flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
