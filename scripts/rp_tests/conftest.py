"""Relying parties against the OpenID provider, under pytest: what every relying party's test
needs — the live provider, a client registered there, accounts, headless Chromium and a walk
through the provider's pages — and, on a failure, each open browser's page and screenshot and the
tails of the server's and the applications' logs.

Run by scripts/relying-parties against a live `spse-accounts serve` (SPSE_OIDC_ISSUER set) on a
fresh database holding only the first Admin PPE (bootstrap-admin):

    python -m pytest -v -p no:cacheprovider scripts/rp_tests --base http://127.0.0.1:PORT \\
        --admin-temp PASSWORD --bin .build/debug/spse-accounts --database-url URL --owner-url URL \\
        --work DIR [--app-host localhost] [--artifacts DIR]

Fixtures for any relying party's test (the applications themselves live in their own modules:
Apache with mod_auth_openidc in apache/ and test_mod_auth_openidc.py):

- `provider`: the provider's facts — `base`, `issuer`, `metadata` (its discovery document),
  `app_host` (the host name the browser uses for the applications: another site than the
  provider's 127.0.0.1 by default), `work` (a directory for the run's files), `free_port()`,
  `sql(statement)` (as the database owner, for what no interface offers: moving a key's
  `signs_from` back a day), `server_log()`, `on_provider(b)` and `path(b)` (where a browser is),
  `wait_until(condition, timeout)` (polling), `logs` (name -> path: their tails are shown when a
  test fails; add an application's).
- `operator_api`: admin.ppe's API session (its first login — the forced change and the
  authenticator — happens once per run); `.call(method, path, body)`.
- `register_client(...)`: `spse-accounts oidc client-add` as admin.ppe (its API session token,
  stepped up when needed: `provider.cli(...)` runs any command so); returns what the CLI prints
  with --json (`client_id`, `client_secret` of a confidential client, ...).
- `rotate_keys()`: `spse-accounts oidc keys-rotate` as admin.ppe; returns its lines.
- `new_account(role="helpdesk", settle=True)`: a new account of its own (unique user ID, NIP,
  e-mail) through the API; `settle` takes its first login there (own password; an operator's
  authenticator enrolled, its codes known to `codes`). Unsettled, it still has its temporary
  password (`person.temporary`), and the provider's pages force the change.
- `staf`: a Staf Administrasi of the run (settled), for SOP 004 steps the Admin PPE may not take.
- `gate_reset(person)`: a whole SOP 004 password reset of `person` through the API (filed by the
  staf with both documents, complete, valid, executed by admin.ppe); returns the new temporary
  password.
- `codes`: the run's authenticators (`codes.code(user_id)`: a code the server has not seen).
- `browser()`: a headless Chromium of its own for this test (quit afterwards; saved on failure).
- `walk(browser, person, ...)`: the person through the provider's pages until the browser leaves
  the provider (sign-in, the forced change and signing in again, the code or the authenticator's
  enrolment, the recovery codes, consent); returns the steps taken, e.g. ["sign-in", "consent"].
- `sign_out_at_provider(browser)`: the console's "Keluar" button (ends the provider's session).

Every test builds its own accounts, so each passes alone and in any order.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "browser_tests"))

from harness import Api, ApiError, Authenticators, Browser, OperatorApi, People, Person  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ADMIN = dict(user_id="admin.ppe", full_name="Budi Santoso", role="admin_ppe", nip="", email="budi@purbalinggakab.go.id",
             agency="LPSE Kabupaten Purbalingga", password="kopi jahe hangat sekali")
TIMEOUT = 20
POLL = 0.05

RUN = None      # the run's Provider, for the hooks
OPEN = []       # (name, browser) of the running test, for the hooks


def pytest_addoption(parser):
    group = parser.getgroup("spse-accounts", "the OpenID provider under test (scripts/relying-parties passes these)")
    group.addoption("--base", help="the provider's URL (its issuer), e.g. http://127.0.0.1:8080")
    group.addoption("--admin-temp", help="admin.ppe's temporary password from bootstrap-admin")
    group.addoption("--bin", help="the spse-accounts executable (for oidc client-add, keys-rotate)")
    group.addoption("--database-url", help="the database as the server uses it (for the CLI)")
    group.addoption("--owner-url", help="the database as its owner (for sql())")
    group.addoption("--work", help="a directory for the run's files (apache's config and logs, ...)")
    group.addoption("--app-host", default="localhost", help="the host name of the applications in the browser")
    group.addoption("--artifacts", help="directory for a failing test's pages, screenshots and logs")


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config):
    if config.option.help or config.option.collectonly:
        return
    # scripts/relying-parties stops a run with TERM: as an interrupt, so the fixtures' teardown
    # still quits the browsers and stops the applications.
    signal.signal(signal.SIGTERM, _interrupted)
    missing = [o for o in ("--base", "--admin-temp", "--bin", "--database-url", "--work") if not config.getoption(o)]
    if missing:
        raise pytest.UsageError(f"{', '.join(missing)} required (scripts/relying-parties starts a server and passes them)")


# --- the provider --------------------------------------------------------------------------------

class RPBrowser(Browser):
    """The console tests' browser (harness.Browser) without axe-core: these tests are about the
    applications; the console's pages are checked by scripts/browser."""

    def _axe(self):
        pass

    def open(self, url):
        """Any URL (an application's), waiting for the page it ends on."""
        self._drain()
        self.driver.get(url)
        self.ready()
        return self

    def chain(self):
        """The documents loaded since the last navigation began, redirects included, as
        [(status, url, location)] (Chromium's performance log; read once)."""
        found = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message.get("params", {})
            if message.get("method") == "Network.requestWillBeSent" and params.get("type") == "Document":
                if "redirectResponse" in params:
                    response = params["redirectResponse"]
                    headers = {k.lower(): v for k, v in response["headers"].items()}
                    found.append((response["status"], response["url"], headers.get("location")))
            elif message.get("method") == "Network.responseReceived" and params.get("type") == "Document":
                found.append((params["response"]["status"], params["response"]["url"], None))
        return found

    @property
    def url(self):
        return self.driver.current_url

    def delete_cookies(self, domain):
        """The browser forgets the cookies of one host (an application's), keeping the others."""
        for cookie in self.driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]:
            if cookie["domain"].lstrip(".") == domain:
                self.driver.execute_cdp_cmd("Network.deleteCookies", {"name": cookie["name"], "domain": cookie["domain"],
                                                                       "path": cookie["path"]})


