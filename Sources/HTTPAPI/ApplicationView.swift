import Federation

/// An application (OpenID client) as the API and the CLI show it; its secret only in the answer that registered it.
public struct ApplicationView: Encodable, Sendable {
    let clientID: String
    let name: String
    let redirectURIs: [String]
    let tokenEndpointAuthMethod: String
    let allowedClaims: [String]
    let backchannelLogoutURI: String?
    let postLogoutRedirectURIs: [String]
    let pkceExempt: Bool
    /// Shown once, at registration, for a client with a secret.
    let clientSecret: String?
    enum CodingKeys: String, CodingKey {
        case clientID = "client_id", name, redirectURIs = "redirect_uris", tokenEndpointAuthMethod = "token_endpoint_auth_method"
        case allowedClaims = "allowed_claims", backchannelLogoutURI = "backchannel_logout_uri", postLogoutRedirectURIs = "post_logout_redirect_uris"
        case pkceExempt = "pkce_exempt", clientSecret = "client_secret"
    }
    public init(_ client: OpenIDClient, secret: String? = nil) {
        (clientID, name, redirectURIs, allowedClaims) = (client.clientID, client.name, client.redirectURIs, client.allowedClaims)
        tokenEndpointAuthMethod = client.tokenEndpointAuthMethod
        (backchannelLogoutURI, postLogoutRedirectURIs, pkceExempt, clientSecret) = (client.backchannelLogoutURI, client.postLogoutRedirectURIs,
                                                                                   client.pkceExempt, secret)
    }
}
