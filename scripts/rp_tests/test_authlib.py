"""The token endpoint's edge cases with a second client library: Authlib's OAuth2Session (PyPI
Authlib, requests) as the application, and a person's user agent walking the provider's
sign-in and consent pages over plain HTTP (authlib_support.py).

Every answer checked is what an application or a person notices: the status and the OAuth
`error` (RFC 6749 §5.2, RFC 7009, RFC 7662, RFC 7523) and the tokens' fate afterwards
(userinfo, refresh, introspection). Each test registers its own applications and creates its
own helpdesk account, so it passes alone and in any order.

The private_key_jwt tests (RFC 7523 client assertions) need a build whose `oidc client-add` has
`--jwks-file` and whose token endpoint takes `client_assertion`.
"""
import base64
import json
import re
import time
from urllib.parse import parse_qs

import pytest
import requests
from authlib.integrations.base_client import OAuthError

from authlib_support import (ASSERTION_TYPE, REDIRECT, TIMEOUT, UserAgent, WalkError, assertion, authlib_client,  # noqa: F401
                             client_key, helpdesk_agent, person_agent, query_of, unsigned_assertion, _authlib_registrar)

SCOPE = "openid profile email"


def assert_dead(app, token):
    """What an application notices of an access token that no longer works."""
    response = app.userinfo(token["access_token"])
    assert response.status_code == 401, f"userinfo with a dead access token: {response.status_code} {response.text}"
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers.get("WWW-Authenticate", ""), response.headers
    if app.secret or app.private_key is not None:
        introspection = app.introspect(token["access_token"])
        assert introspection.status_code == 200
        assert introspection.json() == {"active": False}


def assert_alive(app, token):
    response = app.userinfo(token["access_token"])
    assert response.status_code == 200, f"userinfo: {response.status_code} {response.text}"
    return response.json()


def assert_refresh_refused(app, refresh_token):
    status, body, _ = app.refused(app.refresh, refresh_token)
    assert (status, body["error"]) == (400, "invalid_grant"), body


# --- the flow itself ----------------------------------------------------------------------------

def test_code_flow_gives_a_valid_id_token_and_userinfo(authlib_client, helpdesk_agent):
    app = authlib_client()
    got = app.sign_in(helpdesk_agent)
    assert helpdesk_agent.steps.count("sign-in") == 1 and "consent" in helpdesk_agent.steps, helpdesk_agent.steps
    token = app.redeem(got)
    response = app.last
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert token["token_type"] == "Bearer" and token["expires_in"] == 300 and token["scope"] == SCOPE
    assert token["refresh_token"] and token["refresh_token"] != token["access_token"]
    claims = app.id_token_claims(token, got)
    # A helpdesk signs in with a password alone (no authenticator is asked of a managed role).
    assert claims["amr"] == ["pwd"] and claims["acr"] == "urn:spse:acr:password"
    assert claims["name"] == helpdesk_agent.person.full_name and claims["email"] == helpdesk_agent.person.email
    info = assert_alive(app, token)
    assert info["sub"] == claims["sub"] and info["email"] == helpdesk_agent.person.email
    # A second authorization in the same browser: no sign-in, no consent, the same session (sid).
    again = app.sign_in(helpdesk_agent)
    assert helpdesk_agent.steps.count("sign-in") == 1 and helpdesk_agent.steps.count("consent") == 1, helpdesk_agent.steps
    second = app.redeem(again)
    claims2 = app.id_token_claims(second, again)
    assert claims2["sid"] == claims["sid"] and claims2["sub"] == claims["sub"] and claims2["nonce"] != claims["nonce"]


# --- code reuse ---------------------------------------------------------------------------------

