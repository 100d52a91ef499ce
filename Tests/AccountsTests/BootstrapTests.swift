import Accounts
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("Bootstrap and client limits")
struct BootstrapTests {
    @Test("bootstrap creates the first admin_ppe with a temporary password, and refuses once one exists")
    func bootstrap() async throws {
        try await AccountsFixture.with { f in
            let bootstrap = Bootstrap(pool: f.pool, directory: f.directory, credentials: f.credentials)
            let (account, temporary, expiresAt) = try await bootstrap.createFirstAdmin(
                userID: try UserID("admin.ppe"), fullName: try FullName("Budi Santoso"), email: try EmailAddress("budi@purbalinggakab.go.id"),
                agency: try Agency("LPSE Kabupaten Purbalingga"), nip: nil)
            #expect(account.role == .adminPPE)
            #expect(expiresAt == f.clock.now.addingTimeInterval(72 * 3600))
            #expect(try await f.credentials.login(userID: "admin.ppe", password: temporary.reveal).code == "password_change_required")
            await #expect(throws: AccountsError.bootstrapRefused) {
                try await bootstrap.createFirstAdmin(
                    userID: try UserID("admin.two"), fullName: try FullName("Second"), email: try EmailAddress("two@purbalinggakab.go.id"),
                    agency: try Agency("LPSE Kabupaten Purbalingga"), nip: nil)
            }
            #expect(try await f.count("SELECT count(*) FROM accounts") == 1)
        }
    }

    @Test("the per-address budget, kept in PostgreSQL, admits a burst, answers with a retry time, refills, and is one for every instance")
    func addressBudget() async throws {
        try await AccountsFixture.with { (f: AccountsFixture) async throws in
            let budget = AddressBudget(pool: f.pool, burst: 3, perMinute: 6)
            // A second instance: its own pool, the same database.
            let otherPool = ConnectionPool(configuration: f.database.configuration, maxConnections: 1)
            let other = AddressBudget(pool: otherPool, burst: 3, perMinute: 6)
            let start = Date(timeIntervalSince1970: 1_795_482_000)
            #expect(try await budget.admit("10.0.0.7", at: start) == nil)
            #expect(try await other.admit("10.0.0.7", at: start) == nil)
            #expect(try await budget.admit("10.0.0.7", at: start) == nil)
            #expect(try await other.admit("10.0.0.7", at: start) == 10, "the other instance sees the same spent budget")
            #expect(try await budget.admit("10.0.0.8", at: start) == nil, "other addresses are not affected")
            #expect(try await budget.admit("10.0.0.7", at: start.addingTimeInterval(10)) == nil, "refilled one token in 10 s")
            #expect(try await budget.admit("10.0.0.7", at: start.addingTimeInterval(-60)) != nil, "a clock that steps back refills nothing")
            await otherPool.shutdown()
        }
    }
}
