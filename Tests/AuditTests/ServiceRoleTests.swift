import Accounts
import Audit
import Operations
import Foundation
import Postgres
import Testing
import TestSupport

@Suite("The service's database role")
struct ServiceRoleTests {
    @Test("a member of spse_service runs the service but cannot alter the schema or the audit trail")
    func serviceRole() async throws {
        try await AccountsFixture.with { f in
            // A login role of this test's own, member of spse_service (roles are cluster-wide).
            let login = "spse_app_\(f.database.name.suffix(8))"
            try await f.pool.withConnection { try await $0.executeScript("CREATE ROLE \(login) LOGIN IN ROLE spse_service") }
            let service = ConnectionPool(configuration: f.database.configuration.with(user: login), maxConnections: 2)
            do {
                // The service's own work goes through: create, reset, login, audit.
                let graph = try await ServiceGraph.make(testSettings(), pool: service, clock: f.clock.serviceClock, hashingPool: sharedPool)
                let (directory, credentials) = (graph.directory, graph.credentials)
                let account = try await directory.create(
                    NewAccount(userID: try UserID("helpdesk01"), role: .helpdesk, fullName: try FullName("Sekar Ayu"), nip: nil,
                               email: try EmailAddress("sekar@purbalinggakab.go.id"), agency: try Agency("Diskominfo")),
                    by: f.admin)
                let prepared = try await credentials.prepareTemporaryPassword()
                try await service.withTransaction { connection in
                    try await credentials.installTemporaryPassword(prepared, accountID: account.id, userID: account.userID.value, actor: "admin.ppe", requestID: nil, on: connection)
                }
                #expect(try await credentials.login(userID: "helpdesk01", password: prepared.password.reveal).code == "password_change_required")

                for statement in [
                    "UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events", "ALTER TABLE audit_events DISABLE TRIGGER ALL",
                    "DROP TABLE accounts", "ALTER TABLE accounts ADD COLUMN x int", "CREATE TABLE mine (x int)", "UPDATE sla_standards SET minutes = 99",
                ] {
                    let error = await #expect(throws: PostgresError.self, "\(statement)") {
                        try await service.withConnection { try await $0.executeScript(statement) }
                    }
                    #expect(error?.sqlState == .insufficientPrivilege, "\(statement): \(String(describing: error))")
                }
                await service.shutdown()
            } catch {
                await service.shutdown()
                throw error
            }
            try await f.pool.withConnection { try await $0.executeScript("DROP OWNED BY \(login); DROP ROLE \(login)") }
        }
    }
}
