import Accounts
import Crypto
import Foundation
import Gate
import Inputs
import Operations
import PasswordHashing
import Postgres
import Testing
import TestSupport

func totpCode(_ key: String, at date: Date) -> String { AuthenticatorApp.code(key, at: date) }
func base32Decode(_ text: String) -> [UInt8] { AuthenticatorApp.base32Decode(text) }

/// Operators with an authenticator: the graph built with the production rule (TOTP required).
struct SecondFactorFixture {
    let accounts: AccountsFixture
    let graph: ServiceGraph
    var operations: Operations { graph.operations }
    static let password = "kopi jahe hangat sekali"

    static func with(_ body: (SecondFactorFixture) async throws -> Void) async throws {
        try await AccountsFixture.with { accounts in
            // Its own hashing pool: a test counts the hashes it causes.
            let hashing = HashingPool(queueLimit: 64)
            defer { hashing.shutDown() }
            let graph = try await ServiceGraph.make(testSettings(operatorTOTP: true), pool: accounts.pool, clock: accounts.clock.serviceClock,
                                                    hashingPool: hashing)
            try await body(SecondFactorFixture(accounts: accounts, graph: graph))
        }
    }

    /// An account of `role` whose own password is set (the first-login change done).
    @discardableResult
    func account(_ userID: String, _ role: Role) async throws -> Account {
        let account = try await accounts.directory.create(
            NewAccount(userID: try UserID(userID), role: role, fullName: try FullName("Pegawai \(userID)"), nip: nil,
                       email: try EmailAddress("\(userID)@purbalinggakab.go.id"), agency: try Agency("Dinas Kominfo")),
            by: accounts.admin)
        let temporary = try await accounts.reset(account)
        guard case .passwordChangeRequired(let token, _) = try await graph.credentials.login(userID: userID, password: temporary.reveal) else {
            throw TestSetupError("expected password_change_required")
        }
        try await graph.credentials.changePassword(token: token, current: temporary.reveal, new: Self.password)
        return account
    }

    /// Enrols and confirms an authenticator for `userID`; returns its secret and recovery codes.
    func enrol(_ userID: String) async throws -> (secret: String, recovery: [String]) {
        guard case .totpEnrolmentRequired(let token, _) = try await operations.login(userID: userID, password: Self.password) else {
            throw TestSetupError("expected totp_enrolment_required")
        }
        let enrolment = try await operations.beginTOTPEnrolment(token: token)
        let codes = try await operations.confirmTOTPEnrolment(token: token, code: totpCode(enrolment.secret, at: accounts.clock.now))
        try await operations.logout(token)
        accounts.clock.advance(30)  // the code just used is spent
        return (enrolment.secret, codes)
    }

    /// Password, then a fresh code: a full caller whose step-up is now.
    func signIn(_ userID: String, secret: String) async throws -> (SessionToken, Caller) {
        guard case .totpRequired(let challenge) = try await operations.login(userID: userID, password: Self.password) else {
            throw TestSetupError("expected totp_required")
        }
        guard case .ok(let token, let session) = try await operations.completeLogin(challenge: challenge.token, code: totpCode(secret, at: accounts.clock.now))
        else { throw TestSetupError("the code was refused") }
        accounts.clock.advance(30)
        return (token, try Caller(session: session))
    }
}

@Suite("Second factor for operators (TOTP)")
struct SecondFactorTests {
    @Test("the test's RFC 6238 is the RFC's: secret 12345678901234567890 at T=59 gives 287082")
    func rfcVector() {
        let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  // base32 of "12345678901234567890"
        #expect(base32Decode(key) == Array("12345678901234567890".utf8))
        #expect(totpCode(key, at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totpCode(key, at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
    }

