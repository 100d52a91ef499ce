"""What the page objects stand on: one headless Chromium per person (its own cookies), axe-core on
every distinct page at 1366 and 360 px, the TOTP codes an authenticator app would show, the
people of the tests (unique user IDs, NIPs and e-mails), and a small client of the JSON API
(`/v1/...`) for setting up what a test needs but does not test.

Nothing here asserts what the console should do; the tests and the page objects do.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import struct
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 20
POLL = 0.05  # how often a wait looks again (Selenium's default, 0.5 s, would idle after every click)

# axe-core, as selenium-axe-python ships it: run once on every distinct page the suite reaches, at
# 1366 px and at 360 px. A critical or serious violation fails the test that reached the page.
try:
    import selenium_axe_python
    AXE_SOURCE = open(os.path.join(os.path.dirname(selenium_axe_python.__file__), "axe-core", "axe.min.js")).read()
except (ImportError, OSError):
    AXE_SOURCE = None
AXE_WIDTHS = ((1366, 900, False), (360, 800, True))
DESKTOP, PHONE = (1280, 900, False), (360, 800, True)
BLOCKING = ("critical", "serious")
IMPACTS = ("critical", "serious", "moderate", "minor")

# Words that give away an English message on an Indonesian page.
ENGLISH = re.compile(r"\b(a|an|the|must|needs?|is|are|may|asks|required|characters|before|after|by)\b")


class Record:
    """What the whole run collects, for the terminal summary: axe-core's findings per page and
    width (with the test that reached the page first), the refusals pages showed, and the
    warnings (what looks wrong in the console but fails no test)."""

    def __init__(self):
        self.current = None        # the node ID of the test being set up, run or torn down
        self.axe = {}              # (page, width) -> {"test": node ID, "violations": [(rule, impact, nodes, help)]}
        self.refusals = []         # (test, what was refused, the message shown, the page's lang)
        self.warnings = []         # (test, text)
        self.shots = set()         # screenshot names written in this run

    def warn(self, text):
        self.warnings.append((self.current, text))

    def axe_of(self, test):
        """The (page, width, violations) axe-core checked while `test` ran."""
        return [(page, width, found["violations"]) for (page, width), found in sorted(self.axe.items()) if found["test"] == test]


RECORD = Record()


class ConsoleBug(AssertionError):
    """What the console should do and does not yet, reported and awaiting its fix in the Swift:
    a test that meets one is marked `xfail(raises=ConsoleBug, strict=True)`, so any other failure
    still fails it and the fix makes it pass (XPASS, strict: remove the mark)."""


class KnownBugs:
    """Expectations a known console bug breaks: each is checked where it belongs, recorded (and
    warned) when broken, and `settle()` at the end of the test raises them as one ConsoleBug, so
    the rest of the path is still exercised and asserted."""

    def __init__(self):
        self.found = []

    def expect(self, condition, message):
        if not condition:
            self.found.append(message)
            RECORD.warn(f"console bug (xfail): {message}")
        return condition

    def settle(self):
        if self.found:
            raise ConsoleBug("; ".join(self.found))


# What tells apart two pages at one URL (a form, and what its POST answered).
VARIANTS = ("#receipt", "#public-status", "#recovery-codes", "#temporary-password", "#disclosed-user-id")


def page_key(url):
    """The page a URL is, whatever request, document or account it names."""
    path = re.sub(r"^https?://[^/]+", "", url).split("#")[0]
    path, _, query = path.partition("?")
    path = re.sub(r"REQ-\d{4}-\d{6}", "{request}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    path = re.sub(r"^/akun/(?!baru$|massal$)[^/]+", "/akun/{user}", path)
    return path + ("?…" if query else "")


def _stale(element):
    try:
        element.tag_name
        return False
    except Exception:
        return True


class Browser:
    """One person's browser: its own profile, cookies and history. `who` names it in the
    artifacts of a failing test."""

    def __init__(self, base, shots):
        self.base, self.shots, self.who = base, shots, "browser"
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
        self.screen = DESKTOP  # the width the person uses (axe-core's and mobile()'s looks come back to it)
        self.viewport(*self.screen)

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass

    def reset(self, who):
        """A clean slate for the next person: no cookies (session, language), a blank page."""
        self.who = who
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        self.driver.get("about:blank")
        self.screen = DESKTOP
        self.viewport(*self.screen)
        self._drain()

    # --- navigation -----------------------------------------------------------------------------

    def go(self, path):
        self._drain()
        self.driver.get(self.base + path)
        self.ready()
        return self

    def submit(self, button):
        """Clicks a submit button (or a link) and waits for the next page."""
        self._drain()
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()
        WebDriverWait(self.driver, TIMEOUT, poll_frequency=POLL).until(lambda d: _stale(old))
        self.ready()
        return self

    def submit_form(self, form_selector):
        form = self.css(form_selector)
        return self.submit(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    def reload(self):
        self._drain()
        self.driver.refresh()
        self.ready()

    def back(self):
        self.driver.back()
        self.ready()

    def forward(self):
        self.driver.forward()
        self.ready()

    def ready(self):
        WebDriverWait(self.driver, TIMEOUT, poll_frequency=POLL).until(lambda d: d.execute_script("return document.readyState") == "complete")
        self._axe()

    def _axe(self):
        """axe-core on this page at both widths, once per page and width in the run (RECORD.axe)."""
        if not AXE_SOURCE:
            return
        try:
            if self.driver.execute_script("return document.contentType") != "text/html":
                return
            key = page_key(self.driver.current_url)
            # The answer to a POST keeps the form's URL: a receipt, a status or a secret shown
            # there is a page of its own.
            variant = self.driver.execute_script("return arguments[0].find(s => document.querySelector(s) !== null) || null",
                                                 list(VARIANTS))
            if variant:
                key += f" ({variant})"
        except Exception:
            return
        for width, height, mobile in AXE_WIDTHS:
            if (key, width) in RECORD.axe:
                continue
            self.viewport(width, height, mobile=mobile)
            try:
                if not self.driver.execute_script("return typeof axe !== 'undefined'"):
                    self.driver.execute_script(AXE_SOURCE)
                found = self.driver.execute_async_script("""
                    const done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']})
                       .then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length, v.help])))
                       .catch(e => done([['axe-error', 'minor', 0, String(e)]]));""")
                RECORD.axe[(key, width)] = {"test": RECORD.current, "violations": [tuple(v) for v in found]}
            finally:
                self.viewport(*self.screen)

    @property
    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    # --- reading the page -----------------------------------------------------------------------

    def css(self, selector, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, selector)

    def all(self, selector, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def has(self, selector, within=None):
        return len(self.all(selector, within)) > 0

    def text(self, selector="body"):
        return self.css(selector).text

    def source(self):
        return self.driver.page_source

    def lang(self):
        return self.driver.execute_script("return document.documentElement.lang")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def fill(self, name, value, within=None):
        field = self.css(f"[name='{name}']", within)
        field.clear()
        if value:
            field.send_keys(value)
        return field

    def choose(self, name, value, within=None):
        """Selects an option of a <select> or ticks the radio with that value."""
        field = self.css(f"[name='{name}']", within)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            radio = self.css(f"input[name='{name}'][value='{value}']", within)
            if not radio.is_selected():
                radio.click()

    def selected(self, selector):
        return Select(self.css(selector)).first_selected_option.get_attribute("value")

    def tick(self, name, on=True):
        box = self.css(f"input[type=checkbox][name='{name}']")
        if box.is_selected() != on:
            box.click()

    def attach(self, name, path, within=None):
        self.css(f"input[type=file][name='{name}']", within).send_keys(path)

    def value(self, name, within=None):
        return self.css(f"[name='{name}']", within).get_attribute("value")

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

    # --- the keyboard ---------------------------------------------------------------------------

    def focused(self, selector):
        return self.driver.execute_script("return document.activeElement && document.activeElement.matches(arguments[0])", selector)

    def press(self, *keys):
        """Keys pressed as a person presses them (CDP key events to whatever has the focus)."""
        ActionChains(self.driver).send_keys(*keys).perform()

    def tab_to(self, selector, backwards=False, limit=120):
        """Tab (or Shift+Tab) until the focus is on `selector`; fails when it never gets there."""
        for _ in range(limit):
            if backwards:
                ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
            else:
                self.press(Keys.TAB)
            if self.focused(selector):
                return self.driver.switch_to.active_element
        where = self.driver.execute_script("const e = document.activeElement; return e ? e.outerHTML.slice(0, 200) : null")
        raise AssertionError(f"{'Shift+' if backwards else ''}Tab never reaches {selector} on {self.path} (the focus is on {where})")

    def type(self, text):
        """Types into the focused field, replacing what it held (Ctrl+A, then the text)."""
        ActionChains(self.driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE).perform()
        if text:
            self.press(text)

    def press_and_wait(self, key=Keys.ENTER):
        """Presses a key that leaves the page (Enter on a button, a link or a field) and waits for the next one."""
        self._drain()
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.press(key)
        WebDriverWait(self.driver, TIMEOUT, poll_frequency=POLL).until(lambda d: _stale(old))
        self.ready()
        return self

    def focus_ring(self):
        """Whether the focused element shows where the focus is (an outline or a box shadow)."""
        return self.driver.execute_script("""
            const s = getComputedStyle(document.activeElement);
            return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';""")

    # --- screenshots and the phone's width ------------------------------------------------------

    def viewport(self, width, height, mobile):
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
        RECORD.shots.add(name)

    def use(self, screen):
        """The person's screen from now on (DESKTOP or PHONE): every page is seen at its width."""
        self.screen = screen
        self.viewport(*screen)

    def overflow(self):
        """How many px the page is wider than the viewport (it scrolls sideways), and where that
        starts: up to three elements past the right edge whose parent is not."""
        return self.driver.execute_script("""
            const edge = document.documentElement.clientWidth;
            const wider = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - edge;
            const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.classList.length ? '.' + [...e.classList].join('.') : '');
            const culprits = [...document.body.querySelectorAll('*')].filter(e =>
                e.getBoundingClientRect().right > edge + 1 && e.parentElement.getBoundingClientRect().right <= edge + 1);
            return [wider, [...new Set(culprits.map(name))].slice(0, 3)];""")

    def outside(self, selector):
        """The elements matching `selector` that are shown but do not fit the viewport's width (a
        person would have to scroll sideways to reach them), as short descriptions."""
        return self.driver.execute_script("""
            const edge = document.documentElement.clientWidth;
            return [...document.querySelectorAll(arguments[0])]
                .filter(e => e.getClientRects().length > 0)
                .filter(e => { const r = e.getBoundingClientRect(); return r.left < -1 || r.right > edge + 1; })
                .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.name ? '[name=' + e.name + ']' : ''));""", selector)

    def warn_if_wider(self):
        """A WARN when the page at the current (phone) width scrolls sideways; returns the overflow."""
        wider, culprits = self.overflow()
        if wider > 0:
            width = self.driver.execute_script("return document.documentElement.clientWidth")
            RECORD.warn(f"{self.path} at {width} px is {wider} px wider than the screen (scrolls sideways; from {', '.join(culprits)})")
        return wider

    def mobile(self, name=None):
        """A look at the page at 360 x 800 (a phone), its screenshot when named; warns when the
        page is wider than the screen (it scrolls sideways), naming where the overflow starts."""
        self.viewport(*PHONE)
        try:
            time.sleep(0.3)
            if name:
                self.shot(name)
            wider = self.warn_if_wider()
        finally:
            self.viewport(*self.screen)
        return wider

    def clipboard(self):
        """What the page put on the clipboard (the browser is allowed to read and write it)."""
        return self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            navigator.clipboard.readText().then(done).catch(e => done('ERROR ' + e));""")

    def allow_clipboard(self):
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    def save(self, directory, stem):
        """The page's HTML and screenshot, for a failing test."""
        self.driver.save_screenshot(os.path.join(directory, f"{stem}.png"))
        with open(os.path.join(directory, f"{stem}.html"), "w") as f:
            f.write(self.source())


