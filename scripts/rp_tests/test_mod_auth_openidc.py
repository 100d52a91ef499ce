"""Apache httpd with mod_auth_openidc (Debian's libapache2-mod-auth-openidc, an OpenID-certified
relying party) signing people in at the provider (issue 25). The application is apache/ here:
/protected/ (Require valid-user), /operator/ (Require claim amr:otp), /fresh/ (prompt=login),
one confidential client (client_secret_basic, PKCE S256, server-side sessions in shm) registered
with a back-channel logout URI — and a post-logout redirect URI when the build knows the flag.

What is asserted is what a person notices: the application's page shown or not ("PROTECTED-OK"),
where the browser lands, and which of the provider's pages they had to go through.

Need the build with back-channel logout (a logout token POSTed to the application when the
provider's session ends): test_backchannel_logout_after_sign_out_at_the_provider,
test_backchannel_logout_after_a_gate_reset. Needs the build with RP-initiated logout
(end_session_endpoint, --post-logout-redirect-uri): test_rp_initiated_logout.
"""
import base64
import json
import os
import subprocess
from urllib.parse import quote

import pytest

from apache import Apache


@pytest.fixture(scope="session")
def app(provider, register_client):
    """The application, started once for the run (its client registered first: the config
    holds the client's ID and secret)."""
    apache = Apache(os.path.join(provider.work, "apache"), provider.app_host, provider.free_port(), provider.issuer)
    options = dict(name="Aplikasi Uji (Apache mod_auth_openidc)", claims="name,email,role,preferred_username",
                   backchannel_logout_uri=apache.backchannel_logout_uri)
    help_text = subprocess.run([provider.bin, "oidc", "client-add", "--help"], capture_output=True, text=True).stdout
    apache.post_logout = "--post-logout-redirect-uri" in help_text
    if apache.post_logout:
        options["post_logout_redirect_uris"] = [apache.logged_out_url]
    client = register_client([apache.redirect_uri], **options)
    assert client.get("client_secret"), f"a confidential client without a secret: {client}"
    apache.configure(client["client_id"], client["client_secret"], log_level=os.environ.get("RP_APACHE_LOGLEVEL", "info"))
    provider.logs["apache error"] = apache.error_log
    apache.start()
    yield apache
    apache.stop()


AREAS = {"/protected/": "PROTECTED-OK", "/operator/": "OPERATOR-OK", "/fresh/": "FRESH-OK"}


def shows(b, app, path):
    """Whether the browser is at the application's `path` and sees its page."""
    return b.url == app.url(path) and b.has("#arrived") and b.text("#arrived") == AREAS[path]


def never_shown(b, path):
    return AREAS[path] not in b.source()


def visit(b, app, path, walk, person, **options):
    """The person opens the application's `path` and goes through whatever the provider asks."""
    b.open(app.url(path))
    return walk(b, person, **options)


def arrive(b, provider):
    """Waits out the provider's same-site hop; the documents the browser went through, one a
    line (status, URL, Location), for a failure's message."""
    provider.wait_until(lambda: not b.has("meta[http-equiv=refresh]"), timeout=5, interval=0.05)
    b.ready()
    return "\n".join(f"  {status} {url}" + (f" -> {location}" if location else "") for status, url, location in b.chain())


def id_token_header(b):
    token = b.text("#id-token").strip()
    assert token.count(".") == 2, f"the application was passed no ID token: {token[:80]!r}"
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def status(b):
    return (b.last_document() or {}).get("status")


# --- signing in --------------------------------------------------------------------------------

def test_helpdesk_with_a_temporary_password_is_forced_through_the_change_and_lands_on_protected(app, provider, browser, new_account, walk):
    person = new_account("helpdesk", settle=False)
    b = browser(person.user_id)
    steps = visit(b, app, "/protected/", walk, person)
    assert steps == ["sign-in", "change", "sign-in", "consent"], f"the provider's pages on the way: {steps}"
    assert shows(b, app, "/protected/"), f"after the change the helpdesk is at {b.url}: {b.text()[:300]}"
    assert b.text("#name") == person.full_name
    assert b.text("#amr") == "pwd", f"a helpdesk's amr: {b.text('#amr')}"
    # The temporary password is spent: the new one is what signs in from now on.
    assert person.current == person.password


def test_operator_who_gives_the_code_reaches_the_operator_area(app, provider, browser, new_account, walk):
    person = new_account("staf_administrasi")
    b = browser(person.user_id)
    steps = visit(b, app, "/operator/", walk, person)
    assert steps == ["sign-in", "code", "consent"], f"the provider's pages on the way: {steps}"
    assert shows(b, app, "/operator/"), f"the operator is at {b.url}: {b.text()[:300]}"
    assert set(b.text("#amr").split(",")) == {"pwd", "otp", "mfa"}, f"an operator's amr: {b.text('#amr')}"


