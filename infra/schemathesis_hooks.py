"""Schemathesis hooks (infra/schemathesis.sh): what no JSON Schema can say.

Generated *positive* cases are made to carry what only the server can supply
or a schema cannot state: ids of things that exist (a device, a task, a push
token), a password the account really has, a confirmation equal to the
password, a token that really arrived by email, a number that is a real
mobile number. Without them every such case is refused and the run never
reaches the logic behind the check. Negative cases are left as generated.
Operations that would spend the run's account (password change, deletion)
get a fresh account of their own, and so do the admin actions on a user.
The admin routes take the local server's admin token; the webhook's
positive cases carry a valid `Stripe-Signature` for the bytes sent.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request

import schemathesis
from schemathesis.generation import GenerationMode

BASE = os.environ["SCHEMATHESIS_BASE"]
LOGIN = os.environ["SCHEMATHESIS_LOGIN"]
PASSWORD = os.environ["SCHEMATHESIS_PASSWORD"]
SIGNED_IN = os.environ.get("SCHEMATHESIS_SIGNED_IN") == "1"
TOKEN = os.environ.get("SCHEMATHESIS_TOKEN", "")
ADMIN_TOKEN = os.environ.get("SCHEMATHESIS_ADMIN_TOKEN", "")
EMAIL = os.environ.get("SCHEMATHESIS_EMAIL", "")
WEBHOOK_SECRET = os.environ.get("SCHEMATHESIS_WEBHOOK_SECRET", "")


def call(method, path, body=None, token=None):
    """The server's JSON answer (the envelope), whatever the status."""
    request = urllib.request.Request(BASE + path, method=method)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, data, timeout=10) as response:
            text = response.read()
    except urllib.error.HTTPError as error:
        text = error.read()
    return json.loads(text or b"{}")


def strong_password():
    return "St-" + secrets.token_urlsafe(18)


def mobile_number():
    return "+9198" + "".join(secrets.choice("0123456789") for _ in range(8))


def fresh_account():
    """A new account: (username, email, password, access token)."""
    name, email, password, access, _ = fresh_account_with_id()
    return name, email, password, access


def fresh_account_with_id():
    """A new account: (username, email, password, access token, user id)."""
    name = "st" + secrets.token_hex(6)
    email = name + "@example.com"
    password = strong_password()
    call("POST", "/auth/signup", {
        "username": name, "email": email, "password": password,
        "confirm_password": password, "rank": "Tester", "unitname": "QA",
        "designation": "Fuzzer", "mobileNo": mobile_number(),
        "personalNo": mobile_number(), "phoneNo": mobile_number(),
    })
    login = call("POST", "/auth/login", {"login": name, "password": password}).get("data", {})
    user_id = login.get("user", {}).get("userId")
    return name, email, password, login.get("access_token"), user_id


def mailed_token(to, prefix):
    """The newest token starting with `prefix` mailed to `to` (the local
    server's mailbox); mail goes out in the background, so it is waited for."""
    for _ in range(50):
        messages = call("GET", "/_local/outbox").get("data", {}).get("emails", [])
        for message in reversed(messages):
            if message.get("to") != to:
                continue
            found = re.search(r"token=(" + prefix + r"[A-Za-z0-9_\-]+)", message.get("text", ""))
            if found:
                return found.group(1)
        time.sleep(0.1)
    return None


def texted_code(number):
    """The newest code texted to `number` (the local server's outbox);
    texts go out in the background, so it is waited for."""
    for _ in range(50):
        texts = call("GET", "/_local/outbox").get("data", {}).get("sms", [])
        for text in reversed(texts):
            found = re.search(r"\b(\d{6})\b", text.get("text", ""))
            if text.get("to") == number and found:
                return found.group(1)
        time.sleep(0.1)
    return None


def phone_login_code():
    """A phone account and a login code texted to it: (number, code)."""
    number = mobile_number()
    call("POST", "/auth/phone/signup", {"name": "Schemathesis", "phone_number": number})
    call("POST", "/auth/phone/otp", {"phone_number": number, "purpose": "login"})
    return number, texted_code(number)


def stripe_signature(payload):
    """`Stripe-Signature` as Stripe computes it: HMAC-SHA-256 over `t.payload`."""
    stamp = str(int(time.time()))
    mac = hmac.new(WEBHOOK_SECRET.encode(), (stamp + ".").encode() + payload, hashlib.sha256)
    return f"t={stamp},v1={mac.hexdigest()}"


_ui_assets = []


def ui_asset():
    """A file the pages link: their names carry a fingerprint of the
    deployment's files, which no schema can list."""
    if not _ui_assets:
        with urllib.request.urlopen(BASE + "/ui/", timeout=10) as response:
            page = response.read().decode()
        _ui_assets.extend(re.findall(r'/ui/assets/([^"]+)"', page))
    return secrets.choice(_ui_assets)


def set_token(case, token):
    headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**headers, "Authorization": "Bearer " + token}