class BrowserPool:
    """Chromium is slow to start: a browser a test is done with goes back here, its cookies cleared."""

    def __init__(self, base, shots):
        self.base, self.shots = base, shots
        self.idle, self.busy = [], []

    def acquire(self, who):
        browser = self.idle.pop() if self.idle else Browser(self.base, self.shots)
        browser.reset(who)
        self.busy.append(browser)
        return browser

    def release(self, browser):
        self.busy.remove(browser)
        try:
            browser.reset("idle")
            self.idle.append(browser)
        except Exception:  # a dead browser: start a new one next time
            browser.quit()

    def close(self):
        for browser in self.idle + self.busy:
            browser.quit()
        self.idle, self.busy = [], []


# --- second factor --------------------------------------------------------------------------------

def totp(secret, step):
    """RFC 6238 (HMAC-SHA1, 6 digits, 30 s), as an authenticator app computes it from the key the
    enrolment page shows (base32, RFC 4648)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


class Authenticators:
    """Each operator's authenticator: its secret, the last 30-second step whose code was used (the
    server accepts the steps around now, ±1, each once and in order) and the recovery codes."""

    def __init__(self):
        self.secrets, self.steps, self.recovery = {}, {}, {}

    def enrolled(self, user_id, secret, recovery=None):
        self.secrets[user_id] = secret
        self.steps.pop(user_id, None)
        if recovery is not None:
            self.recovery[user_id] = list(recovery)

    def forget(self, user_id):
        for table in (self.secrets, self.steps, self.recovery):
            table.pop(user_id, None)

    def code(self, user_id):
        """A code the server has not seen yet (waits for the next step when the window is spent)."""
        while True:
            now = int(time.time() // 30)
            step = max(now, self.steps.get(user_id, -1) + 1)
            if step <= now + 1:
                break
            time.sleep(30.2 - time.time() % 30)
        self.steps[user_id] = step
        return totp(self.secrets[user_id], step)

    def used(self, user_id):
        """The code of the last step used: the server must refuse it."""
        return totp(self.secrets[user_id], self.steps[user_id])

    def wrong(self, user_id):
        """Six digits that are no code of this authenticator now."""
        now = int(time.time() // 30)
        valid = {totp(self.secrets[user_id], now + d) for d in (-1, 0, 1, 2)} if user_id in self.secrets else set()
        return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in valid)


# --- people ---------------------------------------------------------------------------------------

OPERATORS = ("admin_ppe", "staf_administrasi")
AGENCY = "LPSE Kabupaten Purbalingga"

_FIRST = ["Sekar", "Rina", "Agus", "Dewi", "Bayu", "Ratna", "Hendra", "Putri", "Wahyu", "Indah", "Yusuf", "Larasati"]
_MIDDLE = ["Ayu", "Dwi", "Eka", "Tri", "Nur", "Adi"]
_LAST = ["Wulandari", "Marlina", "Prasetyo", "Lestari", "Nugroho", "Gunawan", "Maharani", "Hidayat", "Permata",
         "Kusuma", "Setiawan", "Anggraini"]
# Passphrases the people choose: none holds a name word, a user ID, an e-mail or the agency.
_PHRASES = ["nasi goreng kambing enak", "soto sokaraja pedas", "gethuk goreng manis legit", "mendoan hangat tiap pagi",
            "kopi jahe hangat sekali", "tempe mendoan kecap manis", "dawet ayu segar siang", "sroto kuah bening gurih"]
_PREFIX = {"helpdesk": "helpdesk", "staf_administrasi": "staf", "admin_ppe": "admin", "auditor": "auditor",
           "admin_agency": "agency", "verifikator": "verif"}


@dataclass
class Person:
    user_id: str
    full_name: str
    role: str
    nip: str
    email: str
    agency: str
    password: str                      # the password they choose at their first login
    temporary: str = None              # the temporary password the account was created with

    @property
    def operator(self):
        return self.role in OPERATORS

    @property
    def words(self):
        return self.full_name.split()

    def form(self):
        """The account's fields as the console's and the API's forms name them."""
        return dict(user_id=self.user_id, full_name=self.full_name, nip=self.nip, email=self.email, agency=self.agency,
                    role=self.role)


