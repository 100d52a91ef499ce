"""Akun saya (/akun-saya): a person's own facts and live sessions; ending another session (a lost
phone) signs that browser out, and so does ending all the others at once."""
from pages import HomePage, MyAccountPage, SignInPage, check


def _signed_out(actor):
    """Whether the browser's session is gone: any page sends it to the sign-in page."""
    page = actor.open("/beranda")
    return isinstance(page, SignInPage) and actor.b.path.startswith("/masuk")


def test_my_sessions(new_account, browser_for):
    """A helpdesk signed in in two browsers: 'Akun saya' lists two sessions, this one marked; ending
    the other signs the other browser out and leaves this one; then, signed in twice again, 'sign
    out of all other sessions' ends both others at once."""
    person = new_account("helpdesk", settle=False)
    laptop = browser_for(person)
    laptop.first_login()  # the temporary password's session ends with the change
    phone = browser_for(person)
    check(isinstance(phone.sign_in(), HomePage), f"the second browser cannot sign in: {phone.b.path}")

    page = laptop.follow("header nav a[href='/akun-saya']")
    check(isinstance(page, MyAccountPage) and page.heading == "Akun saya", f"the menu's 'Akun saya' went to {laptop.b.path}")
    for fact in (person.user_id, person.full_name, person.nip, person.email, "Helpdesk"):
        check(fact in page.facts, f"'Akun saya' does not show {fact!r}: {page.facts!r}")
    sessions = page.sessions
    check(len(sessions) == 2, f"{len(sessions)} sessions listed after signing in in two browsers: {sessions}")
    mine = [s for s in sessions if s[1]]
    others = [s for s in sessions if not s[1]]
    check(len(mine) == 1 and "sesi ini" in mine[0][2], f"this session is not marked 'sesi ini': {sessions}")
    check(len(others) == 1 and "Akhiri" in others[0][2], f"the other session cannot be ended: {sessions}")
    button = laptop.b.css(f"#my-sessions tr[data-session='{others[0][0]}'] button")
    check((button.get_attribute("aria-label") or "").startswith("Akhiri sesi yang mulai"), f"the end button's label: {button.get_attribute('aria-label')!r}")
    check(laptop.b.has("#end-others"), "no 'Keluar dari semua sesi lain' with another session live")
    laptop.b.shot("27-akun-saya.png")

    page = page.end_session(others[0][0])
    check(isinstance(page, MyAccountPage), f"ending a session led to {laptop.b.path}")
    check("Sesi diakhiri." in page.flash, f"flash after ending a session: {page.flash!r}")
    check([(h, current) for h, current, _ in page.sessions] == [(mine[0][0], True)], f"after ending the other: {page.sessions}")
    check("Tidak ada sesi lain." in page.main and not laptop.b.has("#end-others"), "the page does not say no other session is left")
    check(_signed_out(phone), f"the ended session's browser is still signed in: {phone.b.path}")
    check(isinstance(laptop.home(), HomePage), f"ending the other session signed this one out: {laptop.b.path}")

    # All the others at once.
    tablet = browser_for(person)
    for actor in (phone, tablet):
        check(isinstance(actor.sign_in(), HomePage), f"{actor.user_id} cannot sign in again: {actor.b.path}")
    page = laptop.open("/akun-saya")
    check(len(page.sessions) == 3, f"{len(page.sessions)} sessions listed with three browsers signed in")
    page = page.end_others()
    check(isinstance(page, MyAccountPage) and "Semua sesi lain diakhiri." in page.flash, f"after ending all others: {page.flash!r}")
    check([current for _, current, _ in page.sessions] == [True], f"after ending all others: {page.sessions}")
    for actor in (phone, tablet):
        check(_signed_out(actor), f"a browser is still signed in after 'Keluar dari semua sesi lain': {actor.b.path}")
    check(isinstance(laptop.home(), HomePage), f"ending all others signed this one out: {laptop.b.path}")