    @Test("an operator without an authenticator can only enrol; confirming gives ten recovery codes and a full session")
    func enrolment() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("staf.adm", .stafAdministrasi)
            guard case .totpEnrolmentRequired(let token, let session) = try await f.operations.login(userID: "staf.adm", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_enrolment_required"); return }
            #expect(session.scope == .totpEnrolment)
            #expect(throws: AccountsError.totpEnrolmentRequired) { try Caller(session: session) }
            await #expect(throws: AccountsError.totpEnrolmentRequired) { try await f.operations.caller(for: token) }
            let enrolment = try await f.operations.beginTOTPEnrolment(token: token)
            // The key as apps take it: base32 of a 32-character secret, the same one the URI carries.
            #expect(enrolment.secret.count == 52 && enrolment.uri.hasPrefix("otpauth://totp/SPSE:staf.adm?secret=\(enrolment.secret)"))
            #expect(try await f.operations.beginTOTPEnrolment(token: token).secret == enrolment.secret, "shown again until confirmed")
            await #expect(throws: AccountsError.invalidCredentials) {
                try await f.operations.confirmTOTPEnrolment(token: token, code: "000000")
            }
            let codes = try await f.operations.confirmTOTPEnrolment(token: token, code: totpCode(enrolment.secret, at: f.accounts.clock.now))
            #expect(codes.count == 10 && Set(codes).count == 10 && codes.allSatisfy { $0.count == 11 })
            let caller = try await f.operations.caller(for: token)
            #expect(caller.role == .stafAdministrasi && caller.steppedUpAt == f.accounts.clock.now)
            await #expect(throws: AccountsError.totpAlreadyEnrolled) { try await f.operations.beginTOTPEnrolment(token: token) }
            // Nothing of the secret or the codes is stored in clear.
            let stored = try await f.accounts.pool.withConnection { connection in
                try await connection.query("SELECT encode(secret_sealed, 'escape') FROM account_totp").first?.decode(String.self, at: 0) ?? ""
            }
            #expect(!stored.contains(String(decoding: base32Decode(enrolment.secret), as: UTF8.self)))
            let macs = try await f.accounts.pool.withConnection { connection in
                try await connection.query("SELECT string_agg(encode(code_mac, 'escape'), '') FROM recovery_codes").first?.decode(String.self, at: 0) ?? ""
            }
            #expect(!codes.contains { macs.contains($0.replacingOccurrences(of: "-", with: "")) })
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'totp.enrolled' AND actor = 'staf.adm'") == 1)
            // A managed role may enrol but need not.
            try await f.account("helpdesk01", .helpdesk)
            #expect(try await f.operations.login(userID: "helpdesk01", password: SecondFactorFixture.password).code == "ok")
        }
    }

    @Test("with an authenticator the password alone gives no session; a wrong or replayed code is refused; the next step's code works")
    func loginNeedsTheCode() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("admin.ppe", .adminPPE)
            let (secret, _) = try await f.enrol("admin.ppe")
            guard case .totpRequired(let challenge) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_required"); return }
            #expect(try await f.operations.completeLogin(challenge: challenge.token, code: "123456").code == "invalid_credentials")
            #expect(try await f.operations.completeLogin(challenge: "forged", code: totpCode(secret, at: f.accounts.clock.now)).code == "invalid_credentials")
            let code = totpCode(secret, at: f.accounts.clock.now)
            #expect(try await f.operations.completeLogin(challenge: challenge.token, code: code).code == "ok")
            #expect(try await f.operations.completeLogin(challenge: challenge.token, code: code).code == "invalid_credentials", "a challenge is used once")
            // The same code through a new challenge: a replay, refused.
            guard case .totpRequired(let second) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_required"); return }
            #expect(try await f.operations.completeLogin(challenge: second.token, code: code).code == "invalid_credentials")
            f.accounts.clock.advance(30)
            #expect(try await f.operations.completeLogin(challenge: second.token, code: totpCode(secret, at: f.accounts.clock.now)).code == "ok")
            // A challenge expires.
            guard case .totpRequired(let third) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_required"); return }
            f.accounts.clock.advance(301)
            #expect(try await f.operations.completeLogin(challenge: third.token, code: totpCode(secret, at: f.accounts.clock.now)).code == "invalid_credentials")
        }
    }

    @Test("wrong codes count in the login throttle: five lock the user out from that address, a right code included")
    func codesAreThrottled() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("admin.ppe", .adminPPE)
            let (secret, _) = try await f.enrol("admin.ppe")
            for _ in 0..<5 {
                guard case .totpRequired(let challenge) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password, from: "10.0.0.9")
                else { Issue.record("expected totp_required"); return }
                #expect(try await f.operations.completeLogin(challenge: challenge.token, code: "000000", from: "10.0.0.9").code == "invalid_credentials")
            }
            let locked = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password, from: "10.0.0.9")
            #expect(locked.code == "locked")
            _ = secret
        }
    }

    @Test("recovery codes sign in once each, and their use is audited")
    func recoveryCodes() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("admin.ppe", .adminPPE)
            let (_, codes) = try await f.enrol("admin.ppe")
            for attempt in 0..<2 {
                guard case .totpRequired(let challenge) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password)
                else { Issue.record("expected totp_required"); return }
                #expect(try await f.operations.completeLogin(challenge: challenge.token, code: codes[0].uppercased()).code == (attempt == 0 ? "ok" : "invalid_credentials"))
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'totp.recovery_used'") == 1)
            #expect(try await f.accounts.count("SELECT count(*) FROM recovery_codes WHERE used_at IS NULL") == 9)
        }
    }

    @Test("step 6 needs a second factor proved within the window: a stale session resets nobody (and spends no hash), a step-up lets it")
    func stepUpAtStepSix() async throws {
        try await SecondFactorFixture.with { f in
            for (userID, role) in [("admin.ppe", Role.adminPPE), ("admin.dua", .adminPPE), ("staf.adm", .stafAdministrasi)] {
                try await f.account(userID, role)
            }
            try await f.account("helpdesk01", .helpdesk)
            var secrets: [String: String] = [:]
            for userID in ["admin.ppe", "admin.dua", "staf.adm"] { secrets[userID] = try await f.enrol(userID).secret }
            let (_, staf) = try await f.signIn("staf.adm", secret: secrets["staf.adm"]!)
            let request = try await f.operations.submitRequest(
                SubmitForm(kinds: ["reset_password"], subject: SubjectHint(userID: "helpdesk01"), subjectRole: nil, requesterName: "Pegawai helpdesk01",
                           requesterContact: "helpdesk01@purbalinggakab.go.id", channel: "hardcopy", priority: nil), by: staf)
            for type in ["surat_permohonan", "sk_pengangkatan"] {
                _ = try await f.operations.addDocument(DocumentForm(type: type, fileName: "\(type).pdf", mediaType: "application/pdf", content: pdf),
                                                       to: request.number, by: staf)
            }
            _ = try await f.operations.act(.completeness(complete: true, note: nil), on: request.number, by: staf)
            let (adminToken, admin) = try await f.signIn("admin.ppe", secret: secrets["admin.ppe"]!)
            _ = try await f.operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: admin)

            f.accounts.clock.advance(301)
            let stale = try await f.operations.caller(for: adminToken)
            let hashes = f.graph.hashingPool.jobsRun
            await #expect(throws: AccountsError.stepUpRequired) { try await f.operations.act(.execute, on: request.number, by: stale) }
            #expect(f.graph.hashingPool.jobsRun == hashes, "a refused execute costs no Argon2 hash")
            #expect(try await f.operations.request(request.number, by: stale).request.state == .approved)
            await #expect(throws: AccountsError.invalidCredentials) {
                try await f.operations.stepUp(token: adminToken, code: "999999")
            }
            _ = try await f.operations.stepUp(token: adminToken, code: totpCode(secrets["admin.ppe"]!, at: f.accounts.clock.now))
            let fresh = try await f.operations.caller(for: adminToken)
            let executed = try await f.operations.act(.execute, on: request.number, by: fresh)
            #expect(executed.temporaryPassword != nil)
            #expect(try await f.accounts.count("SELECT count(*) FROM audit_events WHERE action = 'totp.step_up' AND actor = 'admin.ppe'") == 2,
                    "the refused and the accepted step-up")
        }
    }

    @Test("a lost authenticator is reset by another admin_ppe with a reason, audited; never one's own; the owner enrols again")
    func resetByAnotherAdmin() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("admin.ppe", .adminPPE)
            try await f.account("admin.dua", .adminPPE)
            let first = try await f.enrol("admin.ppe")
            let second = try await f.enrol("admin.dua")
            let (_, admin) = try await f.signIn("admin.ppe", secret: first.secret)
            await #expect(throws: InputError.self) { try await f.operations.resetSecondFactor("admin.dua", reason: " ", by: admin) }
            await #expect(throws: AccountsError.self) { try await f.operations.resetSecondFactor("admin.ppe", reason: "hilang", by: admin) }
            try await f.operations.resetSecondFactor("admin.dua", reason: "ponsel hilang, laporan 3/2026", by: admin)
            #expect(try await f.accounts.count(
                "SELECT count(*) FROM audit_events WHERE action = 'totp.reset' AND actor = 'admin.ppe' AND subject = 'admin.dua'") == 1)
            #expect(try await f.operations.login(userID: "admin.dua", password: SecondFactorFixture.password).code == "totp_enrolment_required")
            _ = second
            // A reset password is one factor: after its change the next login still asks for the code.
            let account = try await f.accounts.pool.withConnection { try await f.accounts.directory.find(try UserID("admin.ppe"), on: $0) }
            let temporary = try await f.accounts.reset(try #require(account))
            guard case .passwordChangeRequired(let token, _) = try await f.operations.login(userID: "admin.ppe", password: temporary.reveal)
            else { Issue.record("expected password_change_required"); return }
            try await f.operations.changePassword(token: token, current: temporary.reveal, new: "nasi goreng kambing enak")
            await #expect(throws: AccountsError.sessionInvalid) { try await f.operations.caller(for: token) }
            #expect(try await f.operations.login(userID: "admin.ppe", password: "nasi goreng kambing enak").code == "totp_required")
        }
    }
}

