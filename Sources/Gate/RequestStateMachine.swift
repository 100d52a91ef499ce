import Accounts
import Foundation

/// The actions of SOP 004, as the API names them.
public enum GateAction: String, Sendable, Codable, CaseIterable {
    case completeness          // step 2
    case notify                // step 3, 7 or 8, whichever notice is due
    case supplement            // step 4
    case validity              // step 5
    case execute               // step 6
    case reissue               // step 6's temporary password again, when the first was never seen
    case handover              // step 8: the Admin PPE told the helpdesk
    case confirmReceipt = "confirm_receipt"
    case archive               // step 9
    case abandon               // the system rejects a file left incomplete too long
    case dismiss               // step 2: an online filing refused at intake as spam or a duplicate
}

/// Why Staf Administrasi refuses an online filing at intake, without a notice to an address
/// nobody vouched for: the tracking page says "ditolak" with this reason.
public enum DismissReason: String, Sendable, Codable, CaseIterable {
    case spam
    case duplicate
}

/// How the Admin PPE told the helpdesk at step 8.
public enum HandoverChannel: String, Sendable, Codable, CaseIterable {
    case phone
    case inPerson = "in_person"
    case email
    case letter
}

/// Step 8's output as the Admin PPE records it: to whom, how and when the password or user ID was told.
public struct Handover: Sendable, Equatable {
    public let channel: HandoverChannel
    public let recipient: String
    public let handedAt: Date
    public init(channel: HandoverChannel, recipient: String, handedAt: Date) {
        self.channel = channel
        self.recipient = recipient
        self.handedAt = handedAt
    }
}

/// A deviation from a step's standard that the actor must account for.
public enum DeviationKind: String, Sendable, Codable, CaseIterable {
    /// The step took longer than its limit.
    case late
    /// Step 9 archived a file whose step-8 notice was never confirmed received.
    case missingReceipt = "missing_receipt"
    /// A notice (the output of step 3, 7 or 8) could not be delivered.
    case bouncedNotice = "bounced_notice"
    /// Someone other than the person the standard names produced the step's output.
    case otherActor = "other_actor"
}

/// Who acts: an operator or user with a role.
public struct Actor: Sendable, Equatable {
    public let userID: String
    public let role: Role
    public init(userID: String, role: Role) {
        self.userID = userID
        self.role = role
    }

    /// The service itself (abandoning a file left incomplete). Its user ID has characters no
    /// account's can, so no person can act as it; the role is only a placeholder it never uses.
    public static let system = Actor(userID: "(system)", role: .stafAdministrasi)
    public var isSystem: Bool { userID == Self.system.userID }

    /// The requester at the public door, once their tracking code opened one online request: it
    /// files it (step 1) and sends its supplement (step 4), nothing else. No account's user ID
    /// can be this one, and the operations make it only for the request the code opened.
    public static let online = Actor(userID: "(online)", role: .helpdesk)
}

/// An event the state machine judges.
public enum GateEvent: Sendable, Equatable {
    /// Step 2; `note` says what the Staf Administrasi saw (kept with the step); `wanting` names
    /// documents on file that do not do (unreadable, the wrong decree), asked for again at step 3.
    case completeness(complete: Bool, note: String? = nil, wanting: [DocumentType] = [])
    case notify
    case supplement
    /// Step 5. `subject`: the user ID of the account the Admin PPE resolved the request to
    /// (required when valid); `reason`: why the file is invalid (required when not);
    /// `acknowledgement`: why the account is right although the requester's hint differs from it.
    case validity(valid: Bool, subject: String?, reason: String? = nil, acknowledgement: String? = nil)
    case execute
    /// Step 6's result was lost (a cut connection, a shutdown): a new temporary password replaces
    /// the one nobody saw, until the hand-over is recorded.
    case reissue
    case handover(Handover)
    case confirmReceipt
    case archive
    /// The file has stayed incomplete since `incompleteSince` for longer than `after`, as of `at`.
    case abandon(at: Date, after: TimeInterval)
    /// Step 2 for an online filing: refused at intake as spam or a duplicate.
    case dismiss(DismissReason)

    public var action: GateAction {
        switch self {
        case .completeness: return .completeness
        case .notify: return .notify
        case .supplement: return .supplement
        case .validity: return .validity
        case .execute: return .execute
        case .reissue: return .reissue
        case .handover: return .handover
        case .confirmReceipt: return .confirmReceipt
        case .archive: return .archive
        case .abandon: return .abandon
        case .dismiss: return .dismiss
        }
    }
}