def test_code_reuse_is_refused_and_revokes_the_first_redemptions_tokens(authlib_client, helpdesk_agent):
    app = authlib_client()
    got = app.sign_in(helpdesk_agent)
    first = app.redeem(got)
    refreshed = app.refresh(first["refresh_token"])  # a token from the family the code started
    assert_alive(app, first)
    assert_alive(app, refreshed)

    status, body, _ = app.refused(app.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body

    # Everything the code gave is dead: both access tokens, the refresh tokens, old and new.
    assert_dead(app, first)
    assert_dead(app, refreshed)
    assert_refresh_refused(app, refreshed["refresh_token"])
    assert_refresh_refused(app, first["refresh_token"])


def test_a_code_presented_by_another_client_is_invalid_grant_and_spent(authlib_client, helpdesk_agent):
    app, other = authlib_client(), authlib_client()
    got = app.sign_in(helpdesk_agent)
    status, body, _ = other.refused(other.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body
    # A code shown to another client is spent (it leaked): its own client cannot redeem it now.
    status, body, _ = app.refused(app.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body


def test_an_expired_code_is_invalid_grant(authlib_client, helpdesk_agent, provider):
    app = authlib_client()
    got = app.sign_in(helpdesk_agent)
    # The code lives 60 s: its expiry moved into the past.
    assert provider.sql("WITH aged AS (UPDATE oidc_codes SET expires_at = now() - interval '1 second' "
                        f"WHERE client_id = '{app.client_id}' RETURNING 1) SELECT count(*) FROM aged") == "1"
    status, body, _ = app.refused(app.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body


# --- PKCE ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("confidential", [False, True], ids=["public", "confidential"])
def test_authorization_without_pkce_is_sent_back_with_invalid_request(authlib_client, provider, confidential):
    app = authlib_client(confidential=confidential)
    url, state, _, _ = app.authorization_url(pkce=False)
    assert "code_challenge" not in url
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 303, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    answer = query_of(location)
    assert answer["error"] == "invalid_request" and answer["state"] == state and answer["iss"] == provider.issuer, answer
    assert "code" not in answer


@pytest.mark.parametrize("method", ["plain", None], ids=["plain", "no-method-means-plain"])
def test_authorization_with_plain_pkce_is_sent_back_with_invalid_request(authlib_client, provider, method):
    app = authlib_client(confidential=False)
    url, state, verifier, _ = app.authorization_url(code_challenge_method=method)
    sent = query_of(url)
    assert sent["code_challenge"] == verifier and sent.get("code_challenge_method") == method
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 303, response.text[:500]
    answer = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT + "?")
    assert answer["error"] == "invalid_request" and answer["state"] == state and answer["iss"] == provider.issuer, answer
    assert "code" not in answer


def test_a_malformed_s256_challenge_is_sent_back_with_invalid_request(authlib_client, provider):
    app = authlib_client(confidential=False)
    url, state, _, _ = app.authorization_url()
    challenge = query_of(url)["code_challenge"]
    assert len(challenge) == 43
    # 42 characters: shorter than RFC 7636 allows (43-128).
    response = requests.get(url.replace(challenge, challenge[:42]), allow_redirects=False, timeout=TIMEOUT)
    answer = query_of(response.headers["Location"])
    assert response.status_code == 303 and answer["error"] == "invalid_request" and answer["state"] == state, answer
    assert "code" not in answer


@pytest.mark.parametrize("presented", ["wrong", "missing"])
def test_a_wrong_verifier_is_invalid_grant_and_spends_the_code(authlib_client, helpdesk_agent, presented):
    app = authlib_client(confidential=False)
    got = app.sign_in(helpdesk_agent)
    verifier = "x" * 43 if presented == "wrong" else None
    status, body, _ = app.refused(app.redeem, got, code_verifier=verifier)
    assert (status, body["error"]) == (400, "invalid_grant"), body
    # The code is spent: the right verifier does not bring it back.
    status, body, _ = app.refused(app.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body


# --- redirect URIs ------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", [
    "http://127.0.0.1:9/cb/", "http://127.0.0.1:9/CB", "http://127.0.0.1:9/cb?next=x", "http://127.0.0.1:10/cb",
    "http://localhost:9/cb", "http://127.0.0.1:9/cb#x",
], ids=["trailing-slash", "case", "added-query", "other-port", "other-host", "fragment"])
def test_an_unregistered_redirect_uri_is_refused_at_the_provider(authlib_client, helpdesk_agent, variant):
    app = authlib_client()
    url, _, _, _ = app.authorization_url(redirect_uri=variant)
    assert query_of(url)["redirect_uri"] == variant
    # Someone not signed in, and someone signed in: neither is sent anywhere.
    anonymous = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    app.sign_in(helpdesk_agent)  # signed in at the provider, consent given for the registered URI
    signed_in = helpdesk_agent.get(url)
    for response in (anonymous, signed_in):
        assert response.status_code == 400, f"{variant}: {response.status_code} {response.headers}"
        assert "Location" not in response.headers, response.headers
        assert response.headers["Content-Type"].startswith("text/html")
        assert 'role="alert"' in response.text and "code=" not in response.text
        assert variant.split("?")[0] not in response.text  # no link to the unregistered URI either
    # The error page is no step the walk can take: it stays at the provider.
    with pytest.raises(WalkError) as refused:
        UserAgent(helpdesk_agent.base, helpdesk_agent.person).authorize(url)
    assert refused.value.response.status_code == 400


@pytest.mark.parametrize("presented", ["other-registered", "trailing-slash", "missing"])
def test_a_redirect_uri_differing_at_the_token_endpoint_is_invalid_grant(authlib_client, helpdesk_agent, presented):
    other = "http://127.0.0.1:9/cb2"
    app = authlib_client(redirect_uris=(REDIRECT, other))
    got = app.sign_in(helpdesk_agent)
    uri = {"other-registered": other, "trailing-slash": REDIRECT + "/", "missing": ""}[presented]
    status, body, _ = app.refused(app.redeem, got, redirect_uri=uri)
    assert (status, body["error"]) == (400, "invalid_grant"), body
    # Spent by that attempt: the request's own redirect URI does not redeem it either.
    status, body, _ = app.refused(app.redeem, got)
    assert (status, body["error"]) == (400, "invalid_grant"), body


# --- refresh tokens -----------------------------------------------------------------------------

def test_refresh_rotates_and_a_retry_within_the_window_gets_the_same_successor(authlib_client, helpdesk_agent):
    app = authlib_client()
    token0 = app.redeem(app.sign_in(helpdesk_agent))
    token1 = app.refresh(token0["refresh_token"])
    assert token1["refresh_token"] != token0["refresh_token"] and token1["access_token"] != token0["access_token"]
    assert "id_token" not in token1 and token1["scope"] == SCOPE and token1["expires_in"] == 300
    # The answer was lost: the same refresh token again, within the retry window (30 s), gets the same successor.
    retry = app.refresh(token0["refresh_token"])
    assert retry["refresh_token"] == token1["refresh_token"]
    assert retry["access_token"] != token1["access_token"]
    for token in (token0, token1, retry):
        assert_alive(app, token)
    token2 = app.refresh(token1["refresh_token"])
    assert token2["refresh_token"] not in (token0["refresh_token"], token1["refresh_token"])
    assert_alive(app, token2)


def test_reusing_an_older_generation_revokes_the_family(authlib_client, helpdesk_agent):
    app = authlib_client()
    token0 = app.redeem(app.sign_in(helpdesk_agent))
    token1 = app.refresh(token0["refresh_token"])
    token2 = app.refresh(token1["refresh_token"])
    # Generation 0 again, within 30 s of its use but after its successor was used: a replay.
    assert_refresh_refused(app, token0["refresh_token"])
    assert_refresh_refused(app, token2["refresh_token"])  # the family's newest is dead too
    assert_refresh_refused(app, token1["refresh_token"])
    for token in (token0, token1, token2):
        assert_dead(app, token)


def test_reusing_a_refresh_token_after_the_retry_window_revokes_the_family(authlib_client, helpdesk_agent, provider):
    app = authlib_client()
    token0 = app.redeem(app.sign_in(helpdesk_agent))
    token1 = app.refresh(token0["refresh_token"])
    # 31 seconds pass (the retry window is 30 s and no setting shortens it): its use moved back.
    moved = provider.sql("WITH moved AS (UPDATE oidc_refresh_tokens SET used_at = used_at - interval '31 seconds' "
                         f"WHERE client_id = '{app.client_id}' AND generation = 0 AND used_at IS NOT NULL RETURNING 1) "
                         "SELECT count(*) FROM moved")
    assert moved == "1"
    assert_refresh_refused(app, token0["refresh_token"])
    assert_refresh_refused(app, token1["refresh_token"])
    assert_dead(app, token0)
    assert_dead(app, token1)


def test_refresh_may_narrow_the_scope_but_not_widen_it(authlib_client, helpdesk_agent):
    app = authlib_client()
    token = app.redeem(app.sign_in(helpdesk_agent))
    status, body, _ = app.refused(app.refresh, token["refresh_token"], scope=SCOPE + " spse")
    assert (status, body["error"]) == (400, "invalid_scope"), body
    # Refused before any rotation: the same refresh token still works, narrowed to openid.
    narrow = app.refresh(token["refresh_token"], scope="openid")
    assert narrow["scope"] == "openid"
    info = assert_alive(app, narrow)
    assert "email" not in info and "name" not in info, info  # the narrowed access token reads less
    # RFC 6749 §6: the new refresh token's scope is identical to the presented one's, and a
    # refresh without a narrower `scope` gets all that was granted: narrowing one access token loses nothing.
    try:
        wide = app.refresh(narrow["refresh_token"])  # Authlib sends the scope it was configured with, the granted one
    except OAuthError:
        raise AssertionError(f"the successor of a narrowed refresh is narrowed too: refreshing it with scope '{SCOPE}' "
                             f"answered {app.last.status_code} {app.last.text}") from None
    assert wide["scope"] == SCOPE and "email" in assert_alive(app, wide)


def test_signing_out_at_the_provider_ends_the_refresh_family(authlib_client, helpdesk_agent):
    app = authlib_client()
    token0 = app.redeem(app.sign_in(helpdesk_agent))
    token1 = app.refresh(token0["refresh_token"])
    page = helpdesk_agent.get(helpdesk_agent.base + "/beranda")
    assert page.status_code == 200
    csrf = re.search(r'<form method="post" action="/keluar" class="signout">\s*<input type="hidden" name="csrf" value="([^"]+)"', page.text)
    assert csrf, "no sign-out form at the provider's console"
    signed_out = helpdesk_agent.http.post(helpdesk_agent.base + "/keluar", data={"csrf": csrf.group(1)}, allow_redirects=False,
                                          timeout=TIMEOUT)
    assert signed_out.status_code == 303 and signed_out.headers["Location"] == "/masuk"
    assert_refresh_refused(app, token1["refresh_token"])
    assert_dead(app, token0)
    assert_dead(app, token1)


def test_a_refresh_token_is_the_clients_own(authlib_client, helpdesk_agent):
    app, other = authlib_client(), authlib_client()
    token = app.redeem(app.sign_in(helpdesk_agent))
    assert_refresh_refused(other, token["refresh_token"])
    # The other client's attempt changed nothing for its owner.
    assert app.refresh(token["refresh_token"])["refresh_token"]
    assert_alive(app, token)


# --- revocation (RFC 7009) ----------------------------------------------------------------------

def test_revoking_an_access_token_ends_it_and_leaves_the_refresh_token(authlib_client, helpdesk_agent):
    app = authlib_client()
    token = app.redeem(app.sign_in(helpdesk_agent))
    assert_alive(app, token)
    response = app.revoke(token["access_token"], hint="access_token")
    assert response.status_code == 200 and response.text == ""
    assert_dead(app, token)
    # Revoking again: the same answer.
    assert app.revoke(token["access_token"]).status_code == 200
    assert_alive(app, app.refresh(token["refresh_token"]))


def test_revoking_a_refresh_token_ends_its_family(authlib_client, helpdesk_agent):
    app = authlib_client()
    token0 = app.redeem(app.sign_in(helpdesk_agent))
    token1 = app.refresh(token0["refresh_token"])
    response = app.revoke(token1["refresh_token"], hint="refresh_token")
    assert response.status_code == 200
    for token in (token0, token1):
        assert_dead(app, token)
        assert_refresh_refused(app, token["refresh_token"])


def test_revoking_an_unknown_or_another_clients_token_is_200_and_does_nothing(authlib_client, helpdesk_agent):
    app, other = authlib_client(), authlib_client()
    token = app.redeem(app.sign_in(helpdesk_agent))
    for value in ("tidak-ada-token-seperti-ini", token["access_token"], token["refresh_token"]):
        response = other.revoke(value)
        assert response.status_code == 200, f"{response.status_code} {response.text}"
    # The owner's tokens still work.
    assert_alive(app, token)
    introspection = app.introspect(token["access_token"]).json()
    assert introspection["active"] is True
    assert app.refresh(token["refresh_token"])["refresh_token"]


def test_a_public_client_revokes_its_own_tokens(authlib_client, helpdesk_agent):
    app = authlib_client(confidential=False)
    assert app.auth_method == "none"
    token = app.redeem(app.sign_in(helpdesk_agent))
    response = app.revoke(token["refresh_token"], hint="refresh_token")
    assert response.status_code == 200
    assert_dead(app, token)
    assert_refresh_refused(app, token["refresh_token"])


# --- introspection (RFC 7662) -------------------------------------------------------------------

def test_introspection_of_the_clients_live_token(authlib_client, helpdesk_agent, provider):
    app = authlib_client()
    got = app.sign_in(helpdesk_agent)
    token = app.redeem(got)
    claims = app.id_token_claims(token, got)
    response = app.introspect(token["access_token"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    answer = response.json()
    assert answer["active"] is True
    assert answer["sub"] == claims["sub"] and answer["sid"] == claims["sid"]
    assert answer["client_id"] == app.client_id and answer["scope"] == SCOPE
    assert answer["token_type"] == "Bearer" and answer["iss"] == provider.issuer
    assert answer["exp"] - answer["iat"] == 300 and answer["exp"] > time.time()
    # client_secret_post works here as well.
    assert app.with_auth("client_secret_post").introspect(token["access_token"]).json()["active"] is True


@pytest.mark.parametrize("case", ["unknown", "revoked", "expired", "another-clients", "refresh-token"])
def test_introspection_answers_only_active_false_otherwise(authlib_client, helpdesk_agent, provider, case):
    app = authlib_client()
    token = app.redeem(app.sign_in(helpdesk_agent))
    asker, value = app, token["access_token"]
    if case == "unknown":
        value = "tidak-ada-token-seperti-ini"
    elif case == "revoked":
        assert app.revoke(value).status_code == 200
    elif case == "expired":
        assert provider.sql("WITH aged AS (UPDATE oidc_access_tokens SET expires_at = now() - interval '1 second' "
                            f"WHERE client_id = '{app.client_id}' RETURNING 1) SELECT count(*) FROM aged") == "1"
        assert app.userinfo(value).status_code == 401
    elif case == "another-clients":
        asker = authlib_client()
    elif case == "refresh-token":
        value = token["refresh_token"]  # only access tokens are introspected
    response = asker.introspect(value)
    assert response.status_code == 200
    assert response.json() == {"active": False}
    if case == "another-clients":
        assert app.introspect(value).json()["active"] is True


def test_a_public_client_may_not_introspect(authlib_client, helpdesk_agent):
    app = authlib_client(confidential=False)
    token = app.redeem(app.sign_in(helpdesk_agent))
    response = app.introspect(token["access_token"])
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
    assert response.headers.get("WWW-Authenticate", "").startswith("Basic"), response.headers
    assert_alive(app, token)


# --- client authentication ----------------------------------------------------------------------

@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_both_secret_methods_authenticate(authlib_client, helpdesk_agent, method):
    app = authlib_client(auth_method=method)
    token = app.redeem(app.sign_in(helpdesk_agent))
    sent = app.last.request
    assert ("Authorization" in sent.headers) == (method == "client_secret_basic")
    assert ("client_secret=" in sent.body) == (method == "client_secret_post")
    assert_alive(app, token)
    refreshed = app.refresh(token["refresh_token"])
    assert app.introspect(refreshed["access_token"]).json()["active"] is True
    assert app.revoke(refreshed["refresh_token"]).status_code == 200
    assert_dead(app, refreshed)


def test_basic_and_post_at_once_is_invalid_request(authlib_client, helpdesk_agent):
    app = authlib_client()
    got = app.sign_in(helpdesk_agent)
    form = {"grant_type": "authorization_code", "code": got.code, "redirect_uri": REDIRECT, "code_verifier": got.verifier,
            "client_id": app.client_id, "client_secret": app.secret}
    response = app.post(app.token_endpoint, form, auth=(app.client_id, app.secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_request", response.text
    # Refused before the code was looked at: it still redeems.
    assert_alive(app, app.redeem(got))


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_wrong_secret_is_invalid_client_with_www_authenticate(authlib_client, helpdesk_agent, method):
    app = authlib_client(auth_method=method)
    got = app.sign_in(helpdesk_agent)
    wrong = app.with_auth(method)
    wrong.session.client_secret = app.secret[:-2] + ("AA" if not app.secret.endswith("AA") else "BB")
    status, body, response = wrong.refused(wrong.redeem, got)
    assert (status, body["error"]) == (401, "invalid_client"), body
    assert response.headers.get("WWW-Authenticate", "").startswith("Basic realm="), response.headers
    assert app.secret not in response.text
    # An unknown client alike.
    stranger = app.with_auth(method)
    stranger.session.client_id = "tidak-terdaftar"
    status, body, response = stranger.refused(stranger.redeem, got)
    assert (status, body["error"]) == (401, "invalid_client") and "WWW-Authenticate" in response.headers
    # The code was not spent by the failed authentications.
    assert_alive(app, app.redeem(got))


def test_a_public_client_sending_a_secret_is_invalid_client(authlib_client, helpdesk_agent):
    app = authlib_client(confidential=False)
    got = app.sign_in(helpdesk_agent)
    form = {"grant_type": "authorization_code", "code": got.code, "redirect_uri": REDIRECT, "code_verifier": got.verifier,
            "client_id": app.client_id, "client_secret": "rahasia"}
    response = app.post(app.token_endpoint, form)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
    assert_alive(app, app.redeem(got))


# --- private_key_jwt (RFC 7523 client assertions; needs the build with --jwks-file) --------------

def test_discovery_offers_private_key_jwt(provider):
    metadata = requests.get(provider.base + "/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"], metadata["token_endpoint_auth_methods_supported"]
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "RS256"]


@pytest.mark.parametrize("kty", ["EC", "RSA"], ids=["ES256", "RS256"])
def test_private_key_jwt_authenticates(authlib_client, helpdesk_agent, kty):
    key = client_key(kty)
    app = authlib_client(keys=[key], alg="ES256" if kty == "EC" else "RS256")
    assert app.auth_method == "private_key_jwt" and app.secret is None
    got = app.sign_in(helpdesk_agent)
    token = app.redeem(got)  # Authlib's PrivateKeyJWT: a fresh assertion per request
    sent = {k: v[0] for k, v in parse_qs(app.last.request.body).items()}
    assert sent["client_assertion_type"] == ASSERTION_TYPE and sent["client_assertion"].count(".") == 2
    assert "client_secret" not in sent
    assert "Authorization" not in app.last.request.headers
    claims = app.id_token_claims(token, got)
    assert claims["aud"] == app.client_id
    refreshed = app.refresh(token["refresh_token"])
    assert_alive(app, refreshed)
    # Introspection and revocation take the same client authentication.
    introspection = app.introspect(refreshed["access_token"])
    assert introspection.status_code == 200 and introspection.json()["active"] is True, introspection.text
    assert app.revoke(refreshed["refresh_token"]).status_code == 200
    assert_dead(app, refreshed)
    assert_refresh_refused(app, refreshed["refresh_token"])


@pytest.mark.parametrize("audience", ["issuer", "list-with-token-endpoint"])
def test_an_assertion_for_the_issuer_or_a_list_of_audiences_is_accepted(authlib_client, helpdesk_agent, provider, audience):
    key = client_key("EC")
    app = authlib_client(keys=[key], alg="ES256")
    got = app.sign_in(helpdesk_agent)
    aud = provider.issuer if audience == "issuer" else ["https://lain.example.go.id", app.token_endpoint]
    response = app.post(app.token_endpoint, _assertion_form(app, got, assertion(key, app.client_id, aud)))
    assert response.status_code == 200, response.text
    assert_alive(app, response.json())


def test_authlibs_default_private_key_jwt_is_accepted(authlib_client, helpdesk_agent):
    """Authlib's PrivateKeyJWT as it comes: its assertions live an hour (exp = iat + 3600)."""
    key = client_key("EC")
    app = authlib_client(keys=[key], alg="ES256", assertion_lifetime=None)
    got = app.sign_in(helpdesk_agent)
    try:
        token = app.redeem(got)
    except OAuthError:
        sent = parse_qs(app.last.request.body)["client_assertion"][0].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(sent + "=" * (-len(sent) % 4)))
        raise AssertionError(f"Authlib's default assertion (exp - iat = {claims['exp'] - claims['iat']} s) answered "
                             f"{app.last.status_code} {app.last.text}") from None
    assert_alive(app, token)


def _assertion_form(app, got, client_assertion):
    return {"grant_type": "authorization_code", "code": got.code, "redirect_uri": app.redirect_uri, "code_verifier": got.verifier,
            "client_id": app.client_id, "client_assertion_type": ASSERTION_TYPE, "client_assertion": client_assertion}


def test_a_replayed_client_assertion_is_invalid_client(authlib_client, helpdesk_agent):
    key = client_key("EC")
    app = authlib_client(keys=[key], alg="ES256")
    first, second = app.sign_in(helpdesk_agent), app.sign_in(helpdesk_agent)
    signed = assertion(key, app.client_id, app.token_endpoint)
    response = app.post(app.token_endpoint, _assertion_form(app, first, signed))
    assert response.status_code == 200, response.text
    assert_alive(app, response.json())
    # The same assertion (same jti) again, for another code: refused, the code untouched.
    response = app.post(app.token_endpoint, _assertion_form(app, second, signed))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
    assert "WWW-Authenticate" in response.headers
    # A new assertion whose jti is the used one's: refused too.
    same_jti = assertion(key, app.client_id, app.token_endpoint, jti=_jti(signed))
    response = app.post(app.token_endpoint, _assertion_form(app, second, same_jti))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
    response = app.post(app.token_endpoint, _assertion_form(app, second, assertion(key, app.client_id, app.token_endpoint)))
    assert response.status_code == 200, response.text


def _jti(signed):
    payload = signed.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["jti"]


@pytest.mark.parametrize("case", ["wrong-aud", "expired", "other-key", "alg-none", "iss-sub-other-client", "no-assertion"])
def test_a_bad_client_assertion_is_invalid_client(authlib_client, helpdesk_agent, case):
    key = client_key("EC")
    app = authlib_client(keys=[key], alg="ES256")
    got = app.sign_in(helpdesk_agent)
    endpoint = app.token_endpoint
    if case == "wrong-aud":
        signed = assertion(key, app.client_id, "https://lpse.lain.example.go.id/oauth/token")
    elif case == "expired":
        signed = assertion(key, app.client_id, endpoint, iat=int(time.time()) - 600, exp_in=300)
    elif case == "other-key":
        # Another key under the registered key's kid: the signature does not verify.
        signed = assertion(client_key("EC", kid=key.as_dict()["kid"]), app.client_id, endpoint)
    elif case == "alg-none":
        signed = unsigned_assertion(app.client_id, endpoint)
    elif case == "iss-sub-other-client":
        signed = assertion(key, app.client_id, endpoint, iss="authlib-lain", sub="authlib-lain")
    form = _assertion_form(app, got, None if case == "no-assertion" else signed)
    if case == "no-assertion":
        del form["client_assertion"], form["client_assertion_type"]
    response = app.post(endpoint, form)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", f"{case}: {response.status_code} {response.text}"
    assert "WWW-Authenticate" in response.headers
    # Refused before the code was looked at: a good assertion still redeems it.
    response = app.post(endpoint, _assertion_form(app, got, assertion(key, app.client_id, endpoint)))
    assert response.status_code == 200, response.text
