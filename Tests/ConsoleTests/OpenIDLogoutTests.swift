import Accounts
import Crypto
import Federation
import Foundation
import Hummingbird
import HummingbirdTesting
import LogoutSender
import Synchronization
import Testing
import TestSupport

/// Logout at the OpenID provider: back-channel logout tokens to every application a session
/// reached, whichever way the session ends, and RP-initiated logout from an application.
@Suite("OpenID provider: back-channel and RP-initiated logout")
struct OpenIDLogoutTests {
    typealias P = OpenIDProviderTests
    static let afterLogout = "https://tiket.example.go.id/sampai-jumpa"

    /// An application's back-channel logout endpoint on loopback: it keeps what it is sent and
    /// answers `status` (200 unless told otherwise).
    final class Receiver: Sendable {
        let received = Mutex<[String]>([])
        let status = Mutex<HTTPResponse.Status>(.ok)
        var tokens: [String] { received.withLock { $0 } }

        func run(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
            let router = Router()
            router.post("bcl") { request, _ -> Response in
                let form = String(buffer: try await request.body.collect(upTo: 65_536))
                let token = form.hasPrefix("logout_token=") ? String(form.dropFirst("logout_token=".count)) : "(malformed) " + form
                self.received.withLock { $0.append(token) }
                return Response(status: self.status.withLock { $0 })
            }
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            try await app.test(.live) { client in try await body(try #require(client.port)) }
        }
    }

    static func register(_ f: ConsoleFixture, port: Int) async throws {
        _ = try await f.graph.federation.register(
            ClientRegistration(clientID: "tiket", name: "Tiket Helpdesk LPSE", redirectURIs: [P.redirect], confidential: false,
                               backchannelLogoutURI: "http://127.0.0.1:\(port)/bcl", postLogoutRedirectURIs: [afterLogout]), by: "admin.ppe")
    }

    /// Signs `browser` in to the application as helpdesk01 and redeems the code; the ID token's claims and the token itself.
    static func signInToApplication(_ browser: Browser, _ client: any TestClientProtocol, state: String) async throws -> (claims: [String: Any], idToken: String) {
        let first = try await browser.get(P.authorize(P.parameters(["state": state])))
        if first.location == "/masuk" { _ = try await browser.signIn("helpdesk01", ConsoleFixture.password) }
        let page = try await browser.get(P.authorize(P.parameters(["state": state])))
        let answer = page.status == .ok ? try await P.consent(browser, P.parameters(["state": state])) : P.query(page.location)
        let (status, tokens, _) = try await P.token(client, ["grant_type": "authorization_code", "code": answer["code"] ?? "", "redirect_uri": P.redirect,
                                                           "client_id": "tiket", "code_verifier": P.verifier])
        #expect(status == .ok, "\(tokens)")
        let idToken = try #require(tokens["id_token"] as? String)
        return (try claims(idToken), idToken)
    }

    static func claims(_ jws: String) throws -> [String: Any] {
        let parts = jws.split(separator: ".").map(String.init)
        return try #require(try JSONSerialization.jsonObject(with: Data(Base64URL.decode(parts[1]) ?? [])) as? [String: Any])
    }

    static func header(_ jws: String) throws -> [String: String] {
        try #require(try JSONSerialization.jsonObject(with: Data(Base64URL.decode(String(jws.split(separator: ".")[0])) ?? [])) as? [String: String])
    }

    @Test("a sign-out sends each application the session reached one signed logout token (sid, sub, the event, no nonce), once however many deliver; a disable and a change end theirs too")
    func backChannelLogout() async throws {
        let receiver = Receiver()
        try await receiver.run { port in
            try await ConsoleFixture.with { f, client, _ in
                try await Self.register(f, port: port)
                let browser = Browser(client)
                let (claims, _) = try await Self.signInToApplication(browser, client, state: "s1")
                let sender = HTTPLogoutSender(timeout: .seconds(5))
                #expect(try await f.graph.federation.deliverLogouts(with: sender).delivered == 0 && receiver.tokens.isEmpty, "nothing is sent while the session lives")
                _ = try await browser.get("/beranda")
                #expect(try await browser.post("/keluar", [:]).location == "/masuk")
                // 20 deliverers at once (instances or rounds): the logout goes out once.
                let rounds = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<20 { group.addTask { try await f.graph.federation.deliverLogouts(with: sender).delivered } }
                    return try await group.reduce(0, +)
                }
                #expect(rounds == 1 && receiver.tokens.count == 1, "\(rounds) delivered, \(receiver.tokens.count) received")
                let token = try #require(receiver.tokens.first)
                let logout = try Self.claims(token)
                #expect(try Self.header(token)["typ"] == "logout+jwt" && Self.header(token)["alg"] == "ES256")
                #expect(logout["iss"] as? String == f.graph.operations.issuer && logout["aud"] as? String == "tiket")
                #expect(logout["sid"] as? String == claims["sid"] as? String && logout["sub"] as? String == claims["sub"] as? String)
                #expect((logout["events"] as? [String: Any])?["http://schemas.openid.net/event/backchannel-logout"] != nil)
                #expect(logout["nonce"] == nil && logout["jti"] is String && logout["exp"] is Int)
                // The signature is the provider's, by the JWKS the application already has.
                let jwks = try await client.execute(uri: "/oauth/jwks", method: .get) { response in
                    (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: [[String: String]]] ?? [:]
                }
                let jwk = try #require(jwks["keys"]?.first { $0["kid"] == (try? Self.header(token))?["kid"] })
                let key = try P256.Signing.PublicKey(x963Representation: [0x04] + (Base64URL.decode(jwk["x"] ?? "") ?? []) + (Base64URL.decode(jwk["y"] ?? "") ?? []))
                let parts = token.split(separator: ".").map(String.init)
                #expect(key.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: Data(Base64URL.decode(parts[2]) ?? [])),
                                             for: Data((parts[0] + "." + parts[1]).utf8)))
                #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.backchannel_logout' AND subject = 'tiket'") == 1)

                // A new session, ended by a disable: its own logout, with its own sid.
                let (second, _) = try await Self.signInToApplication(browser, client, state: "s2")
                #expect(second["sid"] as? String != claims["sid"] as? String)
                try await f.accounts.directory.setStatus(.disabled, of: try UserID("helpdesk01"), by: f.accounts.admin)
                #expect(try await f.graph.federation.deliverLogouts(with: sender).delivered == 1)
                #expect(try receiver.tokens.count == 2 && (Self.claims(receiver.tokens[1]))["sid"] as? String == second["sid"] as? String)
                try await f.accounts.directory.setStatus(.active, of: try UserID("helpdesk01"), by: f.accounts.admin)

                // A change of password ends the other sessions: the application reached from one of them is told.
                let laptop = Browser(client)
                let (third, _) = try await Self.signInToApplication(laptop, client, state: "s3")
                let phone = Browser(client)
                _ = try await phone.signIn("helpdesk01", ConsoleFixture.password)
                _ = try await phone.get("/ganti-password")
                _ = try await phone.post("/ganti-password", ["current_password": ConsoleFixture.password, "new_password": "teh manis di sore hari",
                                                             "repeat_password": "teh manis di sore hari"])
                #expect(try await f.graph.federation.deliverLogouts(with: sender).delivered == 1)
                #expect(try receiver.tokens.count == 3 && (Self.claims(receiver.tokens[2]))["sid"] as? String == third["sid"] as? String)
            }
        }
    }

    @Test("an application that refuses its logout token is retried with backoff and given up on after six attempts, audited")
    func backChannelRetries() async throws {
        let receiver = Receiver()
        receiver.status.withLock { $0 = .serviceUnavailable }
        try await receiver.run { port in
            try await ConsoleFixture.with { f, client, _ in
                try await Self.register(f, port: port)
                let browser = Browser(client)
                _ = try await Self.signInToApplication(browser, client, state: "r1")
                _ = try await browser.get("/beranda")
                _ = try await browser.post("/keluar", [:])
                let sender = HTTPLogoutSender(timeout: .seconds(5))
                for attempt in 1...Federation.logoutAttempts {
                    let round = try await f.graph.federation.deliverLogouts(with: sender)
                    #expect(round.delivered == 0 && round.failed == 1, "attempt \(attempt)")
                    #expect(try await f.graph.federation.deliverLogouts(with: sender).failed == 0, "not again before its backoff")
                    f.accounts.clock.advance(3601)
                }
                #expect(receiver.tokens.count == Federation.logoutAttempts)
                #expect(try await f.graph.federation.deliverLogouts(with: sender).failed == 0, "given up on")
                #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'oidc.backchannel_logout_failed'") == 1)
                #expect(try await f.accounts.count("SELECT count(*) FROM oidc_logouts WHERE given_up_at IS NOT NULL AND last_error LIKE '%503%'") == 1)
            }
        }
    }

    @Test("RP-initiated logout: with the session's own ID token the browser is signed out and sent to the registered page with its state; an unregistered page or a forged token is refused here and signs nobody out; without a token the person is asked")
    func rpInitiatedLogout() async throws {
        let receiver = Receiver()
        try await receiver.run { port in
            try await ConsoleFixture.with { f, client, _ in
                try await Self.register(f, port: port)
                #expect(try await client.execute(uri: "/.well-known/openid-configuration", method: .get) { response in
                    let document = (try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any] ?? [:]
                    return document["end_session_endpoint"] as? String == f.graph.operations.issuer + "/oauth/logout"
                        && document["backchannel_logout_supported"] as? Bool == true && document["backchannel_logout_session_supported"] as? Bool == true
                })
                let browser = Browser(client)
                let (_, idToken) = try await Self.signInToApplication(browser, client, state: "l1")
                func logout(_ parameters: [String: String]) -> String {
                    "/oauth/logout?" + parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\(Browser.encode($0.value))" }.joined(separator: "&")
                }
                // Refused here, and still signed in: a page the client did not register, a forged token, another client's id.
                let elsewhere = try await browser.get(logout(["id_token_hint": idToken, "post_logout_redirect_uri": "https://evil.example/x"]))
                #expect(elsewhere.status == .badRequest && elsewhere.next == nil)
                var parts = idToken.split(separator: ".").map(String.init)
                var forgedClaims = try Self.claims(idToken)
                forgedClaims["sub"] = "someone-else"
                parts[1] = Base64URL.encode(try JSONSerialization.data(withJSONObject: forgedClaims))
                let forged = try await browser.get(logout(["id_token_hint": parts.joined(separator: "."), "post_logout_redirect_uri": Self.afterLogout]))
                #expect(forged.status == .badRequest && forged.next == nil)
                let mismatch = try await browser.get(logout(["id_token_hint": idToken, "client_id": "lain"]))
                #expect(mismatch.status == .badRequest)
                #expect(try await browser.get("/beranda").status == .ok, "still signed in after the refusals")
                // Without a token: asked first; a link cannot sign anyone out on its own.
                let asked = try await browser.get(logout(["client_id": "tiket", "post_logout_redirect_uri": Self.afterLogout, "state": "q"]))
                #expect(asked.status == .ok && asked.body.contains("Tiket Helpdesk LPSE") && asked.body.contains("id=\"logout\""))
                #expect(try await browser.get("/beranda").status == .ok)
                // With the session's own ID token: signed out at once, back to the application's page with its state.
                let done = try await browser.get(logout(["id_token_hint": idToken, "post_logout_redirect_uri": Self.afterLogout, "state": "bye-1"]))
                #expect(done.hop == Self.afterLogout + "?state=bye-1", "\(done.status) \(done.next ?? "")")
                #expect(try await browser.get("/beranda").location == "/masuk")
                // And the application is told by back-channel logout.
                #expect(try await f.graph.federation.deliverLogouts(with: HTTPLogoutSender()).delivered == 1 && receiver.tokens.count == 1)
                // The confirmation, answered: signed out, then to the page.
                _ = try await Self.signInToApplication(browser, client, state: "l2")
                let confirm = try await browser.get(logout(["client_id": "tiket", "post_logout_redirect_uri": Self.afterLogout]))
                let request = try #require(P.hidden("request", in: confirm.body))
                let confirmed = try await browser.post("/oauth/logout", ["request": request, "decision": "logout"])
                #expect(confirmed.hop == Self.afterLogout)
                #expect(try await browser.get("/beranda").location == "/masuk")
                // Nothing to end: the provider's own page says so.
                let nothing = try await browser.get(logout([:]))
                #expect(nothing.status == .ok && nothing.body.contains("id=\"signed-out\""))
            }
        }
    }
}
