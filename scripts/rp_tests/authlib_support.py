"""A relying party built on Authlib (PyPI: Authlib, requests) for the token endpoint's edge cases
(test_authlib.py): an application's OAuth2Session, a person's user agent that walks the
provider's sign-in and consent pages with plain HTTP (no browser: the forms are read from the
HTML, the redirect back to the application is read from `Location` or the hop page and never
followed), and fixtures on top of conftest.py's (`provider`, `operator_api`, `codes`,
`new_account`).

Fixtures defined here (conftest.py does not have them):

- `authlib_client(...)`: registers an application with `spse-accounts oidc client-add` as
  admin.ppe through the admin's stepped-up API session (SPSE_OPERATOR_TOKEN: one authenticator
  code per four minutes instead of one per registration, so registering a client per test costs
  no 30-second waits), optionally with `--jwks-file` (private_key_jwt), and returns an `App`.
- `person_agent(person)`: a `UserAgent` for a settled account.
"""
import base64
import hashlib
import html
import json
import os
import re
import secrets
import subprocess
import time
import warnings
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

with warnings.catch_warnings():
    # Authlib 1.9 deprecates authlib.jose for joserfc; it stays in every 1.x.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebKey, JsonWebToken

TIMEOUT = 20
# A loopback URI nothing listens on: the code is read from the redirect, never delivered.
REDIRECT = "http://127.0.0.1:9/cb"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
STEP_UP_AFTER = 240  # the API session's step-up lasts 300 s (SPSE_STEP_UP_SECONDS)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


def query_of(url):
    """The query parameters of a URL, one value each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


# --- the person's user agent: the provider's pages over plain HTTP ---------------------------------

class _Forms(HTMLParser):
    """The forms of a page (action, method, fields with their values, submit buttons) and a meta refresh target."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.refresh, self._form = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": (a.get("method") or "get").lower(), "fields": {}, "buttons": []}
            self.forms.append(self._form)
        elif tag == "input" and self._form is not None and a.get("name"):
            self._form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "button" and self._form is not None:
            self._form["buttons"].append({"name": a.get("name"), "value": a.get("value"), "id": a.get("id")})
        elif tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            match = re.search(r"url=(.*)$", a.get("content") or "", re.I)
            if match:
                self.refresh = match.group(1).strip()

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None

    def form(self, action):
        return next((f for f in self.forms if f["action"] == action), None)


class WalkError(AssertionError):
    def __init__(self, message, response):
        super().__init__(f"{message}: {response.request.method} {response.url} answered {response.status_code}\n"
                         f"{response.text[:1500]}")
        self.response = response


class UserAgent:
    """A person's user agent: its own cookies, following the provider's redirects and forms
    until it is sent to a URL that is not the provider's (the application's redirect URI)."""

    def __init__(self, base, person):
        self.base, self.person = base, person
        self.http = requests.Session()
        self.steps = []

    def get(self, url):
        return self.http.get(url, allow_redirects=False, timeout=TIMEOUT)

    def authorize(self, url, consent=True):
        """Opens the authorization URL; signs in and consents as needed; returns the URL the
        provider sends the browser to (the application's, with its query). A provider's page
        that is none of its steps (an error page) raises WalkError with that response."""
        response = self.get(url)
        for _ in range(20):
            if response.status_code in (301, 302, 303, 307, 308):
                target = urljoin(response.url, response.headers["Location"])
                if not target.startswith(self.base + "/"):
                    return target
                response = self.get(target)
                continue
            if response.status_code != 200:
                raise WalkError("the provider refused", response)
            page = _Forms()
            page.feed(response.text)
            if page.refresh:  # the provider's hop page: on by itself
                target = urljoin(response.url, html.unescape(page.refresh))
                self.steps.append("hop")
                if not target.startswith(self.base + "/"):
                    return target
                response = self.get(target)
                continue
            sign_in, consent_form = page.form("/masuk"), page.form("/oauth/authorize")
            if sign_in is not None:
                self.steps.append("sign-in")
                fields = dict(sign_in["fields"], user_id=self.person.user_id, password=self.person.current)
                response = self.http.post(urljoin(response.url, "/masuk"), data=fields, allow_redirects=False, timeout=TIMEOUT)
                continue
            if consent_form is not None:
                self.steps.append("consent")
                fields = dict(consent_form["fields"], decision="allow" if consent else "deny")
                response = self.http.post(urljoin(response.url, "/oauth/authorize"), data=fields, allow_redirects=False, timeout=TIMEOUT)
                continue
            raise WalkError("a provider's page that is no step of an authorization", response)
        raise WalkError("the authorization did not end", response)


