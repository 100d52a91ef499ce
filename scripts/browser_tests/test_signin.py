"""Signing in and the second factor: the sign-in page, the forced change of a temporary password
and its refusals, the authenticator's enrolment, codes and recovery codes; what every page's
answer says about caching and framing."""
from harness import RECORD
from pages import CodePage, EnrolmentPage, HomePage, MyAccountPage, PasswordPage, SignInPage, check


def test_first_login(new_account, browser_for):
    """A new Admin PPE: the sign-in page, a wrong password, the temporary password leading only to
    the forced change, then the authenticator's enrolment before anything else."""
    person = new_account("admin_ppe", settle=False)
    me = browser_for(person)
    page = me.open("/")
    check(isinstance(page, SignInPage), f"/ without a session goes to {me.b.path}")
    check(page.lang == "id", f"the console is in {page.lang!r}, not Indonesian")
    check("Masuk" in page.heading, f"sign-in heading {page.heading!r}")
    me.b.shot("01-masuk.png")
    page = page.enter(person.user_id, "bukan password yang benar")
    check(page.status == 401, f"a wrong password is answered {page.status}")
    check("User ID atau password salah." in page.error, f"wrong password: {page.error!r}")
    check(page.typed("user_id") == person.user_id, f"the typed user ID is not kept: {page.typed('user_id')!r}")
    check(page.typed("password") == "", "the typed password is shown again")

    page = me.sign_in(person.temporary)
    check(isinstance(page, PasswordPage), f"first login lands on {me.b.path}")
    check(page.forced, "the change page does not say the change is required")
    check("Anda wajib mengganti password sementara sebelum melanjutkan." in page.main, "the forced change's words")
    me.b.shot("02-ganti-password-wajib.png")
    # A session that must change its password reaches nothing else.
    me.open("/beranda")
    check(me.b.path == "/ganti-password", f"a session that must change its password reached {me.b.path}")

    page = page.change(person.temporary, person.password)
    check(me.b.path == "/masuk?ok=password", f"a good change went to {me.b.path}")
    # The first full sign-in of an operator: an authenticator first, and nothing else before it.
    page = me.sign_in_page().enter(person.user_id, person.password)
    check(isinstance(page, EnrolmentPage), f"an Admin PPE without an authenticator lands on {me.b.path}")
    me.open("/beranda")
    check(me.b.path == "/totp", f"a session that must enrol an authenticator reached {me.b.path}")
    page = me.enrol()
    check(isinstance(page, HomePage), f"after the recovery codes the Admin PPE is at {me.b.path}")
    check(person.user_id in page.header, "the header does not name the user")


def test_change_password_refusals(new_account, browser_for):
    """The change-password form names the refused field, in Indonesian, and never echoes a password."""
    person = new_account("helpdesk", settle=False)
    me = browser_for(person)
    page = me.sign_in(person.temporary)
    check(isinstance(page, PasswordPage), f"first login lands on {me.b.path}")
    name_word = person.words[-1].lower()
    cases = [
        ("pendek", None, "new_password", "Minimal 12 karakter."),
        ("password1234", None, "new_password", "Terlalu umum."),
        (f"{name_word} suka nasi", None, "new_password", "Tidak boleh memuat User ID atau nama Anda."),
        (person.password, person.password + "x", "repeat_password", "Ulangan password baru tidak sama."),
    ]
    for new, repeat, field, message in cases:
        page = page.change(person.temporary, new, repeat)
        check(isinstance(page, PasswordPage), f"a refused change went to {me.b.path}")
        check(page.status == 422, f"refusing {new!r} is answered {page.status}, not 422")
        error = page.field_error(field)
        check(error is not None and error.get_attribute("class") == "field-error", f"no .field-error #{field}-error for {new!r}")
        check(message in error.text, f"the error next to {field} for {new!r}: {error.text!r}, expected {message!r}")
        check(page.field(field).get_attribute("aria-invalid") == "true", f"#{field} is not aria-invalid")
        check(f"{field}-error" in (page.field(field).get_attribute("aria-describedby") or ""), f"#{field} is not described by its error")
        check(page.forced, "no longer the forced change")
        for name in ("current_password", "new_password", "repeat_password"):
            check(me.b.value(name) == "", f"{name} was filled again after a refusal")
        check(new not in me.b.source() and person.temporary not in me.b.source(), "a typed password is in the page")
    page = page.change("salah sama sekali", person.password)
    check(page.field_error("current_password") is not None, "a wrong current password is not named at its field")
    page = page.change(person.temporary, person.password)
    check(me.b.path == "/masuk?ok=password", f"a good change went to {me.b.path}")
    check("Password berhasil diganti; silakan masuk dengan password baru." in page.flash, f"flash: {page.flash!r}")
    check(isinstance(me.sign_in(person.temporary), SignInPage), "the temporary password still works")
    page = me.sign_in()
    check(isinstance(page, HomePage), f"the new password does not sign in: {me.b.path}")
    check(person.user_id in page.header, "the header does not name the user")


