import Accounts
import Hummingbird
import Operations

/// The request context of the API: Hummingbird's core storage plus the session, once the bearer
/// token has been checked.
public struct DoorContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `SessionMiddleware` when a valid bearer token came with the request.
    public var session: Session?
    /// The bearer token itself, for logout and password change.
    public var token: SessionToken?
    /// Largest JSON body accepted; set from the configuration by `BodyLimitMiddleware`.
    public var jsonBodyLimit = 64 * 1024

    /// The peer's address (IP without port) when the server knows it: the client, or a proxy.
    public let remotePeer: String?
    /// The client's address, through a trusted proxy's forwarding headers; set by `ClientAddressMiddleware`.
    public var clientAddress: String?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.remotePeer = source.channel.remoteAddress?.ipAddress
    }

    /// Smaller than Hummingbird's default: the largest body is a 10 MiB document.
    public var maxUploadSize: Int { 11 * 1024 * 1024 }

    /// The authenticated caller: 401 without a session, 403 for a session that may only change
    /// its password. What the caller may do is the operation's to decide.
    public func caller() throws -> Caller {
        guard let session else { throw DoorError.unauthenticated }
        do { return try Caller(session: session) } catch .totpEnrolmentRequired { throw AccountsError.totpEnrolmentRequired } catch {
            throw DoorError.changePasswordFirst
        }
    }
}

extension DoorContext {
    /// The client's address without the port, for the per-address login budget.
    public var remoteAddress: String { clientAddress ?? remotePeer ?? "unknown" }
}
