import Accounts
import Foundation
import Gate
import Testing

let staf = Actor(userID: "staf.adm", role: .stafAdministrasi)
let staf2 = Actor(userID: "staf.dua", role: .stafAdministrasi)
let admin = Actor(userID: "admin.ppe", role: .adminPPE)
let admin2 = Actor(userID: "admin.dua", role: .adminPPE)
let requester = Actor(userID: "helpdesk01", role: .helpdesk)

func facts(_ state: RequestState, documents: Set<DocumentType> = [.suratPermohonan, .skPengangkatan],
           checkedBy: String? = "staf.adm", subject: String? = nil, confirmed: Bool = false) -> RequestFacts {
    RequestFacts(state: state, requester: "helpdesk01", subject: subject, completenessCheckedBy: checkedBy, documents: documents,
                 requiredDocuments: [.suratPermohonan, .skPengangkatan], receiptConfirmed: confirmed, dueStep: state.stepDue)
}

func to(_ result: Result<Decision, GateError>) -> RequestState? {
    if case .success(let decision) = result { return decision.to }
    return nil
}

func transition(_ result: Result<Decision, GateError>) -> Transition? {
    if case .success(let decision) = result { return decision.transition }
    return nil
}

func effects(_ result: Result<Decision, GateError>) -> [GateEffect]? {
    if case .success(let decision) = result { return decision.effects }
    return nil
}

func refusal(_ result: Result<Decision, GateError>) -> GateError? {
    if case .failure(let error) = result { return error }
    return nil
}

@Suite("SOP 004 state machine (no database)")
struct RequestStateMachineTests {
    @Test("the complete path: 2 complete → 5 valid → 6 execute → notice → 8 hand-over → confirm → 9 archive")
    func completePath() {
        var f = facts(.submitted)
        let t2 = RequestStateMachine.apply(.completeness(complete: true), to: f, by: staf)
        #expect(to(t2) == .complete)
        #expect(transition(t2)?.endsStep == 2 && transition(t2)?.opensStep == 5)
        f.state = .complete
        f.dueStep = f.state.stepDue
        #expect(to(RequestStateMachine.apply(.validity(valid: true, subject: "helpdesk01"), to: f, by: admin)) == .approved)
        f.state = .approved
        f.dueStep = f.state.stepDue
        f.subject = "helpdesk01"
        let t6 = RequestStateMachine.apply(.execute, to: f, by: admin)
        #expect(to(t6) == .executed && transition(t6)?.opensStep == 8)
        f.state = .executed
        f.dueStep = f.state.stepDue
        // The notice is step 8's evidence; the step ends with the recorded hand-over.
        let notice = RequestStateMachine.apply(.notify, to: f, by: admin)
        #expect(to(notice) == .executed && transition(notice)?.endsStep == nil)
        f.noticeQueued = true
        #expect(RequestStateMachine.allowed(in: f).map(\.action) == [.handover, .reissue])
        let handover = Handover(channel: .phone, recipient: "Sekar", handedAt: Date(timeIntervalSince1970: 1_000))
        let t8 = RequestStateMachine.apply(.handover(handover), to: f, by: admin)
        #expect(to(t8) == .notified && transition(t8)?.endsStep == 8 && transition(t8)?.opensStep == 9)
        #expect(effects(t8) == [.recordHandover(handover)])
        f.state = .notified
        f.dueStep = f.state.stepDue
        let confirm = RequestStateMachine.apply(.confirmReceipt, to: f, by: requester)
        #expect(to(confirm) == .notified && transition(confirm)?.endsStep == nil)
        #expect(effects(confirm) == [.confirmReceipt], "the helpdesk confirming is the standard: no deviation")
        f.receiptConfirmed = true
        let t9 = RequestStateMachine.apply(.archive, to: f, by: staf)
        #expect(to(t9) == .archived && transition(t9)?.endsStep == 9 && transition(t9)?.opensStep == nil)
    }

    @Test("the incomplete loop: 2 incomplete → 3 notice → 4 supplement → back to 2")
    func incompleteLoop() {
        let incomplete = facts(.submitted, documents: [.suratPermohonan])
        #expect(to(RequestStateMachine.apply(.completeness(complete: false), to: incomplete, by: staf)) == .incomplete)
        #expect(to(RequestStateMachine.apply(.notify, to: facts(.incomplete), by: staf)) == .awaitingSupplement)
        #expect(to(RequestStateMachine.apply(.supplement, to: facts(.awaitingSupplement), by: requester)) == .submitted)
        #expect(to(RequestStateMachine.apply(.supplement, to: facts(.awaitingSupplement), by: staf2)) == .submitted)
    }