class People:
    """New people for every test: user IDs `helpdesk01`, `staf02`…, a name no one else in the run
    has, a real-looking NIP of their own (YYYYMMDD birth, YYYYMM appointment, sex, sequence) and an
    e-mail of their own."""

    def __init__(self):
        self.serial = 0
        self.per_prefix = {}

    def new(self, role, **overrides):
        self.serial += 1
        n = self.serial
        prefix = _PREFIX.get(role, "user")
        self.per_prefix[prefix] = self.per_prefix.get(prefix, 0) + 1
        user_id = f"{prefix}{self.per_prefix[prefix]:02d}"
        i = n - 1
        name = f"{_FIRST[i % 12]} {_MIDDLE[(i // 12) % 6]} {_LAST[(i // 72 + i) % 12]}"
        # Born on day `n` counted from 1 January 1970; appointed in March 2005; sequence n.
        born = time.gmtime(86400 * (n % 3650))
        nip = f"{born.tm_year:04d}{born.tm_mon:02d}{born.tm_mday:02d}200503{1 + n % 2}{n % 999 + 1:03d}"
        person = Person(user_id=user_id, full_name=name, role=role, nip=nip, email=f"{user_id}@purbalinggakab.go.id",
                        agency=AGENCY, password=f"{_PHRASES[n % len(_PHRASES)]} {n}")
        for key, value in overrides.items():
            setattr(person, key, value)
        return person