/// The account a validity verdict names, as `AccountDirectory` found it.
public struct SubjectAccount: Sendable, Equatable {
    public let id: Int64
    public let userID: String
    public let role: Role
    public let fullName: String?
    public let nip: String?
    public let email: String?
    public init(id: Int64, userID: String, role: Role, fullName: String? = nil, nip: String? = nil, email: String? = nil) {
        self.id = id
        self.userID = userID
        self.role = role
        self.fullName = fullName
        self.nip = nip
        self.email = email
    }

    /// The fields of the requester's hint that this account does not match (user ID, NIP, e-mail
    /// exactly, ignoring case; the name ignoring case, spacing and punctuation).
    public func mismatches(_ hint: SubjectHint) -> [String] {
        func words(_ text: String) -> String {
            text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ")
        }
        var fields: [String] = []
        if let wanted = hint.userID, wanted.lowercased() != userID.lowercased() { fields.append("user_id") }
        if let wanted = hint.nip, wanted != nip { fields.append("nip") }
        if let wanted = hint.email, wanted.lowercased() != email?.lowercased() { fields.append("email") }
        if let wanted = hint.fullName, words(wanted) != words(fullName ?? "") { fields.append("full_name") }
        return fields
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
    /// What the requester said of the account (step 1), compared with the account at step 5.
    public var hint: SubjectHint
    /// Whether the step-8 notice is already queued.
    public var noticeQueued: Bool
    /// When the step now due became due.
    public var dueSince: Date?
    /// When step 2 last found the file incomplete (the abandonment clock).
    public var incompleteSince: Date?
    /// The time the facts were read: nothing is recorded as happening after it.
    public var now: Date?
    /// Who filed the request (they may see it, whatever their role).
    public var submittedBy: String?
    /// The step whose SLA row is open, and its limit in minutes (nil: none, or no standard).
    public var dueStep: Int?
    public var dueLimitMinutes: Int?
    /// The site splits temporary passwords (sealed delivery): half goes sealed by e-mail.
    public var sealedDelivery: Bool

    public init(state: RequestState, requester: String?, subject: String?, completenessCheckedBy: String?,
                documents: Set<DocumentType>, requiredDocuments: Set<DocumentType>, receiptConfirmed: Bool,
                number: String = "REQ", kinds: RequestKinds = [.resetPassword], subjectRole: Role = .helpdesk,
                missingDocuments: [DocumentType] = [], rejectionReason: String? = nil, namedSubject: SubjectAccount? = nil,
                hint: SubjectHint = SubjectHint(), noticeQueued: Bool = false, dueSince: Date? = nil, incompleteSince: Date? = nil,
                now: Date? = nil, submittedBy: String? = nil, dueStep: Int? = nil, dueLimitMinutes: Int? = nil, sealedDelivery: Bool = false) {
        self.submittedBy = submittedBy
        self.dueStep = dueStep
        self.dueLimitMinutes = dueLimitMinutes
        self.sealedDelivery = sealedDelivery
        self.hint = hint
        self.noticeQueued = noticeQueued
        self.dueSince = dueSince
        self.incompleteSince = incompleteSince
        self.now = now
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
    /// Step 5: the verdict, the account it names, the reason given to the requester, and the hint
    /// fields the account does not match with the Admin PPE's acknowledgement of them.
    case recordValidity(valid: Bool, subject: SubjectAccount?, reason: String?, mismatch: [String] = [], acknowledgement: String? = nil)
    /// Step 6: a new temporary password for the subject (Argon2 before the transaction).
    case resetPassword
    /// Sealed delivery: the password's second half goes sealed to the account's e-mail, and a
    /// half not sent yet (of the password a re-issue replaces) is voided.
    case sealSecondHalf
    /// Step 6: the subject's user ID handed over.
    case discloseUserID(String)
    /// Step 6: who executed.
    case recordExecution
    /// Steps 3, 7, 8: the notice to queue for the requester.
    case queueNotice(Notice)
    /// Step 8's output: who told the helpdesk, how and when.
    case recordHandover(Handover)
    case confirmReceipt
    /// A deviation from `step`'s standard, attributed to the actor taking this action.
    case recordDeviation(DeviationKind, step: Int, detail: String)
    /// A file left incomplete too long is rejected by the service, with this reason.
    case recordAbandonment(reason: String)
    /// The step due has no open SLA row (steps recorded before a standard existed): it is
    /// recorded as taken now, so the clock has no hole.
    case recordUntimedStep(Int)
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
        decide(event, facts: facts, actor: actor).map { decision in
            Decision(transition: decision.transition, effects: completed(decision, facts: facts, actor: actor), outcome: decision.outcome)
        }
    }

    /// What every accepted step adds to the event's own effects: the second half sealed, the
    /// SLA clock's deviation when the step took longer than its limit, and a step with no open row.
    private static func completed(_ decision: Decision, facts: RequestFacts, actor: Actor) -> [GateEffect] {
        var effects: [GateEffect] = []
        for effect in decision.effects {
            effects.append(effect)
            if effect == .resetPassword, facts.sealedDelivery { effects.append(.sealSecondHalf) }
        }
        guard let ended = decision.endsStep else { return effects }
        guard facts.dueStep == ended else { return effects + [.recordUntimedStep(ended)] }
        // The one clock rule: a step never ends before it started, even when this instance's clock
        // is behind the one that opened it. The service's own abandonment is not a person's step.
        if let limit = facts.dueLimitMinutes, let since = facts.dueSince, let now = facts.now, !actor.isSystem {
            let seconds = max(0, now.timeIntervalSince(since))
            if SLA.isLate(seconds: seconds, limitMinutes: limit) {
                effects.append(.recordDeviation(.late, step: ended,
                                                detail: "took \(Int(seconds / 60)) min \(Int(seconds) % 60) s against a limit of \(limit) min"))
            }
        }
        return effects
    }

    private static func decide(_ event: GateEvent, facts: RequestFacts, actor: Actor) -> Result<Decision, GateError> {
        if let refusal = authorize(event, facts: facts, actor: actor) { return .failure(refusal) }
        let decided: (RequestState, [GateEffect], String)
        switch (facts.state, event) {
        case (.submitted, .completeness(let complete, let note, let wanting)):
            if complete && !wanting.isEmpty { return .failure(.wantingInCompleteFile(wanting)) }
            let absent = facts.requiredDocuments.subtracting(facts.documents)
            let missing = DocumentType.allCases.filter(absent.union(wanting).contains)
            if complete && !missing.isEmpty { return .failure(.missingDocuments(missing)) }
            decided = complete
                ? (.complete, [.recordCompleteness(missing: [], note: note)], "complete")
                : (.incomplete, [.recordCompleteness(missing: missing, note: note)], "incomplete")
        case (.incomplete, .notify):
            decided = (.awaitingSupplement, [.queueNotice(.supplement(number: facts.number, missing: facts.missingDocuments))], "sent")
        case (.awaitingSupplement, .supplement):
            decided = (.submitted, [], "supplement")
        case (.complete, .validity(let valid, let subject, let reason, let acknowledgement)):
            if valid {
                guard subject != nil else { return .failure(.subjectRequired) }
                if let named = facts.namedSubject, named.role != facts.subjectRole {
                    return .failure(.subjectWrongRole(userID: named.userID, role: named.role, expected: facts.subjectRole))
                }
                let mismatch = facts.namedSubject?.mismatches(facts.hint) ?? []
                let acknowledged = acknowledgement.flatMap { $0.isEmpty ? nil : $0 }
                if !mismatch.isEmpty && acknowledged == nil { return .failure(.hintMismatch(fields: mismatch)) }
                decided = (.approved, [.recordValidity(valid: true, subject: facts.namedSubject, reason: nil, mismatch: mismatch,
                                                       acknowledgement: mismatch.isEmpty ? nil : acknowledged)], "valid")
            } else {
                guard let reason, !reason.isEmpty else { return .failure(.reasonRequired) }
                decided = (.invalid, [.recordValidity(valid: false, subject: nil, reason: reason)], "invalid")
            }
        case (.approved, .execute):
            // A valid verdict always names the subject; without one there is nobody to execute for.
            guard let subject = facts.subject else { return .failure(.subjectNotFound) }
            let effects: [GateEffect] = (facts.kinds.contains(.resetPassword) ? [.resetPassword] : [])
                + (facts.kinds.contains(.userIDInfo) ? [.discloseUserID(subject)] : []) + [.recordExecution]
            decided = (.executed, effects, "execute")
        case (.executed, .reissue):
            // Only a reset has something to issue again; a disclosed user ID is on the request's record.
            guard facts.kinds.contains(.resetPassword) else { return .failure(.wrongState(current: facts.state, allowed: allowed(in: facts))) }
            // No step ends or opens: the SLA and its deviations still count from the first execution.
            let transition = Transition(from: facts.state, to: .executed, endsStep: nil, opensStep: nil)
            return .success(Decision(transition: transition, effects: [.resetPassword], outcome: "reissue"))
        case (.invalid, .notify):
            decided = (.rejected, [.queueNotice(.rejection(number: facts.number, reason: facts.rejectionReason ?? "-"))], "sent")
        case (.executed, .notify):
            // The notice is step 8's evidence, not its end: the step ends with the hand-over.
            let transition = Transition(from: facts.state, to: .executed, endsStep: nil, opensStep: nil)
            return .success(Decision(transition: transition, effects: [.queueNotice(completionNotice(facts))], outcome: "notice"))
        case (.executed, .handover(let handover)):
            if let since = facts.dueSince, handover.handedAt < since {
                return .failure(.handoverBeforeExecution)
            }
            if let now = facts.now, handover.handedAt > now { return .failure(.handoverInFuture) }
            decided = (.notified, [.recordHandover(handover)] + (facts.noticeQueued ? [] : [.queueNotice(completionNotice(facts))]), "handed_over")
        case (.notified, .confirmReceipt):
            let transition = Transition(from: facts.state, to: .notified, endsStep: nil, opensStep: nil)
            // The standard has the helpdesk confirm; anyone else confirming for them owes an explanation.
            let byOther = actor.userID != facts.requester && actor.userID != facts.subject
            let deviation: [GateEffect] = byOther
                ? [.recordDeviation(.otherActor, step: 8, detail: "receipt confirmed by \(actor.userID), not by the helpdesk")] : []
            return .success(Decision(transition: transition, effects: [.confirmReceipt] + deviation, outcome: "confirm_receipt"))
        case (.submitted, .dismiss(let reason)):
            decided = (.rejected, [.recordAbandonment(reason: reason == .spam ? "spam" : "duplicate")], "dismissed")
        case (.rejected, .archive):
            decided = (.archived, [], "archive")
        case (.notified, .archive):
            decided = (.archived, facts.receiptConfirmed ? [] : [
                .recordDeviation(.missingReceipt, step: 9, detail: "archived before the helpdesk confirmed receiving the step-8 notice"),
            ], "archive")
        case (.incomplete, .abandon(let at, let after)), (.awaitingSupplement, .abandon(let at, let after)):
            guard let since = facts.incompleteSince, at >= since.addingTimeInterval(after) else {
                return .failure(.stillInTime)
            }
            let days = Int((after / 86_400).rounded())
            let notice = Notice.abandonment(number: facts.number, days: days)
            decided = (.rejected, [.recordAbandonment(reason: "not completed within \(days) days"), .queueNotice(notice)], "abandoned")
        default:
            return .failure(.wrongState(current: facts.state, allowed: allowed(in: facts)))
        }
        let (next, effects, outcome) = decided
        let transition = Transition(from: facts.state, to: next, endsStep: facts.state.stepDue, opensStep: next.stepDue)
        return .success(Decision(transition: transition, effects: effects, outcome: outcome))
    }

    static func completionNotice(_ facts: RequestFacts) -> Notice {
        .completion(number: facts.number, kinds: facts.kinds, userID: facts.kinds.contains(.userIDInfo) ? facts.subject : nil)
    }

    /// The actions possible in the request's state, and by whom.
    public static func allowed(in facts: RequestFacts) -> [AllowedAction] {
        let staf: [Role] = [.stafAdministrasi]
        let admin: [Role] = [.adminPPE]
        switch facts.state {
        case .submitted:
            return [AllowedAction(action: .completeness, roles: staf, byRequester: false)]
                + (facts.submittedBy == Actor.online.userID ? [AllowedAction(action: .dismiss, roles: staf, byRequester: false)] : [])
        case .incomplete: return [AllowedAction(action: .notify, roles: staf, byRequester: false)]
        case .awaitingSupplement: return [AllowedAction(action: .supplement, roles: staf, byRequester: true)]
        case .complete: return [AllowedAction(action: .validity, roles: admin, byRequester: false)]
        case .approved: return [AllowedAction(action: .execute, roles: admin, byRequester: false)]
        case .invalid: return [AllowedAction(action: .notify, roles: admin, byRequester: false)]
        case .executed:
            return [AllowedAction(action: .handover, roles: admin, byRequester: false)]
                + (facts.noticeQueued ? [] : [AllowedAction(action: .notify, roles: admin, byRequester: false)])
                + (facts.kinds.contains(.resetPassword) ? [AllowedAction(action: .reissue, roles: admin, byRequester: false)] : [])
        case .notified:
            return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
                + (facts.receiptConfirmed ? [] : [AllowedAction(action: .confirmReceipt, roles: admin, byRequester: true)])
        case .rejected: return [AllowedAction(action: .archive, roles: staf, byRequester: false)]
        case .archived: return []
        }
    }

    /// The actions `actor` may take in these facts: `authorize` asked for each allowed one, with an
    /// event of that action whose content cannot change the answer (content is judged after).
    public static func actions(in facts: RequestFacts, for actor: Actor) -> [GateAction] {
        allowed(in: facts).map(\.action).filter { action in
            let probe: GateEvent = switch action {
            case .completeness: .completeness(complete: false)
            case .notify: .notify
            case .supplement: .supplement
            case .validity: .validity(valid: false, subject: nil)
            case .execute: .execute
            case .reissue: .reissue
            case .handover: .handover(Handover(channel: .phone, recipient: "-", handedAt: facts.now ?? .distantPast))
            case .confirmReceipt: .confirmReceipt
            case .archive: .archive
            case .abandon: .abandon(at: facts.now ?? .distantPast, after: 0)
            case .dismiss: .dismiss(.spam)
            }
            return authorize(probe, facts: facts, actor: actor) == nil
        }
    }

    /// Who may see a request at all: those who read every request, the person who filed it or is
    /// its requester, and the account it was resolved to (who confirms receipt).
    public static func mayRead(requester: String?, submittedBy: String?, subject: String?, _ actor: Actor) -> Bool {
        AccessPolicy.allows(actor.role, .readAllRequests) || [requester, submittedBy, subject].contains(actor.userID)
    }

    /// Whether `actor` may take `event` on the request now: its state, the actor's role and
    /// separation of duties. Nil when they may; `apply` then judges the event's content.
    public static func authorize(_ event: GateEvent, facts: RequestFacts, actor: Actor) -> GateError? {
        let action = event.action
        // First: to whoever may not see the request, it does not exist.
        guard actor.isSystem || mayRead(requester: facts.requester, submittedBy: facts.submittedBy, subject: facts.subject, actor) else {
            return .requestNotFound
        }
        // Abandonment is the service's alone, and nobody else's action is the service's.
        if action == .abandon || actor.isSystem {
            guard action == .abandon, actor.isSystem else { return .notPermitted(role: actor.role, action: action) }
            guard [.incomplete, .awaitingSupplement].contains(facts.state) else {
                return .wrongState(current: facts.state, allowed: allowed(in: facts))
            }
            return nil
        }
        guard let permitted = allowed(in: facts).first(where: { $0.action == action }) else {
            return .wrongState(current: facts.state, allowed: allowed(in: facts))
        }
        let isRequester = actor.userID == facts.requester || (facts.subject != nil && actor.userID == facts.subject)
            || (actor == .online && facts.submittedBy == Actor.online.userID)
        // The public requester takes its own steps and no other, whatever its placeholder role allows.
        if actor == .online, !(permitted.byRequester && isRequester) { return .notPermitted(role: actor.role, action: action) }
        if permitted.byRequester && isRequester { return nil }
        guard permitted.roles.contains(actor.role) else { return .notPermitted(role: actor.role, action: action) }
        // Separation of duties, most specific rule first.
        if action == .execute || action == .reissue, actor.userID == facts.subject {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if case .validity(_, let subject, _, _) = event, subject == actor.userID {
            return .separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        }
        if isRequester { return .separationOfDuties(rule: "the requester never processes their own request") }
        if action == .validity, actor.userID == facts.completenessCheckedBy {
            return .separationOfDuties(rule: "whoever checked completeness may not check validity")
        }
        return nil
    }
}
