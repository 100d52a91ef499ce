"""The public door (issue 24), for whoever cannot sign in: "Lupa password atau User ID?" on the
sign-in page, the request form with both documents, the receipt shown once, the tracking page
(the state in plain words, the step due, what is missing, the supplement of step 4) — in
Indonesian, in English and at a phone's width; its refusals; the Staf Administrasi's side (the
"daring" badge in the queue, the one-click refusal of spam)."""
import re
import time
from urllib.parse import quote

import pytest

from harness import ENGLISH, PHONE
from pages import (PasswordPage, PublicRequestPage, ReceiptPage, RequestListPage, RequestPage, SecretPage, SignInPage,
                   StatusPage, TrackPage, check)

NUMBER = re.compile(r"REQ-\d{4}-\d{6}")
# 26 characters of Crockford's base32 in groups of five, as the receipt shows it.
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){4}-[0-9A-HJKMNP-TV-Z]")


def _fill(page, person, suite, **fields):
    values = dict(full_name=person.full_name, nip=person.nip, user_id=person.user_id, email=person.email,
                  phone="0812-2700-4321", agency=person.agency, letter=suite.letter, decree=suite.decree)
    values.update(fields)
    return page.fill(**values)


def file_online(visitor, person, suite, **fields):
    """Files a request through /lupa as `person` (an account or just someone) with both PDFs;
    returns the receipt's number and tracking code as the page shows them."""
    page = visitor.open("/lupa")
    check(isinstance(page, PublicRequestPage), f"/lupa is {visitor.b.path}: {page.main[:300]}")
    page = _fill(page, person, suite, **fields).submit()
    check(isinstance(page, ReceiptPage), f"a public filing led to {visitor.b.path}: {page.main[:400]}")
    check(NUMBER.fullmatch(page.number) and CODE.fullmatch(page.code), f"the receipt: {page.number!r} {page.code!r}")
    return page.number, page.code


def track(visitor, number, code):
    """/lacak opened afresh, the number and code typed: the status page."""
    page = visitor.open("/lacak")
    check(isinstance(page, TrackPage), f"/lacak is {visitor.b.path}")
    page = page.track(number, code)
    check(isinstance(page, StatusPage), f"tracking {number} led to {visitor.b.path}: {page.main[:300]}")
    check(page.number == number, f"the status page is of {page.heading!r}, not {number}")
    return page