# --- the JSON API ---------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path} answered {status}: {body}")
        self.status, self.body = status, body


class Api:
    """The JSON API (`/v1/...`): for setting up accounts, never for what a test checks."""

    def __init__(self, base, codes):
        self.base, self.codes = base, codes

    def call(self, method, path, body=None, token=None, reason=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        if reason:
            request.add_header("X-Lookup-Reason", reason)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                text = response.read().decode()
                return response.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = text
            raise ApiError(method, path, error.code, answer) from None

    def login(self, person, password):
        """A session: the password, then a code when the account has an authenticator."""
        _, answer = self.call("POST", "/v1/auth/login", {"user_id": person.user_id, "password": password})
        if answer["outcome"] == "totp_required":
            _, answer = self.call("POST", "/v1/auth/login/totp", {"challenge": answer["challenge"], "code": self.codes.code(person.user_id)})
        return answer

    def settle(self, person, enrol=True):
        """A new account's first login done through the API: the temporary password changed for the
        person's own and, for an operator, an authenticator enrolled (its codes known to the
        tests). Returns the session token of the last step."""
        answer = self.login(person, person.temporary)
        assert answer["outcome"] == "password_change_required", f"{person.user_id}'s first login: {answer}"
        self.call("POST", "/v1/auth/password", {"current_password": person.temporary, "new_password": person.password},
                  token=answer["token"])
        answer = self.login(person, person.password)
        if answer["outcome"] == "totp_enrolment_required" and enrol:
            token = answer["token"]
            _, enrolment = self.call("POST", "/v1/auth/totp/enrol", token=token)
            self.codes.enrolled(person.user_id, enrolment["secret"])
            _, codes = self.call("POST", "/v1/auth/totp/confirm", {"code": self.codes.code(person.user_id)}, token=token)
            self.codes.recovery[person.user_id] = codes["recovery_codes"]
            return token
        return answer["token"]


class OperatorApi:
    """The Admin PPE's bearer session, stepped up again (a fresh code) before it is five minutes old."""

    STEP_UP_AFTER = 240

    def __init__(self, api, person, token):
        self.api, self.person, self.token = api, person, token
        self.stepped_up = time.monotonic()

    def call(self, method, path, body=None, reason=None, lasting=False):
        if lasting and time.monotonic() - self.stepped_up > self.STEP_UP_AFTER:
            self.api.call("POST", "/v1/auth/step-up", {"code": self.api.codes.code(self.person.user_id)}, token=self.token)
            self.stepped_up = time.monotonic()
        return self.api.call(method, path, body, token=self.token, reason=reason)

    def create(self, people, role, attempts=20, **overrides):
        """A new account (its temporary password in `.temporary`); the next user ID, NIP and e-mail
        when one is taken (a run against a server that saw an earlier one)."""
        for _ in range(attempts):
            person = people.new(role, **overrides)
            try:
                _, created = self.call("POST", "/v1/accounts", person.form(), lasting=True)
            except ApiError as error:
                if error.status == 409 and not {"user_id", "nip", "email"} & set(overrides):
                    continue
                raise
            person.temporary = created["temporary_password"]
            return person
        raise AssertionError(f"no free user ID for a new {role} after {attempts} tries")

    def account(self, user_id):
        """The account as the API shows it, or None."""
        try:
            return self.call("GET", f"/v1/accounts/{user_id}", reason="uji konsol")[1]
        except ApiError as error:
            if error.status == 404:
                return None
            raise