def test_new_operator_changes_the_password_and_enrols_an_authenticator_on_the_way(app, provider, browser, new_account, walk):
    person = new_account("staf_administrasi", settle=False)
    b = browser(person.user_id)
    steps = visit(b, app, "/operator/", walk, person)
    assert steps[:3] == ["sign-in", "change", "sign-in"] and "enrol" in steps and steps[-1] == "consent", \
        f"the provider's pages on the way: {steps}"
    assert shows(b, app, "/operator/"), f"the new operator is at {b.url}: {b.text()[:300]}"
    assert "otp" in b.text("#amr").split(",")


def test_operator_without_the_code_never_reaches_the_operator_area(app, provider, browser, new_account, walk):
    person = new_account("staf_administrasi")
    b = browser(person.user_id)
    steps = visit(b, app, "/operator/", walk, person, code=False)
    assert steps == ["sign-in", "code", "refused"], f"a wrong code: {steps}"
    assert provider.path(b) == "/masuk/kode", f"after a wrong code the operator is at {b.url}"
    assert never_shown(b, "/operator/")
    # Trying the application again without the code: back to the provider, never the page.
    b.open(app.url("/operator/"))
    steps = walk(b, person, stop_at=("code",))
    assert provider.on_provider(b), f"without the code the operator is at {b.url}: {b.text()[:300]}"
    assert never_shown(b, "/operator/")
    b.open(app.url("/protected/"))
    walk(b, person, stop_at=("code",))
    assert provider.on_provider(b) and never_shown(b, "/protected/"), f"without the code the operator is at {b.url}"


def test_helpdesk_is_refused_at_the_operator_area(app, provider, browser, new_account, walk):
    person = new_account("helpdesk")
    b = browser(person.user_id)
    steps = visit(b, app, "/operator/", walk, person)
    assert steps == ["sign-in", "consent"], f"the provider's pages on the way: {steps}"
    assert b.url.startswith(app.app), f"the helpdesk is not back at the application: {b.url}"
    assert never_shown(b, "/operator/"), "a helpdesk (amr pwd) sees the operator area"
    b.open(app.url("/operator/"))
    assert status(b) in (401, 403), f"the operator area answers a helpdesk {status(b)}"
    assert never_shown(b, "/operator/")
    # Signed in all the same: the area for everyone shows without another sign-in.
    b.open(app.url("/protected/"))
    assert shows(b, app, "/protected/"), f"the signed-in helpdesk at /protected/ is at {b.url}"


def test_consent_denied_shows_nothing(app, provider, browser, new_account, walk):
    person = new_account("helpdesk")
    b = browser(person.user_id)
    steps = visit(b, app, "/protected/", walk, person, consent=False)
    assert steps == ["sign-in", "consent"], f"the provider's pages on the way: {steps}"
    assert never_shown(b, "/protected/"), "the page shows although the person refused"
    assert b.url.startswith(app.redirect_uri + "?") and "error=access_denied" in b.url, \
        f"after the refusal the browser is at {b.url}, not back at the application with access_denied"
    # Trying again: the provider asks again (the refusal is no consent), the page stays hidden.
    b.open(app.url("/protected/"))
    walk(b, person, stop_at=("consent",))
    assert provider.on_provider(b) and b.has("#allow"), f"after a refusal /protected/ leads to {b.url}, not the consent page"
    assert never_shown(b, "/protected/")


def test_fresh_asks_for_the_password_again_although_the_provider_knows_the_person(app, provider, browser, new_account, walk):
    person = new_account("helpdesk")
    b = browser(person.user_id)
    steps = visit(b, app, "/protected/", walk, person)
    assert steps == ["sign-in", "consent"] and shows(b, app, "/protected/"), f"first sign-in: {steps}, at {b.url}"
    # The application's session gone (another application, or a day later), the provider's kept:
    # /protected/ signs in again without a password ...
    b.delete_cookies(app.host)
    steps = visit(b, app, "/protected/", walk, person)
    assert "sign-in" not in steps and shows(b, app, "/protected/"), f"with the provider's session alive: {steps}, at {b.url}"
    # ... and /fresh/ (prompt=login) asks for it all the same, then comes back to /fresh/.
    b.delete_cookies(app.host)
    b.open(app.url("/fresh/"))
    went = arrive(b, provider)
    steps = walk(b, person)
    assert steps and steps[0] == "sign-in", f"prompt=login did not ask for the password: {steps}; the browser went:\n{went}"
    assert shows(b, app, "/fresh/"), f"after signing in again the person is at {b.url}"


# --- keys --------------------------------------------------------------------------------------

