"""Browser tests of the web console under pytest: the server's facts, the people of each test and
what they need, a failing test's pages saved, axe-core's findings per test and in the summary.

Run by scripts/browser against a live server whose fresh database holds only the first Admin PPE
(bootstrap-admin):

    python -m pytest -v -p no:cacheprovider scripts/browser_tests \\
        --base http://127.0.0.1:PORT --admin-temp PASSWORD [--artifacts DIR] [--screenshots docs/screenshots]

Every test builds what it needs through its fixtures — its own accounts (unique user IDs, NIPs
and e-mails) and requests — so each passes alone (`-k name`) and in any order. Shared for the
whole run, and never changed by a test in a way another could notice: admin.ppe (the bootstrap
Admin PPE; its temporary password works once, so its forced change and enrolment happen once,
through the API) and staf.adm (a Staf Administrasi), each in their own browser; and the Admin
PPE's API session, which creates the other accounts (`POST /v1/accounts`) and takes their first
login (`/v1/auth/...`) when that login is not what a test checks. Operators enrol an
authenticator when the server asks; the tests compute its codes.
"""
import os
import random
import re
import shutil
import tempfile

import pytest

from harness import (AGENCY, AXE_SOURCE, AXE_WIDTHS, BLOCKING, ENGLISH, IMPACTS, RECORD, Api, Authenticators, Browser,
                     BrowserPool, KnownBugs, OperatorApi, People, Person)
from pages import Actor, HomePage, check

ADMIN = dict(user_id="admin.ppe", full_name="Budi Santoso", role="admin_ppe", nip="", email="budi@purbalinggakab.go.id",
             agency=AGENCY, password="kopi jahe hangat sekali")
STAF = dict(user_id="staf.adm", full_name="Rina Marlina", role="staf_administrasi", nip="198703142010012003",
            email="rina@purbalinggakab.go.id", agency=AGENCY, password="nasi goreng kambing enak")

SUITE = None  # the run's Suite, for the hooks


def pytest_addoption(parser):
    group = parser.getgroup("spse-accounts", "the web console under test (scripts/browser passes these)")
    group.addoption("--base", help="the console's URL, e.g. http://127.0.0.1:8080")
    group.addoption("--admin-temp", help="admin.ppe's temporary password from bootstrap-admin")
    group.addoption("--artifacts", help="directory for a failing test's pages and screenshots")
    group.addoption("--screenshots", help="directory for the console's screenshots (none when absent)")
    group.addoption("--shuffle", type=int, metavar="SEED",
                    help="run the tests in a random order (this seed; 0: reversed), to see that none needs another")


def pytest_configure(config):
    if config.option.help or config.option.collectonly:
        return
    if not config.getoption("--base") or not config.getoption("--admin-temp"):
        raise pytest.UsageError("--base and --admin-temp are required (scripts/browser starts a server and passes them)")


class Suite:
    """The run: the server's facts, the browsers, the authenticators, the people, two documents."""

    def __init__(self, config):
        self.base = config.getoption("--base").rstrip("/")
        self.admin_temp = config.getoption("--admin-temp")
        self.shots = config.getoption("--screenshots")
        self.artifacts = config.getoption("--artifacts")
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
        self.codes = Authenticators()
        self.people = People()
        self.api = Api(self.base, self.codes)
        self.pool = BrowserPool(self.base, self.shots)
        self.shared = []      # the run's shared people (admin.ppe, staf.adm) at their browsers
        self.open = []        # the people of the running test at their browsers
        self.temp = tempfile.mkdtemp(prefix="spse-browser-docs.")
        self.letter = self.pdf("surat-permohonan.pdf", "Surat permohonan reset password akun SPSE")
        self.decree = self.pdf("sk-pengangkatan.pdf", "SK pengangkatan sebagai helpdesk LPSE")

    def pdf(self, name, text):
        path = os.path.join(self.temp, name)
        with open(path, "wb") as f:
            f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n% " + text.encode()
                    + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n")
        return path

    def file(self, name, text):
        path = os.path.join(self.temp, name)
        with open(path, "w", newline="") as f:
            f.write(text)
        return path

    def close(self):
        for actor in self.shared:
            actor.b.quit()
        self.pool.close()
        shutil.rmtree(self.temp, ignore_errors=True)


# --- the run ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def suite(pytestconfig):
    global SUITE
    SUITE = Suite(pytestconfig)
    yield SUITE
    SUITE.close()


