"""Page objects of the web console: what a person sees and does on each page, so the tests say
"the staf checks completeness" instead of repeating selectors. An `Actor` is a person at their
browser; its methods open pages and return the page object of where the browser landed.

The page objects assert only what every use of a page needs (that a form led somewhere); the
tests assert what the console should do.
"""
import base64
import csv
import io
import re
from urllib.parse import quote

from selenium.webdriver.common.by import By

from harness import RECORD

REQUEST_PATH = re.compile(r"^/permohonan/(REQ-\d{4}-\d{6})(?:\?.*)?$")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Page:
    """What every console page has: the heading, the flash, the error, the menu, the switch."""

    def __init__(self, actor):
        self.actor, self.b = actor, actor.b

    @property
    def path(self):
        return self.b.path

    @property
    def heading(self):
        return self.b.text("h1")

    @property
    def main(self):
        return self.b.text("main")

    @property
    def flash(self):
        return self.b.text(".flash") if self.b.has(".flash") else ""

    @property
    def error(self):
        return self.b.text("#form-error") if self.b.has("#form-error") else ""

    @property
    def nav(self):
        return self.b.text("nav") if self.b.has("header nav") else ""

    @property
    def header(self):
        return self.b.text("header")

    @property
    def lang(self):
        return self.b.lang()

    @property
    def status(self):
        return (self.b.last_document() or {}).get("status")

    def field_error(self, name):
        """The message next to a field (`#name-error`), or None."""
        found = self.b.all(f"#{name}-error")
        return found[0] if found else None

    def refusal(self, what):
        """The refusal the page shows (#form-error), kept for the summary; fails when there is none."""
        check(self.b.has("#form-error"), f"no error shown for {what}: {self.main[:300]}")
        text = self.b.text("#form-error")
        RECORD.refusals.append((RECORD.current, what, text, self.lang))
        return text

    def switch_language(self):
        """The switch in the header (English ↔ Indonesian); back on the same page."""
        self.b.submit(self.b.css("a.lang"))
        return self.actor.landed()

    @property
    def switch_label(self):
        return self.b.css("a.lang").text

    def sign_out(self):
        self.b.submit(self.b.css("form.signout button[type=submit]"))
        check(self.path == "/masuk", f"signing out lands on {self.path}")
        return SignInPage(self.actor)

    def csrf(self):
        return self.b.css("input[name=csrf]").get_attribute("value")


# --- signing in -----------------------------------------------------------------------------------

class SignInPage(Page):
    def enter(self, user_id, password):
        self.b.fill("user_id", user_id)
        self.b.fill("password", password)
        self.b.submit_form("form[action='/masuk']")
        return self.actor.landed()

    def typed(self, name):
        return self.b.value(name)

    @property
    def forgot_link(self):
        """The link for whoever cannot sign in ("Lupa password atau User ID? …")."""
        return self.b.css("#forgot a[href='/lupa']").text

    def forgot(self):
        """Follows "Lupa password atau User ID? Ajukan permohonan" to the public request form."""
        self.b.submit(self.b.css("#forgot a[href='/lupa']"))
        return self.actor.landed()


class CodePage(Page):
    def enter(self, code):
        self.b.fill("code", code)
        self.b.submit_form("form[action='/masuk/kode']")
        return self.actor.landed()


class StepUpPage(Page):
    """The code a lasting change asks for when the last one is older than five minutes."""

    def enter(self, code):
        self.b.fill("code", code)
        self.b.submit_form("form[action='/kode-ulang']")
        return self.actor.landed()


class PasswordPage(Page):
    @property
    def forced(self):
        return "Anda wajib mengganti password sementara" in self.main or self.b.has("main p.notice")

    def change(self, current, new, repeat=None):
        self.b.fill("current_password", current)
        self.b.fill("new_password", new)
        self.b.fill("repeat_password", new if repeat is None else repeat)
        self.b.submit_form("form[action='/ganti-password']")
        return self.actor.landed()

    def field(self, name):
        return self.b.css(f"#{name}")


