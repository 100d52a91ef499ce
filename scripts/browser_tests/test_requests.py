"""Intake and the steps of SOP 004: the whole path with the mouse and with the keyboard alone,
a rejection, the supplement loop, a hint that does not match, a managed user's own request, a
refused intake, the request list."""
from selenium.webdriver.common.keys import Keys

from harness import RECORD
from pages import NewRequestPage, PasswordPage, RequestListPage, RequestPage, SecretPage, SignInPage, check

REQUEST_FORMS = ("#completeness-form", "#validity", "#execute", "#handover-form", "#archive", "#notify", "#supplement")


def test_sop_full_path(staf, admin, subject, browser_for, suite):
    """SOP 004 end to end: intake, completeness, validity, execution (the password shown once),
    hand-over, receipt by the first login, archive — each step by its own role."""
    page = staf.intake(full_name=subject.full_name, nip=subject.nip, requester=subject.full_name,
                       letter=suite.letter, decree=suite.decree, shot="04-permohonan-baru.png")
    number = page.number
    documents = page.documents
    check(len(documents) == 2, f"{len(documents)} documents listed, expected 2")
    check(all(a.get_attribute("target") == "_blank" for a in documents), "documents do not open in a new tab")
    opened = staf.b.fetch("GET", documents[0].get_attribute("href"))
    check(opened["status"] == 200 and opened["headers"].get("content-type") == "application/pdf",
          f"a document opens as {opened.get('status')} {opened.get('headers', {}).get('content-type')}")
    check(opened["headers"].get("content-disposition", "").startswith("inline"), "a document is not shown inline")
    check(opened["text"].startswith("%PDF-1.7"), "the document's content is not the uploaded PDF")
    check(page.offers("#completeness-form"), "the staf cannot check completeness")
    staf.b.shot("05-permohonan-kelengkapan.png", scroll_to="#docs-title")

    home = staf.home()
    check("2 Periksa kelengkapan" in (home.row(number) or ""), f"{number} in the staf's queue: {home.row(number)!r}")

    # Separation of duties: the Admin PPE checks no completeness, and nothing else is theirs yet.
    page = admin.request(number)
    for form in REQUEST_FORMS:
        check(not page.offers(form), f"the admin is offered {form} on a submitted request")

    page = staf.request(number).completeness(complete=True, note="Surat dan SK lengkap, diterima di loket.")
    check(page.state == "complete", f"completeness: {page.state}")
    check("Hasil pemeriksaan kelengkapan disimpan." in page.flash, f"flash after completeness: {page.flash!r}")
    check(not page.offers("#validity"), "the staf may check validity")

    check(number in admin.home().queue, f"{number} is not in the admin's queue")
    page = admin.request(number)
    check(page.offers("#validity"), "no validity form for the admin")
    page = page.search_account(subject.full_name)
    check(admin.b.path.startswith(f"/permohonan/{number}?cari="), f"the validity search went to {admin.b.path}")
    label, badge = page.search_result(subject.user_id)
    check(subject.nip in label, f"the search result does not show the NIP: {label}")
    check(badge is None, f"a mismatch badge although the hint matches: {label}")
    admin.b.shot("06-keabsahan-cari.png", scroll_to="#validity")
    page = page.validity(account=subject.user_id, valid=True)
    check(page.state == "approved", f"validity: {page.state} {page.main[:300]}")
    check(subject.user_id in page.facts, "the resolved account is not shown")

    # Step 6 with a wrong step-up code executes nothing (the console checks any code it is sent).
    wrong = suite.codes.wrong(admin.user_id)
    page = page.execute(code=wrong)
    check(isinstance(page, RequestPage) and not admin.b.has("#temporary-password"), "a wrong step-up code executed step 6")
    check(page.status in (401, 403, 422), f"a wrong step-up code answered {page.status}")
    if "Kode salah atau sudah dipakai." not in page.main:
        RECORD.warn(f"POST /permohonan/{number}/langkah/execute with a wrong step-up code: ({page.status}) {page.main[:200]!r} "
                    "instead of the request page with \"Kode salah atau sudah dipakai.\"")
    page = admin.request(number)
    check(page.state == "approved", f"after a wrong step-up code: {page.state}")
    # The password, once, on a no-store page; a fresh code when the last is older than the window.
    page = page.execute(code=suite.codes.code(admin.user_id) if page.asks_step_up_code else None)
    response = admin.b.last_document()
    check(isinstance(page, SecretPage), f"step 6 led to {admin.b.path}: {page.main[:300]}")
    check(response and response["url"].endswith(f"/permohonan/{number}/langkah/execute"), f"execute answered by {response}")
    check(response["status"] == 200, f"execute answered {response['status']}")
    check(response["headers"].get("cache-control") == "no-store", f"the password page is cached: {response['headers'].get('cache-control')!r}")
    check("default-src 'self'" in response["headers"].get("content-security-policy", ""), "the password page's CSP")
    secret = page.password
    check(len(secret) >= 12, f"the temporary password is {secret!r}")
    check(page.shown == secret, "the grouped password differs from the password")
    check(subject.user_id in page.names, "the password page does not name the account")
    check(admin.b.has("#handover-form"), "no hand-over form on the password page")
    check(page.recipient == subject.full_name, f"the recipient is prefilled with {page.recipient!r}")
    admin.b.shot("07-password-sementara.png")
    admin.b.mobile("21-mobile-password-sementara.png")
    broken = page.groups_broken_at_phone_width()
    if broken:
        RECORD.warn(f"/permohonan/{number}/langkah/execute at 360 px: the temporary password's groups {broken} break across lines, "
                    "so a group reads as two")

    # Not shown again. Reloading re-posts step 6: the console sees the step is done and says so
    # (no red "wrong code", no code spent); back shows the request page; forward is not re-posted.
    admin.b.reload()
    reloaded = admin.b.last_document()
    check(reloaded and reloaded["status"] == 200 and "ok=already_executed" in reloaded["url"], f"reloading the password page answered {reloaded}")
    page = admin.landed()
    check(secret not in admin.b.source() and not admin.b.has("#temporary-password"), "reloading shows the password")
    check(page.state == "executed", f"after reloading: {page.state}")
    check("Langkah 6 sudah dilaksanakan" in page.flash, f"what a reload of step 6 says: {page.flash!r}")
    check(not page.error, f"a reload of step 6 shows an error: {page.error!r}")
    admin.b.back()
    check(secret not in admin.b.source(), f"back to {admin.b.path} shows the password")
    admin.b.forward()
    check(secret not in admin.b.source(), f"forward to {admin.b.driver.current_url} shows the password")
    page = admin.request(number)
    check(page.state == "executed", f"after execution: {page.state}")
    check(secret not in admin.b.source() and not admin.b.has("#temporary-password"), "the request page shows the password")
    check(not page.offers("#execute"), "step 6 is offered again")

    # Step 8: the hand-over.
    page = page.handover(recipient=subject.full_name, channel="phone")
    check(page.state == "notified", f"after the hand-over: {page.state}")
    check("Penyampaian dicatat." in page.flash, f"flash after the hand-over: {page.flash!r}")
    handover = admin.b.text("#handover")
    for part in (subject.full_name, "Telepon", admin.user_id):
        check(part in handover, f"the hand-over does not say {part!r}: {handover!r}")
    admin.b.shot("08-penyampaian.png")

    # The helpdesk: the old password is gone, the temporary one forces a change, then home.
    helpdesk = browser_for(subject)
    check(isinstance(helpdesk.sign_in(), SignInPage), "the old password still works after the reset")
    subject.temporary, subject.password = secret, subject.password + " baru"
    home = helpdesk.first_login()
    check("Permohonan saya" in home.main, "the helpdesk's home has no 'Permohonan saya'")
    check("Sudah disampaikan" in (home.row(number) or ""), f"the helpdesk's request row: {home.row(number)!r}")
    helpdesk.b.shot("09-beranda-helpdesk.png")

    # Signing in with the temporary password confirmed receipt; the staf archives without deviation.
    page = staf.request(number)
    check("Diterima pemohon" in page.facts, "receipt is not confirmed by the first login")
    check(not page.archive_warns, "archive warns of a missing receipt")
    page = page.archive()
    check(page.state == "archived", f"after archiving: {page.state}")
    check("Berkas diarsipkan." in page.flash, f"flash after archiving: {page.flash!r}")
    steps = page.timeline
    expected = [("1", staf.user_id), ("2", staf.user_id), ("5", admin.user_id), ("6", admin.user_id), ("8", admin.user_id),
                ("9", staf.user_id)]
    check([(step, actor) for step, actor, _ in steps] == expected, f"the timeline's steps and actors: {steps}")
    check(all(ended for _, _, ended in steps), f"a step is not ended: {steps}")
    staf.b.shot("10-arsip.png")