def test_public_path(visitor, subject, staf, admin, browser_for, suite):
    """A locked-out helpdesk from the sign-in page: the request with both PDFs, the receipt kept,
    step 2 finds the SK wanting (step 3's notice), the requester uploads it on /lacak and sends
    the supplement (step 4), complete, valid (step 5, the account chosen), reset (step 6), handed
    over (step 8); the helpdesk signs in with the temporary password and must change it."""
    # The sign-in page, without a session: the door for whoever cannot sign in.
    page = visitor.sign_in_page()
    check(isinstance(page, SignInPage) and page.lang == "id", f"the sign-in page: {visitor.b.path} lang {page.lang!r}")
    check(page.forgot_link == "Lupa password atau User ID? Ajukan permohonan", f"the sign-in page's link: {page.forgot_link!r}")
    page = page.forgot()
    check(isinstance(page, PublicRequestPage) and visitor.b.path == "/lupa", f"the link went to {visitor.b.path}")
    check(page.heading == "Permohonan reset password atau informasi User ID", f"the form's heading: {page.heading!r}")
    check(page.nav == "", "an anonymous visitor is shown the console's menu")
    check("SOP 004" in page.main and "surat permohonan dan SK pengangkatan" in page.main, "the form does not say what to attach")
    steps = page.steps
    check(len(steps) == 3 and "Staf Administrasi memeriksa kelengkapan" in steps[0] and "Admin PPE memeriksa keabsahannya" in steps[1]
          and "tidak pernah ditampilkan di halaman lacak" in steps[2], f"what happens next: {steps}")
    check(page.kinds() == (True, False), f"a reset is not the default kind: {page.kinds()}")
    check("PDF, JPEG atau PNG" in page.main, "the form does not say which files it takes")
    _fill(page, subject, suite)
    visitor.b.shot("24-lupa.png")
    page = page.submit()

    # The receipt, once: the number and the tracking code, to copy or download.
    check(isinstance(page, ReceiptPage), f"filing led to {visitor.b.path}: {page.main[:400]}")
    check(page.status == 201, f"the receipt answered {page.status}")
    check(page.heading == "Tanda terima permohonan", f"the receipt's heading: {page.heading!r}")
    number, code = page.number, page.code
    check(NUMBER.fullmatch(number), f"the receipt's number: {number!r}")
    check(CODE.fullmatch(code), f"the tracking code: {code!r}")
    check("kode lacak hanya ditampilkan sekali" in page.warning, f"the receipt does not say the code is shown once: {page.warning!r}")
    check("tanpa kode lacak" in page.main, "the receipt does not say the e-mail holds no tracking code")
    name, text = page.download
    check(name == f"tanda-terima-{number}.txt", f"the receipt downloads as {name!r}")
    check(f"Permohonan: {number}" in text and f"Kode lacak: {code}" in text, f"the downloaded receipt: {text!r}")
    visitor.b.shot("25-tanda-terima.png")
    visitor.b.allow_clipboard()
    button = page.copy_button
    check(button is not None and button.is_displayed() and button.text == "Salin", "no copy button for the tracking code")
    button.click()
    for _ in range(40):  # the button says so for 2.5 s once the clipboard took the code
        if button.text == "Tersalin":
            break
        time.sleep(0.05)
    check(button.text == "Tersalin", f"the copy button does not say it copied: {button.text!r}")
    check(visitor.b.clipboard() == code, f"the copy button put {visitor.b.clipboard()!r} on the clipboard")
    # The receipt's own button tracks at once: received, step 2 due and by when.
    status = page.track()
    check(isinstance(status, StatusPage) and status.number == number, f"the receipt's tracking went to {visitor.b.path}")
    check(status.state == "Diterima; Staf Administrasi sedang memeriksa kelengkapannya", f"state after filing: {status.state!r}")
    facts = status.facts
    check(facts.get("Langkah sekarang") == "2 Periksa kelengkapan", f"the step due after filing: {facts}")
    check(re.search(r"\d{1,2}[:.]\d{2}", facts.get("Batas waktu", "")), f"step 2's deadline is not shown: {facts}")
    check("Reset password" in status.main, f"what is asked is not shown: {facts}")
    check(not status.may_supplement, "a supplement is offered before step 2")
    # The form again is empty: the code is not shown a second time.
    page = visitor.open("/lupa")
    check(code not in visitor.b.source() and number not in visitor.b.source(), "the form shows the receipt again")

    # The Staf Administrasi: the filing waits in the intake queue, marked online.
    home = staf.home()
    check(number in home.queue, f"{number} is not in the staf's queue")
    check("2 Periksa kelengkapan" in home.row(number), f"the queue row: {home.row(number)!r}")
    check(("daring", "Daring (diajukan sendiri oleh pemohon)") in home.badges(number), f"the queue row's badges: {home.badges(number)}")
    page = staf.follow(f"table.queue a[href='/permohonan/{number}']")
    check(isinstance(page, RequestPage) and page.state == "submitted", f"the filing's page: {staf.b.path}")
    check(subject.full_name in page.facts and subject.email in page.facts, f"the requester is not on the request: {page.facts!r}")
    check(page.document_count == 2, f"{page.document_count} documents filed online, expected 2")
    check(page.dismiss_buttons == {"spam": "Tolak: spam", "duplicate": "Tolak: duplikat"}, f"the refusals offered: {page.dismiss_buttons}")
    # Step 2: the SK is not acceptable; step 3's notice goes to the e-mail the filing gave.
    page = page.completeness(complete=False, note="SK pengangkatan tidak terbaca; mohon unggah ulang.", wanting=("sk_pengangkatan",))
    check(page.state == "incomplete", f"'belum lengkap': {page.state}")
    check(re.search(r"Kurang\s+SK pengangkatan", page.facts),
                      f"the staf's page names nothing under 'Kurang' after 'belum lengkap' (the SK): {page.facts!r}")
    page = page.notify()
    check(page.state == "awaiting_supplement", f"after step 3's notice: {page.state}")
    check("Pemberitahuan masuk antrean kirim." in page.flash, f"flash after the notice: {page.flash!r}")
    check(any(notice.startswith("Langkah 3") and subject.email in notice for notice in page.notices),
          f"step 3's notice to {subject.email} is not listed: {page.notices}")

    # The requester tracks it: incomplete, what is missing, the supplement.
    status = track(visitor, number, code)
    check(status.lang == "id", f"the tracking page is in {status.lang!r}")
    check(status.state.startswith("Belum lengkap"), f"state after step 3: {status.state!r}")
    check(status.facts.get("Langkah sekarang") == "4 Melengkapi berkas", f"the step due after step 3: {status.facts}")
    check(status.missing is not None and "SK pengangkatan" in status.missing,
                      f"/lacak names no missing document after 'belum lengkap' (the SK): {status.facts}")
    check(status.may_supplement, "the tracking page offers no supplement")
    visitor.b.shot("26-lacak-belum-lengkap.png")
    status = status.supplement(decree=suite.decree)
    check(isinstance(status, StatusPage), f"the supplement led to {visitor.b.path}: {status.main[:300]}")
    check("Berkas dikembalikan ke pemeriksaan kelengkapan." in status.flash, f"flash after the supplement: {status.flash!r}")
    check(status.state == "Diterima; Staf Administrasi sedang memeriksa kelengkapannya", f"state after the supplement: {status.state!r}")
    check(not status.may_supplement and status.missing is None, "the supplement is still asked for")

    # Step 2 again: complete. Step 5: valid, the account chosen. Step 6: the password once. Step 8.
    page = staf.request(number)
    check(page.state == "submitted" and page.document_count == 3, f"after the supplement: {page.state}, {page.document_count} documents")
    page = page.completeness(complete=True, note="SK pengganti terbaca.")
    check(page.state == "complete", f"completeness after the supplement: {page.state} {page.error}")
    check(number in admin.home().queue, f"{number} is not in the admin's queue")
    page = admin.request(number).search_account(subject.full_name)
    label, badge = page.search_result(subject.user_id)
    check(badge is None, f"a mismatch badge although the requester wrote the account's facts: {label}")
    page = page.validity(account=subject.user_id, valid=True)
    check(page.state == "approved", f"validity: {page.state} {page.error}")
    status = track(visitor, number, code)
    check(status.state == "Sah; sedang diproses Admin PPE", f"state after step 5: {status.state!r}")
    check(subject.user_id not in status.main, "the tracking page shows the account")
    page = admin.request(number)
    page = page.execute(code=suite.codes.code(admin.user_id) if page.asks_step_up_code else None)
    check(isinstance(page, SecretPage), f"step 6 led to {admin.b.path}: {page.main[:300]}")
    secret = page.password
    check(page.recipient == subject.full_name, f"the hand-over's recipient is prefilled with {page.recipient!r}")
    page = page.handover(recipient=subject.full_name, channel="phone")
    check(page.state == "notified", f"after the hand-over: {page.state}")
    status = track(visitor, number, code)
    check(status.state == "Hasilnya sudah disampaikan kepada Anda", f"state after step 8: {status.state!r}")
    check(secret not in visitor.b.source() and subject.user_id not in visitor.b.source(), "the tracking page shows the password or the account")
    check("tidak pernah menampilkan password, User ID atau akun" in status.main, "the tracking page does not say what it never shows")

    # The helpdesk: the temporary password, the forced change, home.
    helpdesk = browser_for(subject)
    subject.temporary, subject.password = secret, subject.password + " baru"
    page = helpdesk.sign_in(secret)
    check(isinstance(page, PasswordPage) and page.forced, f"the temporary password led to {helpdesk.b.path}")
    page = page.change(secret, subject.password)
    check(helpdesk.b.path == "/masuk?ok=password", f"after the change the helpdesk is at {helpdesk.b.path}")
    home = helpdesk.sign_in()
    check(helpdesk.b.path == "/beranda" and subject.user_id in home.header, f"the new password led to {helpdesk.b.path}")
    page = staf.request(number)
    check("Diterima pemohon" in page.facts, f"the first login did not confirm receipt: {page.facts!r}")


