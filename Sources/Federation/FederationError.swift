/// Why the OpenID provider refused, as OAuth 2.0 and OpenID Connect name it. The first two are
/// shown to the person at the provider and never sent to a redirect URI (RFC 6749 §4.1.2.1):
/// an unknown client or an unregistered redirect URI must not become an open redirector.
public enum FederationError: Error, Equatable, Sendable {
    case unknownClient
    case redirectURIMismatch
    /// A malformed authorization or token request; the parameter named.
    case invalidRequest(String)
    case unsupportedResponseType
    case invalidScope(String)
    case requestNotSupported
    /// `prompt=none` and the person must sign in, act (change a temporary password, give a code) or consent.
    case loginRequired
    case interactionRequired
    case consentRequired
    case accessDenied
    /// The client could not be authenticated at the token endpoint.
    case invalidClient
    /// A code or refresh token that is unknown, used, expired, or not this client's.
    case invalidGrant(String)
    case unsupportedGrantType
    /// A bearer token userinfo does not accept.
    case invalidToken
    /// A client registration an Admin PPE must correct.
    case invalidRegistration(field: String, reason: String)
    case clientExists
    /// The deployment has no secrets key to seal signing keys with.
    case signingUnavailable

    /// The OAuth `error` value.
    public var code: String {
        switch self {
        case .unknownClient: return "invalid_client"
        case .redirectURIMismatch: return "invalid_request"
        case .invalidRequest: return "invalid_request"
        case .unsupportedResponseType: return "unsupported_response_type"
        case .invalidScope: return "invalid_scope"
        case .requestNotSupported: return "request_not_supported"
        case .loginRequired: return "login_required"
        case .interactionRequired: return "interaction_required"
        case .consentRequired: return "consent_required"
        case .accessDenied: return "access_denied"
        case .invalidClient: return "invalid_client"
        case .invalidGrant: return "invalid_grant"
        case .unsupportedGrantType: return "unsupported_grant_type"
        case .invalidToken: return "invalid_token"
        case .invalidRegistration: return "invalid_client_metadata"
        case .clientExists: return "client_exists"
        case .signingUnavailable: return "temporarily_unavailable"
        }
    }

    /// The `error_description`: what is wrong, never a value the caller sent.
    public var description: String {
        switch self {
        case .unknownClient: return "unknown or disabled client"
        case .redirectURIMismatch: return "redirect_uri is not one registered for this client"
        case .invalidRequest(let parameter): return "\(parameter) is missing, repeated or malformed"
        case .unsupportedResponseType: return "only response_type=code is supported"
        case .invalidScope(let reason): return reason
        case .requestNotSupported: return "request objects are not supported"
        case .loginRequired: return "the user must sign in"
        case .interactionRequired: return "the user must act first (change a temporary password or give an authenticator code)"
        case .consentRequired: return "the user has not consented to this client"
        case .accessDenied: return "the user declined"
        case .invalidClient: return "client authentication failed"
        case .invalidGrant(let reason): return reason
        case .unsupportedGrantType: return "only authorization_code is supported"
        case .invalidToken: return "the access token is unknown, expired or revoked"
        case .invalidRegistration(let field, let reason): return "\(field) \(reason)"
        case .clientExists: return "a client with this client_id exists"
        case .signingUnavailable: return "the provider has no secrets key configured (SPSE_SECRETS_KEY_FILE)"
        }
    }

    /// Whether the person sees this at the provider instead of being sent back to the client.
    public var staysAtProvider: Bool { self == .unknownClient || self == .redirectURIMismatch }
}
