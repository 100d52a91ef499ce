import Accounts
import Crypto
import Federation
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// The OpenID provider end to end, in process: an application sends the browser to
/// `/oauth/authorize`, the console signs the person in (through the forced change when the
/// password is temporary), asks consent once, and the application redeems the code.
@Suite("OpenID provider: authorization code flow with PKCE through the console")
struct OpenIDProviderTests {
    static let redirect = "https://tiket.example.go.id/oidc/callback"
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-tiket"
    static var challenge: String { Base64URL.encode(SHA256.hash(data: Data(verifier.utf8))) }

    static func parameters(_ change: [String: String?] = [:]) -> [String: String] {
        var parameters = [
            "client_id": "tiket", "redirect_uri": redirect, "response_type": "code", "scope": "openid profile email",
            "state": "st-7", "nonce": "nonce-42", "code_challenge": challenge, "code_challenge_method": "S256",
        ]
        for (key, value) in change { parameters[key] = value }
        return parameters
    }

    static func authorize(_ parameters: [String: String], hopped: Bool = true) -> String {
        "/oauth/authorize?" + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(Browser.encode($0.value))" }.joined(separator: "&")
            + (hopped ? "&spse_lanjut=1" : "")
    }

    static func register(_ f: ConsoleFixture, confidential: Bool = false) async throws -> String? {
        try await f.graph.federation.register(
            ClientRegistration(clientID: "tiket", name: "Tiket Helpdesk LPSE", redirectURIs: [redirect], confidential: confidential), by: "admin.ppe").secret
    }

    /// The query of a redirect to the application.
    static func query(_ location: String?) -> [String: String] {
        guard let location, let components = URLComponents(string: location), location.hasPrefix(redirect) else { return [:] }
        return Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
    }

