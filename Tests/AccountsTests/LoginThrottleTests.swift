import Accounts
import Foundation
import Operations
import PasswordHashing
import Postgres
import Testing
import TestSupport

@Suite("Login throttle: atomic, the same for unknown user IDs, per address and per user ID")
struct LoginThrottleTests {
    static let own = "kopi tubruk di alun-alun"

    @Test("30 parallel wrong guesses are not all verified, and a correct password sent after them is refused")
    func parallelGuesses() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: Self.own)
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<29 {
                    group.addTask { try await f.credentials.login(userID: "helpdesk01", password: "tebakan salah", from: "203.0.113.9").code }
                }
                // The correct password arrives once the budget is taken by guesses being verified.
                while try await f.count("SELECT count(*) FROM login_throttle WHERE key LIKE 'p:%' AND (failures >= 5 OR locked_until IS NOT NULL)") == 0 {
                    try await Task.sleep(for: .milliseconds(2))
                }
                group.addTask { try await f.credentials.login(userID: "helpdesk01", password: Self.own, from: "203.0.113.9").code + " (correct)" }
                var all: [String] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == "invalid_credentials" }.count == 5, "only the budget's 5 guesses were verified: \(outcomes)")
            #expect(outcomes.filter { $0 == "locked" }.count == 24)
            #expect(outcomes.contains("locked (correct)"))
        }
    }

    @Test("an unknown user ID gets the same answers in the same order as a real one")
    func noEnumeration() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.helpdesk()
            var real: [String] = []
            var unknown: [String] = []
            for _ in 0..<7 {
                real.append(try await f.credentials.login(userID: "helpdesk01", password: "tebakan salah", from: "203.0.113.9").code)
                unknown.append(try await f.credentials.login(userID: "helpdesk99", password: "tebakan salah", from: "203.0.113.9").code)
            }
            #expect(real == ["invalid_credentials", "invalid_credentials", "invalid_credentials", "invalid_credentials", "invalid_credentials", "locked", "locked"])
            #expect(unknown == real)
            // Neither user ID is stored in clear.
            #expect(try await f.count("SELECT count(*) FROM login_throttle WHERE key LIKE '%helpdesk%'") == 0)
        }
    }

    @Test("guesses from one address do not lock the user out at another; the 100th failure from all addresses locks everywhere")
    func perAddressAndPerUser() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: Self.own)
            for _ in 0..<6 { _ = try await f.credentials.login(userID: "helpdesk01", password: "tebakan salah", from: "203.0.113.9") }
            #expect(try await f.credentials.login(userID: "helpdesk01", password: Self.own, from: "203.0.113.9").code == "locked")
            #expect(try await f.credentials.login(userID: "helpdesk01", password: Self.own, from: "198.51.100.7").code == "ok",
                    "the real user at their own address is not locked out by the attacker's guesses")

            var settings = testSettings()
            settings.credentials.failuresBeforeAccountLock = 8
            let strict = try await ServiceGraph.make(settings, pool: f.pool, clock: f.clock.serviceClock, hashingPool: sharedPool).credentials
            for address in ["192.0.2.1", "192.0.2.2"] {
                for _ in 0..<4 { #expect(try await strict.login(userID: "helpdesk01", password: "tebakan salah", from: address).code == "invalid_credentials") }
            }
            #expect(try await strict.login(userID: "helpdesk01", password: Self.own, from: "198.51.100.7").code == "locked")
            #expect(try await f.directory.show(try UserID("helpdesk01"), by: f.admin, reason: "test").lockedUntil != nil,
                    "the account shows the lock from every address")
            try await f.directory.unlock(try UserID("helpdesk01"), by: f.admin)
            #expect(try await strict.login(userID: "helpdesk01", password: Self.own, from: "198.51.100.7").code == "ok")
        }
    }

    @Test("a stolen session gets no more current-password guesses than a login")
    func changePasswordThrottled() async throws {
        try await AccountsFixture.with { f in
            let (_, temporary) = try await f.helpdesk()
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: Self.own)
            let token = try #require(try await f.credentials.login(userID: "helpdesk01", password: Self.own).sessionToken)
            for _ in 0..<5 {
                await #expect(throws: AccountsError.invalidCredentials) {
                    try await f.credentials.changePassword(token: token, current: "tebakan salah", new: "nasi goreng kambing enak", from: "203.0.113.9")
                }
            }
            await #expect(throws: AccountsError.throttled(retryAfter: 60)) {
                try await f.credentials.changePassword(token: token, current: Self.own, new: "nasi goreng kambing enak", from: "203.0.113.9")
            }
        }
    }

    @Test("a reset puts the replaced password into the history; the e-mail's local part is a context word")
    func historyAndEmail() async throws {
        try await AccountsFixture.with { f in
            let (account, temporary) = try await f.helpdesk(email: "mawar.melati@purbalinggakab.go.id")
            _ = try await f.firstLogin("helpdesk01", temporary: temporary, password: Self.own)
            let reset = try await f.reset(account)
            let token = try #require(try await f.credentials.login(userID: "helpdesk01", password: reset.reveal).changeToken)
            await #expect(throws: AccountsError.passwordPolicy(rule: "history", detail: "must differ from your last 5 passwords")) {
                try await f.credentials.changePassword(token: token, current: reset.reveal, new: Self.own)
            }
            await #expect {
                try await f.credentials.changePassword(token: token, current: reset.reveal, new: "mawar.melati selamanya")
            } throws: { error in
                if case .passwordPolicy(let rule, _) = error as? AccountsError { return rule == "context" }
                return false
            }
            try await f.credentials.changePassword(token: token, current: reset.reveal, new: "nasi goreng kambing enak")
        }
    }

    @Test("a login refused for load after its attempt was reserved gives the attempt back: overload never locks anyone")
    func overloadReleasesReservation() async throws {
        try await AccountsFixture.with { f in
            _ = try await f.helpdesk()
            let hashing = HashingPool(width: 1, queueLimit: 0, admissionWait: .milliseconds(30))
            let credentials = try await ServiceGraph.make(testSettings(), pool: f.pool, clock: f.clock.serviceClock, hashingPool: hashing).credentials
            let release = DispatchSemaphore(value: 0)
            let holder = Task { try await hashing.run { release.wait(); return 0 } }
            while hashing.queueDepth == 0 && !hashing.isSaturated {
                if (try? await hashing.run { 0 }) == nil { break }  // the worker is taken once a job can no longer run at once
            }
            for _ in 0..<6 {
                await #expect(throws: PasswordHashingError.self) {
                    try await credentials.login(userID: "helpdesk01", password: "kata sandi", from: "203.0.113.9")
                }
            }
            #expect(try await f.count("SELECT coalesce(max(failures), 0) FROM login_throttle") == 0)
            release.signal()
            _ = try await holder.value
            #expect(try await credentials.login(userID: "helpdesk01", password: "kata sandi", from: "203.0.113.9").code == "invalid_credentials")
            hashing.shutDown()
        }
    }
}