def _reach(actor, selector, backwards=False):
    """Tab (or Shift+Tab) to `selector`; warns when the focus cannot be seen there."""
    element = actor.b.tab_to(selector, backwards=backwards)
    if not actor.b.focus_ring():
        RECORD.warn(f"{actor.b.path}: the keyboard focus on {selector} is not visible (no outline)")
    return element


def _choose_by_keys(actor, selector, value, key=Keys.ARROW_DOWN, limit=6):
    """Arrow keys on a focused <select> until it holds `value`."""
    for _ in range(limit):
        if actor.b.css(selector).get_attribute("value") == value:
            return
        actor.b.press(key)
    check(actor.b.css(selector).get_attribute("value") == value, f"the arrow keys never chose {value!r} in {selector}")


def test_sop_by_keyboard(staf, admin, subject, browser_for, suite):
    """SOP 004 from intake to the archive with the keyboard alone (Tab, Shift+Tab, Enter, Space,
    arrow keys and typing; nothing clicked): each step's form is reachable, operable and sent."""
    # Step 1: the staf goes from home to the intake form by the menu.
    _reach(staf, "header nav a[href='/permohonan/baru']")
    staf.b.press_and_wait(Keys.ENTER)
    check(isinstance(staf.landed(), NewRequestPage), f"Enter on the menu's link went to {staf.b.path}")
    check(staf.b.css("input[name='kind_reset']").is_selected(), "a reset is not the default kind")
    _reach(staf, "#subject_full_name")
    staf.b.type(subject.full_name)
    _reach(staf, "#subject_nip")
    staf.b.type(subject.nip)
    _reach(staf, "#requester_name")
    staf.b.type(subject.full_name)
    staf.b.press(Keys.TAB)
    check(staf.b.focused("#requester_contact"), "Tab after the requester's name is not the contact")
    staf.b.type("0812-2700-5678")
    _reach(staf, "#priority")
    _choose_by_keys(staf, "#priority", "high", key=Keys.ARROW_UP)
    _reach(staf, "#surat_permohonan").send_keys(suite.letter)  # typing a file's path into the focused file field
    _reach(staf, "#sk_pengangkatan").send_keys(suite.decree)
    # Back up to the e-mail field (Shift+Tab), leave it empty, then on to the button.
    _reach(staf, "#subject_email", backwards=True)
    check(staf.b.css("#subject_email").get_attribute("value") == "", "the e-mail field is not empty")
    _reach(staf, "form[action='/permohonan/baru'] button[type=submit]")
    staf.b.press_and_wait(Keys.ENTER)
    page = staf.landed()
    check(isinstance(page, RequestPage) and page.state == "submitted", f"the keyboard's intake went to {staf.b.path}: {page.main[:300]}")
    number = page.number
    check("Tinggi" in page.facts, f"the priority chosen with the arrow keys is not on the request: {page.facts!r}")
    check(page.document_count == 2, f"{page.document_count} documents filed by the keyboard's intake")

    # Step 2: completeness — a radio ticked with Space, a note typed, Enter on Save.
    _reach(staf, "#completeness-form input[name='complete'][value='true']")
    staf.b.press(Keys.SPACE)
    check(staf.b.css("#completeness-form input[name='complete'][value='true']").is_selected(), "Space did not tick 'lengkap'")
    _reach(staf, "#note")
    staf.b.type("Diperiksa dengan papan ketik.")
    _reach(staf, "#completeness-form button[type=submit]")
    staf.b.press_and_wait(Keys.ENTER)
    check(staf.landed().state == "complete", f"completeness by the keyboard: {staf.landed().state}")

    # Step 5: the Admin PPE follows the queue's link, searches (Enter in the field), says valid.
    admin.home()
    _reach(admin, f"table.queue a[href='/permohonan/{number}']")
    admin.b.press_and_wait(Keys.ENTER)
    check(admin.b.path == f"/permohonan/{number}", f"Enter on the queue's link went to {admin.b.path}")
    _reach(admin, "#cari")
    admin.b.type(subject.nip)
    admin.b.press_and_wait(Keys.ENTER)
    check(admin.b.path.startswith(f"/permohonan/{number}?cari="), f"Enter in the search field went to {admin.b.path}")
    check(admin.b.css(f"#validity input[name='subject_user_id'][value='{subject.user_id}']").is_selected(),
          "the one account found is not chosen")
    _reach(admin, "#validity input[name='valid'][value='true']")
    admin.b.press(Keys.SPACE)
    _reach(admin, "#validity form[method=post] button[type=submit]")
    admin.b.press_and_wait(Keys.ENTER)
    page = admin.landed()
    check(page.state == "approved", f"validity by the keyboard: {page.state} {page.main[:300]}")

    # Step 6: the code typed when the page asks for one, Enter on Laksanakan.
    if page.asks_step_up_code:
        _reach(admin, "#step_up_code")
        admin.b.type(suite.codes.code(admin.user_id))
    _reach(admin, "#execute")
    admin.b.press_and_wait(Keys.ENTER)
    page = admin.landed()
    check(isinstance(page, SecretPage), f"step 6 by the keyboard went to {admin.b.path}: {page.main[:300]}")
    secret = page.password

    # Step 8: the hand-over on the same page, the channel chosen with the arrow keys.
    _reach(admin, "#handover_channel")
    _choose_by_keys(admin, "#handover_channel", "in_person")
    _reach(admin, "#handover")
    admin.b.press_and_wait(Keys.ENTER)
    page = admin.landed()
    check(page.state == "notified", f"the hand-over by the keyboard: {page.state}")
    check("Tatap muka" in admin.b.text("#handover"), f"the channel chosen with the keys: {admin.b.text('#handover')!r}")

    # Step 7: the helpdesk signs in with the temporary password and changes it, by the keyboard.
    helpdesk = browser_for(subject)
    helpdesk.sign_in_page()
    if not helpdesk.b.focused("#user_id"):
        _reach(helpdesk, "#user_id")
    helpdesk.b.type(subject.user_id)
    helpdesk.b.press(Keys.TAB)
    helpdesk.b.type(secret)
    helpdesk.b.press_and_wait(Keys.ENTER)
    check(isinstance(helpdesk.landed(), PasswordPage), f"signing in by the keyboard went to {helpdesk.b.path}")
    chosen = subject.password + " lagi"
    for field, value in (("#current_password", secret), ("#new_password", chosen), ("#repeat_password", chosen)):
        _reach(helpdesk, field)
        helpdesk.b.type(value)
    helpdesk.b.press_and_wait(Keys.ENTER)  # Enter in the last field sends the form
    check(helpdesk.b.path == "/masuk?ok=password", f"the change by the keyboard went to {helpdesk.b.path}")

    # Step 9: the staf archives.
    staf.home()
    _reach(staf, f"table.queue a[href='/permohonan/{number}']")
    staf.b.press_and_wait(Keys.ENTER)
    _reach(staf, "#archive")
    staf.b.press_and_wait(Keys.ENTER)
    page = staf.landed()
    check(page.state == "archived", f"archiving by the keyboard: {page.state}")
    check("Diterima pemohon" in page.facts, "the keyboard's first login did not confirm receipt")