/// A sender that keeps what it was asked to send.
final class CapturingSender: NoticeSender, @unchecked Sendable {
    private let lock = NSLock()
    private var notices: [OutgoingNotice] = []
    var sent: [OutgoingNotice] { lock.withLock { notices } }
    func send(_ notice: OutgoingNotice) async throws { lock.withLock { notices.append(notice) } }
    /// Stands where SMTP stands: the sealed channel.
    let isSealedChannel: Bool
    init(isSealedChannel: Bool = true) { self.isSealedChannel = isSealedChannel }
}

@Suite("Sealed delivery")
struct SealedDeliveryTests {
    @Test("the Admin PPE sees half; the other half goes sealed to the e-mail on file; only both halves in order log in; nothing stays in clear")
    func sealedDelivery() async throws {
        try await AccountsFixture.with { accounts in
            var settings = testSettings()
            settings.sealedDelivery = true
            let graph = try await ServiceGraph.make(settings, pool: accounts.pool, clock: accounts.clock.serviceClock, hashingPool: sharedPool)
            let operations = graph.operations
            func caller(_ userID: String, _ role: Role) async throws -> Caller {
                let account = try await accounts.directory.create(
                    NewAccount(userID: try UserID(userID), role: role, fullName: try FullName("Pegawai \(userID)"), nip: nil,
                               email: try EmailAddress("\(userID)@purbalinggakab.go.id"), agency: try Agency("Dinas Kominfo")), by: accounts.admin)
                _ = try await accounts.firstLogin(userID, temporary: try await accounts.reset(account), password: SecondFactorFixture.password)
                guard case .ok(_, let session) = try await operations.login(userID: userID, password: SecondFactorFixture.password) else {
                    throw TestSetupError("login")
                }
                return try Caller(session: session)
            }
            let (staf, admin) = (try await caller("staf.adm", .stafAdministrasi), try await caller("admin.ppe", .adminPPE))
            _ = try await caller("helpdesk01", .helpdesk)
            let request = try await operations.submitRequest(
                SubmitForm(kinds: ["reset_password"], subject: SubjectHint(userID: "helpdesk01"), subjectRole: nil, requesterName: "Pegawai helpdesk01",
                           requesterContact: "kontak.bebas@example.org", channel: "hardcopy", priority: nil), by: staf)
            for type in ["surat_permohonan", "sk_pengangkatan"] {
                _ = try await operations.addDocument(DocumentForm(type: type, fileName: "\(type).pdf", mediaType: "application/pdf", content: pdf),
                                                     to: request.number, by: staf)
            }
            _ = try await operations.act(.completeness(complete: true, note: nil), on: request.number, by: staf)
            _ = try await operations.act(.validity(valid: true, subjectUserID: "helpdesk01", reason: nil), on: request.number, by: admin)
            let executed = try await operations.act(.execute, on: request.number, by: admin)
            #expect(executed.temporaryPassword == nil, "the Admin PPE never sees the whole password")
            let first = try #require(executed.firstHalf)
            #expect(first.count == 12 && executed.secondHalfSentTo == "he…@purbalinggakab.go.id")

            // The half is sealed in the outbox, addressed to the e-mail on file, not the free-text contact.
            let stored = try await accounts.pool.withConnection { connection in
                try #require(try await connection.query("SELECT recipient, body_id || body_en AS body, sealed IS NOT NULL AS sealed FROM outbox WHERE step = 6").first)
            }
            #expect(try stored.decode(String.self, column: "recipient") == "helpdesk01@purbalinggakab.go.id")
            let isSealed = try stored.decode(Bool.self, column: "sealed")
            let body = try stored.decode(String.self, column: "body")
            #expect(isSealed && body.contains("{sealed}"))

            // Another instance without the sealed channel (notices to a file) runs its round first:
            // it leaves the sealed half for the one that is, and never writes it in clear.
            let file = NSTemporaryDirectory() + "spse-notices-\(UUID().uuidString).jsonl"
            defer { try? FileManager.default.removeItem(atPath: file) }
            _ = try await OutboxDispatcher(pool: accounts.pool, sender: FileNoticeSender(path: file), clock: accounts.clock.serviceClock,
                                           secrets: graph.secrets).deliverDue()
            let plain = CapturingSender(isSealedChannel: false)
            _ = try await OutboxDispatcher(pool: accounts.pool, sender: plain, clock: accounts.clock.serviceClock, secrets: graph.secrets).deliverDue()
            #expect(!((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains("Bagian kedua") && plain.sent.allSatisfy { $0.step != 6 })
            #expect(try await accounts.count("SELECT count(*) FROM outbox WHERE step = 6 AND delivered_at IS NULL AND sealed IS NOT NULL") == 1)

            let sender = CapturingSender()
            _ = try await OutboxDispatcher(pool: accounts.pool, sender: sender, clock: accounts.clock.serviceClock, secrets: graph.secrets).deliverDue()
            let mail = try #require(sender.sent.first { $0.step == 6 })
            let marker = try #require(mail.bodyEN.range(of: "temporary password: "))
            let second = String(mail.bodyEN[marker.upperBound...].prefix { $0 != " " })
            #expect(second.count == 12 && !mail.bodyEN.contains(first))
            #expect(try await accounts.count("SELECT count(*) FROM outbox WHERE step = 6 AND sealed IS NULL AND delivered_at IS NOT NULL") == 1,
                    "delivered: the sealed half is erased")

            #expect(try await operations.login(userID: "helpdesk01", password: first).code == "invalid_credentials")
            #expect(try await operations.login(userID: "helpdesk01", password: second).code == "invalid_credentials")
            #expect(try await operations.login(userID: "helpdesk01", password: second + first).code == "invalid_credentials")
            #expect(try await operations.login(userID: "helpdesk01", password: first + second).code == "password_change_required")
        }
    }
}

