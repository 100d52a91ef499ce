import Accounts

/// Refusals that belong to the HTTP layer itself (as opposed to the domain modules' errors).
public enum DoorError: Error, Sendable, Equatable {
    case unauthenticated
    case changePasswordFirst
    case forbidden(role: Role)
    /// The body or a parameter is malformed; `detail` says exactly what.
    case badRequest(String)
    case notFound
    case tooManyRequests(retryAfter: Int)
}
