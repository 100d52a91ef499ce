import Accounts
import Federation
import Foundation

/// What the authorization endpoint does next for a browser.
public enum AuthorizationOutcome: Sendable {
    /// Back to the client: its redirect URI with a code, or with an error.
    case redirect(String)
    /// The person acts at the provider first; the request waits for them.
    case signIn
    case changePassword
    case enrolSecondFactor
    /// Ask for consent to these claims, once per client and set of scopes.
    case consent(client: OpenIDClient, claims: [String], scopes: [String])
}

/// A parsed RP-initiated logout: who asked, and where the browser may go afterwards.
public struct EndSessionRequest: Sendable {
    public let hint: IDTokenHint?
    public let client: OpenIDClient?
    public let destination: String?
}

public enum EndSessionOutcome: Sendable {
    /// The session ended (or there was none): to the application's page, or the provider's own.
    case signedOut(destination: String?)
    /// The person is asked first.
    case confirm(client: OpenIDClient?, destination: String?)
}

/// The OpenID provider's use-cases: the same for the console (the browser's part) and the
/// OpenID door (the relying parties' part).
extension Operations {
    /// Parses an authorization request; throws when the client or the redirect URI is wrong
    /// (shown at the provider), and returns the refusal the client hears otherwise.
    public func authorizationRequest(_ parameters: [String: String], repeated: Set<String>) async throws
        -> Result<AuthorizationRequest, AuthorizationRequest.Refusal> {
        try await AuthorizationRequest.parse(parameters, repeated: repeated) { try await federation.client($0) }
    }

    /// The next step of `request` for the browser holding `token` (nil: none). `consent` is the
    /// person's answer on the consent page, when this is its submission.
    public func authorize(_ request: AuthorizationRequest, token: SessionToken?, signedInAfter: Date?,
                          consent answer: Bool? = nil) async throws -> AuthorizationOutcome {
        let session = try await token.asyncMap { token in try? await credentials.session(for: token, requireFull: false) } ?? nil
        let facts = session.map { session in
            AuthorizationStep.SessionFacts(
                standing: session.scope == .full ? .full : session.scope == .changePasswordOnly ? .mustChangePassword : .mustEnrolSecondFactor,
                authTime: session.createdAt ?? clock.now)
        }
        guard let session, let token else {
            return try outcome(AuthorizationStep.next(request, session: nil, consented: false, signedInAfter: signedInAfter, now: clock.now), request)
        }
        let authorization = Authorization(
            accountID: session.accountID, userID: session.userID.value, sid: Federation.sid(ofSessionDigest: token.digest),
            sessionDigest: token.digest, authTime: session.createdAt ?? clock.now,
            amr: session.steppedUpAt != nil ? ["pwd", "otp", "mfa"] : ["pwd"])
        if answer == false, session.scope == .full {
            return .redirect(Federation.location(request.redirectURI, ["error": FederationError.accessDenied.code, "state": request.state,
                                                                       "iss": federation.settings.issuer]))
        }
        if answer == true, session.scope == .full {
            try await federation.grantConsent(authorization, to: request.client.clientID, scopes: request.scopes)
        }
        let consented = session.scope == .full ? try await federation.consented(session.accountID, to: request.client.clientID, scopes: request.scopes) : false
        let step = AuthorizationStep.next(request, session: facts, consented: consented, justConsented: answer == true,
                                          signedInAfter: signedInAfter, now: clock.now)
        if step == .issueCode {
            let code = try await federation.issueCode(request, for: authorization)
            return .redirect(Federation.location(request.redirectURI, ["code": code, "state": request.state, "iss": federation.settings.issuer]))
        }
        return try outcome(step, request)
    }

    private func outcome(_ step: AuthorizationStep, _ request: AuthorizationRequest) throws -> AuthorizationOutcome {
        switch step {
        case .signIn: return .signIn
        case .changePassword: return .changePassword
        case .enrolSecondFactor: return .enrolSecondFactor
        case .consent: return .consent(client: request.client, claims: request.claims, scopes: request.scopes)
        case .refuse(let error): return .redirect(refusalLocation(AuthorizationRequest.Refusal(error: error, redirectURI: request.redirectURI, state: request.state)))
        case .issueCode: throw FederationError.invalidRequest("state")  // issued by the caller; never reached
        }
    }