def test_forced_changes_of_each_role(new_account, browser_for):
    """A Staf Administrasi, a helpdesk and an auditor each sign in with their temporary password
    and must choose their own first (not the temporary one); the staf then enrols an authenticator."""
    helpdesk = browser_for(new_account("helpdesk", settle=False))
    page = helpdesk.sign_in(helpdesk.person.temporary)
    page = page.change(helpdesk.person.temporary, helpdesk.person.temporary)
    error = page.field_error("new_password")
    check(error is not None and "Pilih password Anda sendiri" in error.text, "the temporary password is taken as the new one")
    helpdesk.first_login()
    browser_for(new_account("staf_administrasi", settle=False)).first_login()
    browser_for(new_account("auditor", settle=False)).first_login()


def test_second_factor(new_account, browser_for, suite):
    """An operator with an authenticator: the code after the password; a used code refused; a
    recovery code signs in once; a fresh code signs in."""
    person = new_account("staf_administrasi")  # enrolled: the enrolment's code is used
    me = browser_for(person)
    page = me.sign_in_page().enter(person.user_id, person.password)
    check(isinstance(page, CodePage), f"the password alone took the staf to {me.b.path}")
    check("Kode autentikator" in page.heading, f"the code page's heading: {page.heading!r}")
    page = page.enter(suite.codes.used(person.user_id))
    check(isinstance(page, CodePage), f"a code used before signed in: {me.b.path}")
    check("Kode salah atau sudah dipakai." in page.error, f"a reused code: {page.error!r}")
    recovery = suite.codes.recovery[person.user_id][0]
    page = page.enter(recovery)
    check(isinstance(page, HomePage), f"a recovery code does not sign in: {me.b.path}")
    if me.serves("/akun-saya"):
        page = me.open("/akun-saya")
        check(isinstance(page, MyAccountPage) and me.b.text("#codes-left") == "9", "one recovery code used: 9 are not left")
    else:
        RECORD.warn("/akun-saya answers 404: the server predates 'Akun saya'; the recovery codes left are not checked")
    page = me.sign_in_page().enter(person.user_id, person.password)
    page = page.enter(recovery)
    check(isinstance(page, CodePage), "a recovery code works twice")
    page = page.enter(suite.codes.code(person.user_id))
    check(isinstance(page, HomePage), f"a fresh code does not sign in: {me.b.path}")


def test_pages_are_not_cached_nor_framed(admin, subject, file_request, browser_for):
    """Every page is no-store, with a CSP and no framing — signed in or not."""
    number = file_request(subject)
    anonymous = browser_for(None)
    anonymous.open("/masuk")
    pages = [(admin, "/beranda"), (admin, f"/permohonan/{number}"), (admin, "/ganti-password"), (admin, "/laporan"),
             (admin, f"/akun/{admin.user_id}?reason=uji"), (anonymous, "/masuk")]
    if admin.serves("/akun-saya"):
        pages.append((admin, "/akun-saya"))
    for who, path in pages:
        answer = who.b.fetch("GET", path)
        check(answer["status"] == 200, f"{path} answered {answer['status']} to {who.user_id}")
        headers = answer["headers"]
        check(headers.get("cache-control") == "no-store", f"{path}: cache-control {headers.get('cache-control')!r}")
        check("default-src 'self'" in headers.get("content-security-policy", ""), f"{path}'s CSP: {headers.get('content-security-policy')!r}")
        check(headers.get("x-frame-options") == "DENY", f"{path}: x-frame-options {headers.get('x-frame-options')!r}")