def test_rejection_path(staf, admin, subject, file_request):
    """Validity refused with a reason: notify, rejected, archived; without a reason it is refused."""
    number = file_request(subject, complete=True, nip=None, email=subject.email, priority="high")
    page = admin.request(number).search_account(subject.full_name).validity(account=subject.user_id, valid=False)
    check(page.state == "complete", f"an invalid verdict without a reason was taken: {page.state}")
    page.refusal("validity: invalid without a reason")
    page = admin.request(number).search_account(subject.full_name).validity(
        account=subject.user_id, valid=False, reason="SK pengangkatan bukan untuk peran helpdesk.")
    check(page.state == "invalid", f"invalid verdict: {page.state}")
    check("SK pengangkatan bukan untuk peran helpdesk." in page.facts, "the rejection reason is not shown")
    check(page.offers("#notify"), "no notify button for the rejection")
    page = page.notify()
    check(page.state == "rejected", f"after the rejection notice: {page.state}")
    check("Pemberitahuan masuk antrean kirim." in page.flash, f"flash after notify: {page.flash!r}")
    page = staf.request(number).archive()
    check(page.state == "archived", f"archiving a rejected request: {page.state}")


def test_supplement_loop(staf, subject, suite):
    """Only the letter: 'complete' is refused, incomplete, notify, upload the SK, supplement, submitted."""
    page = staf.intake(full_name=subject.full_name, nip=subject.nip, letter=suite.letter, priority="urgent")
    check(page.document_count == 1, f"{page.document_count} documents, expected 1")
    page = page.completeness(complete=True)
    check(page.state == "submitted", f"'complete' with a missing SK was taken: {page.state}")
    page.refusal("completeness: 'complete' with the SK missing")
    page = staf.request(page.number).completeness(complete=False, note="SK pengangkatan belum dilampirkan.")
    check(page.state == "incomplete", f"incomplete: {page.state}")
    check("SK pengangkatan" in page.facts, "what is missing is not shown")
    check("SK pengangkatan belum dilampirkan." in page.facts, "the completeness note is not shown")
    page = page.notify()
    check(page.state == "awaiting_supplement", f"after the notice: {page.state}")
    page = page.upload("sk_pengangkatan", suite.decree)
    check("Dokumen diunggah." in page.flash, f"flash after the upload: {page.flash!r}")
    check(page.document_count == 2, "the SK is not listed")
    page = page.supplement()
    check(page.state == "submitted", f"after the supplement: {page.state}")
    check("Berkas dikembalikan ke pemeriksaan kelengkapan." in page.flash, f"flash after the supplement: {page.flash!r}")