def test_public_english(visitor, subject, suite):
    """The same door in English (the header's switch): the link, the form, the receipt and the
    tracking page with the state in English; a wrong code answered in English; back to Indonesian."""
    page = visitor.sign_in_page().switch_language()
    check(isinstance(page, SignInPage) and page.lang == "en" and page.heading == "Sign in", f"the English sign-in: {page.heading!r}")
    check(page.forgot_link == "Forgot your password or User ID? Submit a request", f"the English link: {page.forgot_link!r}")
    page = page.forgot()
    check(isinstance(page, PublicRequestPage) and page.lang == "en", f"the English form: {visitor.b.path} lang {page.lang!r}")
    check(page.heading == "Request a password reset or your User ID", f"the English form's heading: {page.heading!r}")
    check("The Staf Administrasi checks the file is complete" in page.steps[0], f"what happens next: {page.steps}")
    for indonesian in ("Permohonan", "Kirim", "Lampirkan", "Data Anda", "Dokumen"):
        check(indonesian not in page.main, f"Indonesian {indonesian!r} on the English form")
    page = _fill(page, subject, suite).submit()
    check(isinstance(page, ReceiptPage) and page.lang == "en", f"the English filing led to {visitor.b.path}: {page.main[:300]}")
    check(page.heading == "Request receipt", f"the English receipt's heading: {page.heading!r}")
    check("the tracking code is shown only once" in page.warning, f"the English receipt's warning: {page.warning!r}")
    number, code = page.number, page.code
    check(NUMBER.fullmatch(number) and CODE.fullmatch(code), f"the English receipt: {number!r} {code!r}")
    name, text = page.download
    check(f"Tracking code: {code}" in text and number in text, f"the English receipt downloaded: {text!r}")
    status = page.track()
    check(isinstance(status, StatusPage) and status.lang == "en", f"tracking in English led to {visitor.b.path}")
    check(status.state == "Received; the Staf Administrasi is checking it is complete", f"the English state: {status.state!r}")
    check(status.facts.get("Current step") == "2 Check completeness", f"the English status: {status.facts}")
    check("This page never shows a password, a User ID or an account." in status.main, "the English page's note")
    for indonesian in ("Diterima", "Langkah", "Diajukan", "Batas waktu", "Kode lacak"):
        check(indonesian not in status.main, f"Indonesian {indonesian!r} on the English tracking page")
    page = visitor.open("/lacak")
    check(page.heading == "Track a request", f"the English tracking form: {page.heading!r}")
    page = page.track(number, _other_code(code))
    check(isinstance(page, TrackPage) and page.status == 404, f"a wrong code in English: {visitor.b.path} {page.status}")
    page.refusal("tracking in English: a wrong code")
    check(page.lang == "en", f"the refusal is in {page.lang!r}")
    page = page.switch_language()
    check(page.lang == "id" and page.heading == "Lacak permohonan", f"back in Indonesian: {page.heading!r}")


