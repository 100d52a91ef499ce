import Accounts
import Foundation
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

    @Test("the per-address limiter admits a burst, then answers with a retry time, and refills")
    func clientLimiter() {
        let limiter = ClientAddressLimiter(burst: 3, perMinute: 6)
        let start = Date(timeIntervalSince1970: 1_795_482_000)
        for _ in 0..<3 { #expect(limiter.admit("10.0.0.7", at: start) == nil) }
        #expect(limiter.admit("10.0.0.7", at: start) == 10)
        #expect(limiter.admit("10.0.0.8", at: start) == nil, "other addresses are not affected")
        #expect(limiter.admit("10.0.0.7", at: start.addingTimeInterval(10)) == nil)
        let bounded = ClientAddressLimiter(burst: 1, perMinute: 1, maxAddresses: 10)
        for n in 0..<50 { _ = bounded.admit("host\(n)", at: start.addingTimeInterval(Double(n))) }
        #expect(bounded.admit("host49", at: start.addingTimeInterval(50)) != nil, "recent addresses are remembered")
        #expect(bounded.admit("host0", at: start.addingTimeInterval(50)) == nil, "the idlest were forgotten")
    }
}
