import Foundation

/// A relying party: one of the LPSE's other applications, registered by an Admin PPE.
public struct OpenIDClient: Sendable, Equatable {
    public let clientID: String
    public let name: String
    public let redirectURIs: [String]
    /// Confidential clients authenticate at the token endpoint with their secret; public ones
    /// (a single-page or native app) cannot keep one and rely on PKCE alone.
    public let isConfidential: Bool
    public let allowedClaims: [String]
    public let backchannelLogoutURI: String?
    public let pkceExempt: Bool
    /// Where RP-initiated logout may send the browser afterwards, compared exactly.
    public let postLogoutRedirectURIs: [String]
    /// The client's public keys when it authenticates by `private_key_jwt` (then it has no secret).
    public let keys: [VerifyingKey]

    /// How it authenticates at the token endpoint, by its registration's name (`client_secret_basic` also takes `_post`).
    public var tokenEndpointAuthMethod: String { !keys.isEmpty ? "private_key_jwt" : isConfidential ? "client_secret_basic" : "none" }

    public init(clientID: String, name: String, redirectURIs: [String], isConfidential: Bool, allowedClaims: [String],
                backchannelLogoutURI: String?, pkceExempt: Bool, postLogoutRedirectURIs: [String] = [], keys: [VerifyingKey] = []) {
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.keys = keys
        self.clientID = clientID
        self.name = name
        self.redirectURIs = redirectURIs
        self.isConfidential = isConfidential
        self.allowedClaims = allowedClaims
        self.backchannelLogoutURI = backchannelLogoutURI
        self.pkceExempt = pkceExempt
    }
}

/// The claims a client may be granted. The SPSE User ID (`preferred_username`) is not among the
/// defaults: disclosing it is SOP 004's business, so an Admin PPE grants it on purpose.
public enum OpenIDClaims {
    public static let all = ["name", "email", "role", "agency", "nip", "preferred_username"]
    public static let defaults = ["name", "email", "role"]
    /// What each scope asks for (OpenID Connect Core §5.4, plus `spse` for the LPSE's own facts).
    public static let byScope: [String: [String]] = [
        "profile": ["name", "preferred_username"],
        "email": ["email"],
        "spse": ["role", "agency", "nip"],
    ]
    public static let scopes = ["openid"] + byScope.keys.sorted()
}

/// A client as an Admin PPE registers it, checked as a whole before anything is stored.
public struct ClientRegistration: Sendable, Equatable {
    public var clientID: String
    public var name: String
    public var redirectURIs: [String]
    public var confidential: Bool
    public var allowedClaims: [String]
    public var backchannelLogoutURI: String?
    public var pkceExempt: Bool
    public var postLogoutRedirectURIs: [String]
    /// A JWKS of the client's public keys: it authenticates by `private_key_jwt` instead of a secret.
    public var jwks: String?
    /// What `validated()` read from `jwks`.
    public internal(set) var keys: [VerifyingKey] = []

    public init(clientID: String, name: String, redirectURIs: [String], confidential: Bool, allowedClaims: [String]? = nil,
                backchannelLogoutURI: String? = nil, pkceExempt: Bool = false, postLogoutRedirectURIs: [String] = [], jwks: String? = nil) {
        self.postLogoutRedirectURIs = postLogoutRedirectURIs
        self.jwks = jwks
        self.clientID = clientID
        self.name = name
        self.redirectURIs = redirectURIs
        self.confidential = confidential
        self.allowedClaims = allowedClaims ?? OpenIDClaims.defaults
        self.backchannelLogoutURI = backchannelLogoutURI
        self.pkceExempt = pkceExempt
    }

    public func validated() throws(FederationError) -> ClientRegistration {
        var checked = self
        checked.clientID = clientID.trimmingCharacters(in: .whitespaces)
        guard checked.clientID.wholeMatch(of: /[a-z0-9][a-z0-9._-]{2,63}/) != nil else {
            throw .invalidRegistration(field: "client_id", reason: "must be 3 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        }
        checked.name = name.trimmingCharacters(in: .whitespaces)
        guard (1...120).contains(checked.name.count), !checked.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidRegistration(field: "name", reason: "must be 1 to 120 characters without control characters")
        }
        guard (1...10).contains(redirectURIs.count) else {
            throw .invalidRegistration(field: "redirect_uris", reason: "must hold 1 to 10 URIs")
        }
        for uri in redirectURIs {
            if let reason = Self.redirectProblem(uri) { throw .invalidRegistration(field: "redirect_uris", reason: reason) }
        }
        guard postLogoutRedirectURIs.count <= 10 else {
            throw .invalidRegistration(field: "post_logout_redirect_uris", reason: "must hold at most 10 URIs")
        }
        for uri in postLogoutRedirectURIs {
            if let reason = Self.redirectProblem(uri) { throw .invalidRegistration(field: "post_logout_redirect_uris", reason: reason) }
        }
        if let logout = backchannelLogoutURI, let reason = Self.redirectProblem(logout) {
            throw .invalidRegistration(field: "backchannel_logout_uri", reason: reason)
        }
        let unknown = allowedClaims.filter { !OpenIDClaims.all.contains($0) }
        guard unknown.isEmpty else {
            throw .invalidRegistration(field: "allowed_claims", reason: "may name only \(OpenIDClaims.all.joined(separator: ", "))")
        }
        checked.allowedClaims = OpenIDClaims.all.filter(allowedClaims.contains)
        if let jwks {
            switch VerifyingKey.parse(jwks: jwks) {
            case .success(let keys): checked.keys = keys
            case .failure(let problem): throw .invalidRegistration(field: "jwks", reason: problem.reason)
            }
            checked.confidential = true  // a client with keys keeps them: it is confidential, with no secret
        }
        guard !pkceExempt || checked.confidential else {
            throw .invalidRegistration(field: "pkce_exempt", reason: "is only for a confidential client (a public client has nothing but PKCE)")
        }
        return checked
    }

    /// Why `uri` cannot be a redirect (or logout) URI, or nil: absolute https, or http on the
    /// loopback interface only (RFC 8252 §7.3); no fragment, no credentials, no control
    /// characters. It is compared exactly, byte for byte, at every authorization.
    static func redirectProblem(_ uri: String) -> String? {
        guard uri.utf8.count <= 512, !uri.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || !$0.isASCII }) else {
            return "must be at most 512 printable ASCII characters"
        }
        guard let components = URLComponents(string: uri), let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty else {
            return "must be an absolute URI"
        }
        guard components.fragment == nil else { return "must not have a fragment" }
        guard components.user == nil, components.password == nil else { return "must not carry credentials" }
        let loopback = ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else { return "must be https (http only on 127.0.0.1 or localhost)" }
        return nil
    }
}