    /// Where a refusal sends the browser: the client's redirect URI with the error, `state` and `iss`.
    public func refusalLocation(_ refusal: AuthorizationRequest.Refusal) -> String {
        Federation.location(refusal.redirectURI, ["error": refusal.error.code, "error_description": refusal.error.description,
                                                  "state": refusal.state, "iss": federation.settings.issuer])
    }

    // MARK: RP-initiated logout

    /// Parses a logout request from an application (RP-Initiated Logout 1.0 §2); throws what the
    /// person is shown here: a hint that is not our ID token, a client that is not the hint's, or a
    /// post-logout redirect URI the client did not register (never followed).
    public func endSessionRequest(_ parameters: [String: String], repeated: Set<String>) async throws -> EndSessionRequest {
        if let name = repeated.sorted().first { throw FederationError.invalidRequest(name) }
        var hint: IDTokenHint?
        if let text = parameters["id_token_hint"] {
            guard let parsed = try await federation.idTokenHint(text) else { throw FederationError.invalidRequest("id_token_hint") }
            hint = parsed
        }
        let clientID = parameters["client_id"] ?? hint?.clientID
        if let hint, let clientID, clientID != hint.clientID { throw FederationError.invalidRequest("client_id") }
        let client = try await clientID.asyncMap { id in
            guard let client = try await federation.client(id) else { throw FederationError.unknownClient }
            return client
        }
        let state = parameters["state"]
        if let state, state.utf8.count > 512 || state.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw FederationError.invalidRequest("state")
        }
        var destination: String?
        if let uri = parameters["post_logout_redirect_uri"] {
            guard let client, client.postLogoutRedirectURIs.contains(uri) else { throw FederationError.invalidRequest("post_logout_redirect_uri") }
            destination = state.map { Federation.location(uri, ["state": $0]) } ?? uri
        }
        return EndSessionRequest(hint: hint, client: client, destination: destination)
    }

    /// Ends the browser's session when the application proved it is this session's (its ID token's
    /// `sid`) or the person confirmed; asks otherwise, so a link elsewhere cannot sign anyone out.
    /// Every application the session reached is then told by back-channel logout.
    public func endSession(_ request: EndSessionRequest, token: SessionToken?, confirmed: Bool) async throws -> EndSessionOutcome {
        guard let token, (try? await credentials.session(for: token, requireFull: false)) != nil else {
            return .signedOut(destination: request.destination)
        }
        guard confirmed || request.hint?.sid == Federation.sid(ofSessionDigest: token.digest) else {
            return .confirm(client: request.client, destination: request.destination)
        }
        try await logout(token)
        return .signedOut(destination: request.destination)
    }

    // MARK: The relying parties' endpoints

    public var issuer: String { federation.settings.issuer }

    /// OpenID Connect Discovery 1.0 §3, for the endpoints this provider has.
    public func openIDConfiguration() -> [String: Any] {
        let issuer = federation.settings.issuer
        return [
            "issuer": issuer,
            "authorization_endpoint": issuer + "/oauth/authorize",
            "token_endpoint": issuer + "/oauth/token",
            "userinfo_endpoint": issuer + "/oauth/userinfo",
            "end_session_endpoint": issuer + "/oauth/logout",
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "revocation_endpoint": issuer + "/oauth/revoke",
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "introspection_endpoint": issuer + "/oauth/introspect",
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "jwks_uri": issuer + "/oauth/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": SigningKey.Algorithm.allCases.map(\.rawValue),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": SigningKey.Algorithm.allCases.map(\.rawValue),
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": OpenIDClaims.scopes,
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "acr", "amr", "at_hash"] + OpenIDClaims.all,
            "acr_values_supported": [Federation.acrPassword, Federation.acrSecondFactor],
            "prompt_values_supported": ["none", "login", "consent"],
            "authorization_response_iss_parameter_supported": true,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "claims_parameter_supported": false,
            "ui_locales_supported": ["id", "en"],
        ]
    }

    public func jwks() async throws -> [[String: String]] { try await federation.jwks() }

    /// The token endpoint (RFC 6749 §4.1.3): the client authenticates (HTTP Basic or the form,
    /// never both), then the code is redeemed. Every request spends the address's login budget.
    public func exchange(_ form: [String: String], basic: (id: String, secret: String)?, from address: String?) async throws -> TokenResponse {
        try await spendLoginBudget(address)
        guard let grantType = form["grant_type"] else { throw FederationError.invalidRequest("grant_type") }
        guard ["authorization_code", "refresh_token"].contains(grantType) else { throw FederationError.unsupportedGrantType }
        let client = try await tokenClient(form, basic: basic)
        if grantType == "refresh_token" {
            guard let token = form["refresh_token"], (1...128).contains(token.utf8.count) else { throw FederationError.invalidRequest("refresh_token") }
            if let scope = form["scope"], scope.utf8.count > 512 { throw FederationError.invalidScope("too long") }
            return try await federation.refresh(token: token, client: client, scope: form["scope"])
        }
        guard let code = form["code"], !code.isEmpty, code.utf8.count <= 128 else { throw FederationError.invalidRequest("code") }
        return try await federation.redeem(code: code, client: client, redirectURI: form["redirect_uri"], verifier: form["code_verifier"])
    }

    /// Revocation (RFC 7009): the client authenticates as at the token endpoint; the answer is
    /// the same whether or not the token was live and the client's.
    public func revokeToken(_ form: [String: String], basic: (id: String, secret: String)?, from address: String?) async throws {
        try await spendLoginBudget(address)
        let client = try await tokenClient(form, basic: basic)
        guard let token = form["token"], (1...128).contains(token.utf8.count) else { throw FederationError.invalidRequest("token") }
        try await federation.revoke(token: token, client: client)
    }

    /// Introspection (RFC 7662), for a confidential client's resource servers: only its own tokens are active.
    public func introspectToken(_ form: [String: String], basic: (id: String, secret: String)?, from address: String?) async throws -> [String: Any] {
        try await spendLoginBudget(address)
        let client = try await tokenClient(form, basic: basic)
        guard client.isConfidential else { throw FederationError.invalidClient }
        guard let token = form["token"], !token.isEmpty else { throw FederationError.invalidRequest("token") }
        guard token.utf8.count <= 128 else { return ["active": false] }
        return try await federation.introspect(token: token, client: client)
    }

    /// The client of a token, revocation or introspection request: HTTP Basic or the form, never both.
    func tokenClient(_ form: [String: String], basic: (id: String, secret: String)?) async throws -> OpenIDClient {
        if let type = form["client_assertion_type"] {
            // private_key_jwt: the assertion alone, never beside a secret.
            guard type == Federation.clientAssertionType else { throw FederationError.invalidRequest("client_assertion_type") }
            guard basic == nil, form["client_secret"] == nil else { throw FederationError.invalidRequest("client_assertion") }
            guard let assertion = form["client_assertion"], !assertion.isEmpty else { throw FederationError.invalidRequest("client_assertion") }
            return try await federation.authenticate(assertion: assertion, clientID: form["client_id"])
        }
        if form["client_assertion"] != nil { throw FederationError.invalidRequest("client_assertion_type") }
        if basic != nil, form["client_secret"] != nil { throw FederationError.invalidRequest("client_secret") }
        guard let clientID = basic?.id ?? form["client_id"] else { throw FederationError.invalidClient }
        if let basic, let id = form["client_id"], id != basic.id { throw FederationError.invalidClient }
        return try await federation.authenticate(clientID: clientID, secret: basic?.secret ?? form["client_secret"])
    }

    public func userinfo(accessToken: String) async throws -> [String: Any] {
        guard (1...128).contains(accessToken.utf8.count) else { throw FederationError.invalidToken }
        return try await federation.userinfo(accessToken: accessToken)
    }

    // MARK: Administration

    /// Registers an application; a lasting change, so a fresh second factor is asked first.
    public func registerApplication(_ registration: ClientRegistration, by caller: Caller) async throws -> (client: OpenIDClient, secret: String?) {
        try await registerApplication(by: caller) { registration }
    }

    /// The same, reading the registration only once the caller may register (a door's body is read after authorization).
    public func registerApplication(by caller: Caller, _ registration: () async throws -> ClientRegistration) async throws
        -> (client: OpenIDClient, secret: String?) {
        try AccessPolicy.require(caller.role, .manageApplications)
        try requireStepUp(caller)
        return try await federation.register(try await registration(), by: caller.userID.value)
    }

    public func applications(by caller: Caller) async throws -> [OpenIDClient] {
        try AccessPolicy.require(caller.role, .manageApplications)
        return try await federation.clients()
    }

    public func rotateSigningKeys(by caller: Caller) async throws -> [(kid: String, algorithm: String, signsFrom: Date)] {
        try AccessPolicy.require(caller.role, .manageApplications)
        try requireStepUp(caller)
        return try await federation.rotateKeys(by: caller.userID.value)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