def test_public_pages_at_phone_width(visitor, subject, suite):
    """At 360 px the sign-in link, the form, the receipt and the tracking page are usable: every
    field, button and the code within the screen (a page that still scrolls sideways is a WARN)."""
    visitor.b.use(PHONE)
    page = visitor.sign_in_page()
    check(visitor.b.js("return document.documentElement.clientWidth") == 360, "the browser is not 360 px wide")
    check(not visitor.b.outside("#forgot a"), f"the sign-in page's link is off screen: {visitor.b.outside('#forgot a')}")
    page = page.forgot()
    viewport = visitor.b.css("meta[name=viewport]").get_attribute("content")
    check("width=device-width" in viewport, f"/lupa's viewport: {viewport!r}")
    controls = "form[action='/lupa'] input:not([type=hidden]), form[action='/lupa'] select, form[action='/lupa'] button, form[action='/lupa'] label"
    check(not visitor.b.outside(controls), f"/lupa at 360 px: off screen {visitor.b.outside(controls)}")
    visitor.b.warn_if_wider()
    page = _fill(page, subject, suite).submit()
    check(isinstance(page, ReceiptPage), f"filing at 360 px led to {visitor.b.path}: {page.main[:300]}")
    shown = "#receipt-number, #tracking-code, #receipt-download, #receipt button.copy, form[action='/lacak'] button"
    check(not visitor.b.outside(shown), f"the receipt at 360 px: off screen {visitor.b.outside(shown)}")
    visitor.b.warn_if_wider()
    number, code = page.number, page.code
    status = page.track()
    check(isinstance(status, StatusPage), f"tracking at 360 px led to {visitor.b.path}")
    check(not visitor.b.outside("#public-status dt, #public-status dd, main p"), f"/lacak at 360 px: off screen "
          f"{visitor.b.outside('#public-status dt, #public-status dd, main p')}")
    visitor.b.warn_if_wider()
    page = visitor.open("/lacak")
    fields = "form[action='/lacak'] input:not([type=hidden]), form[action='/lacak'] button, form[action='/lacak'] label"
    check(not visitor.b.outside(fields), f"the tracking form at 360 px: off screen {visitor.b.outside(fields)}")
    visitor.b.warn_if_wider()
    status = page.track(number, code)
    check(isinstance(status, StatusPage) and status.state.startswith("Diterima"), f"typed at 360 px: {visitor.b.path}")


def _other_code(code):
    """The tracking code with its first character changed: well-formed, but not this request's."""
    first = "1" if code[0] != "1" else "2"
    return first + code[1:]


