"""Language and layout: the console in English and back, `<html lang>` set per language on every
page, and the pages at a phone's width (360 px)."""
from pages import HomePage, SignInPage, check


def test_english(helpdesk):
    """The language switch: English pages and messages, then back to Indonesian."""
    page = helpdesk.home()
    check(page.switch_label == "English", f"the switch says {page.switch_label!r}")
    page = page.switch_language()
    check(helpdesk.b.path == "/beranda", f"the switch came back to {helpdesk.b.path}")
    check(page.lang == "en", f"html lang is {page.lang!r}, not en")
    check(page.heading == "Home", f"home heading {page.heading!r}")
    for word in ("Home", "New request", "My account"):
        check(word in page.nav, f"English menu: no {word!r} in {page.nav!r}")
    check("My requests" in page.main, "the English home has no 'My requests'")
    check("Sign out" in page.header, "the English header has no 'Sign out'")
    helpdesk.b.shot("14-english.png")
    page = helpdesk.open("/ganti-password")
    check(page.heading == "Change password", f"change password heading {page.heading!r}")
    page = page.sign_out()
    check(page.heading == "Sign in", f"sign-in heading {page.heading!r}")
    page = page.enter(helpdesk.user_id, "salah sekali")
    check("Wrong User ID or password." in page.error, f"the English refusal: {page.error!r}")
    page = page.switch_language()
    check(page.heading == "Masuk", f"back in Indonesian the heading is {page.heading!r}")
    check(page.lang == "id", f"back in Indonesian html lang is {page.lang!r}")


PAGES = ["/beranda", "/permohonan/baru", "/ganti-password"]


def test_lang_attribute_per_language(helpdesk):
    """Every page says its language (`<html lang>`): id by default, en after the switch (signed in
    and out); the switch itself is marked in the language it names."""
    for path in PAGES:
        page = helpdesk.open(path)
        check(page.lang == "id", f"{path}: html lang {page.lang!r}, expected id")
        check(helpdesk.b.css("a.lang").get_attribute("lang") == "en", f"{path}: the switch to English is not lang=en")
    page = helpdesk.home().switch_language()
    for path in PAGES:
        page = helpdesk.open(path)
        check(page.lang == "en", f"{path} in English: html lang {page.lang!r}")
        check(helpdesk.b.css("a.lang").get_attribute("lang") == "id", f"{path}: the switch to Indonesian is not lang=id")
    page = helpdesk.home().sign_out()
    check(page.lang == "en", f"the sign-in page after signing out in English: html lang {page.lang!r}")
    page = page.switch_language()
    check(isinstance(page, SignInPage) and page.lang == "id", f"the sign-in page switched back: html lang {page.lang!r}")


def test_phone_width(staf, subject, file_request):
    """At 360 px: the staf's pages fit a phone (a page that scrolls sideways is a WARN), each
    says it is made for the device's width."""
    number = file_request(subject)
    page = staf.home()
    check(isinstance(page, HomePage) and number in page.queue, f"{number} is not in the staf's queue")
    staf.b.mobile("20-mobile-beranda.png")
    for path in ("/beranda", "/permohonan/baru", f"/permohonan/{number}", "/permohonan", "/laporan"):
        staf.open(path)
        viewport = staf.b.css("meta[name=viewport]").get_attribute("content")
        check("width=device-width" in viewport, f"{path}: viewport {viewport!r}")
        staf.b.mobile()
