import Accounts

/// Everything the gate refuses, with what the user needs to know to act next.
public enum GateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request is not in a state where this action is allowed; `allowed` lists what is, and by whom.
    case wrongState(current: RequestState, allowed: [AllowedAction])
    /// The actor's role may not take this step.
    case notPermitted(role: Role, action: GateAction)
    /// Separation of duties: `rule` names which one.
    case separationOfDuties(rule: String)
    /// Required documents are missing for a "complete" verdict.
    case missingDocuments([DocumentType])
    /// Step 2: a "complete" verdict that also names documents as wanting.
    case wantingInCompleteFile([DocumentType])
    case requestNotFound
    case documentNotFound
    /// A request kind other than reset_password and user_id_info.
    case unknownKind(String)
    /// A request that asks for nothing.
    case noKind
    /// Step 5: a valid verdict names no subject account.
    case subjectRequired
    /// Step 5: the account named has another role than the one the request concerns.
    case subjectWrongRole(userID: String, role: Role, expected: Role)
    /// Step 5: an invalid verdict gives the requester no reason.
    case reasonRequired
    /// Step 8: the hand-over's time is before step 6, or after now.
    case handoverBeforeExecution
    case handoverInFuture
    /// The service's abandonment of a file that still has time to be completed.
    case stillInTime
    /// The document is too large, or its bytes are not the PDF/JPEG/PNG it claims to be.
    /// A document that is not what it claims, too large or empty; `field` is its form part, when known.
    case documentRefused(String, field: String? = nil)
    /// The subject account named at validation does not exist.
    case subjectNotFound
    /// Step 5: the account chosen differs from what the requester said of it in these fields;
    /// the Admin PPE must acknowledge why it is the right one.
    case hintMismatch(fields: [String])
    case deviationNotFound
    /// A deviation is explained by the person it is attributed to.
    case notTheirDeviation
    case deviationExplained
    /// Before step 9 the file is exported only by an admin_ppe who gives a reason.
    case exportBeforeArchive
    /// The document's content was purged after the retention period; its record stays.
    case documentPurged
    /// The request kept moving under this step (every retry lost a race): nothing was done; try again.
    case busy
    /// The public door's budget for this address, e-mail or request is spent; try after `retryAfter` seconds.
    case publicBudgetSpent(retryAfter: Int)
    /// The service holds as many open online requests as it takes; try after `retryAfter` seconds.
    case onlineQueueFull(retryAfter: Int)

    public var description: String {
        switch self {
        case .wrongState(let current, let allowed):
            let next = allowed.isEmpty ? "nothing: the request is archived" : allowed.map(\.description).joined(separator: "; ")
            return "the request is \(current.rawValue); allowed now: \(next)"
        case .notPermitted(let role, let action): return "\(role.rawValue) may not \(action.rawValue)"
        case .separationOfDuties(let rule): return "separation of duties: \(rule)"
        case .missingDocuments(let types): return "required documents missing: \(types.map(\.rawValue).joined(separator: ", "))"
        case .wantingInCompleteFile(let types):
            return "a complete file wants no document, yet \(types.map(\.rawValue).joined(separator: ", ")) was named as wanting"
        case .requestNotFound: return "no such request"
        case .documentNotFound: return "no such document"
        case .unknownKind(let name): return "kind must be reset_password and/or user_id_info, not \(name)"
        case .noKind: return "a request asks for reset_password, user_id_info or both"
        case .subjectRequired: return "a valid request must name the subject account"
        case .subjectWrongRole(let userID, let role, let expected):
            return "\(userID) is a \(role.rawValue) account; the request concerns a \(expected.rawValue)"
        case .reasonRequired: return "an invalid verdict needs a reason for the requester"
        case .handoverBeforeExecution: return "handed_at is before the request was executed"
        case .handoverInFuture: return "handed_at is in the future"
        case .stillInTime: return "the file still has time to be completed"
        case .documentRefused(let reason, _): return "document refused: \(reason)"
        case .subjectNotFound: return "the subject account does not exist"
        case .hintMismatch(let fields):
            return "the account differs from the request's \(fields.joined(separator: ", ")); acknowledge the mismatch with a reason"
        case .deviationNotFound: return "no such deviation"
        case .notTheirDeviation: return "a deviation is explained by the person it is attributed to"
        case .deviationExplained: return "this deviation is already explained"
        case .exportBeforeArchive: return "the file is not archived yet: only an admin_ppe may export it now, with a reason"
        case .documentPurged: return "the document's content was purged after the retention period"
        case .busy: return "the request changed while this step was taken; nothing was done, try again"
        case .publicBudgetSpent(let seconds): return "too many attempts; try again in \(seconds) s"
        case .onlineQueueFull(let seconds): return "too many online requests are open; try again in \(seconds) s or hand the request in at the LPSE"
        }
    }
}

/// An action and who may take it, for refusals and the queue.
public struct AllowedAction: Sendable, Equatable, CustomStringConvertible {
    public let action: GateAction
    public let roles: [Role]
    /// The requester (step 4, confirming receipt) rather than a role.
    public let byRequester: Bool

    public var description: String {
        let who = (byRequester ? ["the requester"] : []) + roles.map(\.rawValue)
        return "\(action.rawValue) by \(who.joined(separator: " or "))"
    }
}
