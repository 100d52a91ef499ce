#!/usr/bin/env python3
"""Browser tests of the web console: Selenium driving headless Chromium, one browser per person.

Run by scripts/browser against a live server and a fresh database holding only the first Admin
PPE (bootstrap-admin); every other account is created through the console itself.

    python3 scripts/browser-tests.py --base http://127.0.0.1:PORT --admin-temp PASSWORD
        [--screenshots docs/screenshots] [--artifacts .build/browser]

The tests run in order (later ones use the accounts and requests of earlier ones) and stop at the
first failure, saving each open browser's page and screenshot into --artifacts. Operators enrol
an authenticator when the server asks for one (the tests read the secret from the enrolment page
and compute the TOTP codes). What looks wrong but fails nothing (English on an Indonesian page, a
page wider than a phone) is printed as WARN lines at the end.
"""
import argparse
import hashlib
import base64
import hmac
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 20

# axe-core, as selenium-axe-python ships it: run on every distinct page the tests reach, at
# 1366 px and at 360 px. A critical or serious violation fails the suite; the rest are reported.
try:
    import selenium_axe_python
    AXE_SOURCE = open(os.path.join(os.path.dirname(selenium_axe_python.__file__), "axe-core", "axe.min.js")).read()
except (ImportError, OSError):
    AXE_SOURCE = None
AXE_RESULTS = {}        # (page, width) -> [(rule, impact, nodes, help)]
AXE_WIDTHS = ((1366, 900, False), (360, 800, True))


