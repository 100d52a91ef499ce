"""Reports and the audit trail: the staf's queue and the SLA report with its charts; the
auditor's audit chain and event list, the SLA report, and what an auditor may not do."""
from harness import RECORD
from pages import AuditPage, ErrorPage, HomePage, ReportPage, check


def test_sla_report(staf, subject, file_request):
    """The staf's home lists what waits for them; the SLA report charts the steps (SVG) and
    tabulates them per actor."""
    waiting = [file_request(subject), file_request(subject, priority="urgent")]
    file_request(subject, complete=True)
    page = staf.home()
    check(isinstance(page, HomePage), f"the staf's home: {staf.b.path}")
    check(set(waiting) <= set(page.queue), f"{waiting} are not all in the staf's queue {page.queue}")
    for number in waiting:
        check("2 Periksa kelengkapan" in page.row(number), f"the queue row of {number}: {page.row(number)!r}")
    staf.b.shot("03-beranda-staf.png")
    page = staf.follow("header nav a[href='/laporan']")
    check(isinstance(page, ReportPage), f"the menu's report link went to {staf.b.path}")
    check(page.charts >= 1, "no SLA chart")
    check(page.lines >= 1, "the SLA table is empty")
    staf.b.shot("11-laporan-sla.png")


def test_audit_trail(auditor, subject, file_request):
    """The auditor: links to the report and the audit trail, the chain intact, their own sign-in
    among the events, the SLA chart; creating accounts is refused (403)."""
    file_request(subject, complete=True)
    page = auditor.home()
    check("/audit" in page.links and "/laporan" in page.links, f"the auditor's home links: {page.links}")
    page = auditor.follow("ul.links a[href='/audit']")
    check(isinstance(page, AuditPage), f"the audit link went to {auditor.b.path}")
    check("Rantai audit utuh" in page.chain, f"the audit chain: {page.chain!r}")
    auditor.b.shot("12-audit.png")
    if page.lists_events:
        page = page.filter(actor=auditor.user_id, action="login")
        check((auditor.user_id, "login.success", auditor.user_id) in page.events, f"the auditor's sign-in is not listed: {page.events}")
        check(all(actor == auditor.user_id and action.startswith("login.") for actor, action, _ in page.events),
              f"the filter lets other events through: {page.events}")
    else:
        RECORD.warn("/audit lists no events: the server predates the audit event list; its filters are not checked")
    page = auditor.open("/laporan")
    check(isinstance(page, ReportPage) and page.charts >= 1, "the auditor sees no SLA chart")
    page = auditor.open("/akun/baru")
    check(page.status == 403, f"the auditor's /akun/baru answered {page.status}")
    check(isinstance(page, ErrorPage) or "Peran Anda tidak berwenang untuk ini." in page.main, f"at {auditor.b.path}")
    check("Peran Anda tidak berwenang untuk ini." in page.main, f"the auditor creating accounts: {page.main[:200]!r}")