    @Test("rejection: 5 invalid → 7 notice → 9 archive")
    func rejection() {
        #expect(to(RequestStateMachine.apply(.validity(valid: false, subject: nil, reason: "SK kedaluwarsa"), to: facts(.complete), by: admin)) == .invalid)
        #expect(refusal(RequestStateMachine.apply(.validity(valid: false, subject: nil), to: facts(.complete), by: admin))
            == .reasonRequired)
        let t7 = RequestStateMachine.apply(.notify, to: facts(.invalid), by: admin)
        #expect(to(t7) == .rejected && transition(t7)?.endsStep == 7)
        #expect(to(RequestStateMachine.apply(.archive, to: facts(.rejected), by: staf)) == .archived)
    }

    @Test("step 2 cannot call a file complete while a required document is missing")
    func missingDocuments() {
        let result = RequestStateMachine.apply(.completeness(complete: true), to: facts(.submitted, documents: [.suratPermohonan]), by: staf)
        #expect(refusal(result) == .missingDocuments([.skPengangkatan]))
    }

    @Test("step 2 names a document on file that will not do as missing, with those not on file; a complete file names none")
    func wantingDocuments() {
        let both = facts(.submitted, documents: [.suratPermohonan, .skPengangkatan])
        let wanting = RequestStateMachine.apply(.completeness(complete: false, note: "SK tidak terbaca", wanting: [.skPengangkatan]), to: both, by: staf)
        #expect(to(wanting) == .incomplete)
        #expect(effects(wanting)?.contains(.recordCompleteness(missing: [.skPengangkatan], note: "SK tidak terbaca")) == true)
        let one = facts(.submitted, documents: [.skPengangkatan])
        let named = RequestStateMachine.apply(.completeness(complete: false, wanting: [.skPengangkatan]), to: one, by: staf)
        #expect(effects(named)?.contains(.recordCompleteness(missing: [.suratPermohonan, .skPengangkatan], note: nil)) == true,
                "the absent letter and the wanting SK, in the SOP's order")
        #expect(refusal(RequestStateMachine.apply(.completeness(complete: true, wanting: [.skPengangkatan]), to: both, by: staf))
            == .wantingInCompleteFile([.skPengangkatan]))
    }

    @Test("a valid verdict must name the subject account")
    func validNeedsSubject() {
        #expect(refusal(RequestStateMachine.apply(.validity(valid: true, subject: nil), to: facts(.complete), by: admin)) != nil)
    }

    @Test("every action outside its state is refused with the current state and what is allowed, by whom")
    func wrongStates() {
        let events: [GateEvent] = [.completeness(complete: true), .notify, .supplement, .validity(valid: true, subject: "x"), .execute, .confirmReceipt, .archive]
        for state in RequestState.allCases {
            let f = facts(state, confirmed: state == .notified ? false : true)
            let allowed = Set(RequestStateMachine.allowed(in: f).map(\.action))
            for event in events where !allowed.contains(event.action) {
                for actor in [staf, admin, requester] {
                    guard case .wrongState(let current, let next) = refusal(RequestStateMachine.apply(event, to: f, by: actor)) else {
                        Issue.record("\(event) in \(state) by \(actor.userID) was not refused as wrong state"); continue
                    }
                    #expect(current == state)
                    #expect(next == RequestStateMachine.allowed(in: f))
                }
            }
        }
        let archived = refusal(RequestStateMachine.apply(.archive, to: facts(.archived), by: staf))
        #expect(archived?.description == "the request is archived; allowed now: nothing: the request is archived")
        let executed = refusal(RequestStateMachine.apply(.execute, to: facts(.executed), by: admin))
        #expect(executed?.description == "the request is executed; allowed now: handover by admin_ppe; notify by admin_ppe; reissue by admin_ppe")
    }

    @Test("each step belongs to its role", arguments: [
        (RequestState.submitted, GateEvent.completeness(complete: true), Role.adminPPE),
        (.submitted, .completeness(complete: true), .helpdesk),
        (.incomplete, .notify, .adminPPE),
        (.complete, .validity(valid: true, subject: "helpdesk01"), .stafAdministrasi),
        (.approved, .execute, .stafAdministrasi),
        (.approved, .execute, .auditor),
        (.invalid, .notify, .stafAdministrasi),
        (.executed, .notify, .stafAdministrasi),
        (.notified, .archive, .adminPPE),
        (.rejected, .archive, .adminPPE),
        (.awaitingSupplement, .supplement, .adminPPE),
        (.notified, .confirmReceipt, .stafAdministrasi),
    ])
    func roles(state: RequestState, event: GateEvent, role: Role) {
        let someone = Actor(userID: "someone.else", role: role)
        // A role that does not read every request never learns this one exists.
        let expected: GateError = [.helpdesk, .auditor].contains(role) ? .requestNotFound : .notPermitted(role: role, action: event.action)
        #expect(refusal(RequestStateMachine.apply(event, to: facts(state, subject: "helpdesk01"), by: someone)) == expected)
    }

    @Test("separation of duties: the requester never processes their own request")
    func requesterNeverProcesses() {
        let requesterAsStaf = Actor(userID: "helpdesk01", role: .stafAdministrasi)
        let requesterAsAdmin = Actor(userID: "helpdesk01", role: .adminPPE)
        #expect(refusal(RequestStateMachine.apply(.completeness(complete: true), to: facts(.submitted), by: requesterAsStaf)) == .separationOfDuties(rule: "the requester never processes their own request"))
        #expect(refusal(RequestStateMachine.apply(.archive, to: facts(.rejected), by: requesterAsStaf)) != nil)
        #expect(refusal(RequestStateMachine.apply(.notify, to: facts(.executed), by: requesterAsAdmin)) != nil)
    }

    @Test("separation of duties: whoever checked completeness may not check validity")
    func checkerIsNotValidator() {
        let both = Actor(userID: "staf.adm", role: .adminPPE)
        #expect(refusal(RequestStateMachine.apply(.validity(valid: true, subject: "helpdesk01"), to: facts(.complete, checkedBy: "staf.adm"), by: both))
            == .separationOfDuties(rule: "whoever checked completeness may not check validity"))
        #expect(to(RequestStateMachine.apply(.validity(valid: true, subject: "helpdesk01"), to: facts(.complete, checkedBy: "staf.adm"), by: admin)) == .approved)
    }

    @Test("separation of duties: nobody resets their own account through the gate")
    func notOwnAccount() {
        let rule = GateError.separationOfDuties(rule: "nobody resets or looks up their own account through the gate")
        #expect(refusal(RequestStateMachine.apply(.validity(valid: true, subject: "admin.ppe"), to: facts(.complete), by: admin)) == rule)
        var approved = facts(.approved, subject: "admin.dua")
        approved.requester = nil
        #expect(refusal(RequestStateMachine.apply(.execute, to: approved, by: admin2)) == rule)
        #expect(to(RequestStateMachine.apply(.execute, to: approved, by: admin)) == .executed)
    }

    @Test("receipt is confirmed by the requester or by hand by an admin_ppe, once")
    func receipt() {
        #expect(to(RequestStateMachine.apply(.confirmReceipt, to: facts(.notified, subject: "helpdesk01"), by: admin)) == .notified)
        #expect(refusal(RequestStateMachine.apply(.confirmReceipt, to: facts(.notified, confirmed: true), by: requester)) != nil)
    }

    @Test("each decision carries its effects: what is missing, the notice, the reset and the disclosure")
    func decisionsCarryEffects() {
        let missing = RequestStateMachine.apply(.completeness(complete: false, note: "SK belum ada"), to: facts(.submitted, documents: [.suratPermohonan]), by: staf)
        #expect(effects(missing) == [.recordCompleteness(missing: [.skPengangkatan], note: "SK belum ada")])

        var incomplete = facts(.incomplete)
        incomplete.number = "REQ-2026-000007"
        incomplete.missingDocuments = [.skPengangkatan]
        #expect(effects(RequestStateMachine.apply(.notify, to: incomplete, by: staf)) == [.queueNotice(.supplement(number: "REQ-2026-000007", missing: [.skPengangkatan]))])

        var approved = facts(.approved, subject: "helpdesk01")
        approved.kinds = [.resetPassword, .userIDInfo]
        let both = RequestStateMachine.apply(.execute, to: approved, by: admin)
        #expect(effects(both) == [.resetPassword, .discloseUserID("helpdesk01"), .recordExecution])
        #expect((try? both.get().resetsPassword) == true)
        approved.kinds = [.userIDInfo]
        let lookupOnly = RequestStateMachine.apply(.execute, to: approved, by: admin)
        #expect(effects(lookupOnly) == [.discloseUserID("helpdesk01"), .recordExecution])
        #expect((try? lookupOnly.get().resetsPassword) == false)

        var executed = facts(.executed, subject: "helpdesk01")
        executed.number = "REQ-2026-000008"
        executed.kinds = [.userIDInfo]
        #expect(effects(RequestStateMachine.apply(.notify, to: executed, by: admin))
            == [.queueNotice(.completion(number: "REQ-2026-000008", kinds: [.userIDInfo], userID: "helpdesk01"))])
    }

    @Test("step 5 refuses an account of another role than the request concerns")
    func validitySubjectRole() {
        var complete = facts(.complete)
        complete.namedSubject = SubjectAccount(id: 7, userID: "auditor01", role: .auditor)
        #expect(refusal(RequestStateMachine.apply(.validity(valid: true, subject: "auditor01"), to: complete, by: admin))
            == .subjectWrongRole(userID: "auditor01", role: .auditor, expected: .helpdesk))
        complete.namedSubject = SubjectAccount(id: 8, userID: "helpdesk01", role: .helpdesk)
        #expect(effects(RequestStateMachine.apply(.validity(valid: true, subject: "helpdesk01"), to: complete, by: admin))
            == [.recordValidity(valid: true, subject: complete.namedSubject, reason: nil)])
    }

    @Test("an actor who may not act learns nothing from the event's content: the role is refused before a missing document")
    func authorizeBeforeContent() {
        #expect(refusal(RequestStateMachine.apply(.completeness(complete: true), to: facts(.submitted, documents: []), by: requester))
            == .notPermitted(role: .helpdesk, action: .completeness))
    }

    @Test("to whoever may not see a request it does not exist: the first refusal, before state and role")
    func strangerSeesNothing() {
        let stranger = Actor(userID: "someone", role: .helpdesk)
        for state in RequestState.allCases {
            for event: GateEvent in [.completeness(complete: true), .notify, .supplement, .execute, .confirmReceipt, .archive] {
                #expect(refusal(RequestStateMachine.apply(event, to: facts(state, subject: "helpdesk01"), by: stranger)) == .requestNotFound)
            }
        }
        // The account the request concerns may see it (and confirm receipt).
        #expect(to(RequestStateMachine.apply(.confirmReceipt, to: facts(.notified, subject: "helpdesk02"), by: Actor(userID: "helpdesk02", role: .helpdesk)))
            == .notified)
    }

    @Test("lateness is the machine's decision: a step past its limit records a deviation, one within it none, the service's own none")
    func lateness() {
        var complete = facts(.complete)
        complete.namedSubject = SubjectAccount(id: 8, userID: "helpdesk01", role: .helpdesk)
        complete.dueSince = Date(timeIntervalSince1970: 1_000_000)
        complete.dueLimitMinutes = 60
        complete.now = complete.dueSince!.addingTimeInterval(61 * 60 + 5)
        let event = GateEvent.validity(valid: true, subject: "helpdesk01")
        #expect(effects(RequestStateMachine.apply(event, to: complete, by: admin)) == [
            .recordValidity(valid: true, subject: complete.namedSubject, reason: nil),
            .recordDeviation(.late, step: 5, detail: "took 61 min 5 s against a limit of 60 min"),
        ])
        complete.now = complete.dueSince!.addingTimeInterval(59 * 60)
        #expect(effects(RequestStateMachine.apply(event, to: complete, by: admin)) == [.recordValidity(valid: true, subject: complete.namedSubject, reason: nil)])
        // A clock behind the one that opened the step never makes it negative, nor late.
        complete.now = complete.dueSince!.addingTimeInterval(-600)
        #expect(effects(RequestStateMachine.apply(event, to: complete, by: admin))?.count == 1)

        var incomplete = facts(.incomplete)
        incomplete.incompleteSince = Date(timeIntervalSince1970: 0)
        incomplete.dueSince = Date(timeIntervalSince1970: 0)
        incomplete.dueLimitMinutes = 1
        incomplete.now = Date(timeIntervalSince1970: 10_000_000)
        let abandoned = RequestStateMachine.apply(.abandon(at: incomplete.now!, after: 86_400), to: incomplete, by: .system)
        #expect(effects(abandoned)?.contains { if case .recordDeviation = $0 { true } else { false } } == false)
    }

    @Test("a step due without an open SLA row is recorded as taken now; sealed delivery seals the reset's second half")
    func untimedStepAndSealedHalf() {
        var approved = facts(.approved, subject: "helpdesk01")
        approved.dueStep = nil
        approved.sealedDelivery = true
        #expect(effects(RequestStateMachine.apply(.execute, to: approved, by: admin))
            == [.resetPassword, .sealSecondHalf, .recordExecution, .recordUntimedStep(6)])
        var executed = facts(.executed, subject: "helpdesk01")
        executed.sealedDelivery = true
        #expect(effects(RequestStateMachine.apply(.reissue, to: executed, by: admin)) == [.resetPassword, .sealSecondHalf])
    }
}