def test_hint_mismatch(admin, subject, file_request):
    """A hint whose name differs: the badge, refused without an acknowledgement, accepted with one."""
    short = f"{subject.words[0]} {subject.words[-1]}"
    number = file_request(subject, complete=True, full_name=short)
    page = admin.request(number).search_account(subject.nip).validity(account=subject.user_id, valid=True)
    check(page.state == "complete", f"a mismatch without acknowledgement was taken: {page.state}")
    page.refusal("validity: hint mismatch without acknowledgement")
    page = admin.request(number, f"?cari={subject.nip}")
    _, badge = page.search_result(subject.user_id)
    check(badge is not None and "Nama lengkap" in badge, f"the mismatch badge: {badge!r}")
    page = page.validity(account=subject.user_id, valid=True, acknowledgement="Nama di surat disingkat; NIP dan SK cocok.")
    check(page.state == "approved", f"with an acknowledgement: {page.state}")
    check("Nama di surat disingkat; NIP dan SK cocok." in page.facts, "the acknowledgement is not shown")


def test_helpdesk_files_own_request(helpdesk, suite):
    """A managed user files for themself: their user ID is the hint, 'Permohonan saya' lists it,
    and they may add documents but take no step of their own request."""
    page = helpdesk.open("/permohonan/baru")
    check(helpdesk.b.value("subject_user_id") == helpdesk.user_id, "the helpdesk's own user ID is not the hint")
    check(helpdesk.b.selected("#channel") == "email", "a helpdesk's channel is not e-mail")
    helpdesk.b.fill("requester_name", helpdesk.person.full_name)
    helpdesk.b.fill("requester_contact", helpdesk.person.email)
    helpdesk.b.attach("surat_permohonan", suite.letter)
    helpdesk.b.attach("sk_pengangkatan", suite.decree)
    page = page.submit()
    check(isinstance(page, RequestPage), f"the helpdesk's intake went to {helpdesk.b.path}: {page.main[:300]}")
    # (The console leaves "Langkah berikutnya" empty here instead of saying "Tidak ada langkah
    # untuk Anda saat ini.": its anyAction counts the upload form, which is shown under Dokumen.)
    check(page.may_upload, "the requester may not add documents")
    for form in REQUEST_FORMS:
        check(not page.offers(form), f"the requester is offered {form} on their own request")
    number = page.number
    check(helpdesk.home().row(number) is not None, "the own request is not in 'Permohonan saya'")


