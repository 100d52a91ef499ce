"""Reports and the audit trail: the staf's queue and the SLA report with its charts; the
auditor's audit chain and event list, the SLA report, and what an auditor may not do."""
from harness import RECORD
from pages import AuditPage, HomePage, ReportPage, check


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
    check("Peran Anda tidak berwenang untuk ini." in page.main, f"the auditor creating accounts: {page.main[:200]!r}")


def test_audit_event_filters(auditor, signed_in, admin, subject, suite):
    """The audit event list's filters: by actor (a Staf Administrasi of this test: only their
    events, of both their requests), by request (every actor's events of that request, no other
    request's), both at once, and one that matches nothing; each filter is kept in the form."""
    clerk = signed_in("staf_administrasi")
    page = clerk.intake(full_name=subject.full_name, nip=subject.nip, requester=subject.full_name, letter=suite.letter, decree=suite.decree)
    number = page.number
    check(page.completeness(complete=True).state == "complete", "the clerk's completeness check")
    other = clerk.intake(full_name=subject.full_name, nip=subject.nip, requester=subject.full_name, letter=suite.letter,
                         decree=suite.decree).number
    page = admin.request(number).search_account(subject.full_name).validity(account=subject.user_id, valid=True)
    check(page.state == "approved", f"the admin's validity check: {page.state}")

    page = auditor.follow("header nav a[href='/audit']")
    check(isinstance(page, AuditPage) and page.lists_events, f"the menu's audit link went to {auditor.b.path}")

    page = page.filter(actor=clerk.user_id)
    rows = page.rows
    check(page.filters["actor"] == clerk.user_id, f"the actor filter is not kept: {page.filters}")
    check(rows and all(row["actor"] == clerk.user_id for row in rows), f"the actor filter lets others through: {rows}")
    check({number, other} <= {row["request"] for row in rows}, f"the clerk's events of {number} and {other} are not both listed: {rows}")
    check(any(row["action"].startswith("login.") for row in rows), f"the clerk's sign-in is not listed: {rows}")

    page = page.filter(actor="", request=number)
    rows = page.rows
    check(page.filters == dict(page.filters, actor="", request=number), f"the request filter is not kept: {page.filters}")
    check(rows and all(row["request"] == number for row in rows), f"the request filter lets other requests through: {rows}")
    actors = {row["actor"] for row in rows}
    check({clerk.user_id, admin.user_id} <= actors, f"the events of {number} are not all its actors': {actors}")
    check(auditor.b.has(f"#audit-events a[href='/permohonan/{number}']"), "the request column does not link to the request")

    page = page.filter(actor=clerk.user_id, request=number)
    both = page.rows
    check(both and all(row["actor"] == clerk.user_id and row["request"] == number for row in both), f"actor and request together: {both}")
    check(len(both) < len(rows), f"adding the actor to the request filter removes nothing: {len(both)} of {len(rows)}")
    actions = {row["action"] for row in both}
    check(any("submit" in action for action in actions) and any("completeness" in action for action in actions),
          f"the clerk's steps 1 and 2 of {number} are not listed: {actions}")

    page = page.filter(actor=admin.user_id, request=other)
    check(not page.rows and "Tidak ada peristiwa yang cocok pada periode ini." in page.main,
          f"a filter matching nothing lists {page.rows}")