# --- the application: Authlib's OAuth2Session ------------------------------------------------------

class Authorization:
    """One authorization request and what came back: the redirect, its code and state, the
    PKCE verifier and nonce that went with it."""

    def __init__(self, url, state, verifier, nonce, location):
        self.url, self.state, self.verifier, self.nonce, self.location = url, state, verifier, nonce, location
        self.query = query_of(location)
        self.code = self.query.get("code")


class App:
    """A registered application using Authlib: authorization URLs with S256 PKCE and a nonce,
    token requests, refresh, revocation, introspection, userinfo, ID token validation. `last`
    is the provider's last HTTP answer to it (status and headers for refusals)."""

    def __init__(self, provider, registration, auth_method=None, redirect_uri=REDIRECT, scope="openid profile email",
                 private_key=None, alg=None, assertion_lifetime=300):
        self.provider, self.registration = provider, registration
        self.client_id = registration["client_id"]
        self.secret = registration.get("client_secret")
        self.redirect_uri, self.scope = redirect_uri, scope
        self.metadata = provider.metadata
        self.token_endpoint = self.metadata["token_endpoint"]
        self.private_key, self.alg, self.assertion_lifetime = private_key, alg, assertion_lifetime
        if auth_method is None:
            auth_method = "private_key_jwt" if private_key is not None else ("client_secret_basic" if self.secret else "none")
        self.auth_method = auth_method
        self.session = self._session(auth_method)
        self.last = None

    def _session(self, auth_method):
        credential = self.secret
        if auth_method == "private_key_jwt":
            # Authlib's PrivateKeyJWT signs with a joserfc key (Authlib's JOSE library since 1.9).
            from joserfc.jwk import JWKRegistry
            credential = JWKRegistry.import_key(self.private_key.as_dict(is_private=True))
        session = OAuth2Session(self.client_id, credential, scope=self.scope, redirect_uri=self.redirect_uri,
                                code_challenge_method="S256", token_endpoint_auth_method=auth_method,
                                revocation_endpoint_auth_method=auth_method, default_timeout=TIMEOUT)
        if auth_method == "private_key_jwt":
            session.register_client_auth_method(_private_key_jwt(self.token_endpoint, self.alg, self.assertion_lifetime))
        session.hooks["response"].append(self._record)
        return session

    def _record(self, response, *args, **kwargs):
        self.last = response

    def with_auth(self, auth_method):
        """The same application authenticating another way (client_secret_post, ...)."""
        return App(self.provider, self.registration, auth_method, self.redirect_uri, self.scope, self.private_key, self.alg,
                   self.assertion_lifetime)

    # authorization

    def authorization_url(self, redirect_uri=None, code_challenge_method="S256", pkce=True, **extra):
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        session = OAuth2Session(self.client_id, scope=self.scope, redirect_uri=redirect_uri or self.redirect_uri,
                                code_challenge_method=code_challenge_method if pkce else None)
        kwargs = dict(nonce=nonce, **extra)
        if pkce and code_challenge_method != "S256":  # Authlib computes only S256 itself
            kwargs["code_challenge"] = verifier if code_challenge_method in ("plain", None) else s256(verifier)
            if code_challenge_method:
                kwargs["code_challenge_method"] = code_challenge_method
        url, state = session.create_authorization_url(self.metadata["authorization_endpoint"],
                                                      code_verifier=verifier if pkce else None, **kwargs)
        return url, state, verifier, nonce

    def sign_in(self, agent, **extra):
        """An authorization walked through by `agent`'s person; the code in `.code`."""
        url, state, verifier, nonce = self.authorization_url(**extra)
        location = agent.authorize(url)
        got = Authorization(url, state, verifier, nonce, location)
        assert location.startswith(self.redirect_uri + "?"), f"the provider sent the browser to {location}"
        assert got.code, f"no code in {location}"
        assert got.query.get("state") == state, f"state {got.query.get('state')!r} is not the request's {state!r}"
        assert got.query.get("iss") == self.provider.issuer, f"iss {got.query.get('iss')!r} (RFC 9207)"
        return got

    # token endpoint

    def redeem(self, got, **kwargs):
        """The code for tokens (Authlib's fetch_token with the verifier); OAuthError on a refusal."""
        kwargs.setdefault("code_verifier", got.verifier)
        return self.session.fetch_token(self.token_endpoint, authorization_response=got.location, state=got.state, **kwargs)

    def refresh(self, refresh_token, **kwargs):
        return self.session.refresh_token(self.token_endpoint, refresh_token=refresh_token, **kwargs)

    def refused(self, call, *args, **kwargs):
        """Runs a token request expected to be refused: (HTTP status, the JSON answer, the response)."""
        try:
            answer = call(*args, **kwargs)
        except OAuthError as error:
            response = self.last
            assert response is not None
            body = response.json()
            assert body["error"] == error.error
            return response.status_code, body, response
        raise AssertionError(f"the provider granted what it should refuse: {dict(answer)}")

    def revoke(self, token, hint=None):
        return self.session.revoke_token(self.metadata["revocation_endpoint"], token=token, token_type_hint=hint)

    def introspect(self, token):
        response = self.session.introspect_token(self.metadata["introspection_endpoint"], token=token)
        return response

    def post(self, path_or_url, data, auth=None, headers=None):
        """A raw form POST to one of the provider's endpoints (requests, no Authlib)."""
        url = path_or_url if path_or_url.startswith("http") else self.provider.base + path_or_url
        self.last = requests.post(url, data=data, auth=auth, headers=headers, timeout=TIMEOUT)
        return self.last

    # resources

    def userinfo(self, access_token):
        return requests.get(self.metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)

    def id_token_claims(self, token, got):
        """The ID token verified with the provider's JWKS (Authlib's JsonWebToken) and validated:
        iss, aud, exp, iat, nonce (essential), at_hash of this access token, azp, sid, amr."""
        jwks = requests.get(self.metadata["jwks_uri"], timeout=TIMEOUT).json()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            keys = JsonWebKey.import_key_set(jwks)
            jwt = JsonWebToken(self.metadata["id_token_signing_alg_values_supported"])
            claims = jwt.decode(token["id_token"], keys, claims_options={
                "iss": {"essential": True, "value": self.provider.issuer},
                "aud": {"essential": True, "value": self.client_id},
                "exp": {"essential": True}, "iat": {"essential": True}, "sub": {"essential": True},
                "nonce": {"essential": True, "value": got.nonce},
            })
            claims.validate(leeway=5)
        alg = claims.header["alg"]
        assert alg in ("ES256", "RS256"), alg
        digest = hashlib.sha256(token["access_token"].encode()).digest()
        assert claims["at_hash"] == b64url(digest[:16]), "at_hash is not the access token's"
        assert claims["azp"] == self.client_id
        assert isinstance(claims.get("sid"), str) and claims["sid"], f"no sid: {dict(claims)}"
        assert claims["exp"] > time.time() > claims["iat"] - 5
        return claims