@Suite("Second factor: what an attacker with a password or a session tries")
struct SecondFactorAttackTests {
    @Test("a key is shown only to the session that started the enrolment; another session gets a new one, and the first can no longer confirm")
    func enrolmentBoundToSession() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("staf.adm", .stafAdministrasi)
            guard case .totpEnrolmentRequired(let attacker, _) = try await f.operations.login(userID: "staf.adm", password: SecondFactorFixture.password),
                  case .totpEnrolmentRequired(let owner, _) = try await f.operations.login(userID: "staf.adm", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_enrolment_required"); return }
            let planted = try await f.operations.beginTOTPEnrolment(token: attacker)
            let own = try await f.operations.beginTOTPEnrolment(token: owner)
            #expect(own.secret != planted.secret, "the owner never sees (and confirms) a key someone else started")
            await #expect(throws: AccountsError.totpNotEnrolled) {
                try await f.operations.confirmTOTPEnrolment(token: attacker, code: totpCode(planted.secret, at: f.accounts.clock.now))
            }
            #expect(try await f.operations.confirmTOTPEnrolment(token: owner, code: totpCode(own.secret, at: f.accounts.clock.now)).count == 10)
        }
    }

    @Test("every change a stolen session could turn into lasting power needs a fresh code: new accounts, enabling, resets, purge, standards")
    func staleSessionChangesNothing() async throws {
        try await SecondFactorFixture.with { f in
            try await f.account("admin.ppe", .adminPPE)
            let (secret, _) = try await f.enrol("admin.ppe")
            let (token, _) = try await f.signIn("admin.ppe", secret: secret)
            f.accounts.clock.advance(301)
            let stale = try await f.operations.caller(for: token)
            let form = NewAccountForm(userID: "admin.baru", role: "admin_ppe", fullName: "Admin Baru", nip: nil, email: "baru@purbalinggakab.go.id",
                                      agency: "LPSE")
            await #expect(throws: AccountsError.stepUpRequired) { try await f.operations.createAccount(form, by: stale) }
            await #expect(throws: AccountsError.stepUpRequired) { try await f.operations.resetOperatorPassword("admin.ppe", reason: "x", by: stale) }
            await #expect(throws: AccountsError.stepUpRequired) { try await f.operations.resetSecondFactor("admin.ppe", reason: "x", by: stale) }
            await #expect(throws: AccountsError.stepUpRequired) { try await f.operations.purgeDocuments(by: stale) }
            await #expect(throws: AccountsError.stepUpRequired) {
                try await f.operations.setPriorityLimit(PriorityLimitForm(priority: "urgent", minutes: 5), by: stale)
            }
            #expect(try await f.accounts.count("SELECT count(*) FROM accounts WHERE user_id = 'admin.baru'") == 0)
            _ = try await f.operations.stepUp(token: token, code: totpCode(secret, at: f.accounts.clock.now))
            let fresh = try await f.operations.caller(for: token)
            #expect(try await f.operations.createAccount(form, by: fresh).account.userID.value == "admin.baru")
        }
    }

    @Test("a code step begun before a password reset does not outlive it")
    func challengeDiesWithReset() async throws {
        try await SecondFactorFixture.with { f in
            let account = try await f.account("admin.ppe", .adminPPE)
            let (secret, _) = try await f.enrol("admin.ppe")
            guard case .totpRequired(let challenge) = try await f.operations.login(userID: "admin.ppe", password: SecondFactorFixture.password)
            else { Issue.record("expected totp_required"); return }
            _ = try await f.accounts.reset(account)
            #expect(try await f.operations.completeLogin(challenge: challenge.token, code: totpCode(secret, at: f.accounts.clock.now)).code
                == "invalid_credentials")
        }
    }
}
