import Accounts
import Audit
import Operations
import Foundation
import PasswordHashing
import Postgres
import Synchronization
import Testing
import TestSupport

@Suite("Credentials: temporary passwords, login, change, lockout, sessions")
struct CredentialsTests {
    @Test("first login with the temporary password gets a change-only session; after the change, a full one")
    func firstLogin() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            guard case .passwordChangeRequired(let token, let session) = try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal) else {
                Issue.record("expected password_change_required"); return
            }
            #expect(session.scope == .changePasswordOnly)
            await #expect(throws: AccountsError.sessionScope) { try await f.credentials.session(for: token) }
            try await f.credentials.changePassword(token: token, current: temporary.reveal, new: "kopi tubruk di alun-alun")
            #expect(try await f.credentials.session(for: token).scope == .full)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "invalid_credentials")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "ok")
        }
    }

    @Test("the temporary password appears in no table and no audit row")
    func temporaryPasswordNeverStored() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal)
            _ = try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal + "x")
            let tables = try await f.pool.withConnection { connection in
                try await connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").map { try $0.decode(String.self, at: 0) }
            }
            #expect(tables.contains("audit_events") && tables.contains("accounts"))
            let needles = [temporary.reveal, temporary.reveal.replacingOccurrences(of: "-", with: "")]
            for table in tables {
                // Table names come from the catalog, not from input.
                let dump = try await f.pool.withConnection { connection in
                    try await connection.query("SELECT coalesce(string_agg(t::text, ' '), '') FROM \(table) t").first?.decode(String.self, at: 0) ?? ""
                }
                for needle in needles { #expect(!dump.contains(needle), "found in \(table)") }
            }
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'password.reset'") == 1)
        }
    }

    @Test("two concurrent logins with one temporary password both work; the first change invalidates it")
    func concurrentFirstLogins() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            async let a = f.credentials.login(userID: "helpdesk01", password: temporary.reveal)
            async let b = f.credentials.login(userID: "helpdesk01", password: temporary.reveal)
            let (first, second) = try await (a, b)
            guard case .passwordChangeRequired(let tokenA, _) = first, case .passwordChangeRequired(let tokenB, _) = second else {
                Issue.record("both logins should need a change: \(first), \(second)"); return
            }
            try await f.credentials.changePassword(token: tokenA, current: temporary.reveal, new: "kopi tubruk di alun-alun")
            await #expect(throws: AccountsError.sessionInvalid) {
                try await f.credentials.changePassword(token: tokenB, current: temporary.reveal, new: "rendang padang pedas sekali")
            }
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "invalid_credentials")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "ok")
        }
    }

    @Test("a new reset invalidates the previous temporary password and revokes the sessions")
    func resetAgain() async throws {
        try await AccountsFixture.with { f in
            let (account, first) = try await f.helpdesk()
            let token = try await f.firstLogin("helpdesk01", temporary: first, password: "kopi tubruk di alun-alun")
            let second = try await f.reset(account)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: token) }
            #expect(try await f.credentials.login(userID: "helpdesk01", password: first.reveal).code == "invalid_credentials")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "invalid_credentials")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: second.reveal).code == "password_change_required")
        }
    }

    @Test("a temporary password expires after 72 hours by the injected clock")
    func expiry() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            f.clock.advance(72 * 3600 - 60)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "password_change_required")
            f.clock.advance(120)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "temporary_password_expired")
        }
    }

    @Test("an unknown user ID gets exactly the answer a wrong password gets")
    func unknownUserLooksLikeWrongPassword() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let wrong = try await f.credentials.login(userID: "helpdesk01", password: "not the password")
            let unknown = try await f.credentials.login(userID: "nobody.here", password: temporary.reveal)
            let malformed = try await f.credentials.login(userID: "not a user id!", password: temporary.reveal)
            #expect(wrong.code == "invalid_credentials")
            #expect(unknown.code == wrong.code && malformed.code == wrong.code)
            #expect(String(describing: unknown) == String(describing: wrong))
        }
    }

    @Test("five failures lock for 1 minute, the next five for 2; admin_ppe unlocks; all audited")
    func lockout() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            for _ in 1...5 { #expect(try await f.credentials.login(userID: "helpdesk01", password: "wrong guess").code == "invalid_credentials") }
            guard case .locked(let retryAfter) = try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal) else {
                Issue.record("expected locked"); return
            }
            #expect(retryAfter == 60)
            f.clock.advance(61)
            for _ in 1...5 { _ = try await f.credentials.login(userID: "helpdesk01", password: "wrong guess") }
            guard case .locked(let second) = try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal) else {
                Issue.record("expected locked again"); return
            }
            #expect(second == 120, "the interval doubles")
            try await f.directory.unlock(try UserID("helpdesk01"), by: f.admin)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "password_change_required")
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'account.locked'") == 2)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'login.failure'") == 10)
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'account.unlock'") == 1)
        }
    }

    @Test("a successful login clears the failures before it: four, a success, four more do not lock")
    func successClearsFailures() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            for _ in 1...4 { _ = try await f.credentials.login(userID: "helpdesk01", password: "wrong guess") }
            #expect(try await f.count("SELECT failures FROM login_throttle WHERE key LIKE 'u:%'") == 4)
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "password_change_required")
            #expect(try await f.count("SELECT failures FROM login_throttle WHERE key LIKE 'u:%'") == 0)
            for _ in 1...4 { _ = try await f.credentials.login(userID: "helpdesk01", password: "wrong guess") }
            #expect(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).code == "password_change_required")
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'account.locked'") == 0)
        }
    }

    @Test("lockout intervals double from 1 minute and stop at 1 hour")
    func lockoutSchedule() {
        let settings = CredentialSettings()
        #expect((1...8).map { settings.lockoutDuration(afterLockouts: $0) } == [60, 120, 240, 480, 960, 1920, 3600, 3600])
    }

    @Test("each password rule refuses, naming the rule", arguments: [
        ("short pass", "min_length"),
        ("password1234", "blocklist"),
        ("qwertyuiop!!", "blocklist"),
        ("helpdesk01 rahasia", "context"),
        ("wulandari-kopi-panas", "context"),
        ("kata sandi spse baru", "context"),
        ("dinas komunikasi 2026", "context"),
        (String(repeating: "x", count: 129), "max_length"),
    ])
    func policy(candidate: String, rule: String) async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let token = try #require(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).changeToken, "expected passwordChangeRequired")
            await #expect {
                try await f.credentials.changePassword(token: token, current: temporary.reveal, new: candidate)
            } throws: { error in
                guard case .passwordPolicy(let refused, _) = error as? AccountsError else { return false }
                return refused == rule
            }
        }
    }

    @Test("the temporary password and the last five passwords are refused as new ones")
    func historyAndTemporary() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let token = try #require(try await f.credentials.login(userID: "helpdesk01", password: temporary.reveal).changeToken, "expected passwordChangeRequired")
            await #expect(throws: AccountsError.passwordPolicy(rule: "same_as_temporary", detail: "choose a password of your own, not the temporary one")) {
                try await f.credentials.changePassword(token: token, current: temporary.reveal, new: temporary.reveal)
            }
            let passwords = (1...6).map { "gunung slamet pagi \($0)x" }
            var current = temporary.reveal
            for password in passwords.prefix(5) {
                try await f.credentials.changePassword(token: token, current: current, new: password)
                current = password
            }
            for old in passwords.prefix(5) {
                await #expect(throws: AccountsError.self, "\(old)") {
                    try await f.credentials.changePassword(token: token, current: current, new: old)
                }
            }
            try await f.credentials.changePassword(token: token, current: current, new: passwords[5])
            // Now the oldest one has left the window of five.
            try await f.credentials.changePassword(token: token, current: passwords[5], new: passwords[0])
        }
    }

    @Test("NFKC: a full-width password logs in typed half-width")
    func normalization() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: "ｋｏｐｉ ｔｕｂｒｕｋ ２０２６")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk 2026").code == "ok")
        }
    }

    @Test("a change needs the right current password and revokes the other sessions")
    func changeRevokesOthers() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let first = try await f.firstLogin("helpdesk01", temporary: temporary, password: "kopi tubruk di alun-alun")
            let second = try #require(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").sessionToken, "expected ok")
            await #expect(throws: AccountsError.invalidCredentials) {
                try await f.credentials.changePassword(token: second, current: "not it at all", new: "rendang padang pedas sekali")
            }
            try await f.credentials.changePassword(token: second, current: "kopi tubruk di alun-alun", new: "rendang padang pedas sekali")
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: first) }
            #expect(try await f.credentials.session(for: second).userID.value == "helpdesk01")
            #expect(try await f.count("SELECT count(*) FROM audit_events WHERE action = 'password.change'") == 2)
        }
    }

    @Test("sessions end after 30 idle minutes, after 12 hours in any case, and on logout")
    func sessionExpiry() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            let token = try await f.firstLogin("helpdesk01", temporary: temporary, password: "kopi tubruk di alun-alun")
            f.clock.advance(29 * 60)
            _ = try await f.credentials.session(for: token)
            f.clock.advance(31 * 60)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: token) }

            let busy = try #require(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").sessionToken, "expected ok")
            for _ in 0..<24 {  // active every 25 minutes for 10 hours
                f.clock.advance(25 * 60)
                _ = try await f.credentials.session(for: busy)
            }
            f.clock.advance(2 * 3600 + 60)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: busy) }

            let leaving = try #require(try await f.credentials.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").sessionToken, "expected ok")
            try await f.credentials.logout(leaving)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.credentials.session(for: leaving) }
            #expect(try await f.count("SELECT count(*) FROM sessions WHERE length(token_hash) = 32") == 3)
        }
    }

    @Test("a login with outdated Argon2 parameters stores a new hash at the configured ones")
    func rehash() async throws {
        try await AccountsFixture.with(parameters: Argon2Parameters(memoryKiB: 32, iterations: 1, parallelism: 1)) { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: "kopi tubruk di alun-alun")
            let stronger = try await ServiceGraph.make(
                testSettings(Argon2Parameters(memoryKiB: 256, iterations: 2, parallelism: 1)), pool: f.pool, clock: f.clock.serviceClock,
                hashingPool: sharedPool).credentials
            #expect(try await stronger.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "ok")
            let stored = try await f.pool.withConnection { try await $0.query("SELECT password_hash FROM accounts").first?.decode(String.self, at: 0) }
            #expect(stored?.hasPrefix("$argon2id$v=19$m=256,t=2,p=1$") == true)
            #expect(try await stronger.login(userID: "helpdesk01", password: "kopi tubruk di alun-alun").code == "ok")
        }
    }

    @Test("when the hashing pool is full, login is refused at once for every user ID, before the database is read")
    func saturatedPoolRefusesFirst() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.helpdesk()
            let pool = HashingPool(width: 1, queueLimit: 0)
            let credentials = try await Credentials(
                pool: f.pool, hasher: try PasswordHasher(parameters: cheapArgon2, pool: pool), policy: try standardPolicy(),
                settings: CredentialSettings(), clock: f.clock.serviceClock, audit: AuditTrail())
            // One job holds the only worker; with no queue, the pool is saturated.
            // (Saturation is waited for once the holder's job runs: the place of the job that made
            // the dummy hash is freed just after its result came back, a moment the pool still reads full.)
            // Nothing here blocks a thread of Swift's cooperative pool: only the worker's job waits.
            let release = DispatchSemaphore(value: 0)
            defer { release.signal() }  // a failed expectation below must not leave the worker blocked
            let started = Atomic<Bool>(false)
            // The pool refuses a job while the place of the dummy hash's job is not yet freed (no
            // queue): the holder asks again until its job is taken.
            let holder = Task {
                while true {
                    do { return try await pool.run { started.store(true, ordering: .sequentiallyConsistent); release.wait(); return 0 } }
                    catch PasswordHashingError.overloaded { try await Task.sleep(for: .milliseconds(5)) }
                }
            }
            let deadline0 = ContinuousClock.now + .seconds(20)
            while !(started.load(ordering: .sequentiallyConsistent) && pool.isSaturated), ContinuousClock.now < deadline0 {
                try await Task.sleep(for: .milliseconds(1))
            }
            try #require(started.load(ordering: .sequentiallyConsistent) && pool.isSaturated, "the holder's job never ran")
            let auditBefore = try await f.count("SELECT count(*) FROM audit_events")
            for userID in ["helpdesk01", "nobody01"] {
                await #expect(throws: PasswordHashingError.overloaded(queued: 0)) {
                    try await credentials.login(userID: userID, password: "whatever it is")
                }
            }
            #expect(try await f.count("SELECT count(*) FROM audit_events") == auditBefore)
            #expect(try await f.count("SELECT count(*) FROM login_throttle") == 0, "refused before any attempt was counted")
            release.signal()
            _ = try await holder.value
            // The worker frees its place just after the job's result is handed back.
            let deadline = ContinuousClock.now + .seconds(5)
            while pool.isSaturated, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            #expect(try await credentials.login(userID: "helpdesk01", password: "whatever it is").code == "invalid_credentials")
            pool.shutDown()
        }
    }
}

extension LoginOutcome {
    /// The token of an `ok` login, nil for any other outcome (for `#require`).
    var sessionToken: SessionToken? {
        if case .ok(let token, _) = self { return token }
        return nil
    }

    /// The token of a login that must change the password first, nil otherwise.
    var changeToken: SessionToken? {
        if case .passwordChangeRequired(let token, _) = self { return token }
        return nil
    }
}
