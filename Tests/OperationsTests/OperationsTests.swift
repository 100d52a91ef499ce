import Accounts
import Audit
import Foundation
import Gate
import Inputs
import Operations
import PasswordHashing
import Postgres
import Synchronization
import Testing
import TestSupport

let pdf = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)

/// Accounts of every role, logged in, on a service graph with a hashing pool of its own (so its
/// jobs can be counted), driven only through `Operations`: no door in between.
struct OperationsFixture {
    let accounts: AccountsFixture
    let graph: ServiceGraph
    let hashing: HashingPool
    var operations: Operations { graph.operations }
    let admin: Caller, admin2: Caller, staf: Caller, staf2: Caller, helpdesk: Caller, stranger: Caller, auditor: Caller

    static let password = "kopi jahe hangat sekali"

    static func with(_ body: (OperationsFixture) async throws -> Void) async throws {
        try await AccountsFixture.with { accounts in
            let hashing = HashingPool(queueLimit: 64)
            defer { hashing.shutDown() }
            let graph = try await ServiceGraph.make(testSettings(), pool: accounts.pool, clock: accounts.clock.serviceClock, hashingPool: hashing)
            func caller(_ userID: String, _ role: Role) async throws -> Caller {
                let account = try await accounts.directory.create(
                    NewAccount(userID: try UserID(userID), role: role, fullName: try FullName("Pegawai \(userID)"), nip: nil,
                               email: try EmailAddress("\(userID)@purbalinggakab.go.id"), agency: try Agency("Dinas Kominfo")),
                    by: accounts.admin)
                _ = try await accounts.firstLogin(userID, temporary: try await accounts.reset(account), password: password)
                guard case .ok(_, let session) = try await graph.operations.login(userID: userID, password: password) else {
                    throw TestSetupError("\(userID) could not log in")
                }
                return try Caller(session: session)
            }
            try await body(OperationsFixture(
                accounts: accounts, graph: graph, hashing: hashing,
                admin: try await caller("admin.ppe", .adminPPE), admin2: try await caller("admin.dua", .adminPPE),
                staf: try await caller("staf.adm", .stafAdministrasi), staf2: try await caller("staf.dua", .stafAdministrasi),
                helpdesk: try await caller("helpdesk01", .helpdesk), stranger: try await caller("helpdesk02", .helpdesk),
                auditor: try await caller("auditor01", .auditor)))
        }
    }

    /// Step 1 by the helpdesk for themself, with both documents; optionally steps 2 and 5 too.
    func request(approved: Bool) async throws -> Request {
        let request = try await operations.submitRequest(
            SubmitForm(kinds: ["reset_password"], subject: SubjectHint(userID: "helpdesk01"), subjectRole: nil, requesterName: "Pegawai helpdesk01",
                       requesterContact: "helpdesk01@purbalinggakab.go.id", channel: "email", priority: nil),
            by: helpdesk)
        for type in ["surat_permohonan", "sk_pengangkatan"] {
            _ = try await operations.addDocument(
                DocumentForm(type: type, fileName: "\(type).pdf", mediaType: "application/pdf", content: pdf), to: request.number, by: helpdesk)
        }
        if approved {
            _ = try await operations.act(.completeness(complete: true, note: nil), on: request.number, by: staf)
            _ = try await operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: admin)
        }
        return request
    }
}

