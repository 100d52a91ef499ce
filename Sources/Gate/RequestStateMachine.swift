import Accounts

/// The actions of SOP 004, as the API names them.
public enum GateAction: String, Sendable, Codable, CaseIterable {
    case completeness          // step 2
    case notify                // step 3, 7 or 8, whichever notice is due
    case supplement            // step 4
    case validity              // step 5
    case execute               // step 6
    case confirmReceipt = "confirm_receipt"
    case archive               // step 9
}

/// Who acts: an operator or user with a role.
public struct Actor: Sendable, Equatable {
    public let userID: String
    public let role: Role
    public init(userID: String, role: Role) {
        self.userID = userID
        self.role = role
    }
}

/// An event the state machine judges.
public enum GateEvent: Sendable, Equatable {
    /// Step 2; `note` says what the Staf Administrasi saw (kept with the step).
    case completeness(complete: Bool, note: String? = nil)
    case notify
    case supplement
    /// Step 5. `subject`: the user ID of the account the Admin PPE resolved the request to
    /// (required when valid); `reason`: why the file is invalid (required when not).
    case validity(valid: Bool, subject: String?, reason: String? = nil)
    case execute
    case confirmReceipt
    case archive

    public var action: GateAction {
        switch self {
        case .completeness: return .completeness
        case .notify: return .notify
        case .supplement: return .supplement
        case .validity: return .validity
        case .execute: return .execute
        case .confirmReceipt: return .confirmReceipt
        case .archive: return .archive
        }
    }
}

/// The account a validity verdict names, as `AccountDirectory` found it.
public struct SubjectAccount: Sendable, Equatable {
    public let id: Int64
    public let userID: String
    public let role: Role
    public init(id: Int64, userID: String, role: Role) {
        self.id = id
        self.userID = userID
        self.role = role
    }
}

/// What the state machine needs to know about a request; loaded by the service, no I/O here.
public struct RequestFacts: Sendable, Equatable {
    public var state: RequestState
    /// The requester's user ID when known (a helpdesk who submitted for themself, or the hint given).
    public var requester: String?
    /// The account the request concerns, once resolved at step 5.
    public var subject: String?
    /// Who checked completeness last (step 2).
    public var completenessCheckedBy: String?
    public var documents: Set<DocumentType>
    public var requiredDocuments: Set<DocumentType>
    public var receiptConfirmed: Bool
    /// For the notices: the request's number, what it asks for, the role of the account it
    /// concerns, what step 2 found missing and step 5's reason for rejecting it.
    public var number: String
    public var kinds: RequestKinds
    public var subjectRole: Role
    public var missingDocuments: [DocumentType]
    public var rejectionReason: String?
    /// The account a validity event names, resolved by the service once the actor may take step 5.
    public var namedSubject: SubjectAccount?

    public init(state: RequestState, requester: String?, subject: String?, completenessCheckedBy: String?,
                documents: Set<DocumentType>, requiredDocuments: Set<DocumentType>, receiptConfirmed: Bool,
                number: String = "REQ", kinds: RequestKinds = [.resetPassword], subjectRole: Role = .helpdesk,
                missingDocuments: [DocumentType] = [], rejectionReason: String? = nil, namedSubject: SubjectAccount? = nil) {
        self.state = state
        self.requester = requester
        self.subject = subject
        self.completenessCheckedBy = completenessCheckedBy
        self.documents = documents
        self.requiredDocuments = requiredDocuments
        self.receiptConfirmed = receiptConfirmed
        self.number = number
        self.kinds = kinds
        self.subjectRole = subjectRole
        self.missingDocuments = missingDocuments
        self.rejectionReason = rejectionReason
        self.namedSubject = namedSubject
    }
}

/// The accepted outcome of an event: the new state, and which SOP step it ends and which it opens
/// (for the SLA clock).
public struct Transition: Sendable, Equatable {
    public let from: RequestState
    public let to: RequestState
    /// The step this action completes (nil for confirming receipt).
    public let endsStep: Int?
    /// The step that becomes actionable (nil when none, e.g. archived).
    public let opensStep: Int?
}

/// What accepting an event does besides the transition. `GateService` carries these out in the
/// step's transaction and decides nothing itself.
public enum GateEffect: Sendable, Equatable {
    /// Step 2: who checked, what was missing (empty when complete), the note.
    case recordCompleteness(missing: [DocumentType], note: String?)
    /// Step 5: the verdict, the account it names and the reason given to the requester.
    case recordValidity(valid: Bool, subject: SubjectAccount?, reason: String?)
    /// Step 6: a new temporary password for the subject (Argon2 before the transaction).
    case resetPassword
    /// Step 6: the subject's user ID handed over.
    case discloseUserID(String)
    /// Step 6: who executed.
    case recordExecution
    /// Steps 3, 7, 8: the notice to queue for the requester.
    case queueNotice(Notice)
    case confirmReceipt
}

/// The state machine's answer to an accepted event: the transition, the effects, and the
/// outcome the SLA clock records for the step.
public struct Decision: Sendable, Equatable {
    public let transition: Transition
    public let effects: [GateEffect]
    public let outcome: String

    public var from: RequestState { transition.from }
    public var to: RequestState { transition.to }
    public var endsStep: Int? { transition.endsStep }
    public var opensStep: Int? { transition.opensStep }
    /// Whether carrying it out needs a new temporary password (and so Argon2 work first).
    public var resetsPassword: Bool { effects.contains(.resetPassword) }
}