def page_key(url):
    """The page a URL is, whatever request, document or account it names."""
    path = re.sub(r"^https?://[^/]+", "", url).split("#")[0]
    path, _, query = path.partition("?")
    path = re.sub(r"REQ-\d{4}-\d{6}", "{request}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    path = re.sub(r"/akun/[^/]+/(?=[a-z-]+$)", "/akun/{user}/", path)
    return path + ("?…" if query else "")
REQUEST_NUMBER = re.compile(r"/permohonan/(REQ-\d{4}-\d{6})(?:\?ok=submit)?$")

# The people of the tests: user ID, full name, role, NIP, e-mail, agency, the password they choose.
ADMIN = dict(user_id="admin.ppe", full_name="Budi Santoso", password="kopi jahe hangat sekali")
STAF = dict(user_id="staf.adm", full_name="Rina Marlina", role="staf_administrasi", nip="198703142010012003",
            email="rina@purbalinggakab.go.id", agency="LPSE Kabupaten Purbalingga", password="nasi goreng kambing enak")
HELPDESK = dict(user_id="helpdesk01", full_name="Sekar Ayu Wulandari", role="helpdesk", nip="196102251986031010",
                email="sekar@purbalinggakab.go.id", agency="Dinas Komunikasi dan Informatika",
                password="soto sokaraja pedas")
HELPDESK_AFTER_RESET = "mendoan hangat tiap pagi"
AUDITOR = dict(user_id="auditor01", full_name="Agus Prasetyo", role="auditor", nip="",
               email="agus@purbalinggakab.go.id", agency="Inspektorat Daerah Kabupaten Purbalingga",
               password="gethuk goreng manis legit")


class Browser:
    """One person's browser: its own profile, cookies and history."""

    def __init__(self, name, base, shots):
        self.name, self.base, self.shots = name, base, shots
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--hide-scrollbars", "--disable-features=Translate"):
            options.add_argument(argument)
        # Indonesian first, as the console's users have it (headless Chromium would send en-US).
        options.add_experimental_option("prefs", {"intl.accept_languages": "id-ID,id"})
        # The performance log gives each document's status and headers.
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(TIMEOUT)
        self.driver.set_script_timeout(TIMEOUT)
        self._viewport(1280, 900, mobile=False)

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass

    # --- navigation -----------------------------------------------------------------------------

    def go(self, path):
        self._drain()
        self.driver.get(self.base + path)
        self._ready()
        return self

    def submit(self, button):
        """Clicks a submit button and waits for the next page."""
        self._drain()
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        WebDriverWait(self.driver, TIMEOUT).until(lambda d: _stale(old))
        self._ready()
        return self

    def submit_form(self, form_selector):
        form = self.css(form_selector)
        return self.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def _ready(self):
        WebDriverWait(self.driver, TIMEOUT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        self._axe()

    def _axe(self):
        """axe-core on this page at both widths, once per page (see AXE_RESULTS)."""
        if not AXE_SOURCE:
            return
        try:
            if not self.driver.execute_script("return document.contentType") == "text/html":
                return
            key = page_key(self.driver.current_url)
        except Exception:
            return
        for width, height, mobile in AXE_WIDTHS:
            if (key, width) in AXE_RESULTS:
                continue
            if width != 1280:
                self._viewport(width, height, mobile=mobile)
            try:
                if not self.driver.execute_script("return typeof axe !== 'undefined'"):
                    self.driver.execute_script(AXE_SOURCE)
                found = self.driver.execute_async_script("""
                    const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']})
                       .then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length, v.help])))
                       .catch(e => done([['axe-error', 'minor', 0, String(e)]]));""")
                AXE_RESULTS[(key, width)] = [tuple(v) for v in found]
            finally:
                self._viewport(1280, 900, mobile=False)

    @property
    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    # --- reading the page -----------------------------------------------------------------------

    def css(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def has(self, selector):
        return len(self.all(selector)) > 0

    def text(self, selector="body"):
        return self.css(selector).text

    def source(self):
        return self.driver.page_source

    def state(self):
        return self.css("#state").get_attribute("data-state")

    def fill(self, name, value, within=None):
        field = (within or self.driver).find_element(By.CSS_SELECTOR, f"[name='{name}']")
        field.clear()
        if value:
            field.send_keys(value)
        return field

    def choose(self, name, value, within=None):
        """Selects an option of a <select> or ticks the radio with that value."""
        scope = within or self.driver
        field = scope.find_element(By.CSS_SELECTOR, f"[name='{name}']")
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            radio = scope.find_element(By.CSS_SELECTOR, f"input[name='{name}'][value='{value}']")
            if not radio.is_selected():
                radio.click()

    def tick(self, name, on=True):
        box = self.css(f"input[type=checkbox][name='{name}']")
        if box.is_selected() != on:
            box.click()

    def value(self, name):
        return self.css(f"[name='{name}']").get_attribute("value")

    # --- responses ------------------------------------------------------------------------------

    def _drain(self):
        try:
            self.driver.get_log("performance")
        except Exception:
            pass

    def last_document(self):
        """Status and headers (lower-case names) of the last document loaded since the last navigation."""
        found = None
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.responseReceived" and message["params"].get("type") == "Document":
                response = message["params"]["response"]
                found = dict(url=response["url"], status=response["status"],
                             headers={k.lower(): v for k, v in response["headers"].items()})
        return found

    def fetch(self, method, path, body=None):
        """A same-origin fetch from the page, with its cookies; redirects are not followed."""
        return self.driver.execute_async_script("""
            const [method, path, body, done] = arguments;
            const init = {method, credentials: 'same-origin', redirect: 'manual'};
            if (body !== null) { init.body = body; init.headers = {'Content-Type': 'application/x-www-form-urlencoded'}; }
            fetch(path, init).then(async r => done({status: r.status, type: r.type,
                    headers: Object.fromEntries(r.headers.entries()), text: await r.text()}))
                .catch(e => done({error: String(e)}));
        """, method, path, body)

    # --- screenshots ----------------------------------------------------------------------------

    def _viewport(self, width, height, mobile):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def shot(self, name, scroll_to=None):
        if not self.shots:
            return
        if scroll_to:
            self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", scroll_to)
        else:
            self.driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.15)
        self.driver.save_screenshot(os.path.join(self.shots, name))

    def mobile_shot(self, name=None):
        """At 360 x 800 (a phone): the screenshot when named; returns how many CSS pixels the page
        is wider than the screen (0 when nothing scrolls sideways) and the elements that make it so."""
        self._viewport(360, 800, mobile=True)
        try:
            time.sleep(0.3)
            if name:
                self.shot(name)
            return self.driver.execute_script("""
                const wider = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - 360;
                const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '');
                // Where the overflow starts: elements past the right edge whose parent is not.
                const culprits = [...document.body.querySelectorAll('*')].filter(e =>
                    e.getBoundingClientRect().right > 361 && e.parentElement.getBoundingClientRect().right <= 361);
                return [wider, [...new Set(culprits.map(name))].slice(0, 3)];""")
        finally:
            self._viewport(1280, 900, mobile=False)

    # --- signing in and out ---------------------------------------------------------------------

    def sign_in(self, user_id, password):
        """The password step with a clean slate (no session, no language cookie); returns the
        landing path. Suite.sign_in also takes the second factor's steps."""
        self.go("/masuk")
        self.driver.delete_all_cookies()
        self.go("/masuk")
        self.fill("user_id", user_id)
        self.fill("password", password)
        self.submit_form("form[action='/masuk']")
        return self.path

    def sign_out(self):
        self.submit(self.css("form.signout button[type=submit]"))
        check(self.path == "/masuk", f"signing out lands on {self.path}")

    def change_password(self, current, new, repeat=None):
        self.fill("current_password", current)
        self.fill("new_password", new)
        self.fill("repeat_password", new if repeat is None else repeat)
        self.submit_form("form[action='/ganti-password']")


def _stale(element):
    try:
        element.tag_name
        return False
    except Exception:
        return True


def totp(secret, step):
    """RFC 6238 (HMAC-SHA1, 6 digits, 30 s), as an authenticator app computes it from the key the
    enrolment page shows (base32, RFC 4648)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def check_in(needle, haystack, what):
    check(needle in haystack, f"{what}: expected {needle!r} in {haystack[:600]!r}")


class Suite:
    def __init__(self, args):
        self.base = args.base.rstrip("/")
        self.admin_temp = args.admin_temp
        self.shots = args.screenshots or None
        self.artifacts = args.artifacts
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
        self.browsers = {}
        self._shot = set()
        self.temp = tempfile.mkdtemp(prefix="spse-browser-docs.")
        self.letter = self._pdf("surat-permohonan.pdf", "Surat permohonan reset password akun SPSE")
        self.decree = self._pdf("sk-pengangkatan.pdf", "SK pengangkatan sebagai helpdesk LPSE")
        self.temporary = {}   # user ID -> temporary password shown when the account was created
        self.refusals = []    # (what was refused, the message the page showed, the page's language)
        self.warnings = []    # what is wrong with the console but does not fail the tests
        self.requests = {}    # label -> request number
        self.totp_secrets = {}  # user ID -> authenticator secret, for the operators the server makes enrol one
        self.totp_steps = {}    # user ID -> the last 30-second step whose code was used (each is accepted once)
        self.recovery = {}      # user ID -> the recovery codes shown at enrolment

    def _pdf(self, name, text):
        path = os.path.join(self.temp, name)
        with open(path, "wb") as f:
            f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n% " + text.encode() + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        return path

    def browser(self, who):
        if who not in self.browsers:
            self.browsers[who] = Browser(who, self.base, self.shots)
        return self.browsers[who]

    def close(self):
        for b in self.browsers.values():
            b.quit()
        shutil.rmtree(self.temp, ignore_errors=True)

    def save_failure(self):
        if not self.artifacts:
            return
        os.makedirs(self.artifacts, exist_ok=True)
        for who, b in self.browsers.items():
            try:
                print(f"    {who}'s browser is at {b.driver.current_url}", file=sys.stderr)
                b.driver.save_screenshot(os.path.join(self.artifacts, f"fail-{who}.png"))
                with open(os.path.join(self.artifacts, f"fail-{who}.html"), "w") as f:
                    f.write(b.source())
            except Exception as error:  # a dead browser: nothing to save
                print(f"    ({who}: {error})", file=sys.stderr)

    def warn(self, text):
        self.warnings.append(text)

    def mobile(self, b, name=None):
        """A phone-sized look at the page (and its screenshot when named); warns when it scrolls sideways."""
        wider, culprits = b.mobile_shot(name)
        if wider > 0:
            self.warn(f"{b.path} at 360 px is {wider} px wider than the screen (scrolls sideways; from {', '.join(culprits)})")

    def refusal(self, b, what):
        """The refusal the page shows (#form-error), kept for the summary; fails when there is none."""
        check(b.has("#form-error"), f"no error shown for {what}: {b.text('main')[:300]}")
        text = b.text("#form-error")
        self.refusals.append((what, text, b.driver.execute_script("return document.documentElement.lang")))
        return text

    # --- helpers over several pages -----------------------------------------------------------

    def code(self, user_id):
        """A TOTP code the server has not seen yet: it accepts the steps around now (±1), each once."""
        while True:
            now = int(time.time() // 30)
            step = max(now, self.totp_steps.get(user_id, -1) + 1)
            if step <= now + 1:
                break
            time.sleep(30.2 - time.time() % 30)
        self.totp_steps[user_id] = step
        return totp(self.totp_secrets[user_id], step)

    def sign_in(self, b, user_id, password):
        """Signs in (password, then the code or the authenticator's enrolment when the server asks
        for them); returns where the browser lands."""
        landed = b.sign_in(user_id, password)
        if landed == "/masuk/kode":
            check(user_id in self.totp_secrets, f"{user_id} is asked for a code but enrolled no authenticator")
            self.shot_once(b, "18-kode-masuk.png")
            b.fill("code", self.code(user_id))
            b.submit_form("form[action='/masuk/kode']")
            landed = b.path
        elif landed == "/totp":
            landed = self.enrol(b, user_id)
        return landed

    def enrol(self, b, user_id):
        """The authenticator enrolment an operator's first full sign-in leads to: secret and QR
        code, a first code, the ten recovery codes shown once."""
        b.go("/beranda")
        check(b.path == "/totp", f"an operator who must enrol an authenticator reached {b.path}")
        check(b.has("#totp-secret") and b.has("figure.qr svg"), "the enrolment page shows no secret or QR code")
        secret = b.css("#totp-secret").get_attribute("data-secret")
        self.totp_secrets[user_id] = secret
        self.shot_once(b, "16-totp-pendaftaran.png")
        b.fill("code", "000000" if totp(secret, int(time.time() // 30)) != "000000" else "111111")
        b.submit_form("form[action='/totp']")
        check(b.path == "/totp" and b.has("#code-error"), "a wrong first code is not refused next to the field")
        secret = b.css("#totp-secret").get_attribute("data-secret")  # the page may offer a new secret
        self.totp_secrets[user_id] = secret
        b.fill("code", self.code(user_id))
        b.submit_form("form[action='/totp']")
        codes = [li.text for li in b.all("#recovery-codes li")]
        check(len(codes) == 10 and all(re.fullmatch(r"\w{5}-\w{5}", c) for c in codes), f"recovery codes: {codes}")
        self.recovery[user_id] = codes
        self.shot_once(b, "17-kode-pemulihan.png")
        b.submit(b.css("main a.button[href='/beranda']"))
        return b.path

    def shot_once(self, b, name):
        if name not in self._shot:
            self._shot.add(name)
            b.shot(name)

    def create_account(self, admin, person):
        admin.go("/akun/baru")
        form = "form[action='/akun/baru']"
        for name in ("user_id", "full_name", "nip", "email", "agency"):
            admin.fill(name, person.get(name, ""))
        admin.choose("role", person["role"])
        admin.submit_form(form)
        check(admin.has("#temporary-password"), f"creating {person['user_id']}: no temporary password on {admin.path}: {admin.text()[:300]}")
        secret = admin.css("#temporary-password").get_attribute("data-secret")
        shown = "".join(s.text for s in admin.all("#temporary-password span"))
        check(len(secret) >= 12, f"temporary password of {person['user_id']} too short: {secret!r}")
        check(shown == secret, f"the grouped password {shown!r} is not the data-secret {secret!r}")
        check_in(person["user_id"], admin.text("h1"), "account created heading")
        self.temporary[person["user_id"]] = secret
        return secret

    def first_login(self, b, user_id, temporary, chosen):
        """Signs in with a temporary password, is sent to the forced change, changes, signs in again."""
        landed = self.sign_in(b, user_id, temporary)
        check(landed == "/ganti-password", f"{user_id}'s first login lands on {landed}, expected /ganti-password")
        check_in("Anda wajib mengganti password sementara sebelum melanjutkan.", b.text(), "forced change page")
        b.change_password(temporary, chosen)
        check(b.path == "/masuk?ok=password", f"after the change {user_id} is at {b.path}, expected /masuk?ok=password")
        check_in("Password berhasil diganti", b.text(), "flash after the change")
        landed = self.sign_in(b, user_id, chosen)
        check(landed == "/beranda", f"{user_id} signs in with the new password and lands on {landed}")

    def intake(self, staf, *, full_name=None, nip=None, email=None, user_id=None, letter=True, decree=True,
               requester="Sekar Ayu Wulandari", contact="0812-2700-1234", priority="normal", shot=None):
        staf.go("/permohonan/baru")
        staf.tick("kind_reset", True)
        staf.fill("subject_user_id", user_id or "")
        staf.fill("subject_full_name", full_name or "")
        staf.fill("subject_nip", nip or "")
        staf.fill("subject_email", email or "")
        staf.choose("subject_role", "helpdesk")
        staf.fill("requester_name", requester)
        staf.fill("requester_contact", contact)
        staf.choose("channel", "hardcopy")
        staf.choose("priority", priority)
        if letter:
            staf.css("input[name='surat_permohonan']").send_keys(self.letter)
        if decree:
            staf.css("input[name='sk_pengangkatan']").send_keys(self.decree)
        if shot:
            staf.shot(shot)
        staf.submit_form("form[action='/permohonan/baru']")
        match = REQUEST_NUMBER.search(staf.path)
        check(match is not None, f"intake did not reach a request page: {staf.path}: {staf.text()[:400]}")
        check_in("Permohonan diajukan.", staf.text(), "flash after intake")
        check(staf.state() == "submitted", f"a new request is {staf.state()}")
        return match.group(1)

    def completeness(self, staf, number, complete=True, note=None):
        staf.go(f"/permohonan/{number}")
        form = staf.css("#completeness-form")
        staf.choose("complete", "true" if complete else "false", within=form)
        staf.fill("note", note or "", within=form)
        staf.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def validity(self, admin, number, search, *, account=None, valid=True, reason=None, acknowledgement=None):
        admin.go(f"/permohonan/{number}")
        admin.fill("cari", search, within=admin.css("#validity"))
        admin.submit(admin.css("#validity form[role=search] button[type=submit]"))
        check(admin.path.startswith(f"/permohonan/{number}?cari="), f"the validity search went to {admin.path}")
        form = admin.css("#validity form[method=post]")
        if account:
            admin.choose("subject_user_id", account, within=form)
        admin.choose("valid", "true" if valid else "false", within=form)
        admin.fill("reason", reason or "", within=form)
        admin.fill("acknowledgement", acknowledgement or "", within=form)
        admin.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


# --- the tests ----------------------------------------------------------------------------------

def test_admin_first_login(s):
    """First Admin PPE: the sign-in page, a wrong password, the forced change with refusals."""
    admin = s.browser("admin")
    admin.go("/")
    check(admin.path == "/masuk", f"/ without a session goes to {admin.path}")
    check(admin.driver.execute_script("return document.documentElement.lang") == "id", "the console is not in Indonesian")
    check_in("Masuk", admin.text("h1"), "sign-in heading")
    admin.shot("01-masuk.png")
    admin.fill("user_id", ADMIN["user_id"])
    admin.fill("password", "bukan password yang benar")
    admin.submit_form("form[action='/masuk']")
    check(admin.last_document()["status"] == 401, "a wrong password is not answered 401")
    check_in("User ID atau password salah.", admin.text("#form-error"), "wrong password")
    check(admin.value("user_id") == ADMIN["user_id"], f"the typed user ID is not kept: {admin.value('user_id')!r}")
    check(admin.value("password") == "", "the typed password is shown again")

    landed = s.sign_in(admin, ADMIN["user_id"], s.admin_temp)
    check(landed == "/ganti-password", f"first login lands on {landed}")
    check_in("Anda wajib mengganti password sementara sebelum melanjutkan.", admin.text(), "forced change")
    admin.shot("02-ganti-password-wajib.png")
    # A forced session reaches nothing else.
    admin.go("/beranda")
    check(admin.path == "/ganti-password", f"a session that must change its password reached {admin.path}")


def test_change_password_refusals(s):
    """The change-password form names the refused field, in Indonesian, and never echoes a password."""
    admin = s.browser("admin")
    admin.go("/ganti-password")
    cases = [
        ("pendek", None, "new_password", "Minimal 12 karakter."),
        ("password1234", None, "new_password", "Terlalu umum."),
        ("budi santoso nasi", None, "new_password", "Tidak boleh memuat User ID atau nama Anda."),
        ("kopi jahe hangat sekali", "kopi jahe hangat sekalu", "repeat_password", "Ulangan password baru tidak sama."),
    ]
    for new, repeat, field, message in cases:
        admin.change_password(s.admin_temp, new, repeat)
        check(admin.path == "/ganti-password", f"a refused change went to {admin.path}")
        check(admin.last_document()["status"] == 422, f"refusing {new!r} is not 422")
        error = admin.css(f"#{field}-error")
        check(error.get_attribute("class") == "field-error", f"#{field}-error is not a .field-error")
        check_in(message, error.text, f"the error next to {field} for {new!r}")
        check(admin.css(f"#{field}").get_attribute("aria-invalid") == "true", f"#{field} is not aria-invalid")
        check_in(f"{field}-error", admin.css(f"#{field}").get_attribute("aria-describedby") or "", f"#{field} aria-describedby")
        check_in("Anda wajib mengganti password sementara", admin.text(), "still the forced change")
        for name in ("current_password", "new_password", "repeat_password"):
            check(admin.value(name) == "", f"{name} was filled again after a refusal")
        check(new not in admin.source() and s.admin_temp not in admin.source(), "a typed password is in the page")
    admin.change_password("salah sama sekali", ADMIN["password"])
    check_in("current_password", admin.css(".field-error").get_attribute("id"), "a wrong current password's field")
    admin.change_password(s.admin_temp, ADMIN["password"])
    check(admin.path == "/masuk?ok=password", f"a good change went to {admin.path}")
    check_in("Password berhasil diganti; silakan masuk dengan password baru.", admin.text(".flash"), "flash")
    check(s.sign_in(admin, ADMIN["user_id"], s.admin_temp) == "/masuk", "the temporary password still works")
    check(s.sign_in(admin, ADMIN["user_id"], ADMIN["password"]) == "/beranda", "the new password does not sign in")
    check_in("admin.ppe", admin.text("header"), "the header names the user")


def test_create_accounts(s):
    """Admin PPE creates staf.adm, helpdesk01 and auditor01; a refused form keeps what was typed."""
    admin = s.browser("admin")
    admin.go("/akun/baru")
    bad = dict(HELPDESK, email="sekar@")
    for name in ("user_id", "full_name", "nip", "email", "agency"):
        admin.fill(name, bad[name])
    admin.choose("role", "helpdesk")
    admin.submit_form("form[action='/akun/baru']")
    check(admin.has("#email-error"), f"a bad e-mail is not named: {admin.text('main')[:400]}")
    s.refusal(admin, "new account: e-mail 'sekar@'")
    check(admin.css("#email").get_attribute("aria-invalid") == "true", "#email is not aria-invalid")
    for name in ("user_id", "full_name", "nip", "email", "agency"):
        check(admin.value(name) == bad[name], f"{name} not kept: {admin.value(name)!r}")
    check(Select(admin.css("#role")).first_selected_option.get_attribute("value") == "helpdesk", "the role is not kept")

    for person in (STAF, HELPDESK, AUDITOR):
        s.create_account(admin, person)
    admin.go("/akun?q=Sekar&reason=uji%20konsol")
    check(admin.has("tr[data-user='helpdesk01']"), "helpdesk01 is not found by name")
    check_in("wajib ganti password", admin.text("tr[data-user='helpdesk01']"), "a new account must change its password")


def test_forced_changes(s):
    """Each new account signs in with its temporary password and must choose its own first."""
    s.first_login(s.browser("staf"), STAF["user_id"], s.temporary["staf.adm"], STAF["password"])
    helpdesk = s.browser("helpdesk")
    # The temporary password itself is refused as the new one.
    s.sign_in(helpdesk, HELPDESK["user_id"], s.temporary["helpdesk01"])
    helpdesk.change_password(s.temporary["helpdesk01"], s.temporary["helpdesk01"])
    check_in("Pilih password Anda sendiri", helpdesk.text("#new_password-error"), "the temporary password as the new one")
    s.first_login(helpdesk, HELPDESK["user_id"], s.temporary["helpdesk01"], HELPDESK["password"])
    s.first_login(s.browser("auditor"), AUDITOR["user_id"], s.temporary["auditor01"], AUDITOR["password"])


def test_second_factor(s):
    """Operators with an authenticator: the code after the password (a wrong or reused one refused,
    a recovery code once); skipped when the server asks no operator for one."""
    if "staf.adm" not in s.totp_secrets:
        print("    (no authenticator was asked of the operators: nothing to test)")
        return
    staf = s.browser("staf")
    check(s.sign_in(staf, STAF["user_id"], STAF["password"]) == "/beranda", "the staf cannot sign in with a code")
    used = totp(s.totp_secrets["staf.adm"], s.totp_steps["staf.adm"])
    check(staf.sign_in(STAF["user_id"], STAF["password"]) == "/masuk/kode", "the password alone signs the staf in")
    check_in("Kode autentikator", staf.text("h1"), "the code page")
    staf.fill("code", used)
    staf.submit_form("form[action='/masuk/kode']")
    check(staf.path == "/masuk/kode", f"a code used before signed in: {staf.path}")
    check_in("Kode salah atau sudah dipakai.", staf.text("#form-error"), "a reused code")
    recovery = s.recovery["staf.adm"][0]
    staf.fill("code", recovery)
    staf.submit_form("form[action='/masuk/kode']")
    check(staf.path == "/beranda", f"a recovery code does not sign in: {staf.path}")
    check(staf.sign_in(STAF["user_id"], STAF["password"]) == "/masuk/kode", "the password alone signs the staf in")
    staf.fill("code", recovery)
    staf.submit_form("form[action='/masuk/kode']")
    check(staf.path == "/masuk/kode", "a recovery code works twice")
    staf.fill("code", s.code("staf.adm"))
    staf.submit_form("form[action='/masuk/kode']")
    check(staf.path == "/beranda", f"a fresh code does not sign in: {staf.path}")


def test_sop_full_path(s):
    """SOP 004 end to end: intake, completeness, validity, execution (password once), hand-over, receipt, archive."""
    staf, admin, helpdesk = s.browser("staf"), s.browser("admin"), s.browser("helpdesk")
    number = s.intake(staf, full_name=HELPDESK["full_name"], nip=HELPDESK["nip"], shot="04-permohonan-baru.png")
    s.requests["full"] = number
    documents = staf.all("ul.documents a")
    check(len(documents) == 2, f"{len(documents)} documents listed, expected 2")
    check(all(a.get_attribute("target") == "_blank" for a in documents), "documents do not open in a new tab")
    opened = staf.fetch("GET", documents[0].get_attribute("href"))
    check(opened["status"] == 200 and opened["headers"].get("content-type") == "application/pdf",
          f"a document opens as {opened.get('status')} {opened.get('headers', {}).get('content-type')}")
    check(opened["headers"].get("content-disposition", "").startswith("inline"), "a document is not shown inline")
    check(opened["text"].startswith("%PDF-1.7"), "the document's content is not the uploaded PDF")
    check(staf.has("#completeness-form"), "the staf cannot check completeness")
    staf.shot("05-permohonan-kelengkapan.png", scroll_to="#docs-title")

    staf.go("/beranda")
    check(staf.has(f"tr[data-request='{number}']"), f"{number} is not in the staf's queue")
    check_in("2 Periksa kelengkapan", staf.text(f"tr[data-request='{number}']"), "the queue row's step")

    # Separation of duties: the admin sees no completeness form, the staf no validity form.
    admin.go(f"/permohonan/{number}")
    check(not admin.has("#completeness-form"), "the admin may check completeness")
    for form in ("#validity", "#execute", "#handover-form", "#archive", "#notify"):
        check(not admin.has(form), f"the admin is offered {form} on a submitted request")

    s.completeness(staf, number, complete=True, note="Surat dan SK lengkap, diterima di loket.")
    check(staf.state() == "complete", f"completeness: {staf.state()}")
    check_in("Hasil pemeriksaan kelengkapan disimpan.", staf.text(".flash"), "flash after completeness")
    check(not staf.has("#validity"), "the staf may check validity")

    admin.go("/beranda")
    check(admin.has(f"tr[data-request='{number}']"), f"{number} is not in the admin's queue")
    admin.go(f"/permohonan/{number}")
    check(admin.has("#validity"), "no validity form for the admin")
    admin.fill("cari", "Sekar", within=admin.css("#validity"))
    admin.submit(admin.css("#validity form[role=search] button[type=submit]"))
    choice = admin.css("#validity input[name='subject_user_id'][value='helpdesk01']")
    label = choice.find_element(By.XPATH, "./ancestor::label")
    check_in(HELPDESK["nip"], label.text, "the search result shows the NIP")
    check(not label.find_elements(By.CSS_SELECTOR, ".badge"), f"a mismatch badge although the hint matches: {label.text}")
    admin.shot("06-keabsahan-cari.png", scroll_to="#validity")
    choice.click()
    admin.choose("valid", "true", within=admin.css("#validity form[method=post]"))
    admin.submit(admin.css("#validity form[method=post] button[type=submit]"))
    check(admin.state() == "approved", f"validity: {admin.state()} {admin.text('main')[:300]}")
    check_in("helpdesk01", admin.text("dl.facts"), "the resolved account")

    # Step 6: the temporary password, shown once, on a no-store page; an operator with an
    # authenticator proves a fresh code in the same form (a wrong one executes nothing).
    execute = f"form[action='/permohonan/{number}/langkah/execute']"
    if admin.has("#step_up_code"):
        wrong = next(c for c in ("000000", "111111", "222222") if c not in
                     [totp(s.totp_secrets["admin.ppe"], int(time.time() // 30) + d) for d in (-1, 0, 1)])
        admin.fill("code", wrong, within=admin.css(execute))
        admin.submit(admin.css("#execute"))
        check(not admin.has("#temporary-password"), "a wrong step-up code executed step 6")
        answer = admin.last_document()
        check(answer["status"] in (401, 403, 422), f"a wrong step-up code answered {answer['status']}")
        if "Kode" not in admin.text("main"):
            s.warn(f"POST /permohonan/{number}/langkah/execute with a wrong step-up code: a bare error page "
                   f"({answer['status']}) saying {admin.text('main')!r} instead of the request page with "
                   "\"Kode salah atau sudah dipakai.\" next to #step_up_code")
        admin.go(f"/permohonan/{number}")
        check(admin.state() == "approved", f"after a wrong step-up code: {admin.state()}")
        admin.fill("code", s.code("admin.ppe"), within=admin.css(execute))
    admin.submit(admin.css("#execute"))
    response = admin.last_document()
    check(response and response["url"].endswith(f"/permohonan/{number}/langkah/execute"), f"execute answered by {response}")
    check(response["status"] == 200, f"execute answered {response['status']}")
    check(response["headers"].get("cache-control") == "no-store", f"the password page is cached: {response['headers'].get('cache-control')!r}")
    check_in("default-src 'self'", response["headers"].get("content-security-policy", ""), "the password page's CSP")
    secret = admin.css("#temporary-password").get_attribute("data-secret")
    check(len(secret) >= 12, f"the temporary password is {secret!r}")
    check("".join(x.text for x in admin.all("#temporary-password span")) == secret, "the grouped password differs")
    check_in("helpdesk01", admin.text(".secret"), "the password page names the account")
    check(admin.has("#handover-form"), "no hand-over form on the password page")
    check(admin.value("recipient") == "Sekar Ayu Wulandari", f"the recipient is prefilled with {admin.value('recipient')!r}")
    admin.shot("07-password-sementara.png")
    s.mobile(admin, "21-mobile-password-sementara.png")
    # The password must not break inside a group at 360 px: each group's spans keep one line.
    admin._viewport(360, 800, mobile=True)
    try:
        broken = admin.driver.execute_script("""
            return [...document.querySelectorAll('#temporary-password span')]
                .filter(s => s.getClientRects().length > 1).map(s => s.textContent);""")
    finally:
        admin._viewport(1280, 900, mobile=False)
    if broken:
        s.warn(f"/permohonan/{number}/langkah/execute at 360 px: the temporary password's groups {broken} break across lines "
               "(.secret .password has word-break: break-all), so a group reads as two")

    # Not shown again. Reloading re-posts step 6: the console sees the step is done and sends
    # the browser to the request page saying so (no red "wrong code", no code spent); back shows
    # the request page; forward to the POST's answer is not re-posted (no-store: Chromium shows
    # its own "confirm form resubmission" page).
    admin._drain()
    admin.driver.refresh()
    admin._ready()
    reloaded = admin.last_document()
    check(reloaded and reloaded["status"] == 200 and "ok=already_executed" in reloaded["url"], f"reloading the password page answered {reloaded}")
    check(secret not in admin.source() and not admin.has("#temporary-password"), "reloading shows the password")
    check(admin.state() == "executed", f"after reloading: {admin.state()}")
    check_in("Langkah 6 sudah dilaksanakan", admin.text(".flash"), "what a reload of step 6 says")
    check(not admin.has("#form-error"), "a reload of step 6 shows an error")
    admin.driver.back()
    admin._ready()
    check(secret not in admin.source(), f"back to {admin.path} shows the password")
    admin.driver.forward()
    admin._ready()
    check(secret not in admin.source(), f"forward to {admin.driver.current_url} shows the password")
    admin.go(f"/permohonan/{number}")
    check(admin.state() == "executed", f"after execution: {admin.state()}")
    check(secret not in admin.source() and not admin.has("#temporary-password"), "the request page shows the password")
    check(not admin.has("#execute"), "step 6 is offered again")

    # Step 8: the hand-over.
    form = admin.css("#handover-form")
    admin.fill("recipient", "Sekar Ayu Wulandari", within=form)
    admin.choose("channel", "phone", within=form)
    admin.submit(admin.css("#handover"))
    check(admin.state() == "notified", f"after the hand-over: {admin.state()}")
    check_in("Penyampaian dicatat.", admin.text(".flash"), "flash after the hand-over")
    handover = admin.text("#handover")
    check_in("Sekar Ayu Wulandari", handover, "the hand-over's recipient")
    check_in("Telepon", handover, "the hand-over's channel")
    check_in("admin.ppe", handover, "who handed over")
    admin.shot("08-penyampaian.png")

    # The helpdesk: the old password is gone, the temporary one forces a change, then home.
    check(s.sign_in(helpdesk, "helpdesk01", HELPDESK["password"]) == "/masuk", "the old password still works after the reset")
    s.first_login(helpdesk, "helpdesk01", secret, HELPDESK_AFTER_RESET)
    check_in("Permohonan saya", helpdesk.text("main"), "the helpdesk's home")
    row = helpdesk.css(f"tr[data-request='{number}']")
    check_in("Sudah disampaikan", row.text, "the helpdesk's request row")
    helpdesk.shot("09-beranda-helpdesk.png")

    # Signing in with the temporary password confirmed receipt; the staf archives without deviation.
    staf.go(f"/permohonan/{number}")
    check_in("Diterima pemohon", staf.text("dl.facts"), "receipt confirmed by the first login")
    check(not staf.has("#archive ~ p.warn") and "Penerimaan belum dikonfirmasi" not in staf.text(), "archive warns of a missing receipt")
    staf.submit(staf.css("#archive"))
    check(staf.state() == "archived", f"after archiving: {staf.state()}")
    check_in("Berkas diarsipkan.", staf.text(".flash"), "flash after archiving")
    timeline = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in staf.all("table.timeline tbody tr")]
    steps = [(row[0].split()[0], row[3]) for row in timeline]
    check(steps == [("1", "staf.adm"), ("2", "staf.adm"), ("5", "admin.ppe"), ("6", "admin.ppe"), ("8", "admin.ppe"), ("9", "staf.adm")],
          f"the timeline's steps and actors: {steps}")
    check(all(row[2] for row in timeline), f"a step is not ended: {timeline}")
    staf.shot("10-arsip.png")


def test_rejection_path(s):
    """Validity refused with a reason: notify, rejected, archived; without a reason it is refused."""
    staf, admin = s.browser("staf"), s.browser("admin")
    number = s.intake(staf, full_name=HELPDESK["full_name"], email=HELPDESK["email"], priority="high")
    s.requests["rejected"] = number
    s.completeness(staf, number, complete=True)
    check(staf.state() == "complete", f"completeness: {staf.state()}")
    s.validity(admin, number, "sekar", account="helpdesk01", valid=False)
    check(admin.state() == "complete", f"an invalid verdict without a reason was taken: {admin.state()}")
    s.refusal(admin, "validity: invalid without a reason")
    s.validity(admin, number, "sekar", account="helpdesk01", valid=False,
               reason="SK pengangkatan bukan untuk peran helpdesk.")
    check(admin.state() == "invalid", f"invalid verdict: {admin.state()}")
    check_in("SK pengangkatan bukan untuk peran helpdesk.", admin.text("dl.facts"), "the rejection reason")
    check(admin.has("#notify"), "no notify button for the rejection")
    admin.submit(admin.css("#notify"))
    check(admin.state() == "rejected", f"after the rejection notice: {admin.state()}")
    check_in("Pemberitahuan masuk antrean kirim.", admin.text(".flash"), "flash after notify")
    staf.go(f"/permohonan/{number}")
    staf.submit(staf.css("#archive"))
    check(staf.state() == "archived", f"archiving a rejected request: {staf.state()}")


def test_supplement_loop(s):
    """Only the letter: 'complete' is refused, incomplete, notify, upload the SK, supplement, submitted."""
    staf = s.browser("staf")
    number = s.intake(staf, full_name=HELPDESK["full_name"], nip=HELPDESK["nip"], decree=False, priority="urgent")
    s.requests["supplement"] = number
    check(len(staf.all("ul.documents li")) == 1, "one document expected")
    s.completeness(staf, number, complete=True)
    check(staf.state() == "submitted", f"'complete' with a missing SK was taken: {staf.state()}")
    s.refusal(staf, "completeness: 'complete' with the SK missing")
    s.completeness(staf, number, complete=False, note="SK pengangkatan belum dilampirkan.")
    check(staf.state() == "incomplete", f"incomplete: {staf.state()}")
    check_in("SK pengangkatan", staf.text("dl.facts"), "what is missing")
    check_in("SK pengangkatan belum dilampirkan.", staf.text("dl.facts"), "the completeness note")
    staf.submit(staf.css("#notify"))
    check(staf.state() == "awaiting_supplement", f"after the notice: {staf.state()}")
    upload = staf.css(f"form[action='/permohonan/{number}/dokumen']")
    staf.choose("type", "sk_pengangkatan", within=upload)
    upload.find_element(By.CSS_SELECTOR, "input[type=file][name='file']").send_keys(s.decree)
    staf.submit(upload.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    check_in("Dokumen diunggah.", staf.text(".flash"), "flash after the upload")
    check(len(staf.all("ul.documents li")) == 2, "the SK is not listed")
    staf.submit(staf.css("#supplement"))
    check(staf.state() == "submitted", f"after the supplement: {staf.state()}")
    check_in("Berkas dikembalikan ke pemeriksaan kelengkapan.", staf.text(".flash"), "flash after the supplement")


def test_hint_mismatch(s):
    """A hint whose name differs: the badge, refused without an acknowledgement, accepted with one."""
    staf, admin = s.browser("staf"), s.browser("admin")
    number = s.intake(staf, full_name="Sekar Wulandari", nip=HELPDESK["nip"])
    s.requests["mismatch"] = number
    s.completeness(staf, number, complete=True)
    s.validity(admin, number, HELPDESK["nip"], account="helpdesk01", valid=True)
    check(admin.state() == "complete", f"a mismatch without acknowledgement was taken: {admin.state()}")
    s.refusal(admin, "validity: hint mismatch without acknowledgement")
    admin.go(f"/permohonan/{number}?cari={HELPDESK['nip']}")
    badge = admin.css("#validity input[value='helpdesk01']").find_element(By.XPATH, "./ancestor::label").find_element(By.CSS_SELECTOR, ".badge")
    check_in("Nama lengkap", badge.text, "the mismatch badge")
    s.validity(admin, number, HELPDESK["nip"], account="helpdesk01", valid=True,
               acknowledgement="Nama di surat disingkat; NIP dan SK cocok.")
    check(admin.state() == "approved", f"with an acknowledgement: {admin.state()}")
    check_in("Nama di surat disingkat; NIP dan SK cocok.", admin.text("dl.facts"), "the acknowledgement")


def test_helpdesk_files_own_request(s):
    """A managed user files for themself: their user ID is the hint, 'Permohonan saya' lists it."""
    helpdesk = s.browser("helpdesk")
    helpdesk.go("/permohonan/baru")
    check(helpdesk.value("subject_user_id") == "helpdesk01", "the helpdesk's own user ID is not the hint")
    check(Select(helpdesk.css("#channel")).first_selected_option.get_attribute("value") == "email", "a helpdesk's channel is not e-mail")
    helpdesk.fill("requester_name", HELPDESK["full_name"])
    helpdesk.fill("requester_contact", HELPDESK["email"])
    helpdesk.css("input[name='surat_permohonan']").send_keys(s.letter)
    helpdesk.css("input[name='sk_pengangkatan']").send_keys(s.decree)
    helpdesk.submit_form("form[action='/permohonan/baru']")
    match = REQUEST_NUMBER.search(helpdesk.path)
    check(match is not None, f"the helpdesk's intake went to {helpdesk.path}: {helpdesk.text('main')[:300]}")
    # The requester may add documents but takes no step of their own request. (The console leaves
    # "Langkah berikutnya" empty here instead of saying "Tidak ada langkah untuk Anda saat ini.":
    # its anyAction counts the upload form, which is shown under Dokumen.)
    check(helpdesk.has(f"form[action='{helpdesk.path.split('?')[0]}/dokumen']"), "the requester may not add documents")
    for form in ("#completeness-form", "#validity", "#execute", "#handover-form", "#archive", "#notify", "#supplement"):
        check(not helpdesk.has(form), f"the requester is offered {form} on their own request")
    helpdesk.go("/beranda")
    check(helpdesk.has(f"tr[data-request='{match.group(1)}']"), "the own request is not in 'Permohonan saya'")


def test_refused_intake_keeps_input(s):
    """A refused intake keeps every typed value and names the field."""
    staf = s.browser("staf")
    staf.go("/permohonan/baru")
    typed = dict(subject_user_id="helpdesk01", subject_full_name="Sekar Ayu Wulandari", subject_nip=HELPDESK["nip"],
                 subject_email=HELPDESK["email"], requester_name="   ", requester_contact="0812-2700-1234")
    for name, value in typed.items():
        staf.fill(name, value)
    staf.tick("kind_user_id", True)
    staf.choose("channel", "email")
    staf.choose("priority", "high")
    staf.css("input[name='surat_permohonan']").send_keys(s.letter)
    staf.submit_form("form[action='/permohonan/baru']")
    check(staf.path == "/permohonan/baru", f"a blank requester name went to {staf.path}")
    check(staf.last_document()["status"] in (400, 422), f"refused intake answered {staf.last_document()}")
    check(staf.has("#requester_name-error"), f"the requester name is not named: {staf.text('main')[:400]}")
    s.refusal(staf, "intake: requester name of spaces")
    check(staf.css("#requester_name").get_attribute("aria-invalid") == "true", "#requester_name is not aria-invalid")
    for name, value in typed.items():
        check(staf.value(name) == value, f"{name} not kept: {staf.value(name)!r} instead of {value!r}")
    check(staf.css("input[name='kind_reset']").is_selected() and staf.css("input[name='kind_user_id']").is_selected(), "kinds not kept")
    check(Select(staf.css("#channel")).first_selected_option.get_attribute("value") == "email", "channel not kept")
    check(Select(staf.css("#priority")).first_selected_option.get_attribute("value") == "high", "priority not kept")

    # No kind ticked.
    staf.tick("kind_reset", False)
    staf.tick("kind_user_id", False)
    staf.fill("requester_name", "Sekar Ayu Wulandari")
    staf.submit_form("form[action='/permohonan/baru']")
    check(staf.path == "/permohonan/baru", f"no kind went to {staf.path}")
    check(staf.has("#kinds-error"), f"the kinds are not named: {staf.text('main')[:400]}")
    s.refusal(staf, "intake: no kind ticked")
    check(staf.value("requester_name") == "Sekar Ayu Wulandari", "the requester name is not kept")
    check(staf.value("subject_nip") == HELPDESK["nip"], "the NIP is not kept")
    staf.shot("15-permohonan-baru-kesalahan.png", scroll_to="fieldset")


def test_csrf_and_headers(s):
    """A form without its token or with another session's is refused (403); pages are no-store with a CSP."""
    admin, staf = s.browser("admin"), s.browser("staf")
    admin.go("/akun?q=auditor01&reason=uji%20CSRF")
    admin.shot("13-akun.png")
    row = "tr[data-user='auditor01']"
    check(admin.has(row), "auditor01 not found")
    check_in("Aktif", admin.text(row), "auditor01's status")
    admin.driver.execute_script("document.querySelector(arguments[0] + \" form[action$='/disable'] input[name=csrf]\").remove()", row)
    admin.submit(admin.css(f"{row} form[action$='/disable'] button"))
    check(admin.last_document()["status"] == 403, f"a form without its token answered {admin.last_document()}")
    check_in("Formulir kedaluwarsa", admin.text("main"), "the refusal page")
    admin.go("/akun?q=auditor01&reason=uji%20CSRF")
    check_in("Aktif", admin.text(row), "auditor01 was disabled by a form without its token")

    # Another session's token (the staf's) does not work for the admin either.
    staf.go("/beranda")
    other = staf.css("input[name=csrf]").get_attribute("value")
    mine = admin.css("input[name=csrf]").get_attribute("value")
    check(other != mine, "two sessions share a CSRF token")
    answer = admin.fetch("POST", "/akun/auditor01/disable", f"csrf={other}&kembali=/akun")
    check(answer["status"] == 403, f"another session's token answered {answer['status']}")
    answer = admin.fetch("POST", "/keluar", "")
    check(answer["status"] == 403, f"signing out without a token answered {answer['status']}")
    admin.go("/beranda")
    check(admin.path == "/beranda", "the admin was signed out by a form without its token")

    # With the token: disable (auditor01 cannot sign in), enable.
    admin.go("/akun?q=auditor01&reason=uji%20status")
    admin.submit(admin.css(f"{row} form[action$='/disable'] button"))
    check_in("Status akun diubah.", admin.text(".flash"), "flash after disabling")
    check_in("Nonaktif", admin.text(row), "auditor01 disabled")
    auditor = s.browser("auditor")
    check(s.sign_in(auditor, AUDITOR["user_id"], AUDITOR["password"]) == "/masuk", "a disabled account signs in")
    # The right password of a disabled account is told so, as the API answers (403 account_disabled).
    check_in("Akun ini dinonaktifkan.", auditor.text("#form-error"), "a disabled account's refusal")
    admin.submit(admin.css(f"{row} form[action$='/enable'] button"))
    check_in("Aktif", admin.text(row), "auditor01 enabled again")
    # The account's own page, reached from the lookup: its facts and sign-in state.
    admin.go("/akun/auditor01?reason=uji%20status")
    check_in("Status masuk", admin.text("main"), "the account page")
    check(admin.has("#live-sessions"), "the account page shows no sessions")
    s.mobile(admin)

    # Every page: no-store, CSP, no framing.
    pages = [(admin, "/beranda"), (admin, f"/permohonan/{s.requests['full']}"), (admin, "/ganti-password"),
             (admin, "/laporan"), (auditor, "/masuk")]  # the auditor is signed out
    for b, path in pages:
        answer = b.fetch("GET", path)
        check(answer["status"] == 200, f"{path} answered {answer['status']} to {b.name}")
        headers = answer["headers"]
        check(headers.get("cache-control") == "no-store", f"{path}: cache-control {headers.get('cache-control')!r}")
        check_in("default-src 'self'", headers.get("content-security-policy", ""), f"{path}'s CSP")
        check(headers.get("x-frame-options") == "DENY", f"{path}: x-frame-options {headers.get('x-frame-options')!r}")


def test_reports_and_audit(s):
    """SLA report with SVG charts (staf), audit chain intact (auditor), the auditor may not create accounts."""
    staf, auditor = s.browser("staf"), s.browser("auditor")
    staf.go("/beranda")  # by now: the supplemented request and the helpdesk's own wait for the staf
    rows = staf.all("table.queue tbody tr")
    check(len(rows) >= 2, f"{len(rows)} rows in the staf's queue")
    staf.shot("03-beranda-staf.png")
    s.mobile(staf, "20-mobile-beranda.png")
    for path in ("/permohonan/baru", f"/permohonan/{s.requests['supplement']}", "/laporan"):
        staf.go(path)
        s.mobile(staf)
    # The request list: a file found again by its requester's name, filtered to those at step 9.
    staf.go("/permohonan")
    check(len(staf.all("table.rows tbody tr")) >= 3, "the request list is short")
    staf.go("/permohonan?q=" + s.requests["supplement"])
    check(len(staf.all("table.rows tbody tr")) == 1, "a search by number finds more or less than the one request")
    staf.go("/permohonan?langkah=99")
    check(staf.last_document()["status"] == 422 and staf.has("#form-error"), "a step 99 filter is not refused at the form")
    s.mobile(staf, "21-mobile-daftar-permohonan.png")
    staf.go("/laporan")
    charts = staf.all("figure.chart svg")
    check(len(charts) >= 1, "no SLA chart")
    check(len(staf.all("table.sla tbody tr")) >= 1, "the SLA table is empty")
    staf.shot("11-laporan-sla.png")
    check(s.sign_in(auditor, AUDITOR["user_id"], AUDITOR["password"]) == "/beranda", "the auditor cannot sign in")
    check(auditor.has("ul.links a[href='/audit']"), "the auditor's home has no audit link")
    auditor.go("/audit")
    check_in("Rantai audit utuh", auditor.text("#chain"), "the audit chain")
    auditor.shot("12-audit.png")
    auditor.go("/laporan")
    check(auditor.has("figure.chart svg"), "the auditor sees no SLA chart")
    auditor.go("/akun/baru")
    check(auditor.last_document()["status"] == 403, f"the auditor's /akun/baru answered {auditor.last_document()}")
    check_in("Peran Anda tidak berwenang untuk ini.", auditor.text("main"), "the auditor creating accounts")


def test_english(s):
    """The language switch: English pages and messages, then back to Indonesian."""
    b = s.browser("helpdesk")
    s.sign_in(b, "helpdesk01", HELPDESK_AFTER_RESET)
    b.go("/beranda")
    switch = b.css("a.lang")
    check(switch.text == "English", f"the switch says {switch.text!r}")
    b.submit(switch)
    check(b.path == "/beranda", f"the switch came back to {b.path}")
    check(b.driver.execute_script("return document.documentElement.lang") == "en", "html lang is not en")
    check(b.text("h1") == "Home", f"home heading {b.text('h1')!r}")
    nav = b.text("nav")
    for word in ("Home", "Change password", "New request"):
        check_in(word, nav, "English menu")
    check_in("My requests", b.text("main"), "English home")
    check_in("Sign out", b.text("header"), "English header")
    b.shot("14-english.png")
    b.go("/ganti-password")
    check(b.text("h1") == "Change password", f"change password heading {b.text('h1')!r}")
    b.sign_out()
    check(b.text("h1") == "Sign in", f"sign-in heading {b.text('h1')!r}")
    b.fill("user_id", "helpdesk01")
    b.fill("password", "salah sekali")
    b.submit_form("form[action='/masuk']")
    check_in("Wrong User ID or password.", b.text("#form-error"), "English refusal")
    b.submit(b.css("a.lang"))
    check(b.text("h1") == "Masuk", f"back in Indonesian the heading is {b.text('h1')!r}")


TESTS = [
    test_admin_first_login,
    test_change_password_refusals,
    test_create_accounts,
    test_forced_changes,
    test_second_factor,
    test_sop_full_path,
    test_rejection_path,
    test_supplement_loop,
    test_hint_mismatch,
    test_helpdesk_files_own_request,
    test_refused_intake_keeps_input,
    test_csrf_and_headers,
    test_reports_and_audit,
    test_english,
]


# Words that give away an English message on an Indonesian page.
ENGLISH = re.compile(r"\b(a|an|the|must|needs?|is|are|may|asks|required|characters|before|after|by)\b")


def report_refusals(s):
    """Lists the refusal messages the pages showed, then the warnings: what looks wrong in the
    console (English on an Indonesian page, sideways scrolling on a phone) but fails no test."""
    if s.refusals:
        print("Refusals shown:")
    for what, text, lang in s.refusals:
        body = text.split(":", 1)[-1].strip() if text.startswith("Tidak dapat diproses") else text
        english = lang == "id" and ENGLISH.search(body)
        print(f"  {'WARN English on an Indonesian page: ' if english else ''}{what}: {text}")
    for text in s.warnings:
        print(f"WARN {text}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the console's URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--admin-temp", required=True, help="admin.ppe's temporary password from bootstrap-admin")
    parser.add_argument("--screenshots", help="directory for the screenshots (none when absent)")
    parser.add_argument("--artifacts", help="directory for a failing test's page and screenshot")
    parser.add_argument("-k", dest="only", help="stop after the first test whose name contains this")
    args = parser.parse_args()
    suite = Suite(args)
    passed = 0
    started = time.monotonic()
    try:
        for test in TESTS:
            name = test.__name__[len("test_"):]
            began = time.monotonic()
            try:
                test(suite)
            except Exception as error:
                print(f"FAIL {name} ({time.monotonic() - began:.1f}s): {test.__doc__}", file=sys.stderr)
                if isinstance(error, AssertionError):
                    print(f"    {error}", file=sys.stderr)
                    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.name not in ("check", "check_in")]
                    print("    at " + "".join(traceback.format_list(frames[-2:])).strip().replace("\n", "\n    "), file=sys.stderr)
                else:
                    traceback.print_exc()
                suite.save_failure()
                print(f"{passed} passed, 1 failed, {len(TESTS) - passed - 1} not run", file=sys.stderr)
                return 1
            passed += 1
            print(f"PASS {name} ({time.monotonic() - began:.1f}s)", flush=True)
            if args.only and args.only in name:
                break
    finally:
        suite.close()
    report_refusals(suite)
    blocking = report_axe()
    print(f"{passed} passed in {time.monotonic() - started:.0f}s" + (f"; screenshots in {args.screenshots}" if args.screenshots else ""))
    if blocking:
        print(f"FAIL accessibility: {blocking} critical or serious axe-core violations (above)", file=sys.stderr)
        return 1
    return 0


def report_axe():
    """Per page and width, what axe-core found; returns how many violations were critical or serious."""
    if not AXE_SOURCE:
        print("WARN axe-core not installed: accessibility not measured")
        return 0
    counts = {}
    blocking = 0
    for (page, width), violations in sorted(AXE_RESULTS.items()):
        for rule, impact, nodes, help_text in violations:
            counts[impact] = counts.get(impact, 0) + 1
            severe = impact in ("critical", "serious")
            blocking += severe
            print(f"  axe {'FAIL' if severe else 'note'} {page} at {width} px: {impact} {rule} ({nodes} elements): {help_text}")
    pages = len({page for page, _ in AXE_RESULTS})
    summary = ", ".join(f"{counts.get(level, 0)} {level}" for level in ("critical", "serious", "moderate", "minor"))
    print(f"axe-core {AXE_SOURCE[3:14].strip()}: {pages} pages at {' and '.join(str(w) for w, _, _ in AXE_WIDTHS)} px: {summary}")
    return blocking


if __name__ == "__main__":
    sys.exit(main())
