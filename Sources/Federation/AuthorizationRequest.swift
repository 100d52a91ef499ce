import Foundation

/// An authorization request (OpenID Connect Core §3.1.2.1) once its client and redirect URI are
/// known good: only then may a refusal be sent back to the client.
public struct AuthorizationRequest: Sendable, Equatable {
    public enum Prompt: String, Sendable { case none, login, consent }

    public let client: OpenIDClient
    public let redirectURI: String
    public let state: String?
    public let scopes: [String]
    public let nonce: String?
    public let codeChallenge: String?
    public let prompts: Set<Prompt>
    public let maxAge: Int?
    public let loginHint: String?

    /// The claims this request may release: those its scopes ask for that the client is granted.
    public var claims: [String] {
        let asked = Set(scopes.flatMap { OpenIDClaims.byScope[$0] ?? [] })
        return client.allowedClaims.filter(asked.contains)
    }

    /// Checks the client and the redirect URI first (a failure there stays at the provider), then
    /// everything else (a failure is the client's to hear, at its redirect URI, with `state`).
    /// `parameters` is the query as sent; `repeated` the names sent more than once.
    public static func parse(_ parameters: [String: String], repeated: Set<String>,
                             client lookup: (String) async throws -> OpenIDClient?) async throws -> Result<AuthorizationRequest, Refusal> {
        guard let clientID = parameters["client_id"], !repeated.contains("client_id"), let client = try await lookup(clientID) else {
            throw FederationError.unknownClient
        }
        // Exact match, byte for byte (RFC 9700 §2.1): no prefix, no normalising.
        guard let redirectURI = parameters["redirect_uri"], !repeated.contains("redirect_uri"), client.redirectURIs.contains(redirectURI) else {
            throw FederationError.redirectURIMismatch
        }
        let state = parameters["state"]
        func refuse(_ error: FederationError) -> Result<AuthorizationRequest, Refusal> {
            .failure(Refusal(error: error, redirectURI: redirectURI, state: repeated.contains("state") ? nil : state))
        }
        if let name = repeated.sorted().first { return refuse(.invalidRequest(name)) }
        if let state, state.utf8.count > 512 || state.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return refuse(.invalidRequest("state"))
        }
        if parameters["request"] != nil || parameters["request_uri"] != nil { return refuse(.requestNotSupported) }
        guard parameters["response_type"] == "code" else { return refuse(.unsupportedResponseType) }
        if let mode = parameters["response_mode"], mode != "query" { return refuse(.invalidRequest("response_mode")) }
        let scopes = (parameters["scope"] ?? "").split(separator: " ").map(String.init)
        guard scopes.contains("openid") else { return refuse(.invalidScope("scope must include openid")) }
        if let unknown = scopes.first(where: { !OpenIDClaims.scopes.contains($0) && $0 != "offline_access" }) {
            return refuse(.invalidScope("scope \(unknown.prefix(40)) is not offered"))
        }
        let nonce = parameters["nonce"]
        if let nonce, nonce.isEmpty || nonce.utf8.count > 255 || nonce.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return refuse(.invalidRequest("nonce"))
        }
        // PKCE with S256 only (RFC 7636; `plain` is refused). A confidential client an operator
        // exempted may go without, but then the nonce binds its ID token to its session.
        let challenge = parameters["code_challenge"]
        if let challenge {
            guard parameters["code_challenge_method"] == "S256" else { return refuse(.invalidRequest("code_challenge_method")) }
            guard (43...128).contains(challenge.utf8.count), challenge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
                return refuse(.invalidRequest("code_challenge"))
            }
        } else if !(client.pkceExempt && nonce != nil) {
            return refuse(.invalidRequest("code_challenge"))
        }
        var prompts: Set<Prompt> = []
        for word in (parameters["prompt"] ?? "").split(separator: " ") {
            guard let prompt = Prompt(rawValue: String(word)) else { return refuse(.invalidRequest("prompt")) }
            prompts.insert(prompt)
        }
        if prompts.contains(.none), prompts.count > 1 { return refuse(.invalidRequest("prompt")) }
        var maxAge: Int?
        if let text = parameters["max_age"] {
            guard text.utf8.count <= 9, let value = Int(text), value >= 0 else { return refuse(.invalidRequest("max_age")) }
            maxAge = value
        }
        let hint = parameters["login_hint"]
        if let hint, hint.utf8.count > 64 || hint.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return refuse(.invalidRequest("login_hint"))
        }
        return .success(AuthorizationRequest(client: client, redirectURI: redirectURI, state: state, scopes: scopes, nonce: nonce,
                                             codeChallenge: challenge, prompts: prompts, maxAge: maxAge, loginHint: hint))
    }

    /// A refusal the client hears at its redirect URI.
    public struct Refusal: Error, Sendable, Equatable {
        public let error: FederationError
        public let redirectURI: String
        public let state: String?
        public init(error: FederationError, redirectURI: String, state: String?) {
            (self.error, self.redirectURI, self.state) = (error, redirectURI, state)
        }
    }
}

/// Where an authorization request goes next, decided from the request and the browser's session
/// alone (no I/O): the provider only carries it out. A temporary password or a missing second
/// factor never reaches `issueCode`.
public enum AuthorizationStep: Sendable, Equatable {
    case signIn
    case changePassword
    case enrolSecondFactor
    case consent
    case issueCode
    case refuse(FederationError)

    /// What the provider knows of the browser's session.
    public struct SessionFacts: Sendable, Equatable {
        public enum Standing: Sendable, Equatable { case full, mustChangePassword, mustEnrolSecondFactor }
        public let standing: Standing
        public let authTime: Date
        public init(standing: Standing, authTime: Date) {
            self.standing = standing
            self.authTime = authTime
        }
    }

    /// - `signedInAfter`: for `prompt=login`, the moment the request first arrived; a session
    ///   from before it does not count.
    /// - `justConsented`: the person consented on the page this request showed (`prompt=consent`
    ///   is then answered).
    public static func next(_ request: AuthorizationRequest, session: SessionFacts?, consented: Bool, justConsented: Bool = false,
                            signedInAfter: Date?, now: Date) -> AuthorizationStep {
        let silent = request.prompts.contains(.none)
        guard let session else { return silent ? .refuse(.loginRequired) : .signIn }
        switch session.standing {
        case .mustChangePassword: return silent ? .refuse(.interactionRequired) : .changePassword
        case .mustEnrolSecondFactor: return silent ? .refuse(.interactionRequired) : .enrolSecondFactor
        case .full: break
        }
        if request.prompts.contains(.login), session.authTime < (signedInAfter ?? now) { return .signIn }
        if let maxAge = request.maxAge, now.timeIntervalSince(session.authTime) > Double(maxAge) {
            return silent ? .refuse(.loginRequired) : .signIn
        }
        if !justConsented, !consented || request.prompts.contains(.consent) { return silent ? .refuse(.consentRequired) : .consent }
        return .issueCode
    }
}

extension Federation {
    /// `uri` with `parameters` added to its query (those with a value), encoded as a form would.
    public static func location(_ uri: String, _ parameters: [String: String?]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "+&=;#?/:@!$'()*,")
        let query = parameters.sorted { $0.key < $1.key }.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
        }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }
}