class Provider:
    def __init__(self, config):
        self.base = config.getoption("--base").rstrip("/")
        self.admin_temp = config.getoption("--admin-temp")
        self.bin = config.getoption("--bin")
        self.database_url = config.getoption("--database-url")
        self.owner_url = config.getoption("--owner-url") or self.database_url
        self.work = config.getoption("--work")
        self.app_host = config.getoption("--app-host")
        self.artifacts = config.getoption("--artifacts")
        self.codes = Authenticators()
        self.people = People()
        self.api = Api(self.base, self.codes)
        with urllib.request.urlopen(self.base + "/.well-known/openid-configuration", timeout=TIMEOUT) as response:
            self.metadata = json.load(response)
        self.issuer = self.metadata["issuer"]
        self.logs = {"server": os.path.join(self.work, "server.log")}  # name -> path, tails shown on failure
        self.operator = None  # admin.ppe's OperatorApi (the operator_api fixture)

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def sql(self, statement):
        """One statement as the database owner; its output (psql -At)."""
        result = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.owner_url, "-c", statement],
                                capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 0, f"psql {statement!r}: {result.stderr}"
        return result.stdout.strip()

    def on_provider(self, b):
        """Whether the browser is on one of the provider's pages."""
        return b.url.startswith(self.base + "/")

    def path(self, b):
        """The provider's path the browser is at (None: elsewhere)."""
        return b.url[len(self.base):] if self.on_provider(b) else None

    @staticmethod
    def wait_until(condition, timeout=10.0, interval=0.25):
        """Polls `condition()` until it is true (returns it) or `timeout` seconds pass (returns the last value)."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    def server_log(self):
        with open(self.logs["server"], errors="replace") as f:
            return f.read()

    def cli(self, *arguments):
        """spse-accounts as admin.ppe, with its API session (SPSE_OPERATOR_TOKEN) stepped up
        when its last code is older than four minutes: no authenticator code spent per command
        (two a 30-second window at most)."""
        operator = self.operator
        assert operator is not None, "the operator_api fixture first"
        if time.monotonic() - operator.stepped_up > operator.STEP_UP_AFTER:
            self.api.call("POST", "/v1/auth/step-up", {"code": self.codes.code(operator.person.user_id)}, token=operator.token)
            operator.stepped_up = time.monotonic()
        env = dict(os.environ, DATABASE_URL=self.database_url, SPSE_OPERATOR_TOKEN=operator.token)
        for name in ("SPSE_OPERATOR", "SPSE_OPERATOR_PASSWORD", "SPSE_OPERATOR_TOTP"):
            env.pop(name, None)
        result = subprocess.run([self.bin, *arguments], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, f"spse-accounts {' '.join(arguments)} exited {result.returncode}: {result.stderr.strip()}"
        return result.stdout


@pytest.fixture(scope="session")
def provider(pytestconfig):
    global RUN
    RUN = Provider(pytestconfig)
    return RUN


@pytest.fixture(scope="session")
def codes(provider):
    return provider.codes


@pytest.fixture(scope="session")
def operator_api(provider):
    """admin.ppe's API session; its first login (the forced change, the authenticator) happens
    here, once: the temporary password works once."""
    person = Person(**ADMIN, temporary=provider.admin_temp)
    token = provider.api.settle(person)
    provider.operator = OperatorApi(provider.api, person, token)
    return provider.operator


@pytest.fixture(scope="session")
def register_client(provider, operator_api):
    """Registers an application with `oidc client-add` as admin.ppe; returns the CLI's JSON (the
    secret of a confidential client in `client_secret`). `client_id` unique when not given."""
    serial = [0]

    def register(redirect_uris, *, client_id=None, name=None, confidential=True, claims=None,
                 backchannel_logout_uri=None, post_logout_redirect_uris=(), pkce_exempt=False, extra=()):
        serial[0] += 1
        client_id = client_id or f"app-{serial[0]:02d}-{os.getpid()}"
        arguments = ["oidc", "client-add", "--json", "--client-id", client_id, "--name", name or f"Aplikasi Uji {serial[0]}"]
        for uri in ([redirect_uris] if isinstance(redirect_uris, str) else redirect_uris):
            arguments += ["--redirect-uri", uri]
        if confidential:
            arguments.append("--confidential")
        if claims:
            arguments += ["--claims", claims if isinstance(claims, str) else ",".join(claims)]
        if backchannel_logout_uri:
            arguments += ["--backchannel-logout-uri", backchannel_logout_uri]
        for uri in post_logout_redirect_uris:
            arguments += ["--post-logout-redirect-uri", uri]
        if pkce_exempt:
            arguments.append("--pkce-exempt")
        arguments += list(extra)  # options of a newer client-add
        return json.loads(provider.cli(*arguments))
    return register


@pytest.fixture(scope="session")
def rotate_keys(provider, operator_api):
    """Publishes the next signing keys (`oidc keys-rotate`); returns the lines it printed
    ("ES256 <kid> signs from <time>")."""
    def rotate():
        return provider.cli("oidc", "keys-rotate").strip().splitlines()
    return rotate


@pytest.fixture(scope="session")
def new_account(provider, operator_api):
    """A new account of `role` for the test (through the API). `settle`: its first login done
    there too. `person.current` is the password that signs in now (the temporary one until the
    change), kept up to date by `walk`."""
    def make(role="helpdesk", settle=True, **overrides):
        person = operator_api.create(provider.people, role, **overrides)
        if settle:
            provider.api.settle(person)
            person.current = person.password
        else:
            person.current = person.temporary
        return person
    return make


@pytest.fixture(scope="session")
def staf(new_account):
    """A Staf Administrasi of the run (settled) and their API token: SOP 004's completeness step
    is theirs (the Admin PPE takes validity and execution, never both)."""
    person = new_account("staf_administrasi")
    answer = RUN.api.login(person, person.password)
    assert answer["outcome"] == "ok", f"the staf's login: {answer}"
    return person, answer["token"]


def _pdf(text):
    return (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n% " + text.encode()
            + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def _upload(base, token, number, kind, name, text):
    request = urllib.request.Request(f"{base}/v1/requests/{number}/documents?type={kind}", method="POST", data=_pdf(text),
                                     headers={"Content-Type": "application/pdf", "X-File-Name": name,
                                              "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        assert response.status == 201, f"upload {name}: {response.status}"


@pytest.fixture(scope="session")
def gate_reset(provider, operator_api, staf):
    """SOP 004 through the API: the staf files a reset request about `person` (hard copy, both
    documents), finds it complete; admin.ppe finds it valid and executes it. Returns the new
    temporary password (the person's `current` password from then on)."""
    staf_person, staf_token = staf

    def reset(person):
        _, filed = provider.api.call("POST", "/v1/requests", {
            "kinds": ["reset_password"], "subject": {"full_name": person.full_name, "nip": person.nip, "user_id": person.user_id},
            "requester_name": person.full_name, "requester_contact": person.email, "channel": "hardcopy"}, token=staf_token)
        number = filed["number"]
        _upload(provider.base, staf_token, number, "surat_permohonan", "surat-permohonan.pdf", "Surat permohonan reset password")
        _upload(provider.base, staf_token, number, "sk_pengangkatan", "sk-pengangkatan.pdf", "SK pengangkatan helpdesk")
        provider.api.call("POST", f"/v1/requests/{number}/completeness", {"complete": True}, token=staf_token)
        operator_api.call("POST", f"/v1/requests/{number}/validity", {"valid": True, "subject_user_id": person.user_id})
        try:
            _, result = operator_api.call("POST", f"/v1/requests/{number}/execute", {}, lasting=True)
        except ApiError as error:
            if error.status != 403 or "step_up" not in json.dumps(error.body):
                raise
            operator_api.api.call("POST", "/v1/auth/step-up", {"code": provider.codes.code("admin.ppe")}, token=operator_api.token)
            operator_api.stepped_up = time.monotonic()
            _, result = operator_api.call("POST", f"/v1/requests/{number}/execute", {})
        temporary = result.get("temporary_password")
        assert temporary, f"executing {number} gave no temporary password: {result}"
        person.temporary = person.current = temporary
        person.password = f"{person.password} lagi"  # what they choose next: not one they just used
        return temporary
    return reset


# --- the browser and the provider's pages ---------------------------------------------------------

@pytest.fixture
def browser(provider):
    """`browser(name)`: a headless Chromium of its own (quit when the test ends)."""
    taken = []

    def take(name="browser"):
        b = RPBrowser(provider.base, None)
        b.who = name
        taken.append(b)
        OPEN.append((name, b))
        return b
    yield take
    for b in taken:
        OPEN[:] = [(n, o) for n, o in OPEN if o is not b]
        b.quit()


def _wait_new_page(b, old):
    def gone(_):
        try:
            old.tag_name
            return False
        except Exception:
            return True
    WebDriverWait(b.driver, TIMEOUT, poll_frequency=POLL).until(gone)
    b.ready()


def _submit(b, form_selector, button_selector="button[type=submit]"):
    old = b.driver.find_element(By.TAG_NAME, "html")
    form = b.css(form_selector)
    form.find_element(By.CSS_SELECTOR, button_selector).click()
    _wait_new_page(b, old)


@pytest.fixture(scope="session")
def walk(provider):
    """`walk(b, person, consent=True, code=True, stop_at=())`: takes `person` through the
    provider's pages the browser is on until it leaves the provider (back at the application),
    or reaches a step in `stop_at` ("sign-in", "change", "code", "enrol", "consent"), or a page
    that is none of these (an error: the walk ends there). Signs in with `person.current`; the
    forced change sets the person's own `password`; `code=False` gives a code that is wrong.
    Returns the steps taken, in order; "stuck" at the end when it ended on another page of the
    provider."""
    def go(b, person, consent=True, code=True, stop_at=()):
        steps = []
        for _ in range(30):
            b.ready()
            if not provider.on_provider(b):
                return steps
            if b.has("meta[http-equiv=refresh]"):  # the provider's same-site hop: on by itself
                old = b.driver.find_element(By.TAG_NAME, "html")
                _wait_new_page(b, old)
                continue
            if b.has("form[action='/masuk']"):
                step = "sign-in"
            elif b.has("form[action='/ganti-password']"):
                step = "change"
            elif b.has("form[action='/masuk/kode']"):
                step = "code"
            elif b.has("form[action='/totp']"):
                step = "enrol"
            elif b.has("#recovery-codes"):
                step = "recovery"
            elif b.has("form[action='/oauth/authorize'] #allow"):
                step = "consent"
            else:
                steps.append("stuck")
                return steps
            if step in stop_at:
                return steps
            steps.append(step)
            if step == "sign-in":
                b.fill("user_id", person.user_id)
                b.fill("password", person.current)
                _submit(b, "form[action='/masuk']")
                if b.has("form[action='/masuk']") and b.has("#form-error"):  # the password refused
                    steps.append("refused")
                    return steps
            elif step == "change":
                b.fill("current_password", person.current)
                b.fill("new_password", person.password)
                b.fill("repeat_password", person.password)
                _submit(b, "form[action='/ganti-password']")
                if b.has("form[action='/ganti-password']"):
                    steps.append("refused")
                    return steps
                person.current = person.password
                person.temporary = None
            elif step == "code":
                value = provider.codes.code(person.user_id) if code else provider.codes.wrong(person.user_id)
                b.fill("code", value)
                _submit(b, "form[action='/masuk/kode']")
                if not code:
                    steps.append("refused" if b.has("form[action='/masuk/kode']") else "accepted")
                    return steps
            elif step == "enrol":
                provider.codes.enrolled(person.user_id, b.css("#totp-secret").get_attribute("data-secret"))
                b.fill("code", provider.codes.code(person.user_id) if code else provider.codes.wrong(person.user_id))
                _submit(b, "form[action='/totp']")
                if not code:
                    steps.append("refused" if b.has("form[action='/totp']") else "accepted")
                    return steps
            elif step == "recovery":
                provider.codes.recovery[person.user_id] = [li.text for li in b.all("#recovery-codes li")]
                old = b.driver.find_element(By.TAG_NAME, "html")
                b.css("#recovery-codes ~ p a.button, main a.button").click()
                _wait_new_page(b, old)
            elif step == "consent":
                _submit(b, "form[action='/oauth/authorize']", "#allow" if consent else "#deny")
        steps.append("stuck")
        return steps
    return go


@pytest.fixture(scope="session")
def sign_out_at_provider(provider):
    """Signs out at the provider's console (the header's "Keluar" button): its session ends."""
    def sign_out(b):
        b.open(provider.base + "/beranda")
        assert b.has("form.signout"), f"no sign-out button at the provider's console: {b.url}"
        _submit(b, "form.signout")
        assert (provider.path(b) or "").startswith("/masuk"), f"signing out at the provider lands on {b.url}"
    return sign_out


# --- a failure's pages and logs ------------------------------------------------------------------

def _tail(path, lines=40):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as error:
        return f"({error})"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed or RUN is None:
        return
    lines = []
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)
    if RUN.artifacts:
        os.makedirs(RUN.artifacts, exist_ok=True)
    for name, b in OPEN:
        try:
            lines.append(f"{name}'s browser is at {b.driver.current_url}")
            if RUN.artifacts:
                b.save(RUN.artifacts, f"fail-{stem}-{name}")
        except Exception as error:
            lines.append(f"({name}: {error})")
    if RUN.artifacts:
        lines.append(f"pages and screenshots: {RUN.artifacts}/fail-{stem}-*")
    report.sections.append(("browsers", "\n".join(lines)))
    for name, path in RUN.logs.items():
        report.sections.append((f"{name} log (last 40 lines)", _tail(path)))