@pytest.fixture(scope="session")
def operator_api(suite):
    """admin.ppe's API session. Its first login happens here, once (the temporary password works
    once): the forced change, then an authenticator enrolled; the session is fresh from that code."""
    person = Person(**ADMIN, temporary=suite.admin_temp)
    token = suite.api.settle(person)
    return OperatorApi(suite.api, person, token)


def _shared(suite, person):
    actor = Actor(Browser(suite.base, suite.shots), person, suite.codes)
    page = actor.sign_in()
    check(isinstance(page, HomePage), f"{person.user_id} cannot sign in: {actor.b.path}")
    suite.shared.append(actor)
    return actor


@pytest.fixture(scope="session")
def shared_admin(suite, operator_api):
    return _shared(suite, operator_api.person)


@pytest.fixture(scope="session")
def shared_staf(suite, operator_api):
    person = operator_api.create(suite.people, STAF["role"], **{k: v for k, v in STAF.items() if k != "role"})
    suite.api.settle(person)
    return _shared(suite, person)


@pytest.fixture
def admin(shared_admin):
    """admin.ppe (Admin PPE, shared by the run), at home in their browser."""
    shared_admin.ensure_signed_in()
    return shared_admin


@pytest.fixture
def staf(shared_staf):
    """staf.adm (Staf Administrasi, shared by the run), at home in their browser. Not the Admin
    PPE: the SOP keeps completeness (the staf) and validity and execution (the Admin PPE) apart."""
    shared_staf.ensure_signed_in()
    return shared_staf


# --- what a test needs --------------------------------------------------------------------------

@pytest.fixture
def new_account(suite, operator_api):
    """Creates an account of its own for the test (through the API): `settle` also takes its first
    login there (its own password chosen; an operator's authenticator enrolled)."""
    def make(role="helpdesk", settle=True, **overrides):
        person = operator_api.create(suite.people, role, **overrides)
        if settle:
            suite.api.settle(person)
        return person
    return make


@pytest.fixture
def browser_for(suite):
    """A browser for a person of this test (from the pool; cleared and given back afterwards);
    `None`: someone without an account."""
    taken = []

    def take(person):
        if person is None:
            person = Person(user_id=f"anonymous{len(taken) + 1}", full_name="", role="", nip="", email="", agency="", password="")
        actor = Actor(suite.pool.acquire(person.user_id), person, suite.codes)
        taken.append(actor)
        suite.open.append(actor)
        return actor
    yield take
    for actor in taken:
        suite.open.remove(actor)
        suite.pool.release(actor.b)


@pytest.fixture
def visitor(browser_for):
    """Someone without a session — locked out, or no user at all — in a browser of their own."""
    return browser_for(None)


@pytest.fixture
def known_bugs():
    """The expectations of this test a known console bug breaks (`KnownBugs`)."""
    return KnownBugs()


@pytest.fixture
def signed_in(new_account, browser_for):
    """A new person of `role`, first login done, signed in at home in their own browser."""
    def make(role, **overrides):
        actor = browser_for(new_account(role, **overrides))
        page = actor.sign_in()
        check(isinstance(page, HomePage), f"{actor.user_id} cannot sign in: {actor.b.path}")
        return actor
    return make


@pytest.fixture
def helpdesk(signed_in):
    return signed_in("helpdesk")


@pytest.fixture
def auditor(signed_in):
    return signed_in("auditor")


@pytest.fixture
def subject(new_account):
    """The helpdesk account a request is about (first login done; not signed in)."""
    return new_account("helpdesk")


@pytest.fixture
def file_request(suite, staf):
    """Files a request about `subject` through the staf's intake form (the hint: their name and
    NIP; both documents) and returns its number; `complete` also takes step 2."""
    def file(subject, complete=False, **fields):
        values = dict(full_name=subject.full_name, nip=subject.nip, requester=subject.full_name,
                      letter=suite.letter, decree=suite.decree)
        values.update(fields)
        page = staf.intake(**values)
        if complete:
            page = page.completeness(complete=True)
            check(page.state == "complete", f"completeness: {page.state}")
        return page.number
    return file


def pytest_collection_modifyitems(session, config, items):
    seed = config.getoption("--shuffle")
    if seed is None:
        return
    if seed == 0:
        items.reverse()
    else:
        random.Random(seed).shuffle(items)