def _private_key_jwt(token_endpoint, alg, lifetime):
    """Authlib's PrivateKeyJWT: a fresh assertion (new jti) per request. `lifetime`: its exp
    this many seconds after iat; None: Authlib's default (3600 s)."""
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

    class Signer(PrivateKeyJWT):
        def sign(self, auth, endpoint):
            # A new claims dict each time: Authlib writes the jti it makes into the dict it was given.
            self.claims = None if lifetime is None else {"exp": int(time.time()) + lifetime}
            return super().sign(auth, endpoint)
    return Signer(token_endpoint, alg=alg)


# --- client keys for private_key_jwt ---------------------------------------------------------------

def client_key(kty="EC", kid=None):
    """A client's key pair (Authlib's JsonWebKey): ES256 on P-256 or RS256 on RSA-2048."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key = JsonWebKey.generate_key(kty, "P-256" if kty == "EC" else 2048, is_private=True,
                                      options={"kid": kid or secrets.token_urlsafe(8)})
    return key


def public_jwks(*keys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"keys": [dict(k.as_dict(is_private=False), use="sig", alg="ES256" if k.as_dict()["kty"] == "EC" else "RS256")
                         for k in keys]}


def assertion(key, client_id, audience, alg=None, jti=None, exp_in=120, iat=None, **overrides):
    """A client assertion (RFC 7523 §3): iss = sub = client_id, aud, iat, exp, jti, signed by `key`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alg = alg or ("ES256" if key.as_dict()["kty"] == "EC" else "RS256")
        now = int(time.time()) if iat is None else iat
        payload = {"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + exp_in,
                   "jti": jti or secrets.token_urlsafe(24)}
        payload.update(overrides)
        header = {"alg": alg, "kid": key.as_dict()["kid"]}
        return JsonWebToken([alg]).encode(header, payload, key).decode()


