import Accounts

/// Login outcomes that are refusals, mapped with every other error in `ProblemMapping`: each door
/// (the API, the console, the CLI) answers a refused login from this one mapping, so a disabled
/// account reads the same through all of them.
public enum LoginRefusal: Error, Equatable {
    case temporaryPasswordExpired
    case locked(retryAfter: Int)
    case disabled

    /// The error a refused outcome stands for; nil for an outcome that lets the user on.
    public static func refusal(of outcome: LoginOutcome) -> (any Error)? {
        switch outcome {
        case .ok, .passwordChangeRequired, .totpRequired, .totpEnrolmentRequired: return nil
        case .invalidCredentials: return AccountsError.invalidCredentials
        case .temporaryPasswordExpired: return LoginRefusal.temporaryPasswordExpired
        case .locked(let retryAfter): return LoginRefusal.locked(retryAfter: Int(retryAfter.rounded(.up)))
        case .disabled: return LoginRefusal.disabled
        }
    }
}
