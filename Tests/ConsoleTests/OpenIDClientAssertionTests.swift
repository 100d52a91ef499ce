import Crypto
import Federation
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// `private_key_jwt` (RFC 7523 §3): an application proves itself with an assertion signed by its
/// own key; the provider keeps only its public keys and each assertion's `jti` until it expires.
@Suite("OpenID provider: client authentication by private_key_jwt")
struct OpenIDClientAssertionTests {
    typealias P = OpenIDProviderTests
    static let assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    static func jwks(_ key: P256.Signing.PrivateKey, kid: String) -> String {
        let point = Array(key.publicKey.x963Representation)
        return #"{"keys":[{"kty":"EC","crv":"P-256","kid":"\#(kid)","x":"\#(Base64URL.encode(point[1...32]))","y":"\#(Base64URL.encode(point[33...64]))"}]}"#
    }

    static func assertion(_ key: P256.Signing.PrivateKey, kid: String = "k1", alg: String = "ES256", claims: [String: Any]) throws -> String {
        let header = try JSONSerialization.data(withJSONObject: ["alg": alg, "kid": kid, "typ": "JWT"], options: [.sortedKeys])
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        let input = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        if alg == "none" { return input + "." }
        return input + "." + Base64URL.encode(try key.signature(for: Data(input.utf8)).rawRepresentation)
    }

    @Test("a client with keys redeems its code with a signed assertion; the same assertion again, a wrong audience, an expired one, another key's, alg none, no assertion at all or one beside a secret are all refused")
    func privateKeyJWT() async throws {
        try await ConsoleFixture.with { f, client, _ in
            let key = P256.Signing.PrivateKey()
            // A JWKS holding a private key is refused at its field; the public one registers, and no secret is made.
            var leaked = ClientRegistration(clientID: "tiket", name: "Tiket Helpdesk LPSE", redirectURIs: [P.redirect], confidential: true,
                                            jwks: #"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}]}"#)
            await #expect(throws: FederationError.invalidRegistration(field: "jwks", reason: "holds a private key: register the public keys only")) {
                _ = try await f.graph.federation.register(leaked, by: "admin.ppe")
            }
            leaked.jwks = Self.jwks(key, kid: "k1")
            let (registered, secret) = try await f.graph.federation.register(leaked, by: "admin.ppe")
            #expect(secret == nil && registered.isConfidential && registered.keys.count == 1)

            let browser = Browser(client)
            _ = try await browser.get(P.authorize(P.parameters()))
            _ = try await browser.signIn("helpdesk01", ConsoleFixture.password)
            let code = try #require(try await P.consent(browser, P.parameters())["code"])
            let tokenEndpoint = f.graph.operations.issuer + "/oauth/token"
            func claims(_ change: [String: Any?] = [:]) -> [String: Any] {
                var claims: [String: Any] = ["iss": "tiket", "sub": "tiket", "aud": tokenEndpoint, "jti": UUID().uuidString,
                                             "exp": Int(f.accounts.clock.now.timeIntervalSince1970) + 120]
                for (name, value) in change { claims[name] = value }
                return claims
            }
            let redeem = ["grant_type": "authorization_code", "code": code, "redirect_uri": P.redirect, "code_verifier": P.verifier]
            // No assertion: a client with keys is not a public client.
            let (bare, bareBody, _) = try await P.token(client, redeem.merging(["client_id": "tiket"]) { $1 })
            #expect(bare == .unauthorized && bareBody["error"] as? String == "invalid_client")
            // Refused assertions, each 401 invalid_client (the code is not spent by a client that failed to authenticate).
            let other = P256.Signing.PrivateKey()
            for (why, jws) in [
                ("a wrong audience", try Self.assertion(key, claims: claims(["aud": "https://elsewhere.example/token"]))),
                ("an expired one", try Self.assertion(key, claims: claims(["exp": Int(f.accounts.clock.now.timeIntervalSince1970) - 5]))),
                ("one living too long", try Self.assertion(key, claims: claims(["exp": Int(f.accounts.clock.now.timeIntervalSince1970) + 86_400]))),
                ("another key's", try Self.assertion(other, claims: claims())),
                ("alg none", try Self.assertion(key, alg: "none", claims: claims())),
                ("another issuer", try Self.assertion(key, claims: claims(["iss": "lain", "sub": "lain"]))),
            ] {
                let (status, body, _) = try await P.token(client, redeem.merging(["client_assertion_type": Self.assertionType, "client_assertion": jws]) { $1 })
                #expect(status == .unauthorized && body["error"] as? String == "invalid_client", "\(why): \(status) \(body)")
            }
            let good = try Self.assertion(key, claims: claims())
            let (beside, besideBody, _) = try await P.token(client, redeem.merging(["client_assertion_type": Self.assertionType, "client_assertion": good,
                                                                                    "client_secret": "x"]) { $1 })
            #expect(beside == .badRequest && besideBody["error"] as? String == "invalid_request")
            let (status, tokens, _) = try await P.token(client, redeem.merging(["client_assertion_type": Self.assertionType, "client_assertion": good]) { $1 })
            #expect(status == .ok && tokens["id_token"] is String, "\(tokens)")
            // The same assertion replayed (with a refresh): refused; a fresh one works.
            let refresh = ["grant_type": "refresh_token", "refresh_token": tokens["refresh_token"] as? String ?? ""]
            let (replayed, replayBody, _) = try await P.token(client, refresh.merging(["client_assertion_type": Self.assertionType, "client_assertion": good]) { $1 })
            #expect(replayed == .unauthorized && replayBody["error"] as? String == "invalid_client")
            let (fresh, _, _) = try await P.token(client, refresh.merging(["client_assertion_type": Self.assertionType,
                                                                          "client_assertion": try Self.assertion(key, claims: claims())]) { $1 })
            #expect(fresh == .ok)
            // Introspection takes the assertion too (the client is confidential).
            let (introspected, active, _) = try await P.token(client, ["token": tokens["access_token"] as? String ?? "", "client_assertion_type": Self.assertionType,
                                                                       "client_assertion": try Self.assertion(key, claims: claims())], uri: "/oauth/introspect")
            #expect(introspected == .ok && active["active"] as? Bool == true)
            #expect(try await f.accounts.count("SELECT count(*) FROM oidc_client_assertions WHERE client_id = 'tiket'") == 3)
        }
    }

    @Test("a JWKS whose P-256 coordinate lost its leading zero byte (as some libraries write it) registers the same key")
    func shortCoordinate() throws {
        var key = P256.Signing.PrivateKey()
        while key.publicKey.x963Representation[1] != 0 { key = P256.Signing.PrivateKey() }
        let point = Array(key.publicKey.x963Representation)
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","x":"\#(Base64URL.encode(point[2...32]))","y":"\#(Base64URL.encode(point[33...64]))"}]}"#
        let keys = try VerifyingKey.parse(jwks: jwks).get()
        #expect(keys.count == 1 && keys.first?.algorithm == .es256)
    }
}