    static func token(_ client: any TestClientProtocol, _ fields: [String: String], basic: String? = nil,
                      uri: String = "/oauth/token") async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let basic { headers[.authorization] = "Basic " + Data(basic.utf8).base64EncodedString() }
        let body = fields.map { "\($0.key)=\(Browser.encode($0.value))" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:], response.headers)
        }
    }

    static func hidden(_ name: String, in body: String) -> String? {
        guard let range = body.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs `browser` in as `userID` from the provider's sign-in hop and follows it back to the consent page, then allows.
    static func consent(_ browser: Browser, _ parameters: [String: String]) async throws -> [String: String] {
        let consent = try await browser.get(authorize(parameters))
        #expect(consent.status == .ok && consent.body.contains("Tiket Helpdesk LPSE"), "\(consent.status) \(consent.location ?? "")")
        let allowed = try await browser.post("/oauth/authorize", ["request": hidden("request", in: consent.body) ?? "", "decision": "allow"])
        // Through a hop page: a redirect answering the form would be held to its form-action 'self'.
        #expect(allowed.status == .ok && allowed.hop != nil, "\(allowed.status)")
        return query(allowed.hop)
    }

    @Test("a helpdesk signs in to an application: hop, sign-in, consent once, a code with state and iss, tokens for the right verifier; the ID token verifies against the JWKS")
    func wholeFlow() async throws {
        try await ConsoleFixture.with { f, client, _ in
            _ = try await Self.register(f)
            let browser = Browser(client)
            // From the application: no cookie reaches us cross-site, so one hop through our own page.
            let hop = try await browser.get(Self.authorize(Self.parameters(), hopped: false))
            #expect(hop.status == .ok && hop.body.contains("http-equiv=\"refresh\"") && hop.body.contains("spse_lanjut=1"))
            let signIn = try await browser.get(Self.authorize(Self.parameters()))
            #expect(signIn.status == .seeOther && signIn.location == "/masuk")
            let back = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            #expect(back.hop?.hasPrefix("/oauth/authorize?") == true, "\(back.status) \(back.next ?? "")")
            let answer = try await Self.consent(browser, Self.parameters())
            let code = try #require(answer["code"])
            #expect(answer["state"] == "st-7" && answer["iss"] == f.graph.operations.issuer)
            // The application redeems it (a public client: PKCE alone).
            let (status, tokens, headers) = try await Self.token(client, ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect,
                                                                         "client_id": "tiket", "code_verifier": Self.verifier])
            #expect(status == .ok, "\(tokens)")
            #expect(headers[.cacheControl] == "no-store")
            let idToken = try #require(tokens["id_token"] as? String)
            let parts = idToken.split(separator: ".").map(String.init)
            let header = try #require(try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[0]) ?? [])) as? [String: String])
            let claims = try #require(try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1]) ?? [])) as? [String: Any])
            let jwks = try await client.execute(uri: "/oauth/jwks", method: .get) { response in
                (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: [[String: String]]] ?? [:]
            }
            let jwk = try #require(jwks["keys"]?.first { $0["kid"] == header["kid"] })
            #expect(header["alg"] == "ES256" && jwks["keys"]?.contains { $0["alg"] == "RS256" } == true)
            let key = try P256.Signing.PublicKey(x963Representation: [0x04] + (Base64URL.decode(jwk["x"] ?? "") ?? []) + (Base64URL.decode(jwk["y"] ?? "") ?? []))
            #expect(key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: Data(Base64URL.decode(parts[2]) ?? [])),
                                         for: Data((parts[0] + "." + parts[1]).utf8)))
            #expect(claims["iss"] as? String == f.graph.operations.issuer && claims["aud"] as? String == "tiket" && claims["nonce"] as? String == "nonce-42")
            #expect(claims["amr"] as? [String] == ["pwd"] && claims["sid"] is String && claims["auth_time"] is Int)
            let sub = try #require(claims["sub"] as? String)
            #expect(sub != "helpdesk01" && claims["preferred_username"] == nil, "the SPSE User ID is not a default claim")
            #expect(claims["name"] as? String == "Sekar Ayu Wulandari")
            let access = try #require(tokens["access_token"] as? String)
            let info = try await client.execute(uri: "/oauth/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]) { response in
                (response.status, (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: String] ?? [:])
            }
            #expect(info.0 == .ok && info.1["sub"] == sub && info.1["email"] == "helpdesk01@purbalinggakab.go.id")
            // Consent is asked once: the next authorization goes straight back with a code.
            let again = try await browser.get(Self.authorize(Self.parameters(["state": "st-8"])))
            #expect(Self.query(again.location)["code"] != nil && Self.query(again.location)["state"] == "st-8", "\(again.location ?? "")")
            // The first code presented again: refused, and the tokens it gave are revoked.
            let (reused, error, _) = try await Self.token(client, ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect,
                                                                  "client_id": "tiket", "code_verifier": Self.verifier])
            #expect(reused == .badRequest && error["error"] as? String == "invalid_grant")
            let revoked = try await client.execute(uri: "/oauth/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]) {
                ($0.status, $0.headers[.wwwAuthenticate] ?? "")
            }
            #expect(revoked.0 == .unauthorized && revoked.1.contains("invalid_token"))
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action IN ('oidc.consent', 'oidc.authorize', 'oidc.token', 'oidc.code_reuse')") == 5)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'", [code]) == 0)
        }
    }

    @Test("revocation (RFC 7009) and introspection (RFC 7662): a client reaches only its own tokens, any other answer is the one for an unknown token; a revoked token opens nothing")
    func revocationAndIntrospection() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let secret = try #require(try await Self.register(f, confidential: true))
            let portal = try #require(try await f.graph.federation.register(
                ClientRegistration(clientID: "portal", name: "Portal LPSE", redirectURIs: ["https://portal.example.go.id/cb"], confidential: true),
                by: "admin.ppe").secret)
            let browser = Browser(client)
            _ = try await browser.get(Self.authorize(Self.parameters()))
            _ = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            let code = try #require(try await Self.consent(browser, Self.parameters())["code"])
            let (_, tokens, _) = try await Self.token(client, ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect,
                                                               "code_verifier": Self.verifier], basic: "tiket:\(secret)")
            let access = try #require(tokens["access_token"] as? String)
            let introspect = { (basic: String, token: String) in
                try await Self.token(client, ["token": token], basic: basic, uri: "/oauth/introspect")
            }
            let (status, live, headers) = try await introspect("tiket:\(secret)", access)
            #expect(status == .ok && headers[.cacheControl] == "no-store")
            #expect(live["active"] as? Bool == true && live["client_id"] as? String == "tiket" && live["scope"] as? String == "openid profile email")
            #expect(live["sub"] is String && live["exp"] is Int && live["username"] == nil, "\(live)")
            // Another client's view of the token, and an unknown token: the same inactive answer.
            let (_, other, _) = try await introspect("portal:\(portal)", access)
            let (_, unknown, _) = try await introspect("tiket:\(secret)", "unknown-token")
            #expect(other as NSDictionary == ["active": false] && unknown as NSDictionary == ["active": false])
            let (wrongSecret, refused, _) = try await introspect("tiket:not-the-secret", access)
            #expect(wrongSecret == .unauthorized && refused["error"] as? String == "invalid_client")
            // Revoked by another client: nothing happens (and nothing says so).
            let (byOther, _, _) = try await Self.token(client, ["token": access], basic: "portal:\(portal)", uri: "/oauth/revoke")
            #expect(byOther == .ok)
            #expect(try await introspect("tiket:\(secret)", access).1["active"] as? Bool == true)
            // Revoked by its client: inactive, userinfo refuses it; revoking again is still 200.
            let (revoked, _, _) = try await Self.token(client, ["token": access, "token_type_hint": "access_token"], basic: "tiket:\(secret)", uri: "/oauth/revoke")
            #expect(revoked == .ok)
            #expect(try await introspect("tiket:\(secret)", access).1 as NSDictionary == ["active": false])
            let info = try await client.execute(uri: "/oauth/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]) { $0.status }
            #expect(info == .unauthorized)
            #expect(try await Self.token(client, ["token": access], basic: "tiket:\(secret)", uri: "/oauth/revoke").0 == .ok)
            let (missing, error, _) = try await Self.token(client, [:], basic: "tiket:\(secret)", uri: "/oauth/revoke")
            #expect(missing == .badRequest && error["error"] as? String == "invalid_request")
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.token_revoke'") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'", [access]) == 0)
        }
    }

    @Test("refresh tokens rotate on every use: 20 concurrent uses of one token get one and the same successor; a replay later revokes the family and its access tokens; a sign-out ends the family")
    func refreshRotation() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let secret = try #require(try await Self.register(f, confidential: true))
            let basic = "tiket:\(secret)"
            let browser = Browser(client)
            _ = try await browser.get(Self.authorize(Self.parameters()))
            _ = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            let code = try #require(try await Self.consent(browser, Self.parameters())["code"])
            let (_, first, _) = try await Self.token(client, ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect,
                                                              "code_verifier": Self.verifier], basic: basic)
            let refresh0 = try #require(first["refresh_token"] as? String)
            let access0 = try #require(first["access_token"] as? String)
            f.accounts.clock.advance(60)  // the address's budget (a burst of 20) refills for the racers
            // 20 racers with the same refresh token (a client retrying on a lost answer): one successor, the same for all.
            struct Answer: Sendable { let status: HTTPResponse.Status; let refresh: String?; let access: String?; let scope: String?; let idToken: Bool }
            let answers = try await withThrowingTaskGroup(of: Answer.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let (status, body, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh0], basic: basic)
                        return Answer(status: status, refresh: body["refresh_token"] as? String, access: body["access_token"] as? String,
                                      scope: body["scope"] as? String, idToken: body["id_token"] != nil)
                    }
                }
                return try await group.reduce(into: [Answer]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == .ok }, "\(answers.map(\.status))")
            let successors = Set(answers.compactMap(\.refresh))
            #expect(successors.count == 1 && !successors.contains(refresh0), "\(successors.count) successors")
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_refresh_tokens WHERE generation = 1") == 1)
            #expect(answers.allSatisfy { !$0.idToken && $0.scope == "openid profile email" })
            let refresh1 = try #require(successors.first)
            let access1 = try #require(answers.first?.access)
            f.accounts.clock.advance(60)
            // A narrower scope is given, a wider one refused.
            let (wide, wider, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh1, "scope": "openid phone"], basic: basic)
            #expect(wide == .badRequest && wider["error"] as? String == "invalid_scope")
            let (narrow, narrowed, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh1, "scope": "openid email"], basic: basic)
            #expect(narrow == .ok && narrowed["scope"] as? String == "openid email")
            let refresh2 = try #require(narrowed["refresh_token"] as? String)
            // Narrowing one access token keeps the grant's scope for the next refresh (RFC 6749 §6).
            let (back, whole, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh2, "scope": "openid profile email"],
                                                       basic: basic)
            #expect(back == .ok && whole["scope"] as? String == "openid profile email", "\(whole)")
            let refresh3 = try #require(whole["refresh_token"] as? String)
            // Past the retry window the first token again is a replay: the whole family and its access tokens go.
            f.accounts.clock.advance(120)
            let (replay, refused, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh0], basic: basic)
            #expect(replay == .badRequest && refused["error"] as? String == "invalid_grant")
            let (latest, _, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": refresh3], basic: basic)
            #expect(latest == .badRequest, "the newest token of a replayed family is revoked too")
            for access in [access0, access1] {
                let info = try await client.execute(uri: "/oauth/userinfo", method: .get, headers: [.authorization: "Bearer \(access)"]) { $0.status }
                #expect(info == .unauthorized)
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.refresh_reuse'") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE details::text LIKE '%' || $1 || '%'", [refresh1]) == 0)
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_refresh_tokens WHERE successor_sealed IS NOT NULL AND position($1::bytea IN successor_sealed) > 0",
                                               [Array(refresh2.utf8)]) == 0, "a successor is kept sealed, never in clear")
            // A new authorization whose refresh token is revoked (RFC 7009): its family is gone.
            func authorizeAgain(_ state: String) async throws -> String {
                let answer = Self.query(try await browser.get(Self.authorize(Self.parameters(["state": state]))).location)
                let (_, tokens, _) = try await Self.token(client, ["grant_type": "authorization_code", "code": answer["code"] ?? "", "redirect_uri": Self.redirect,
                                                                   "code_verifier": Self.verifier], basic: basic)
                return try #require(tokens["refresh_token"] as? String)
            }
            let revocable = try await authorizeAgain("st-9")
            #expect(try await Self.token(client, ["token": revocable, "token_type_hint": "refresh_token"], basic: basic, uri: "/oauth/revoke").0 == .ok)
            #expect(try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": revocable], basic: basic).0 == .badRequest)
            // Another, then the browser signs out: its refresh token is refused.
            let fresh = try await authorizeAgain("st-10")
            _ = try await browser.get("/beranda")  // a page with the form's CSRF token
            #expect(try await browser.post("/keluar", [:]).location == "/masuk")
            let (ended, endedBody, _) = try await Self.token(client, ["grant_type": "refresh_token", "refresh_token": fresh], basic: basic)
            #expect(ended == .badRequest && endedBody["error"] as? String == "invalid_grant", "\(endedBody)")
        }
    }

    @Test("a temporary password goes through the change inside the same authorization, then a sign-in with the new one; no code before; prompt=none meanwhile is interaction_required")
    func forcedChange() async throws {
        try await ConsoleFixture.with { f, client, _ in
            _ = try await Self.register(f)
            let account = try #require(try await f.accounts.pool.withConnection { try await f.accounts.directory.find(try UserID("helpdesk02"), on: $0) })
            let temporary = try await f.accounts.reset(account)
            let browser = Browser(client)
            #expect(try await browser.get(Self.authorize(Self.parameters())).location == "/masuk")
            let signedIn = try await browser.signIn("helpdesk02", temporary.reveal)
            #expect(signedIn.location == "/ganti-password")
            let waiting = try await browser.get(Self.authorize(Self.parameters()))
            #expect(waiting.location == "/ganti-password", "a change-only session is sent to the change, not to the application")
            let silent = try await browser.get(Self.authorize(Self.parameters(["prompt": "none"])))
            #expect(Self.query(silent.location)["error"] == "interaction_required" && Self.query(silent.location)["state"] == "st-7")
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_codes") == 0)
            _ = try await browser.get("/ganti-password")
            let refused = try await browser.post("/ganti-password", ["current_password": temporary.reveal, "new_password": "helpdesk02", "repeat_password": "helpdesk02"])
            #expect(refused.status == .unprocessableContent, "the policy's refusal at its field, still inside the flow")
            let changed = try await browser.post("/ganti-password", ["current_password": temporary.reveal, "new_password": "teh manis hangat sore", "repeat_password": "teh manis hangat sore"])
            #expect(changed.location?.hasPrefix("/masuk") == true)
            let back = try await browser.signIn("helpdesk02", "teh manis hangat sore")
            #expect(back.hop?.hasPrefix("/oauth/authorize?") == true && back.hop?.contains("nonce=nonce-42") == true, "\(back.next ?? "")")
            let answer = try await Self.consent(browser, Self.parameters())
            #expect(answer["code"] != nil && answer["state"] == "st-7")
        }
    }

    @Test("refusals: an unknown client or redirect URI is a page here; a missing PKCE goes back with state; a wrong verifier spends the code; a bad client secret is 401; a signed-out browser with prompt=none is login_required")
    func refusals() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let secret = try #require(try await Self.register(f, confidential: true))
            let browser = Browser(client)
            let unknown = try await browser.get(Self.authorize(Self.parameters(["client_id": "lain"])))
            #expect(unknown.status == .badRequest && unknown.location == nil && unknown.body.contains("tidak terdaftar"))
            let elsewhere = try await browser.get(Self.authorize(Self.parameters(["redirect_uri": "https://evil.example/cb"])))
            #expect(elsewhere.status == .badRequest && elsewhere.location == nil)
            let noPKCE = try await browser.get(Self.authorize(Self.parameters(["code_challenge": nil, "code_challenge_method": nil])))
            #expect(Self.query(noPKCE.location)["error"] == "invalid_request" && Self.query(noPKCE.location)["state"] == "st-7")
            #expect(Self.query(noPKCE.location)["iss"] == f.graph.operations.issuer)
            let silent = try await browser.get(Self.authorize(Self.parameters(["prompt": "none"])))
            #expect(Self.query(silent.location)["error"] == "login_required")
            _ = try await browser.get(Self.authorize(Self.parameters()))
            _ = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            let code = try #require(try await Self.consent(browser, Self.parameters())["code"])
            let form = ["grant_type": "authorization_code", "code": code, "redirect_uri": Self.redirect]
            let wrongSecret = try await Self.token(client, form.merging(["code_verifier": Self.verifier]) { $1 }, basic: "tiket:salah")
            #expect(wrongSecret.0 == .unauthorized && wrongSecret.1["error"] as? String == "invalid_client" && wrongSecret.2[.wwwAuthenticate] != nil)
            let both = try await Self.token(client, form.merging(["code_verifier": Self.verifier, "client_secret": secret]) { $1 }, basic: "tiket:\(secret)")
            #expect(both.0 == .badRequest && both.1["error"] as? String == "invalid_request")
            let wrongVerifier = try await Self.token(client, form.merging(["code_verifier": String(repeating: "x", count: 43)]) { $1 }, basic: "tiket:\(secret)")
            #expect(wrongVerifier.0 == .badRequest && wrongVerifier.1["error"] as? String == "invalid_grant")
            let spent = try await Self.token(client, form.merging(["code_verifier": Self.verifier]) { $1 }, basic: "tiket:\(secret)")
            #expect(spent.0 == .badRequest, "a wrong verifier spent the code")
            let unsupported = try await Self.token(client, ["grant_type": "password", "username": "helpdesk01", "password": ConsoleFixture.password],
                                                   basic: "tiket:\(secret)")
            #expect(unsupported.1["error"] as? String == "unsupported_grant_type")
            let discovery = try await client.execute(uri: "/.well-known/openid-configuration", method: .get) { response in
                (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
            }
            #expect(discovery["code_challenge_methods_supported"] as? [String] == ["S256"] && discovery["response_types_supported"] as? [String] == ["code"])
            #expect(discovery["authorization_response_iss_parameter_supported"] as? Bool == true)
        }
    }

    @Test("only an Admin PPE registers an application (with a fresh second factor where operators have one: the rule of every lasting change)")
    func registrationPolicy() async throws {
        try await ConsoleFixture.with { f, _, _ in
            let registration = ClientRegistration(clientID: "portal", name: "Portal", redirectURIs: ["https://portal.example.go.id/cb"], confidential: true)
            for userID in ["helpdesk01", "staf.adm", "auditor01"] {
                let caller = try await f.caller(userID)
                await #expect(throws: AccountsError.self, "\(userID)") { try await f.graph.operations.registerApplication(registration, by: caller) }
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_clients") == 0)
            let admin = try await f.caller("admin.ppe")
            let (client, secret) = try await f.graph.operations.registerApplication(registration, by: admin)
            #expect(client.isConfidential && secret?.count == 43)
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_clients WHERE secret_digest = sha256(convert_to($1, 'UTF8'))", [secret ?? ""]) == 1,
                    "stored as its digest only")
            await #expect(throws: FederationError.clientExists) { try await f.graph.operations.registerApplication(registration, by: admin) }
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.client_register' AND actor = 'admin.ppe'") == 1)
        }
    }

    @Test("the console's Applications page: an Admin PPE registers one, its secret shown once and never again; a bad redirect URI is said at the form, which keeps what was typed; a helpdesk neither sees the menu entry nor reaches the page")
    func applicationsPage() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let admin = Browser(client)
            let home = try await admin.signIn("admin.ppe", ConsoleFixture.password)
            #expect(try await admin.get(home.location ?? "/beranda").body.contains("href=\"/aplikasi\""))
            let empty = try await admin.get("/aplikasi")
            #expect(empty.status == .ok && empty.body.contains("id=\"no-applications\""))
            let refused = try await admin.post("/aplikasi", ["client_id": "tiket", "name": "Tiket Helpdesk LPSE", "redirect_uris": "http://tiket.example/cb",
                                                             "claim_name": "on"])
            #expect(refused.status == .unprocessableContent && refused.body.contains("role=\"alert\"") && refused.body.contains("value=\"Tiket Helpdesk LPSE\""))
            _ = try await admin.get("/aplikasi")
            let made = try await admin.post("/aplikasi", ["client_id": "tiket", "name": "Tiket Helpdesk LPSE", "confidential": "on",
                                                          "redirect_uris": "https://tiket.example.go.id/cb\nhttps://tiket.example.go.id/cb2", "claim_name": "on", "claim_email": "on"])
            let secret = try #require(made.body.range(of: "id=\"client-secret\">").map { String(made.body[$0.upperBound...].prefix { $0 != "<" }) })
            #expect(made.status == .created && secret.count == 43)
            let stored = try #require(try await f.graph.federation.client("tiket"))
            #expect(stored.redirectURIs.count == 2 && stored.allowedClaims == ["name", "email"] && stored.isConfidential)
            let listed = try await admin.get("/aplikasi")
            #expect(listed.body.contains("Tiket Helpdesk LPSE") && !listed.body.contains(secret), "the secret is shown once")
            let helpdesk = Browser(client)
            let helpdeskHome = try await helpdesk.signIn("helpdesk01", ConsoleFixture.password)
            #expect(!(try await helpdesk.get(helpdeskHome.location ?? "/beranda").body.contains("href=\"/aplikasi\"")))
            #expect(try await helpdesk.get("/aplikasi").status == .forbidden)
        }
    }

    @Test("prompt=login while the browser is signed in: the password is asked again (not the home page), and the code that follows carries the new sign-in's auth_time")
    func promptLoginWhileSignedIn() async throws {
        try await ConsoleFixture.with { f, client, _ in
            _ = try await Self.register(f)
            let browser = Browser(client)
            _ = try await browser.get(Self.authorize(Self.parameters()))
            _ = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            _ = try await Self.consent(browser, Self.parameters())
            f.accounts.clock.advance(120)
            let fresh = Self.parameters(["prompt": "login", "state": "st-fresh"])
            let asked = try await browser.get(Self.authorize(fresh))
            #expect(asked.location == "/masuk")
            let page = try await browser.get("/masuk")
            #expect(page.status == .ok && page.body.contains("name=\"password\""), "\(page.status) \(page.location ?? "")")
            f.accounts.clock.advance(1)
            let back = try await browser.post("/masuk", ["user_id": "helpdesk01", "password": ConsoleFixture.password])
            let resumed = try await browser.get(try #require(back.hop))
            let answer = Self.query(resumed.location)
            #expect(answer["state"] == "st-fresh" && answer["code"] != nil, "\(resumed.status) \(resumed.location ?? "")")
            let (_, tokens, _) = try await Self.token(client, ["grant_type": "authorization_code", "code": answer["code"] ?? "", "redirect_uri": Self.redirect,
                                                               "client_id": "tiket", "code_verifier": Self.verifier])
            let claims = try OpenIDLogoutTests.claims(try #require(tokens["id_token"] as? String))
            #expect(claims["auth_time"] as? Int == Int(f.accounts.clock.now.timeIntervalSince1970))
        }
    }
}