def test_refused_intake_keeps_input(staf, subject, suite):
    """A refused intake keeps every typed value and names the field."""
    page = staf.open("/permohonan/baru")
    typed = dict(subject_user_id=subject.user_id, subject_full_name=subject.full_name, subject_nip=subject.nip,
                 subject_email=subject.email, requester_name="   ", requester_contact="0812-2700-1234")
    for name, value in typed.items():
        staf.b.fill(name, value)
    staf.b.tick("kind_user_id", True)
    staf.b.choose("channel", "email")
    staf.b.choose("priority", "high")
    staf.b.attach("surat_permohonan", suite.letter)
    page = page.submit()
    check(isinstance(page, NewRequestPage), f"a blank requester name went to {staf.b.path}")
    check(page.status in (400, 422), f"a refused intake answered {page.status}")
    check(page.field_error("requester_name") is not None, f"the requester name is not named: {page.main[:400]}")
    page.refusal("intake: requester name of spaces")
    check(staf.b.css("#requester_name").get_attribute("aria-invalid") == "true", "#requester_name is not aria-invalid")
    for name, value in typed.items():
        check(staf.b.value(name) == value, f"{name} not kept: {staf.b.value(name)!r} instead of {value!r}")
    check(page.kinds() == (True, True), f"the kinds are not kept: {page.kinds()}")
    check(staf.b.selected("#channel") == "email", "the channel is not kept")
    check(staf.b.selected("#priority") == "high", "the priority is not kept")

    # No kind ticked.
    staf.b.tick("kind_reset", False)
    staf.b.tick("kind_user_id", False)
    staf.b.fill("requester_name", subject.full_name)
    page = page.submit()
    check(isinstance(page, NewRequestPage), f"no kind went to {staf.b.path}")
    check(page.field_error("kinds") is not None, f"the kinds are not named: {page.main[:400]}")
    page.refusal("intake: no kind ticked")
    check(staf.b.value("requester_name") == subject.full_name, "the requester name is not kept")
    check(staf.b.value("subject_nip") == subject.nip, "the NIP is not kept")
    staf.b.shot("15-permohonan-baru-kesalahan.png", scroll_to="fieldset")


def test_request_list(staf, subject, file_request):
    """The request list: a file found again by its number and by its requester's name; a filter
    that is no step is refused at the form."""
    number = file_request(subject)
    page = staf.open("/permohonan")
    check(isinstance(page, RequestListPage) and number in page.rows, f"{number} is not in the request list")
    page = staf.open(f"/permohonan?q={number}")
    check(page.rows == [number], f"a search by number finds {page.rows}")
    page = page.search(subject.words[-1])
    check(number in page.rows, f"a search by the requester's surname finds {page.rows}")
    page = page.search(subject.full_name)
    if number not in page.rows:
        RECORD.warn(f"the request list's search for the requester's whole name {subject.full_name!r} finds nothing "
                    f"({staf.b.path}): the form sends spaces as '+' and the list does not read them as spaces")
    page = staf.open("/permohonan?langkah=99")
    check(page.status == 422 and page.error, f"a step 99 filter is not refused at the form ({page.status})")
    staf.b.mobile("21-mobile-daftar-permohonan.png")