class EnrolmentPage(Page):
    @property
    def secret(self):
        return self.b.css("#totp-secret").get_attribute("data-secret")

    @property
    def shows_qr(self):
        return self.b.has("#totp-secret") and self.b.has("figure.qr svg")

    def confirm(self, code):
        self.b.fill("code", code)
        self.b.submit_form("form[action='/totp']")
        return self.actor.landed()


class RecoveryPage(Page):
    @property
    def codes(self):
        return [li.text for li in self.b.all("#recovery-codes li")]

    def carry_on(self):
        self.b.submit(self.b.css("main a.button[href='/beranda']"))
        return self.actor.landed()


# --- home, the request list -------------------------------------------------------------------------

class HomePage(Page):
    @property
    def queue(self):
        """The request numbers waiting for this person (their role's queue)."""
        return [row.get_attribute("data-request") for row in self.b.all("table.queue tbody tr")]

    def row(self, number):
        found = self.b.all(f"tr[data-request='{number}']")
        return found[0].text if found else None

    def badges(self, number):
        """The badges of a queue row (e.g. "daring" for a request filed online), with their titles."""
        return [(badge.text, badge.get_attribute("title")) for badge in self.b.all(f"tr[data-request='{number}'] td:first-child .badge")]

    @property
    def links(self):
        return [a.get_attribute("href").replace(self.b.base, "") for a in self.b.all("ul.links a")]


class RequestListPage(Page):
    def search(self, text):
        """The list's search form (a request number, the requester's name, a user ID)."""
        self.b.fill("q", text)
        self.b.submit(self.b.css("form[role=search] button[type=submit]"))
        return self.actor.landed()

    @property
    def rows(self):
        return [row.get_attribute("data-request") for row in self.b.all("table.rows tbody tr")]


# --- requests --------------------------------------------------------------------------------------

class FilingForm(Page):
    """A request form with both documents: the staf's intake and the public one at /lupa."""

    ACTION = ""

    def attach_documents(self, letter, decree):
        if letter:
            self.b.attach("surat_permohonan", letter)
        if decree:
            self.b.attach("sk_pengangkatan", decree)
        return self

    def submit(self):
        self.b.submit_form(f"form[action='{self.ACTION}']")
        return self.actor.landed()

    def kinds(self):
        return (self.b.css("input[name='kind_reset']").is_selected(), self.b.css("input[name='kind_user_id']").is_selected())


class NewRequestPage(FilingForm):
    ACTION = "/permohonan/baru"

    def fill(self, *, subject=None, user_id=None, full_name=None, nip=None, email=None, role="helpdesk",
             reset=True, user_id_info=False, requester="Sekar Ayu Wulandari", contact="0812-2700-1234",
             channel="hardcopy", priority="normal", letter=None, decree=None):
        """The intake form (SOP step 1). `subject` is a Person whose user ID, name, NIP and e-mail
        are the hint unless given one by one; None leaves a field empty."""
        b = self.b
        b.tick("kind_reset", reset)
        b.tick("kind_user_id", user_id_info)
        b.fill("subject_user_id", user_id or "")
        b.fill("subject_full_name", full_name or "")
        b.fill("subject_nip", nip or "")
        b.fill("subject_email", email or "")
        b.choose("subject_role", role)
        b.fill("requester_name", requester)
        b.fill("requester_contact", contact)
        b.choose("channel", channel)
        b.choose("priority", priority)
        return self.attach_documents(letter, decree)



