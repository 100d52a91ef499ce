import Accounts
import Foundation
import Gate

/// The authenticated person an operation runs for: made only from a session with full scope, so
/// a door cannot act for someone who has not logged in, or who must change their password first.
public struct Caller: Sendable, Equatable {
    public let userID: UserID
    public let role: Role
    /// When the caller last proved the second factor (SOP step 6 needs it recent).
    public let steppedUpAt: Date?

    public init(session: Session) throws(AccountsError) {
        switch session.scope {
        case .full: break
        case .changePasswordOnly: throw .sessionScope
        case .totpEnrolment: throw .totpEnrolmentRequired
        }
        userID = session.userID
        role = session.role
        steppedUpAt = session.steppedUpAt
    }

    public var actor: Actor { Actor(userID: userID.value, role: role) }
    var asOperator: Operator { Operator(userID: userID, role: role) }
}