@Suite("Operations: the use-cases every door calls, without a door")
struct OperationsTests {
    @Test("a refused execute costs no Argon2 hash; an allowed one costs exactly one")
    func refusedExecuteSpendsNoHash() async throws {
        try await OperationsFixture.with { f in
            let pending = try await f.request(approved: false)
            let approved = try await f.request(approved: true)
            let before = f.hashing.jobsRun
            await #expect(throws: GateError.notPermitted(role: .stafAdministrasi, action: .execute)) {
                try await f.operations.act(.execute, on: approved.number, by: f.staf)
            }
            await #expect(throws: GateError.requestNotFound) { try await f.operations.act(.execute, on: approved.number, by: f.stranger) }
            await #expect(throws: GateError.self) { try await f.operations.act(.execute, on: pending.number, by: f.admin) }
            await #expect(throws: GateError.self) { try await f.operations.act(.execute, on: approved.number, by: f.helpdesk) }
            #expect(f.hashing.jobsRun == before, "refused executes ran \(f.hashing.jobsRun - before) Argon2 jobs")

            let result = try await f.operations.act(.execute, on: approved.number, by: f.admin2)
            #expect(result.temporaryPassword != nil)
            #expect(f.hashing.jobsRun == before + 1)
        }
    }

    @Test("to a managed user, someone else's request does not exist: reading, filing documents and steps all answer not found")
    func strangerLearnsNothing() async throws {
        try await OperationsFixture.with { f in
            let request = try await f.request(approved: false)
            await #expect(throws: GateError.requestNotFound) { try await f.operations.request(request.number, by: f.stranger) }
            await #expect(throws: GateError.requestNotFound) { try await f.operations.act(.supplement, on: request.number, by: f.stranger) }
            await #expect(throws: GateError.requestNotFound) {
                try await f.operations.act(.completeness(complete: true, note: nil), on: String(request.id), by: f.stranger)
            }
            await #expect(throws: GateError.requestNotFound) {
                try await f.operations.addDocument(DocumentForm(type: "other", fileName: "x.pdf", mediaType: "application/pdf", content: pdf),
                                                   to: request.number, by: f.stranger)
            }
            await #expect(throws: GateError.requestNotFound) { try await f.operations.request("REQ-2026-999999", by: f.stranger) }
            // The requester reads their own, with its documents.
            #expect(try await f.operations.request(request.number, by: f.helpdesk).documents.count == 2)
        }
    }

    @Test("a body is read only once the caller may act: a refused caller's input is never looked at")
    func inputReadAfterAuthorization() async throws {
        try await OperationsFixture.with { f in
            let request = try await f.request(approved: false)
            await #expect(throws: AccountsError.notPermitted(role: .helpdesk, operation: Capability.createAccounts.rawValue)) {
                try await f.operations.createAccount(by: f.helpdesk) {
                    Issue.record("the new account's fields were read for a caller who may not create accounts")
                    return NewAccountForm(userID: "x", role: "helpdesk", fullName: "X", nip: nil, email: "x@x.id", agency: "X")
                }
            }
            await #expect(throws: GateError.requestNotFound) {
                try await f.operations.act(on: request.number, by: f.stranger) {
                    Issue.record("the step's body was read for a stranger")
                    return .execute
                }
            }
            await #expect(throws: AccountsError.self) {
                try await f.operations.provision(by: f.staf, {
                    Issue.record("the batch was read for a staf")
                    return BatchForm(bytes: [], format: .csv, dryRun: true)
                }, credentialsTo: { _ in .none })
            }
        }
    }

    @Test("who reads what: the queue is the operators', SLA reports also the auditor's, the audit trail the admin's and auditor's")
    func readers() async throws {
        try await OperationsFixture.with { f in
            _ = try await f.request(approved: false)
            #expect(try await f.operations.queue(QueueForm(), by: f.staf).count == 1)
            await #expect(throws: AccountsError.self) { try await f.operations.queue(QueueForm(), by: f.auditor) }
            _ = try await f.operations.slaReport(PeriodForm(), by: f.auditor)
            await #expect(throws: AccountsError.self) { try await f.operations.slaReport(PeriodForm(), by: f.helpdesk) }
            await #expect(throws: AccountsError.self) { try await f.operations.auditRecords(AuditForm(), limit: 10, export: false, by: f.staf) }
            await #expect(throws: AccountsError.self) { try await f.operations.exportRequest("1", by: f.auditor) }
        }
    }

    @Test("reading the audit trail leaves an audit row, over any door")
    func auditReadsAreAudited() async throws {
        try await OperationsFixture.with { f in
            f.accounts.clock.advance(1)  // periods end before `to`; the rows so far were written at the clock's now
            let rows = try await f.operations.auditRecords(AuditForm(actor: "admin.ppe"), limit: 1000, export: false, by: f.auditor)
            #expect(!rows.isEmpty)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'audit.list' AND actor = 'auditor01'") == 1)
            _ = try await f.operations.auditRecords(AuditForm(), limit: 10, export: true, by: f.admin)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'audit.export' AND actor = 'admin.ppe'") == 1)
            #expect(try await f.operations.verifyAudit(by: f.auditor).isIntact)
        }
    }

    @Test("the SLA report's CSV is RFC 4180: an actor with a comma or quote stays one field")
    func slaCSV() throws {
        let lines = [SLAReportLine(step: 2, actor: #"staf, "adm""#, count: 3, medianSeconds: 120, p90Seconds: 240, breaches: 1, limitMinutes: 5)]
        let csv = try Operations.csv(lines)
        #expect(csv == "step,actor,priority,status,count,median_seconds,p90_seconds,breaches,limit_minutes,explained,unexplained\n"
                + "2,\"staf, \"\"adm\"\"\",normal,done,3,120.0,240.0,1,5,0,0\n")
    }

    @Test("step 5 resolves the subject through the directory: an unknown account or one of another role is refused")
    func subjectResolution() async throws {
        try await OperationsFixture.with { f in
            let request = try await f.request(approved: false)
            _ = try await f.operations.act(.completeness(complete: true, note: "lengkap"), on: request.number, by: f.staf)
            await #expect(throws: GateError.subjectNotFound) {
                try await f.operations.act(.validity(valid: true, subjectUserID: "nobody.here", reason: nil), on: request.number, by: f.admin)
            }
            await #expect(throws: GateError.subjectWrongRole(userID: "auditor01", role: .auditor, expected: .helpdesk)) {
                try await f.operations.act(.validity(valid: true, subjectUserID: "auditor01", reason: nil), on: request.number, by: f.admin)
            }
            await #expect(throws: InputError.self) {
                try await f.operations.act(.validity(valid: false, subjectUserID: nil, reason: "palsu\u{0}"), on: request.number, by: f.admin)
            }
            let approved = try await f.operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: f.admin)
            #expect(approved.request.state == .approved && approved.request.subjectUserID == "helpdesk01")
        }
    }

    @Test("the last active admin_ppe cannot be disabled; a forgotten operator password is reset by another admin_ppe, audited")
    func operators() async throws {
        try await OperationsFixture.with { f in
            try await f.operations.setAccountStatus("admin.dua", to: .disabled, by: f.admin)
            await #expect(throws: AccountsError.lastAdministrator) { try await f.operations.setAccountStatus("admin.ppe", to: .disabled, by: f.admin) }
            try await f.operations.setAccountStatus("admin.dua", to: .active, by: f.admin)

            let reset = try await f.operations.resetOperatorPassword("staf.adm", reason: "lupa password, nota dinas 12/2026", by: f.admin)
            let outcome = try await f.operations.login(userID: "staf.adm", password: reset.password.reveal)
            #expect(outcome.code == "password_change_required")
            #expect(try await f.accounts.count(
                "SELECT count(*) FROM audit_events WHERE action = 'operator.password_reset' AND actor = 'admin.ppe' AND subject = 'staf.adm'") == 1)
            await #expect(throws: AccountsError.self, "managed accounts only through the SOP gate") {
                try await f.operations.resetOperatorPassword("helpdesk01", reason: "x", by: f.admin)
            }
            await #expect(throws: AccountsError.self, "not one's own") { try await f.operations.resetOperatorPassword("admin.ppe", reason: "x", by: f.admin) }
            await #expect(throws: AccountsError.self, "only an admin_ppe") { try await f.operations.resetOperatorPassword("staf.dua", reason: "x", by: f.staf) }
            await #expect(throws: InputError.self, "a reason is required") { try await f.operations.resetOperatorPassword("staf.dua", reason: " ", by: f.admin) }
        }
    }

    @Test("step 6 reads the request once and writes it in one short transaction: at most 10 statements, 2 touching the request")
    func executeIsOneReadOneWrite() async throws {
        try await OperationsFixture.with { f in
            let approved = try await f.request(approved: true)
            let second = try await f.request(approved: true)
            let seen = Mutex<[[String]]>([])
            let counted = ConnectionPool(configuration: f.accounts.database.configuration, maxConnections: 2, observer: { sent in
                seen.withLock { $0.append(sent) }
            })
            defer { Task { await counted.shutdown() } }
            let graph = try await ServiceGraph.make(testSettings(), pool: counted, clock: f.accounts.clock.serviceClock, hashingPool: f.hashing)
            // A first execute opens the connections; the second is the one counted.
            _ = try await graph.operations.act(.execute, on: approved.number, by: f.admin2)
            seen.withLock { $0.removeAll() }
            let result = try await graph.operations.act(.execute, on: second.number, by: f.admin2)
            #expect(result.temporaryPassword != nil && result.request.state == .executed)
            let roundTrips = seen.withLock { $0 }
            let statements = roundTrips.flatMap { $0 }
            let listing = roundTrips.enumerated().map { trip in
                trip.element.map { "\(trip.offset + 1): \($0.prefix(90))" }.joined(separator: "\n")
            }.joined(separator: "\n")
            #expect(statements.count <= 10, "step 6 ran \(statements.count) statements:\n\(listing)")
            #expect(roundTrips.count <= 4, "step 6 made \(roundTrips.count) round trips:\n\(listing)")
            #expect(roundTrips.contains { $0.first?.hasPrefix("BEGIN") == true && $0.count == 2 }, "BEGIN rides with the guarded write:\n\(listing)")
            #expect(roundTrips.last?.last == "COMMIT" && roundTrips.last!.count == 2, "COMMIT rides with the step's last statement:\n\(listing)")
            let touchingRequest = statements.filter { $0.contains("FROM requests r") || $0.contains("UPDATE requests") }
            #expect(touchingRequest.count == 2, "the request was read or written \(touchingRequest.count) times:\n\(listing)")
            #expect(statements.filter { $0.hasPrefix("BEGIN") }.count == 1, "one transaction:\n\(listing)")
            // What the one write did, all of it.
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE request_id = $1 AND action IN ('password.reset', 'request.execute')",
                                               [second.number]) == 2)
            #expect(try await f.accounts.count("SELECT count(*) FROM request_steps WHERE request_id = $1 AND step = 8 AND ended_at IS NULL",
                                               [second.id]) == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.user_id = 'helpdesk01' AND s.revoked_at IS NULL") == 0)
        }
    }

    @Test("a login is three round trips to the database: the reservation with its BEGIN, the count and the account read with its COMMIT, the verdict")
    func loginRoundTrips() async throws {
        try await OperationsFixture.with { f in
            let seen = Mutex<[[String]]>([])
            let counted = ConnectionPool(configuration: f.accounts.database.configuration, maxConnections: 1, observer: { sent in
                seen.withLock { $0.append(sent) }
            })
            let graph = try await ServiceGraph.make(testSettings(), pool: counted, clock: f.accounts.clock.serviceClock, hashingPool: f.hashing)
            for (userID, password) in [("helpdesk01", OperationsFixture.password), ("helpdesk01", "tebakan salah"), ("nobody.here", "tebakan salah")] {
                _ = try await graph.operations.login(userID: userID, password: password)  // prepares this shape's statements
                seen.withLock { $0.removeAll() }
                let outcome = try await graph.operations.login(userID: userID, password: password)
                let roundTrips = seen.withLock { $0 }
                let listing = roundTrips.map { $0.map { $0.prefix(60) }.joined(separator: " | ") }.joined(separator: "\n")
                if case .ok = outcome { #expect(password == OperationsFixture.password) } else { #expect(password != OperationsFixture.password) }
                #expect(roundTrips.first?.first == "BEGIN ISOLATION LEVEL READ COMMITTED", "\(userID):\n\(listing)")
                #expect(roundTrips.first?.contains("SET LOCAL synchronous_commit TO off") == true, "the reservation need not wait for the disk")
                #expect(roundTrips.count >= 2 && roundTrips[1].last == "COMMIT", "the count and the read carry the COMMIT:\n\(listing)")
                // The verdict: a success settles in one statement; a failure in one transaction that waits for the disk.
                #expect(roundTrips.dropFirst(2).allSatisfy { !$0.contains("SET LOCAL synchronous_commit TO off") }, "\(listing)")
                #expect(roundTrips.count == (password == OperationsFixture.password ? 3 : 4), "\(userID):\n\(listing)")
                if password != OperationsFixture.password { #expect(roundTrips.last?.last == "COMMIT", "a failure's last statement carries the COMMIT:\n\(listing)") }
            }
            await counted.shutdown()
        }
    }
}