class RequestPage(Page):
    @property
    def number(self):
        return re.search(r"REQ-\d{4}-\d{6}", self.path).group(0)

    @property
    def state(self):
        return self.b.css("#state").get_attribute("data-state")

    @property
    def facts(self):
        return self.b.text("dl.facts")

    @property
    def documents(self):
        return self.b.all("ul.documents a")

    @property
    def document_count(self):
        return len(self.b.all("ul.documents li"))

    def offers(self, selector):
        """Whether this person is offered a step's form (#completeness-form, #validity, #execute…)."""
        return self.b.has(selector)

    def completeness(self, complete=True, note=None, wanting=()):
        """Step 2; `wanting` ticks documents on file that will not do (by type)."""
        form = self.b.css("#completeness-form")
        self.b.choose("complete", "true" if complete else "false", within=form)
        for kind in wanting:
            self.b.css(f"input[name='wanting_{kind}']", form).click()
        self.b.fill("note", note or "", within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()

    def search_account(self, text):
        """The validity step's account search (a GET of the same page)."""
        self.b.fill("cari", text, within=self.b.css("#validity"))
        self.b.submit(self.b.css("#validity form[role=search] button[type=submit]"))
        return self.actor.landed()

    def search_result(self, user_id):
        """The label of the search result for `user_id`: its text and its mismatch badge (or None)."""
        choice = self.b.css(f"#validity input[name='subject_user_id'][value='{user_id}']")
        label = choice.find_element(By.XPATH, "./ancestor::label")
        badges = label.find_elements(By.CSS_SELECTOR, ".badge")
        return label.text, (badges[0].text if badges else None)

    def validity(self, *, account=None, valid=True, reason=None, acknowledgement=None):
        form = self.b.css("#validity form[method=post]")
        if account:
            self.b.choose("subject_user_id", account, within=form)
        self.b.choose("valid", "true" if valid else "false", within=form)
        self.b.fill("reason", reason or "", within=form)
        self.b.fill("acknowledgement", acknowledgement or "", within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()

    @property
    def asks_step_up_code(self):
        return self.b.has("#step_up_code")

    def execute(self, code=None):
        """Step 6. `code` is the step-up code; the field is added when the page does not ask for
        one (the console checks any code it is sent), so a wrong one can always be tried."""
        form = self.b.css(f"form[action='/permohonan/{self.number}/langkah/execute']")
        if code is not None:
            if not self.asks_step_up_code:
                self.b.js("const i = document.createElement('input'); i.type = 'hidden'; i.name = 'code'; arguments[0].append(i)", form)
                self.b.js("arguments[0].value = arguments[1]", self.b.css("input[name='code']", form), code)
            else:
                self.b.fill("code", code, within=form)
        self.b.submit(self.b.css("#execute"))
        return self.actor.landed()

    def handover(self, recipient=None, channel="phone"):
        form = self.b.css("#handover-form")
        if recipient is not None:
            self.b.fill("recipient", recipient, within=form)
        self.b.choose("channel", channel, within=form)
        self.b.submit(self.b.css("#handover"))
        return self.actor.landed()

    def notify(self):
        self.b.submit(self.b.css("#notify"))
        return self.actor.landed()

    def supplement(self):
        self.b.submit(self.b.css("#supplement"))
        return self.actor.landed()

    def archive(self):
        self.b.submit(self.b.css("#archive"))
        return self.actor.landed()

    @property
    def dismiss_buttons(self):
        """The one-click refusals of an online filing: {reason: label}."""
        return {button.get_attribute("value"): button.text for button in self.b.all("#dismiss button[name='reason']")}

    def dismiss(self, reason):
        """Step 2's refusal of an online filing as spam or a duplicate (one click)."""
        self.b.submit(self.b.css(f"#dismiss button[name='reason'][value='{reason}']"))
        return self.actor.landed()

    @property
    def notices(self):
        """The notices listed under the timeline (step · recipient · outcome · queued)."""
        return [li.text for li in self.b.all("section[aria-labelledby='timeline-title'] h3:first-of-type + ul li")
                if self.b.text("section[aria-labelledby='timeline-title'] h3:first-of-type") in ("Pemberitahuan", "Notices")]

    @property
    def archive_warns(self):
        return self.b.has("#archive ~ p.warn") or "Penerimaan belum dikonfirmasi" in self.main

    def upload(self, type, path):
        form = self.b.css(f"form[action='/permohonan/{self.number}/dokumen']")
        self.b.choose("type", type, within=form)
        self.b.attach("file", path, within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()

    @property
    def may_upload(self):
        return self.b.has(f"form[action='/permohonan/{self.number}/dokumen']")

    @property
    def timeline(self):
        """[(step number, actor, ended?)] in the order of the timeline table."""
        rows = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in self.b.all("table.timeline tbody tr")]
        return [(row[0].split()[0], row[3], bool(row[2])) for row in rows]


class SecretPage(Page):
    """A temporary password shown once: a new account's, or step 6's (with the hand-over form)."""

    @property
    def password(self):
        return self.b.css("#temporary-password").get_attribute("data-secret")

    @property
    def shown(self):
        """The password as the page groups it for reading aloud."""
        return "".join(span.text for span in self.b.all("#temporary-password span"))

    @property
    def names(self):
        return self.b.text(".secret")

    @property
    def recipient(self):
        return self.b.value("recipient")

    def groups_broken_at_phone_width(self):
        """The password's groups that wrap inside themselves at 360 px."""
        self.b.viewport(360, 800, mobile=True)
        try:
            return self.b.js("""
                return [...document.querySelectorAll('#temporary-password span')]
                    .filter(s => s.getClientRects().length > 1).map(s => s.textContent);""")
        finally:
            self.b.viewport(1280, 900, mobile=False)

    def handover(self, recipient=None, channel="phone"):
        return RequestPage.handover(self, recipient, channel)


# --- the public door (no session) -------------------------------------------------------------------

class PublicRequestPage(FilingForm):
    """/lupa: the request of someone who cannot sign in — what is asked, who they are, both documents."""

    ACTION = "/lupa"

    FIELDS = ("full_name", "nip", "user_id", "email", "phone", "agency")

    def fill(self, *, full_name, email, agency, nip="", user_id="", phone="", role="helpdesk", reset=True, user_id_info=False,
             letter=None, decree=None):
        b = self.b
        b.tick("kind_reset", reset)
        b.tick("kind_user_id", user_id_info)
        for name, value in dict(full_name=full_name, nip=nip, user_id=user_id, email=email, phone=phone, agency=agency).items():
            b.fill(name, value or "")
        b.choose("role", role)
        return self.attach_documents(letter, decree)


    @property
    def steps(self):
        """What happens next, as the form lists it."""
        return [li.text for li in self.b.all("#what-happens li")]


class ReceiptPage(Page):
    """The receipt of a public filing, shown once: the number and the tracking code."""

    @property
    def number(self):
        return self.b.text("#receipt-number")

    @property
    def code(self):
        return self.b.text("#tracking-code")

    @property
    def warning(self):
        return self.b.text("#receipt p.warn")

    @property
    def download(self):
        """The receipt the download link offers: (file name, text)."""
        link = self.b.css("#receipt-download")
        href = link.get_attribute("href")
        check(href.startswith("data:text/plain;charset=utf-8;base64,"), f"the receipt's download link is {href[:60]}")
        return link.get_attribute("download"), base64.b64decode(href.split(",", 1)[1]).decode()

    @property
    def copy_button(self):
        found = self.b.all("#receipt button.copy")
        return found[0] if found else None

    def track(self):
        """The receipt's "Lacak permohonan" button (the number and code sent along)."""
        self.b.submit(self.b.css("form[action='/lacak'] button[type=submit]"))
        return self.actor.landed()


class TrackPage(Page):
    """/lacak: the number and the tracking code; a refusal comes back here with its message."""

    def track(self, number, code):
        self.b.fill("number", number)
        self.b.fill("code", code)
        self.b.submit_form("form[action='/lacak']")
        return self.actor.landed()

    @property
    def typed_number(self):
        return self.b.value("number")


class StatusPage(Page):
    """Where an online request stands, in plain words; the supplement (step 4) when it is due."""

    @property
    def number(self):
        return re.search(r"REQ-\d{4}-\d{6}", self.heading).group(0)

    @property
    def state(self):
        return self.b.text("#public-state")

    @property
    def facts(self):
        """{term: description} of the status list."""
        terms = [dt.text for dt in self.b.all("#public-status dt")]
        descriptions = [dd.text for dd in self.b.all("#public-status dd")]
        return dict(zip(terms, descriptions))

    @property
    def missing(self):
        return self.b.text("#public-missing") if self.b.has("#public-missing") else None

    @property
    def rejection(self):
        return self.b.text("#public-rejection") if self.b.has("#public-rejection") else None

    @property
    def may_supplement(self):
        return self.b.has("#supplement-form")

    def supplement(self, decree=None, letter=None):
        """Step 4: the missing documents uploaded, the supplement sent."""
        form = self.b.css("#supplement-form")
        if decree:
            self.b.attach("sk_pengangkatan", decree, within=form)
        if letter:
            self.b.attach("surat_permohonan", letter, within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()


# --- accounts ----------------------------------------------------------------------------------------

class AccountsPage(Page):
    def row(self, user_id):
        found = self.b.all(f"tr[data-user='{user_id}']")
        return found[0].text if found else None

    def _act(self, user_id, action):
        self.b.submit(self.b.css(f"tr[data-user='{user_id}'] form[action$='/{action}'] button"))
        return self.actor.landed()

    def disable(self, user_id):
        return self._act(user_id, "disable")

    def enable(self, user_id):
        return self._act(user_id, "enable")

    def drop_token(self, user_id, action):
        """Removes the CSRF field of a row's form, as a forged or expired form would lack it."""
        self.b.js("document.querySelector(arguments[0]).remove()", f"tr[data-user='{user_id}'] form[action$='/{action}'] input[name=csrf]")


class NewAccountPage(Page):
    def fill(self, person, **changes):
        values = dict(person.form(), **changes)
        for name in ("user_id", "full_name", "nip", "email", "agency"):
            self.b.fill(name, values[name] or "")
        self.b.choose("role", values["role"])
        return self

    def create(self):
        self.b.submit_form("form[action='/akun/baru']")
        return self.actor.landed()

    @property
    def role(self):
        return self.b.selected("#role")


class AccountPage(Page):
    """One account: its facts, its sign-in state, disable/enable/unlock, the authenticator's reset."""

    @property
    def authenticator(self):
        return self.b.text("#authenticator")

    @property
    def live_sessions(self):
        return int(self.b.text("#live-sessions"))

    @property
    def offers_reset(self):
        return self.b.has("#reset-authenticator")

    @property
    def asks_code(self):
        return self.b.has("#reset_code")

    def reset_authenticator(self, reason, code=None, keep_required=True):
        """The reset form; `code` goes in as the step-up code (added when the page asks none)."""
        form = self.b.css("#reset-authenticator")
        if not keep_required:  # past the browser's own check, to see the console's
            self.b.js("arguments[0].querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))", form)
        self.b.fill("reason", reason, within=form)
        if code is not None:
            if not self.asks_code:
                self.b.js("const i = document.createElement('input'); i.type = 'hidden'; i.name = 'code'; arguments[0].append(i)", form)
                self.b.js("arguments[0].value = arguments[1]", self.b.css("input[name='code']", form), code)
            else:
                self.b.fill("code", code, within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()


class ProvisionPage(Page):
    """Batch provisioning: a CSV or JSON Lines file, checked only (the default) or for real."""

    def upload(self, path, dry_run=True):
        form = self.b.css("form[action='/akun/massal']")
        self.b.attach("file", path, within=form)
        box = self.b.css("input[name='dry_run']", form)
        if box.is_selected() != dry_run:
            box.click()
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()

    @property
    def dry_run_ticked(self):
        return self.b.css("input[name='dry_run']").is_selected()

    @property
    def result_heading(self):
        found = self.b.all("main h2")
        return found[0].text if found else ""

    @property
    def summary(self):
        return self.b.text("#batch-summary")

    @property
    def rows(self):
        """[(line, user ID, outcome)] of the report."""
        return [tuple(cell.text for cell in row.find_elements(By.TAG_NAME, "td")) for row in self.b.all("table.rows tbody tr")]

    @property
    def problems(self):
        """[(line, column, detail)] of a refused file."""
        return [tuple(cell.text for cell in row.find_elements(By.TAG_NAME, "td")) for row in self.b.all("table.problems tbody tr")]

    def credentials(self):
        """The new accounts' temporary passwords the page offers once, as {user ID: row}; None when not offered."""
        links = self.b.all("#credentials-download")
        if not links:
            return None
        href = links[0].get_attribute("href")
        check(href.startswith("data:text/csv;charset=utf-8;base64,"), f"the credentials link is {href[:60]}")
        text = base64.b64decode(href.split(",", 1)[1]).decode()
        return {row["user_id"]: row for row in csv.DictReader(io.StringIO(text))}, links[0].get_attribute("download")


# --- reports, audit, my account ------------------------------------------------------------------

class ReportPage(Page):
    @property
    def charts(self):
        return len(self.b.all("figure.chart svg"))

    @property
    def lines(self):
        return len(self.b.all("table.sla tbody tr"))


class AuditPage(Page):
    @property
    def lists_events(self):
        """Whether the page lists events (the list came after the chain's check)."""
        return self.b.has("#audit-events")

    @property
    def chain(self):
        return self.b.text("#chain")

    def filter(self, **fields):
        form = self.b.css("#audit-filters")
        for name, value in fields.items():
            self.b.fill(name, value, within=form)
        self.b.submit(self.b.css("button[type=submit]", form))
        return self.actor.landed()

    @property
    def events(self):
        """[(actor, action, subject)] of the listed events."""
        return [(row["actor"], row["action"], row["subject"]) for row in self.rows]

    @property
    def rows(self):
        """The listed events as {id, time, actor, action, subject, request, details}."""
        names = ("id", "time", "actor", "action", "subject", "request", "details")
        return [dict(zip(names, (cell.text for cell in row.find_elements(By.TAG_NAME, "td")))) for row in self.b.all("#audit-events tbody tr")]

    @property
    def filters(self):
        """What the filter form holds now."""
        form = self.b.css("#audit-filters")
        return {name: self.b.value(name, within=form) for name in ("from", "to", "actor", "action", "subject", "request")}


class MyAccountPage(Page):
    @property
    def facts(self):
        return self.b.text("#my-facts")

    @property
    def sessions(self):
        """[(handle, this session?, the row's text)] of the live sessions listed."""
        return [(row.get_attribute("data-session"), "current" in (row.get_attribute("class") or "").split(), row.text)
                for row in self.b.all("#my-sessions tbody tr")]

    def end_session(self, handle):
        self.b.submit(self.b.css(f"#my-sessions tr[data-session='{handle}'] form button[type=submit]"))
        return self.actor.landed()

    def end_others(self):
        self.b.submit(self.b.css("#end-others button[type=submit]"))
        return self.actor.landed()


class ErrorPage(Page):
    pass


# --- the person at the browser -----------------------------------------------------------------

LANDINGS = [
    (re.compile(r"^/masuk(\?.*)?$"), SignInPage),
    (re.compile(r"^/masuk/kode$"), CodePage),
    (re.compile(r"^/ganti-password(\?.*)?$"), PasswordPage),
    (re.compile(r"^/totp$"), EnrolmentPage),
    (re.compile(r"^/beranda(\?.*)?$"), HomePage),
    (re.compile(r"^/permohonan/baru$"), NewRequestPage),
    (re.compile(r"^/permohonan/REQ-[^/]+/langkah/(execute|reissue)$"), SecretPage),
    (REQUEST_PATH, RequestPage),
    (re.compile(r"^/permohonan/REQ-[^/]+/(langkah/[a-z-]+|dokumen)$"), RequestPage),  # a refused step: the request page again
    (re.compile(r"^/permohonan(\?.*)?$"), RequestListPage),
    (re.compile(r"^/akun/baru$"), NewAccountPage),
    (re.compile(r"^/akun/massal$"), ProvisionPage),
    (re.compile(r"^/akun(\?.*)?$"), AccountsPage),
    (re.compile(r"^/akun/[^/?]+(\?.*)?$"), AccountPage),
    (re.compile(r"^/akun/[^/?]+/reset-authenticator$"), AccountPage),
    (re.compile(r"^/laporan(\?.*)?$"), ReportPage),
    (re.compile(r"^/audit(\?.*)?$"), AuditPage),
    (re.compile(r"^/akun-saya(\?.*)?$"), MyAccountPage),
    (re.compile(r"^/lupa(\?.*)?$"), PublicRequestPage),
    (re.compile(r"^/lacak(/lengkapi)?(\?.*)?$"), TrackPage),
]


class Actor:
    """A person at their own browser: the account (`person`), the browser (`b`) and what they
    reach. `codes` is the run's authenticators (the codes of operators who enrolled one)."""

    def __init__(self, browser, person, codes):
        self.b, self.person, self.codes = browser, person, codes
        browser.who = person.user_id

    @property
    def user_id(self):
        return self.person.user_id

    def landed(self):
        """The page object of where the browser is now (a step-up page, a recovery page, a
        password shown once and a request's page are told apart by what they hold, not by their
        path: the answer to a POST keeps the form's URL)."""
        b = self.b
        marks = b.js("""return ["form[action='/kode-ulang']", '#recovery-codes', '#temporary-password, #disclosed-user-id', '#state',
                                 '#receipt', '#public-status']
                          .map(s => document.querySelector(s) !== null)""")
        if marks[0]:
            return StepUpPage(self)
        if marks[1]:
            return RecoveryPage(self)
        if marks[2]:
            return SecretPage(self)
        path = b.path
        if marks[3] and "/permohonan/" in path:
            return RequestPage(self)
        if marks[4] and path.startswith("/lupa"):
            return ReceiptPage(self)
        if marks[5] and path.startswith("/lacak"):
            return StatusPage(self)
        for pattern, cls in LANDINGS:
            if pattern.match(path):
                return cls(self)
        return ErrorPage(self)

    def open(self, path):
        self.b.go(path)
        return self.landed()

    def serves(self, path):
        """Whether the server has the page at all (not 404): a build older than a feature has not."""
        return self.b.fetch("GET", path)["status"] != 404

    def follow(self, selector):
        """A link of the page, as a person follows it (the menu, a row)."""
        self.b.submit(self.b.css(selector))
        return self.landed()

    # --- signing in -----------------------------------------------------------------------------

    def sign_in_page(self):
        """The sign-in page with a clean slate (no session, no language cookie)."""
        self.b.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
        return self.open("/masuk")

    def sign_in(self, password=None):
        """Signs in, taking the second factor's steps when the server asks (the code, or the
        authenticator's enrolment); returns the page object of where the browser lands."""
        page = self.sign_in_page().enter(self.user_id, password or self.person.password)
        if isinstance(page, CodePage):
            check(self.user_id in self.codes.secrets, f"{self.user_id} is asked for a code but enrolled no authenticator")
            shot_once(self.b, "18-kode-masuk.png")
            page = page.enter(self.codes.code(self.user_id))
        elif isinstance(page, EnrolmentPage):
            page = self.enrol()
        return page

    def enrol(self, wrong_first=True):
        """The authenticator enrolment an operator's first full sign-in leads to: secret and QR
        code, a first code (a wrong one refused next to the field), the ten recovery codes."""
        page = self.landed()
        check(isinstance(page, EnrolmentPage), f"an operator who must enrol an authenticator is at {self.b.path}")
        check(page.shows_qr, "the enrolment page shows no secret or QR code")
        self.codes.enrolled(self.user_id, page.secret)
        shot_once(self.b, "16-totp-pendaftaran.png")
        if wrong_first:
            page = page.confirm(self.codes.wrong(self.user_id))
            check(isinstance(page, EnrolmentPage) and page.field_error("code") is not None,
                  "a wrong first code is not refused next to the field")
            self.codes.enrolled(self.user_id, page.secret)  # the page may offer a new secret
        page = page.confirm(self.codes.code(self.user_id))
        check(isinstance(page, RecoveryPage), f"confirming the authenticator led to {self.b.path}: {self.b.text('main')[:300]}")
        codes = page.codes
        check(len(codes) == 10 and all(re.fullmatch(r"\w{5}-\w{5}", c) for c in codes), f"recovery codes: {codes}")
        self.codes.recovery[self.user_id] = codes
        shot_once(self.b, "17-kode-pemulihan.png")
        return page.carry_on()

    def first_login(self):
        """The temporary password, the forced change to the person's own, signing in again."""
        page = self.sign_in(self.person.temporary)
        check(isinstance(page, PasswordPage), f"{self.user_id}'s first login lands on {self.b.path}, expected /ganti-password")
        check(page.forced, f"the change page does not say it is forced: {page.main[:300]}")
        page = page.change(self.person.temporary, self.person.password)
        check(self.b.path == "/masuk?ok=password", f"after the change {self.user_id} is at {self.b.path}, expected /masuk?ok=password")
        check("Password berhasil diganti" in page.main, "no flash after the change")
        page = self.sign_in()
        check(isinstance(page, HomePage), f"{self.user_id} signs in with the new password and lands on {self.b.path}")
        return page

    def ensure_signed_in(self):
        """A shared person's browser at home, signed in again if a session ended."""
        page = self.open("/beranda")
        if not isinstance(page, HomePage):
            page = self.sign_in()
        check(isinstance(page, HomePage), f"{self.user_id} cannot get home: {self.b.path}")
        return page

    def lasting(self, action):
        """A change that needs a recent second factor: when the console asks for a code first,
        gives it and repeats the action (as the step-up page tells the person to)."""
        page = action()
        if isinstance(page, StepUpPage):
            page = page.enter(self.codes.code(self.user_id))
            check("Kode diterima" in page.flash, f"the step-up code was not taken: {page.main[:300]}")
            page = action()
        return page

    # --- pages ----------------------------------------------------------------------------------

    def home(self):
        return self.open("/beranda")

    def request(self, number, query=""):
        return self.open(f"/permohonan/{number}{query}")

    def intake(self, *, shot=None, **fields):
        """Files a request through the intake form; returns its page (fails when refused)."""
        page = self.open("/permohonan/baru").fill(**fields)
        if shot:
            self.b.shot(shot)
        page = page.submit()
        check(isinstance(page, RequestPage), f"intake did not reach a request page: {self.b.path}: {self.b.text('main')[:400]}")
        check("Permohonan diajukan." in page.flash, "no flash after intake")
        check(page.state == "submitted", f"a new request is {page.state}")
        return page

    def accounts(self, q, reason="uji konsol"):
        return self.open(f"/akun?q={quote(q)}&reason={quote(reason)}")

    def account(self, user_id, reason="uji konsol"):
        return self.open(f"/akun/{user_id}?reason={quote(reason)}")

    def create_account(self, person):
        """Creates `person` through /akun/baru; returns the temporary password's page."""
        def create():
            return self.open("/akun/baru").fill(person).create()
        return self.lasting(create)


def shot_once(browser, name):
    """A screenshot taken the first time its moment comes in the run."""
    if name not in RECORD.shots:
        browser.shot(name)