def repair(case, kwargs):
    path, method = case.operation.path, case.method.upper()
    body = case.body if isinstance(case.body, dict) else None

    if body is not None and "confirm_password" in body:
        body["confirm_password"] = body.get("new_password", body.get("password"))

    if (method, path) == ("POST", "/auth/signup") and body is not None:
        # Unique, and a password no strength rule refuses.
        body["username"] = "st" + secrets.token_hex(6)
        body["email"] = body["username"] + "@example.com"
        body["password"] = body["confirm_password"] = strong_password()
        for field in ("mobileNo", "personalNo", "phoneNo"):
            if field in body:
                body[field] = mobile_number()
    elif (method, path) == ("POST", "/auth/login") and body is not None:
        body["login"], body["password"] = LOGIN, PASSWORD
    elif (method, path) == ("POST", "/auth/phone/signup") and body is not None:
        body["phone_number"] = mobile_number()
    elif (method, path) == ("POST", "/auth/email/confirm") and body is not None:
        _, email, _, _ = fresh_account()
        body["token"] = mailed_token(email, "ec_") or body.get("token")
    elif (method, path) == ("POST", "/auth/password/reset/confirm") and body is not None:
        _, email, _, _ = fresh_account()
        call("POST", "/auth/password/reset", {"email": email})
        body["token"] = mailed_token(email, "pr_") or body.get("token")
        body["new_password"] = body["confirm_password"] = strong_password()

    elif (method, path) == ("POST", "/auth/phone/login") and body is not None:
        number, code = phone_login_code()
        body["phone_number"] = number
        if code:
            body["code"] = code
    elif (method, path) == ("POST", "/webhooks/stripe") and WEBHOOK_SECRET and body is not None:
        # The bytes the transport would send, signed; passed as they are so
        # that what is signed is exactly what arrives.
        payload = json.dumps(body).encode()
        kwargs["data"] = payload
        case.headers = {**(case.headers or {}), "Stripe-Signature": stripe_signature(payload)}
    elif (method, path) == ("POST", "/billing/checkout") and body is not None:
        # A configured pack (the local server's default); no Stripe key
        # there, so the local stand-in answers.
        body["pack"] = "starter"
    elif (method, path) == ("GET", "/ui/assets/{file}"):
        case.path_parameters = {**(case.path_parameters or {}), "file": ui_asset()}

    if not SIGNED_IN:
        return
    token = TOKEN
    if (method, path) in {("POST", "/auth/password/change"), ("DELETE", "/users/me")} and body is not None:
        # These would spend the run's account: a fresh one of its own.
        _, _, password, access = fresh_account()
        if access:
            set_token(case, access)
        if method == "POST":
            body["current_password"] = password
            body["new_password"] = body["confirm_password"] = strong_password()
        else:
            body["password"] = password
    elif path == "/users/me" and method in {"PATCH", "PUT"} and body is not None:
        # A new address needs the password and a confirmation by email:
        # tested in the integration suite; here the rest of the profile.
        # The username stays (the hooks sign in with it).
        body.pop("current_password", None)
        if method == "PATCH":
            body.pop("email", None)
            body.pop("username", None)
        else:
            body["email"], body["username"] = EMAIL, LOGIN
        for field in ("mobileNo", "personalNo", "phoneNo"):
            if field in body:
                body[field] = mobile_number()
    elif path.startswith("/admin/users/{id}"):
        # Actions on a user of their own: some would end the run's session.
        *_, user_id = fresh_account_with_id()
        if user_id:
            case.path_parameters = {**(case.path_parameters or {}), "id": user_id}
    elif (method, path) == ("POST", "/admin/ip-blocks") and body is not None:
        body["network"] = f"198.51.100.{secrets.randbelow(256)}/32"
    elif (method, path) == ("DELETE", "/admin/ip-blocks/{id}"):
        block = call("POST", "/admin/ip-blocks", {"network": "203.0.113.0/24", "reason": "schemathesis"}, ADMIN_TOKEN)
        block_id = block.get("data", {}).get("id")
        if block_id:
            case.path_parameters = {**(case.path_parameters or {}), "id": block_id}
    elif (method, path) == ("DELETE", "/users/me/devices/{id}"):
        device = "st-" + secrets.token_hex(6)
        call("POST", "/auth/login", {"login": LOGIN, "password": PASSWORD, "device_id": device})
        case.path_parameters = {**(case.path_parameters or {}), "id": device}
    elif (method, path) in {("DELETE", "/tasks/{id}"), ("GET", "/tasks/{id}")} and token:
        task = call("POST", "/tasks", {"type": "long_running", "seconds": 3600}, token)
        task_id = task.get("data", {}).get("task_id")
        if task_id:
            case.path_parameters = {**(case.path_parameters or {}), "id": task_id}
    elif path == "/users/me/push-tokens/{id}" and token:
        created = call("POST", "/users/me/push-tokens", {
            "device_id": "st-" + secrets.token_hex(6), "platform": "fcm",
            "token": "st-" + secrets.token_urlsafe(24),
        }, token)
        push_id = created.get("data", {}).get("id")
        if push_id:
            case.path_parameters = {**(case.path_parameters or {}), "id": push_id}


@schemathesis.hook
def before_call(context, case, kwargs):
    meta = case.meta
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if SIGNED_IN:
        # The run's session, set here rather than with `-H` so that a case
        # given an account of its own can carry its token. Valid cases get
        # it even when the generator wrote an Authorization header of its
        # own (a missing or broken token is the anonymous run's subject).
        has_auth = any(k.lower() == "authorization" for k in (case.headers or {}))
        if positive or not has_auth:
            admin = case.operation.path.startswith("/admin/")
            set_token(case, ADMIN_TOKEN if admin else TOKEN)
    if not positive:
        return
    repair(case, kwargs)


DEBUG_LOG = os.environ.get("SCHEMATHESIS_DEBUG_LOG")


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    if DEBUG_LOG and meta is not None and meta.generation.mode == GenerationMode.POSITIVE and response.status_code >= 400:
        with open(DEBUG_LOG, "a") as log:
            log.write(f"{'signed' if SIGNED_IN else 'anon'} {case.method} {case.operation.path} {response.status_code} {json.dumps(case.body, default=str)} -> {response.text[:300]}\n")
