import Accounts
import Gate

/// The authenticated person an operation runs for: made only from a session with full scope, so
/// a door cannot act for someone who has not logged in, or who must change their password first.
public struct Caller: Sendable, Equatable {
    public let userID: UserID
    public let role: Role

    public init(session: Session) throws(AccountsError) {
        guard session.scope == .full else { throw .sessionScope }
        userID = session.userID
        role = session.role
    }

    var actor: Actor { Actor(userID: userID.value, role: role) }
    var asOperator: Operator { Operator(userID: userID, role: role) }
}