/// SOP 004 as a pure function of (facts, actor, event): a decision or a typed refusal. Checks
/// run in a fixed order: state, role and separation of duties (`authorize`) before the event's
/// own content, so an actor who may not act learns nothing from the content of their refusal.
public enum RequestStateMachine {
    public static func apply(_ event: GateEvent, to facts: RequestFacts, by actor: Actor) -> Result<Decision, GateError> {
        if let refusal = authorize(event, facts: facts, actor: actor) { return .failure(refusal) }
        let decided: (RequestState, [GateEffect], String)
        switch (facts.state, event) {
        case (.submitted, .completeness(let complete, let note)):
            let missing = DocumentType.allCases.filter(facts.requiredDocuments.subtracting(facts.documents).contains)
            if complete && !missing.isEmpty { return .failure(.missingDocuments(missing)) }
            decided = complete
                ? (.complete, [.recordCompleteness(missing: [], note: note)], "complete")
                : (.incomplete, [.recordCompleteness(missing: missing, note: note)], "incomplete")
        case (.incomplete, .notify):
            decided = (.awaitingSupplement, [.queueNotice(.supplement(number: facts.number, missing: facts.missingDocuments))], "sent")
        case (.awaitingSupplement, .supplement):
            decided = (.submitted, [], "supplement")
        case (.complete, .validity(let valid, let subject, let reason)):
            if valid {
                guard subject != nil else { return .failure(.invalidInput("a valid request must name the subject account")) }
                if let named = facts.namedSubject, named.role != facts.subjectRole {
                    return .failure(.invalidInput("\(named.userID) is a \(named.role.rawValue) account; the request concerns a \(facts.subjectRole.rawValue)"))
                }
                decided = (.approved, [.recordValidity(valid: true, subject: facts.namedSubject, reason: nil)], "valid")
            } else {
                guard let reason, !reason.isEmpty else { return .failure(.invalidInput("an invalid verdict needs a reason for the requester")) }
                decided = (.invalid, [.recordValidity(valid: false, subject: nil, reason: reason)], "invalid")
            }
        case (.approved, .execute):
            // A valid verdict always names the subject; without one there is nobody to execute for.
            guard let subject = facts.subject else { return .failure(.subjectNotFound) }
            let effects: [GateEffect] = (facts.kinds.contains(.resetPassword) ? [.resetPassword] : [])
                + (facts.kinds.contains(.userIDInfo) ? [.discloseUserID(subject)] : []) + [.recordExecution]
            decided = (.executed, effects, "execute")
        case (.invalid, .notify):
            decided = (.rejected, [.queueNotice(.rejection(number: facts.number, reason: facts.rejectionReason ?? "-"))], "sent")
        case (.executed, .notify):
            let userID = facts.kinds.contains(.userIDInfo) ? facts.subject : nil
            decided = (.notified, [.queueNotice(.completion(number: facts.number, kinds: facts.kinds, userID: userID))], "sent")
        case (.notified, .confirmReceipt):
            let transition = Transition(from: facts.state, to: .notified, endsStep: nil, opensStep: nil)
            return .success(Decision(transition: transition, effects: [.confirmReceipt], outcome: "confirm_receipt"))
        case (.rejected, .archive), (.notified, .archive):
            decided = (.archived, [], "archive")
        default:
            return .failure(.wrongState(current: facts.state, allowed: allowed(in: facts)))
        }
        let (next, effects, outcome) = decided
        let transition = Transition(from: facts.state, to: next, endsStep: facts.state.stepDue, opensStep: next.stepDue)
        return .success(Decision(transition: transition, effects: effects, outcome: outcome))
    }

    /// The actions possible in the request's state, and by whom.
    public static func allowed(in facts: RequestFacts) -> [AllowedAction] {
        let staf: [Role] = [.stafAdministrasi]
        let admin: [Role] = [.adminPPE]
        switch facts.state {
        case .submitted: return [AllowedAction(action: .completeness, roles: staf, byRequester: false)]
        case .incomplete: return [AllowedAction(action: .notify, roles: staf, byRequester: false)]
        case .awaitingSupplement: return [AllowedAction(action: .supplement, roles: staf, byRequester: true)]
        case .complete: return [AllowedAction(action: .validity, roles: admin, byRequester: false)]
        case .approved: return [AllowedAction(action: .execute, roles: admin, byRequester: false)]
        case .invalid, .executed: return [AllowedAction(action: .notify, roles: admin, byRequester: false)]
        case .notified:
            return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
                + (facts.receiptConfirmed ? [] : [AllowedAction(action: .confirmReceipt, roles: admin, byRequester: true)])
        case .rejected: return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
        case .archived: return []
        }
    }

    /// Whether `actor` may take `event` on the request now: its state, the actor's role and
    /// separation of duties. Nil when they may; `apply` then judges the event's content.
    public static func authorize(_ event: GateEvent, facts: RequestFacts, actor: Actor) -> GateError? {
        let action = event.action
        guard let permitted = allowed(in: facts).first(where: { $0.action == action }) else {
            return .wrongState(current: facts.state, allowed: allowed(in: facts))
        }
        let isRequester = actor.userID == facts.requester || (facts.subject != nil && actor.userID == facts.subject)
        if permitted.byRequester && isRequester { return nil }
        guard permitted.roles.contains(actor.role) else { return .notPermitted(role: actor.role, action: action) }
        // Separation of duties, most specific rule first.
        if action == .execute, actor.userID == facts.subject {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if case .validity(_, let subject, _) = event, subject == actor.userID {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if isRequester { return .separationOfDuties(rule: "the requester never processes their own request") }
        if action == .validity, actor.userID == facts.completenessCheckedBy {
            return .separationOfDuties(rule: "whoever checked completeness may not check validity")
        }
        return nil
    }
}
