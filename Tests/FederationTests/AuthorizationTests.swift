import _CryptoExtras
import Crypto
import Federation
import Foundation
import Testing

/// The provider's pure parts: the authorization request's checks in their order, the next step
/// of an authorization, client registration, and signed tokens — no database.
@Suite("OpenID provider: requests, steps, registration and signatures")
struct AuthorizationTests {
    static let app = OpenIDClient(clientID: "tiket", name: "Tiket Helpdesk", redirectURIs: ["https://tiket.example.go.id/cb"], isConfidential: true,
                                  allowedClaims: ["name", "email", "role"], backchannelLogoutURI: nil, pkceExempt: false)
    static let challenge = String(repeating: "a", count: 43)
    static let good: [String: String] = [
        "client_id": "tiket", "redirect_uri": "https://tiket.example.go.id/cb", "response_type": "code", "scope": "openid profile email",
        "state": "s1", "nonce": "n1", "code_challenge": challenge, "code_challenge_method": "S256",
    ]

    func parse(_ parameters: [String: String], repeated: Set<String> = [], client: OpenIDClient = app) async throws -> Result<AuthorizationRequest, AuthorizationRequest.Refusal> {
        try await AuthorizationRequest.parse(parameters, repeated: repeated) { $0 == client.clientID ? client : nil }
    }

    @Test("an unknown client or an unregistered redirect URI stays at the provider; nothing is sent to the URI given")
    func staysAtProvider() async throws {
        var unknown = Self.good
        unknown["client_id"] = "lain"
        await #expect(throws: FederationError.unknownClient) { try await parse(unknown) }
        for uri in ["https://tiket.example.go.id/cb/", "https://tiket.example.go.id/cb?x=1", "https://evil.example/cb", "HTTPS://tiket.example.go.id/cb"] {
            var bad = Self.good
            bad["redirect_uri"] = uri
            await #expect(throws: FederationError.redirectURIMismatch, "\(uri)") { try await parse(bad) }
        }
        await #expect(throws: FederationError.redirectURIMismatch) { try await parse(Self.good, repeated: ["redirect_uri"]) }
    }

    @Test("after the client is known, every other fault goes back to it with state: PKCE missing or plain, no openid, a repeated or malformed parameter")
    func refusedToClient() async throws {
        let cases: [(String, [String: String?], FederationError)] = [
            ("no PKCE", ["code_challenge": nil, "code_challenge_method": nil], .invalidRequest("code_challenge")),
            ("plain PKCE", ["code_challenge_method": "plain"], .invalidRequest("code_challenge_method")),
            ("short challenge", ["code_challenge": "abc"], .invalidRequest("code_challenge")),
            ("no openid", ["scope": "profile"], .invalidScope("scope must include openid")),
            ("implicit", ["response_type": "token"], .unsupportedResponseType),
            ("hybrid", ["response_type": "code id_token"], .unsupportedResponseType),
            ("request object", ["request": "eyJ..."], .requestNotSupported),
            ("none with login", ["prompt": "none login"], .invalidRequest("prompt")),
            ("negative max_age", ["max_age": "-1"], .invalidRequest("max_age")),
            ("huge max_age", ["max_age": "99999999999999999999"], .invalidRequest("max_age")),
            ("control in state", ["state": "a\u{7}b"], .invalidRequest("state")),
            ("fragment mode", ["response_mode": "fragment"], .invalidRequest("response_mode")),
        ]
        for (label, change, error) in cases {
            var parameters = Self.good
            for (key, value) in change { parameters[key] = value }
            guard case .failure(let refusal) = try await parse(parameters) else { Issue.record("\(label) was accepted"); continue }
            #expect(refusal.error == error, "\(label)")
            #expect(refusal.redirectURI == "https://tiket.example.go.id/cb")
        }
        guard case .failure(let repeated) = try await parse(Self.good, repeated: ["scope"]) else { Issue.record("a repeated scope was accepted"); return }
        #expect(repeated.error == .invalidRequest("scope") && repeated.state == "s1")
        // A confidential client an operator exempted goes without PKCE only when it sends a nonce.
        let exempt = OpenIDClient(clientID: "tiket", name: "t", redirectURIs: Self.app.redirectURIs, isConfidential: true,
                                  allowedClaims: [], backchannelLogoutURI: nil, pkceExempt: true)
        var noPKCE = Self.good
        noPKCE["code_challenge"] = nil
        noPKCE["code_challenge_method"] = nil
        guard case .success = try await parse(noPKCE, client: exempt) else { Issue.record("the exempt client was refused"); return }
        noPKCE["nonce"] = nil
        guard case .failure = try await parse(noPKCE, client: exempt) else { Issue.record("no PKCE and no nonce was accepted"); return }
    }