# --- hooks: the running test, a failure's pages, axe-core per test, the summary ------------------

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    RECORD.current = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        checked = RECORD.axe_of(item.nodeid)
        item.user_properties.append(("axe", [(page, width, [v[:3] for v in found]) for page, width, found in checked]))
        severe = [(page, width, v) for page, width, found in checked for v in found if v[1] in BLOCKING]
        if severe and report.passed:
            report.outcome = "failed"
            report.longrepr = "axe-core found critical or serious violations on pages this test reached first:\n" + "\n".join(
                f"  {page} at {width} px: {impact} {rule} ({nodes} elements): {help_text}"
                for page, width, (rule, impact, nodes, help_text) in severe)
    if report.failed and SUITE is not None:
        report.sections.append(("browsers", _save_pages(item)))


def _save_pages(item):
    """Each open browser's page and screenshot into --artifacts; says where they were."""
    lines = []
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)
    if SUITE.artifacts:
        os.makedirs(SUITE.artifacts, exist_ok=True)
    for actor in SUITE.shared + SUITE.open:
        try:
            lines.append(f"{actor.user_id}'s browser is at {actor.b.driver.current_url}")
            if SUITE.artifacts:
                actor.b.save(SUITE.artifacts, f"fail-{stem}-{actor.user_id}")
        except Exception as error:  # a dead browser: nothing to save
            lines.append(f"({actor.user_id}: {error})")
    if SUITE.artifacts:
        lines.append(f"pages and screenshots: {SUITE.artifacts}/fail-{stem}-*")
    return "\n".join(lines)


def _short(nodeid):
    return (nodeid or "(no test)").split("::")[-1]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    tr = terminalreporter
    if SUITE is None:
        return
    tr.section("the console: refusals shown, warnings")
    for test, what, text, lang in RECORD.refusals:
        body = text.split(":", 1)[-1].strip() if text.startswith("Tidak dapat diproses") else text
        english = lang == "id" and ENGLISH.search(body)
        tr.write_line(f"  {'WARN English on an Indonesian page: ' if english else ''}{what}: {text}  [{_short(test)}]")
    for test, text in RECORD.warnings:
        tr.write_line(f"WARN {text}  [{_short(test)}]")
    if not RECORD.warnings:
        tr.write_line("(no warnings)")

    tr.section("axe-core")
    if not AXE_SOURCE:
        tr.write_line("WARN axe-core not installed: accessibility not measured")
        return
    counts = {impact: 0 for impact in IMPACTS}
    header = f"{'page':44} {'px':>4}  {'crit':>4} {'ser':>4} {'mod':>4} {'min':>4}  first reached by"
    tr.write_line(header)
    for (page, width), found in sorted(RECORD.axe.items()):
        by = {impact: sum(1 for v in found["violations"] if v[1] == impact) for impact in IMPACTS}
        for impact in IMPACTS:
            counts[impact] += by[impact]
        tr.write_line(f"{page[:44]:44} {width:>4}  {by['critical']:>4} {by['serious']:>4} {by['moderate']:>4} {by['minor']:>4}  {_short(found['test'])}")
    for (page, width), found in sorted(RECORD.axe.items()):
        for rule, impact, nodes, help_text in found["violations"]:
            severe = impact in BLOCKING
            tr.write_line(f"  axe {'FAIL' if severe else 'note'} {page} at {width} px: {impact} {rule} ({nodes} elements): {help_text}"
                          f"  [{_short(found['test'])}]")
    tests = {}  # in the order the tests ran
    for (page, _), found in RECORD.axe.items():
        entry = tests.setdefault(found["test"], {"pages": set(), "violations": []})
        entry["pages"].add(page)
        entry["violations"] += found["violations"]
    tr.write_line("per test (pages it reached first, each at both widths; violations):")
    for test, entry in tests.items():
        tr.write_line(f"  {_short(test):44} {len(entry['pages']):>3} pages  "
                      + ", ".join(f"{sum(1 for v in entry['violations'] if v[1] == impact)} {impact}" for impact in IMPACTS))
    pages = len({page for page, _ in RECORD.axe})
    summary = ", ".join(f"{counts[impact]} {impact}" for impact in IMPACTS)
    tr.write_line(f"axe-core {AXE_SOURCE[3:14].strip()}: {pages} pages at {' and '.join(str(w) for w, _, _ in AXE_WIDTHS)} px: {summary}")
    if SUITE.shots:
        tr.write_line(f"screenshots: {len(RECORD.shots)} written into {SUITE.shots}")
