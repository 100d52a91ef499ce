import Accounts
import Audit
import Foundation
import Inputs
import Operations
import Testing
import TestSupport

@Suite("My account: one's own sessions, and the audit trail's filters")
struct MyAccountTests {
    /// Signs `userID` in once more: a second device.
    static func signIn(_ f: OperationsFixture, _ userID: String) async throws -> SessionToken {
        guard case .ok(let token, _) = try await f.operations.login(userID: userID, password: OperationsFixture.password) else {
            throw TestSetupError("\(userID) could not log in")
        }
        return token
    }

    @Test("my account lists my live sessions, the asking one first; another's sessions never show")
    func listsOwnSessions() async throws {
        try await OperationsFixture.with { f in
            let laptop = try await Self.signIn(f, "helpdesk01")
            let before = try await f.operations.myAccount(token: laptop).sessions.count  // with the fixture's own sign-ins
            f.accounts.clock.advance(60)
            let phone = try await Self.signIn(f, "helpdesk01")
            _ = try await Self.signIn(f, "helpdesk02")
            let mine = try await f.operations.myAccount(token: laptop)
            #expect(mine.account.userID.value == "helpdesk01")
            #expect(mine.sessions.count == before + 1)
            #expect(mine.sessions.first?.isCurrent == true)
            #expect(mine.sessions.filter(\.isCurrent).count == 1)
            #expect(mine.sessions.allSatisfy { $0.handle.count == 16 && $0.handle.allSatisfy(\.isHexDigit) })
            #expect(mine.signIn.authenticatorConfirmedAt == nil)
            let fromPhone = try await f.operations.myAccount(token: phone)
            #expect(Set(fromPhone.sessions.map(\.handle)) == Set(mine.sessions.map(\.handle)))
            #expect(fromPhone.sessions.first?.handle != mine.sessions.first?.handle)
        }
    }

    @Test("ending one other session signs that device out at once; the asking session and other accounts' sessions cannot be ended by handle")
    func endsOneSession() async throws {
        try await OperationsFixture.with { f in
            let laptop = try await Self.signIn(f, "helpdesk01")
            let phone = try await Self.signIn(f, "helpdesk01")
            let stranger = try await Self.signIn(f, "helpdesk02")
            let phoneHandle = try #require(try await f.operations.myAccount(token: phone).sessions.first?.handle)
            let laptopHandle = try #require(try await f.operations.myAccount(token: laptop).sessions.first?.handle)
            let strangerHandle = try #require(try await f.operations.myAccount(token: stranger).sessions.first?.handle)

            await #expect(throws: AccountsError.sessionNotFound) { try await f.operations.endOtherSessions(laptopHandle, token: laptop) }
            await #expect(throws: AccountsError.sessionNotFound) { try await f.operations.endOtherSessions(strangerHandle, token: laptop) }
            for malformed in ["", "xyz", String(repeating: "0", count: 17), "0123456789ABCDEF", "0123456789abcde\u{0}", "'; DROP TABLE sessions; --"] {
                await #expect(throws: AccountsError.sessionNotFound) { try await f.operations.endOtherSessions(malformed, token: laptop) }
            }
            _ = try await f.operations.myAccount(token: stranger)  // nothing of theirs ended

            #expect(try await f.operations.endOtherSessions(phoneHandle, token: laptop) == 1)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.operations.myAccount(token: phone) }
            _ = try await f.operations.myAccount(token: laptop)
            await #expect(throws: AccountsError.sessionNotFound) { try await f.operations.endOtherSessions(phoneHandle, token: laptop) }
            #expect(try await f.accounts.count(
                "SELECT count(*) FROM audit_events WHERE action = 'session.end' AND actor = 'helpdesk01' AND details->>'ended' = '1'") == 1)
        }
    }

    @Test("signing out everywhere else ends every other session of mine, keeps this one and is audited with the count")
    func endsAllOthers() async throws {
        try await OperationsFixture.with { f in
            let laptop = try await Self.signIn(f, "helpdesk01")
            let others = [try await Self.signIn(f, "helpdesk01"), try await Self.signIn(f, "helpdesk01")]
            let stranger = try await Self.signIn(f, "helpdesk02")
            let live = try await f.operations.myAccount(token: laptop).sessions.count
            #expect(live >= 3)
            #expect(try await f.operations.endOtherSessions(nil, token: laptop) == live - 1)
            for token in others { await #expect(throws: AccountsError.sessionInvalid) { try await f.operations.myAccount(token: token) } }
            #expect(try await f.operations.myAccount(token: laptop).sessions.count == 1)
            _ = try await f.operations.myAccount(token: stranger)
            #expect(try await f.operations.endOtherSessions(nil, token: laptop) == 0)
            #expect(try await f.accounts.count(
                "SELECT count(*) FROM audit_events WHERE action = 'session.end' AND actor = 'helpdesk01' AND details->>'all_others' = 'true'") == 2)
            await #expect(throws: AccountsError.sessionInvalid) { try await f.operations.myAccount(token: SessionToken(presented: "no-such-token")) }
        }
    }

    @Test("the audit list filters by action family, subject and request, pages with `after`, and refuses a bad cursor")
    func auditFilters() async throws {
        try await OperationsFixture.with { f in
            let request = try await f.request(approved: true)
            _ = try await f.operations.login(userID: "helpdesk01", password: "salah sekali passwordnya")
            f.accounts.clock.advance(1)
            let logins = try await f.operations.auditRecords(AuditForm(action: "login"), limit: 1000, export: false, by: f.auditor)
            #expect(logins.contains { $0.action == "login.success" } && logins.contains { $0.action == "login.failure" })
            #expect(logins.allSatisfy { $0.action.hasPrefix("login.") })
            // A family is a whole first word: "log" is not "logout" nor "login.*".
            #expect(try await f.operations.auditRecords(AuditForm(action: "log"), limit: 1000, export: false, by: f.auditor).isEmpty)
            let underRequest = try await f.operations.auditRecords(AuditForm(request: request.number), limit: 1000, export: false, by: f.auditor)
            #expect(!underRequest.isEmpty && underRequest.allSatisfy { $0.requestID == request.number })
            let aboutHelpdesk = try await f.operations.auditRecords(AuditForm(subject: "helpdesk01"), limit: 1000, export: false, by: f.auditor)
            #expect(!aboutHelpdesk.isEmpty && aboutHelpdesk.allSatisfy { $0.subject == "helpdesk01" })

            let all = try await f.operations.auditRecords(AuditForm(), limit: 1000, export: false, by: f.auditor)
            let first = try await f.operations.auditRecords(AuditForm(), limit: 5, export: false, by: f.auditor)
            let second = try await f.operations.auditRecords(AuditForm(after: String(try #require(first.last).id)), limit: 5, export: false, by: f.auditor)
            #expect(first.map(\.id) == Array(all.prefix(5)).map(\.id))
            #expect(second.map(\.id) == Array(all.dropFirst(5).prefix(5)).map(\.id))
            for bad in ["-1", "1.5", "abc", "99999999999999999999", "9223372036854775808", "1\u{0}"] {
                await #expect(throws: InputError.self) { try await f.operations.auditRecords(AuditForm(after: bad), limit: 5, export: false, by: f.auditor) }
            }
        }
    }
}