    @Test("the next step: sign in, the forced change, enrolment, max_age, prompt=login, consent; prompt=none answers instead of asking")
    func nextStep() async throws {
        guard case .success(let request) = try await parse(Self.good) else { Issue.record("refused"); return }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let full = AuthorizationStep.SessionFacts(standing: .full, authTime: now.addingTimeInterval(-600))
        func next(_ request: AuthorizationRequest, _ session: AuthorizationStep.SessionFacts?, consented: Bool = true, after: Date? = nil) -> AuthorizationStep {
            AuthorizationStep.next(request, session: session, consented: consented, signedInAfter: after, now: now)
        }
        #expect(next(request, nil) == .signIn)
        #expect(next(request, .init(standing: .mustChangePassword, authTime: now)) == .changePassword)
        #expect(next(request, .init(standing: .mustEnrolSecondFactor, authTime: now)) == .enrolSecondFactor)
        #expect(next(request, full, consented: false) == .consent)
        #expect(next(request, full) == .issueCode)
        var silent = Self.good
        silent["prompt"] = "none"
        guard case .success(let quiet) = try await parse(silent) else { return }
        #expect(next(quiet, nil) == .refuse(.loginRequired))
        #expect(next(quiet, .init(standing: .mustChangePassword, authTime: now)) == .refuse(.interactionRequired), "a temporary password never yields a code")
        #expect(next(quiet, full, consented: false) == .refuse(.consentRequired))
        var aged = Self.good
        aged["max_age"] = "300"
        guard case .success(let recent) = try await parse(aged) else { return }
        #expect(next(recent, full) == .signIn, "signed in 600 s ago, max_age 300")
        var login = Self.good
        login["prompt"] = "login"
        guard case .success(let fresh) = try await parse(login) else { return }
        #expect(next(fresh, full, after: now.addingTimeInterval(-60)) == .signIn)
        #expect(next(fresh, .init(standing: .full, authTime: now.addingTimeInterval(-30)), after: now.addingTimeInterval(-60)) == .issueCode)
        #expect(request.claims == ["name", "email"], "profile and email ask for name, preferred_username and email; the client has name and email")
    }

    @Test("registration: https redirect URIs only (http on loopback), no fragment or credentials, known claims, PKCE exemption only for a confidential client")
    func registration() throws {
        let ok = ClientRegistration(clientID: "tiket", name: "Tiket", redirectURIs: ["https://t.example.go.id/cb", "http://127.0.0.1:8081/cb"], confidential: true)
        #expect(try ok.validated().allowedClaims == OpenIDClaims.defaults)
        #expect(!OpenIDClaims.defaults.contains("preferred_username"), "the SPSE User ID is not released by default")
        for (field, registration) in [
            ("redirect_uris", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["http://t.example.go.id/cb"], confidential: true)),
            ("redirect_uris", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["https://t.example.go.id/cb#x"], confidential: true)),
            ("redirect_uris", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["https://u:p@t.example.go.id/cb"], confidential: true)),
            ("redirect_uris", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["/cb"], confidential: true)),
            ("redirect_uris", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: [], confidential: true)),
            ("client_id", ClientRegistration(clientID: "Tiket App", name: "T", redirectURIs: ["https://t.example.go.id/cb"], confidential: true)),
            ("name", ClientRegistration(clientID: "tiket", name: "T\u{0}", redirectURIs: ["https://t.example.go.id/cb"], confidential: true)),
            ("allowed_claims", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["https://t.example.go.id/cb"], confidential: true,
                                                  allowedClaims: ["password_hash"])),
            ("pkce_exempt", ClientRegistration(clientID: "tiket", name: "T", redirectURIs: ["https://t.example.go.id/cb"], confidential: false, pkceExempt: true)),
        ] {
            do {
                _ = try registration.validated()
                Issue.record("accepted: \(registration)")
            } catch {
                #expect(error.description.hasPrefix(field), "\(error)")
            }
        }
    }

    @Test("ES256 and RS256 tokens verify with the published JWK alone; the kid is the key's RFC 7638 thumbprint and survives a round trip")
    func signatures() throws {
        for algorithm in SigningKey.Algorithm.allCases {
            let key = try SigningKey.generate(algorithm)
            let again = try SigningKey(algorithm: algorithm, privateBytes: key.privateBytes)
            #expect(again.kid == key.kid && again.publicJWK == key.publicJWK)
            let token = try key.compactJWS(["sub": "x", "aud": "tiket"])
            let parts = token.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            let input = Data((parts[0] + "." + parts[1]).utf8)
            let signature = Data(try #require(Base64URL.decode(parts[2])))
            let jwk = key.publicJWK
            switch algorithm {
            case .es256:
                let x = try #require(Base64URL.decode(jwk["x"] ?? "")), y = try #require(Base64URL.decode(jwk["y"] ?? ""))
                let publicKey = try P256.Signing.PublicKey(x963Representation: [0x04] + x + y)
                #expect(publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: input))
                #expect(!publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data("tampered".utf8)))
            case .rs256:
                let n = try #require(Base64URL.decode(jwk["n"] ?? "")), e = try #require(Base64URL.decode(jwk["e"] ?? ""))
                let publicKey = try _RSA.Signing.PublicKey(n: Data(n), e: Data(e))
                #expect(publicKey.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5))
            }
            let headerBytes = try #require(Base64URL.decode(parts[0]))
            let header = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: String]
            #expect(header == ["alg": algorithm.rawValue, "kid": key.kid, "typ": "JWT"])
        }
        #expect(try SigningKey.generate(.es256).kid != SigningKey.generate(.es256).kid)
    }
}
