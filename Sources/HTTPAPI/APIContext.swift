import Accounts
import Hummingbird

/// The request context of the API: Hummingbird's core storage plus the session, once the bearer
/// token has been checked.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `SessionMiddleware` when a valid bearer token came with the request.
    public var session: Session?
    /// The bearer token itself, for logout and password change.
    public var token: SessionToken?
    /// Largest JSON body accepted; set from the configuration by `BodyLimitMiddleware`.
    public var jsonBodyLimit = 64 * 1024

    /// The client's address (IP without port) when the server knows it.
    public let remotePeer: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remotePeer = source.channel.remoteAddress?.ipAddress
    }

    /// Smaller than Hummingbird's default: the largest body is a 10 MiB document.
    public var maxUploadSize: Int { 11 * 1024 * 1024 }

    /// The session, or 401; a change-only session, or a role outside `roles`, gets 403.
    func require(_ roles: Set<Role>? = nil) throws -> Session {
        guard let session else { throw APIError.unauthenticated }
        guard session.scope == .full else { throw APIError.changePasswordFirst }
        if let roles, !roles.contains(session.role) { throw APIError.forbidden(role: session.role) }
        return session
    }
}
