/// What hashing and verification can report. Never carries a password.
public enum PasswordHashingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Configured or stored cost parameters outside what Argon2 accepts.
    case invalidParameters(String)
    /// A stored hash is not a PHC Argon2 string.
    case malformedHash
    /// libargon2 failed (memory allocation, thread creation, …).
    case hashingFailed(code: Int32, message: String)
    /// The queue in front of the hashing workers is full; the caller should answer "try later".
    case overloaded(queued: Int)
    /// The pool was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .invalidParameters(let reason): return "invalid Argon2 parameters: \(reason)"
        case .malformedHash: return "the stored password hash is not an Argon2 PHC string"
        case .hashingFailed(let code, let message): return "Argon2 failed (\(code)): \(message)"
        case .overloaded(let queued): return "password hashing is overloaded (\(queued) waiting)"
        case .shutDown: return "password hashing has shut down"
        }
    }
}