def test_key_rotation_keeps_the_application_working(app, provider, browser, new_account, walk, rotate_keys):
    first = new_account("helpdesk")
    b1 = browser(first.user_id)
    visit(b1, app, "/protected/", walk, first)
    assert shows(b1, app, "/protected/"), f"before the rotation: {b1.url}"
    old = id_token_header(b1)

    lines = rotate_keys()
    added = dict(line.split()[:2] for line in lines)  # alg -> kid
    assert old["alg"] in added, f"keys-rotate said: {lines}"
    assert added[old["alg"]] != old["kid"]

    # The old session works on; a new sign-in still gets a token the application accepts
    # (still signed with the old key: the next one is only published, a day ahead).
    b1.open(app.url("/protected/"))
    assert shows(b1, app, "/protected/"), f"the session of before the rotation: {b1.url}"
    second = new_account("helpdesk")
    b2 = browser(second.user_id)
    visit(b2, app, "/protected/", walk, second)
    assert shows(b2, app, "/protected/"), f"a sign-in after the rotation: {b2.url}: {b2.text()[:300]}"
    assert id_token_header(b2)["kid"] == old["kid"]

    # A day later (its signs_from moved back, as no interface can), the next key signs: the
    # application, which cached the JWKS before the rotation, fetches it again and still accepts.
    kids = ", ".join(f"'{kid}'" for kid in added.values())
    provider.sql(f"UPDATE oidc_signing_keys SET signs_from = now() - interval '1 second' WHERE kid IN ({kids})")
    third = new_account("helpdesk")
    b3 = browser(third.user_id)
    visit(b3, app, "/protected/", walk, third)
    assert shows(b3, app, "/protected/"), f"a sign-in with the next key signing: {b3.url}: {b3.text()[:300]}"
    assert id_token_header(b3)["kid"] == added[old["alg"]], "the ID token is not signed with the next key"
    b1.open(app.url("/protected/"))
    b2.open(app.url("/protected/"))
    assert shows(b1, app, "/protected/") and shows(b2, app, "/protected/"), "earlier sessions ended with the key change"


# --- logout (the build with back-channel / RP-initiated logout) -----------------------------------

def app_session_gone(b, app, provider, path="/protected/"):
    """Polls the application (about 10 s) until it sends the browser to the provider instead of
    showing its page: whether it did."""
    def gone():
        b.open(app.url(path))
        return provider.on_provider(b)
    return provider.wait_until(gone, timeout=10, interval=0.5)


def test_backchannel_logout_after_sign_out_at_the_provider(app, provider, browser, new_account, walk, sign_out_at_provider):
    """Needs the build with back-channel logout."""
    person = new_account("helpdesk")
    b = browser(person.user_id)
    visit(b, app, "/protected/", walk, person)
    assert shows(b, app, "/protected/"), f"signed in: {b.url}"
    sign_out_at_provider(b)
    assert app_session_gone(b, app, provider), \
        "10 s after signing out at the provider the application still shows /protected/ (no back-channel logout)"
    assert never_shown(b, "/protected/")
    steps = walk(b, person)
    assert steps and steps[0] == "sign-in", f"signing in again: {steps}"
    assert shows(b, app, "/protected/")


def test_backchannel_logout_after_a_gate_reset(app, provider, browser, new_account, walk, gate_reset):
    """Needs the build with back-channel logout."""
    person = new_account("helpdesk")
    b = browser(person.user_id)
    visit(b, app, "/protected/", walk, person)
    assert shows(b, app, "/protected/"), f"signed in: {b.url}"
    gate_reset(person)
    assert app_session_gone(b, app, provider), \
        "10 s after the SOP 004 reset the application still shows /protected/ (no back-channel logout)"
    assert never_shown(b, "/protected/")
    # The new temporary password from the gate: the change is forced on the way back.
    steps = walk(b, person)
    assert steps[:3] == ["sign-in", "change", "sign-in"], f"signing in with the gate's temporary password: {steps}"
    assert shows(b, app, "/protected/"), f"after the reset and the change the helpdesk is at {b.url}"


def test_rp_initiated_logout(app, provider, browser, new_account, walk):
    """Needs the build with RP-initiated logout (end_session_endpoint, --post-logout-redirect-uri)."""
    assert app.post_logout, "this spse-accounts has no oidc client-add --post-logout-redirect-uri (RP-initiated logout)"
    assert "end_session_endpoint" in provider.metadata, "the provider's metadata has no end_session_endpoint"
    person = new_account("helpdesk")
    b = browser(person.user_id)
    visit(b, app, "/protected/", walk, person)
    assert shows(b, app, "/protected/"), f"signed in: {b.url}"
    b.open(app.url("/protected/redirect_uri?logout=" + quote(app.logged_out_url, safe="")))
    went_through = provider.path(b)
    if provider.on_provider(b) and b.has("#logout"):  # the provider may ask to confirm
        b.css("#logout").click()
        provider.wait_until(lambda: not provider.on_provider(b), timeout=10, interval=0.1)
        b.ready()
    assert b.url == app.logged_out_url and b.has("#logged-out"), \
        f"the logout ends at {b.url} (through {went_through}): {b.text()[:300]}"
    # Both sessions ended: the application sends the browser to the provider, which asks for the password.
    b.open(app.url("/protected/"))
    steps = walk(b, person, stop_at=("sign-in",))
    assert provider.on_provider(b) and b.has("form[action='/masuk']"), \
        f"after the logout /protected/ leads to {b.url} ({steps}), not the provider's sign-in"
    assert never_shown(b, "/protected/")