def unsigned_assertion(client_id, audience):
    """The same claims with `alg: none` and no signature."""
    now = int(time.time())
    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url(json.dumps({"iss": client_id, "sub": client_id, "aud": audience, "iat": now, "exp": now + 120,
                                 "jti": secrets.token_urlsafe(24)}).encode())
    return f"{header}.{payload}."


# --- fixtures ---------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def _authlib_registrar(provider, operator_api):
    """`oidc client-add` as admin.ppe with its API session token (SPSE_OPERATOR_TOKEN), stepped up
    again (one authenticator code) before the step-up is five minutes old."""
    serial = [0]

    def register(redirect_uris=(REDIRECT,), confidential=True, jwks=None, claims=None, pkce_exempt=False):
        if time.monotonic() - operator_api.stepped_up > STEP_UP_AFTER:
            operator_api.api.call("POST", "/v1/auth/step-up", {"code": provider.codes.code("admin.ppe")}, token=operator_api.token)
            operator_api.stepped_up = time.monotonic()
        serial[0] += 1
        client_id = f"authlib-{serial[0]:02d}-{os.getpid()}"
        arguments = ["oidc", "client-add", "--json", "--client-id", client_id, "--name", f"Aplikasi Authlib {serial[0]}"]
        for uri in redirect_uris:
            arguments += ["--redirect-uri", uri]
        if confidential and jwks is None:
            arguments.append("--confidential")
        if jwks is not None:
            path = os.path.join(provider.work, f"{client_id}.jwks.json")
            with open(path, "w") as f:
                json.dump(jwks, f)
            arguments += ["--jwks-file", path]
        if claims:
            arguments += ["--claims", ",".join(claims)]
        if pkce_exempt:
            arguments.append("--pkce-exempt")
        env = dict(os.environ, DATABASE_URL=provider.database_url, SPSE_OPERATOR_TOKEN=operator_api.token)
        for name in ("SPSE_OPERATOR", "SPSE_OPERATOR_PASSWORD", "SPSE_OPERATOR_TOTP"):
            env.pop(name, None)
        result = subprocess.run([provider.bin, *arguments], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, f"spse-accounts {' '.join(arguments)} exited {result.returncode}: {result.stderr.strip()}"
        return json.loads(result.stdout)
    return register


@pytest.fixture
def authlib_client(provider, _authlib_registrar):
    """`authlib_client(redirect_uris=(REDIRECT,), confidential=True, auth_method=None, keys=None, alg=None,
    assertion_lifetime=300)`: a new application of this test, as an `App` (`keys`: its private
    keys, the first signing; registered with their public JWKS for private_key_jwt)."""
    def make(redirect_uris=(REDIRECT,), confidential=True, auth_method=None, keys=None, alg=None, claims=None, pkce_exempt=False,
             assertion_lifetime=300):
        jwks = public_jwks(*keys) if keys else None
        registration = _authlib_registrar(redirect_uris, confidential=confidential, jwks=jwks, claims=claims, pkce_exempt=pkce_exempt)
        return App(provider, registration, auth_method=auth_method, redirect_uri=redirect_uris[0],
                   private_key=keys[0] if keys else None, alg=alg, assertion_lifetime=assertion_lifetime)
    return make


@pytest.fixture
def person_agent(provider):
    """`person_agent(person)`: the person's user agent at the provider (cookies of its own)."""
    agents = []

    def make(person):
        agent = UserAgent(provider.base, person)
        agents.append(agent)
        return agent
    yield make
    for agent in agents:
        agent.http.close()


@pytest.fixture
def helpdesk_agent(new_account, person_agent):
    """A new helpdesk account (first login done) and its user agent, not yet signed in at the provider."""
    return person_agent(new_account("helpdesk"))
