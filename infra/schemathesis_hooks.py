"""Schemathesis hooks (infra/schemathesis.sh): what no JSON Schema can say.

Generated *positive* cases are made to carry what only the server can supply
or a schema cannot state: ids of things that exist (a device, a task, a push
token), a password the account really has, a confirmation equal to the
password, a token that really arrived by email, a number that is a real
mobile number. Without them every such case is refused and the run never
reaches the logic behind the check. Negative cases are left as generated.
Operations that would spend the run's account (password change, deletion)
get a fresh account of their own.
"""

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
    name = "st" + secrets.token_hex(6)
    email = name + "@example.com"
    password = strong_password()
    call("POST", "/auth/signup", {
        "username": name, "email": email, "password": password,
        "confirm_password": password, "rank": "Tester", "unitname": "QA",
        "designation": "Fuzzer", "mobileNo": mobile_number(),
        "personalNo": mobile_number(), "phoneNo": mobile_number(),
    })
    login = call("POST", "/auth/login", {"login": name, "password": password})
    return name, email, password, login.get("data", {}).get("access_token")


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


def repair(case):
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
    elif (method, path) == ("PATCH", "/users/me") and body is not None:
        # A new address needs the password and a confirmation by email:
        # tested in the integration suite; here the rest of the profile.
        body.pop("email", None)
        body.pop("current_password", None)
        for field in ("mobileNo", "personalNo", "phoneNo"):
            if field in body:
                body[field] = mobile_number()
        if "username" in body:
            body["username"] = "st" + secrets.token_hex(6)
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
def before_call(context, case, **kwargs):
    if SIGNED_IN and not any(k.lower() == "authorization" for k in (case.headers or {})):
        # The run's session for every case, set here rather than with `-H`
        # so that a case given an account of its own can carry its token.
        set_token(case, TOKEN)
    meta = case.meta
    if meta is None or meta.generation.mode != GenerationMode.POSITIVE:
        return
    repair(case)


DEBUG_LOG = os.environ.get("SCHEMATHESIS_DEBUG_LOG")


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    if DEBUG_LOG and meta is not None and meta.generation.mode == GenerationMode.POSITIVE and response.status_code >= 400:
        with open(DEBUG_LOG, "a") as log:
            log.write(f"{case.method} {case.operation.path} {response.status_code} {json.dumps(case.body, default=str)} -> {response.text[:300]}\n")