def test_public_refusals(visitor, subject, staf, suite):
    """A wrong tracking code gets the very answer an unknown number gets (nothing tells them
    apart); a document that is not a PDF is refused at its field, what was typed is kept, and
    nothing is filed until both documents are right."""
    number, code = file_online(visitor, subject, suite)
    year = number[4:8]
    answers = []
    for what, typed_number, typed_code in (("a wrong tracking code", number, _other_code(code)),
                                          ("an unknown request number", f"REQ-{year}-999999", code),
                                          ("a number that is none", "REQ-12", code)):
        page = visitor.open("/lacak").track(typed_number, typed_code)
        check(isinstance(page, TrackPage), f"{what} led to {visitor.b.path}: {page.main[:300]}")
        text = page.refusal(f"tracking: {what}")
        answers.append((what, page.status, text))
        check(page.typed_number == typed_number, f"{what}: the typed number is not kept ({page.typed_number!r})")
        check(typed_code not in visitor.b.source(), f"{what}: the typed code is in the page")
        check(not visitor.b.has("#public-status"), f"{what} shows a status")
    check(len({(status, text) for _, status, text in answers}) == 1 and answers[0][1] == 404,
          f"the refusals differ: {answers}")
    # The right code still opens it.
    check(track(visitor, number, code).state.startswith("Diterima"), "the right code no longer opens the request")

    # Documents: a text file as the SK, then an HTML file named .pdf as the letter.
    requester = suite.people.new("helpdesk")
    text_file = suite.file("sk-pengangkatan.txt", "SK pengangkatan sebagai helpdesk (bukan PDF)\n")
    fake_pdf = suite.file("surat-permohonan-palsu.pdf", "<html><body>bukan PDF</body></html>\n")
    for what, field, documents in (("the SK as a text file", "sk_pengangkatan", dict(decree=text_file)),
                                   ("an HTML file named .pdf as the letter", "surat_permohonan", dict(letter=fake_pdf))):
        page = _fill(visitor.open("/lupa"), requester, suite, **documents).submit()
        check(isinstance(page, PublicRequestPage) and not visitor.b.has("#receipt"), f"{what} was filed: {visitor.b.path} {page.main[:300]}")
        check(page.status in (400, 415, 422), f"{what} answered {page.status}")
        text = page.refusal(f"public filing: {what}")
        check(not ENGLISH.search(text.split(":", 1)[-1]), f"{what}: the refusal is in English: {text!r}")
        error = page.field_error(field)
        check(error is not None and error.text, f"{what} is not refused at its field #{field} (only above the form: {text!r})")
        check(visitor.b.css(f"#{field}").get_attribute("aria-invalid") == "true", f"{what}: #{field} is not aria-invalid")
        for name, value in dict(full_name=requester.full_name, nip=requester.nip, email=requester.email, agency=requester.agency).items():
            check(visitor.b.value(name) == value, f"{what}: {name} not kept ({visitor.b.value(name)!r})")
    page = staf.open(f"/permohonan?q={quote(requester.full_name)}")
    check(isinstance(page, RequestListPage) and page.rows == [], f"a refused filing is in the request list: {page.rows}")
    # With both PDFs it is filed, once.
    filed, _ = file_online(visitor, requester, suite)
    page = staf.open(f"/permohonan?q={quote(requester.full_name)}")
    check(page.rows == [filed], f"the requester's filings in the list: {page.rows}, expected [{filed}]")


def test_staf_dismisses_spam(visitor, staf, suite):
    """An online filing that is no real request: the Staf Administrasi refuses it as spam with one
    click (no notice to the unvouched address); the requester's tracking page says it was refused."""
    stranger = suite.people.new("helpdesk")  # no account: anyone may file
    number, code = file_online(visitor, stranger, suite, user_id="")
    home = staf.home()
    check(number in home.queue and ("daring", "Daring (diajukan sendiri oleh pemohon)") in home.badges(number),
          f"{number} in the staf's queue: {home.row(number)!r} {home.badges(number)}")
    page = staf.request(number)
    check("Diajukan daring tanpa akun." in page.main, "the refusal's help is not shown")
    page = page.dismiss("spam")
    check(isinstance(page, RequestPage) and page.state == "rejected", f"after 'Tolak: spam': {staf.b.path} {page.state}")
    check("Permohonan daring ditolak." in page.flash, f"flash after the dismissal: {page.flash!r}")
    check(not page.dismiss_buttons and not page.offers("#completeness-form"), "a dismissed filing is offered step 2 again")
    check(not any(notice.startswith("Langkah 7") for notice in page.notices), f"a rejection notice was sent: {page.notices}")
    check("2 Periksa kelengkapan" not in (staf.home().row(number) or ""), "the dismissed filing still waits for step 2")
    status = track(visitor, number, code)
    check(status.state == "Ditolak", f"the requester's state after the dismissal: {status.state!r}")
    check(status.rejection == "Ditolak saat penerimaan: bukan permohonan yang sah.", f"the reason shown: {status.rejection!r}")
    check(not status.may_supplement, "a dismissed filing offers the supplement")
