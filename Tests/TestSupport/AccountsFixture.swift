import Accounts
import Audit
import Foundation
import Migrations
import Operations
import PasswordHashing
import Postgres
import Synchronization

public let projectMigrations: Migrator = {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sql").standardized
    return Migrator(migrations: (try? Migration.load(from: directory)) ?? [])
}()

/// Cheap Argon2 for behaviour tests: a configuration, not a fake.
public let cheapArgon2 = Argon2Parameters(memoryKiB: 64, iterations: 1, parallelism: 1)
public let sharedPool = HashingPool(queueLimit: 4096)
/// The shipped password policy (its list read once per use; a missing list fails the test, not the run).
public func standardPolicy() throws -> PasswordPolicy { try PasswordPolicy.standard() }

/// The service's settings for a test: defaults, with cheap Argon2 unless `parameters` says otherwise.
public func testSettings(_ parameters: Argon2Parameters = cheapArgon2, operatorTOTP: Bool = false) -> Settings {
    var settings = Settings()
    settings.argon2 = parameters
    settings.readinessDeadline = .seconds(10)  // a test machine under load opens a first connection slowly
    // The second factor is the subject of its own tests; elsewhere operators sign in with a password.
    settings.secretsKeyFile = nil
    if !operatorTOTP { settings.credentials.totpRequiredRoles = [] }
    return settings
}

/// A clock the test moves by hand.
public final class SettableClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_795_482_000))  // 2026-11-24 01:00 UTC
    public init() {}
    public var now: Date { current.withLock { $0 } }
    public func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    public var serviceClock: ServiceClock { ServiceClock { self.now } }
}

/// A migrated throwaway database with the account services wired to it.
public struct AccountsFixture: Sendable {
    public let database: TestDatabase
    public let pool: ConnectionPool
    public let clock = SettableClock()
    public let graph: ServiceGraph
    public var directory: AccountDirectory { graph.directory }
    public var credentials: Credentials { graph.credentials }
    public var operations: Operations { graph.operations }
    public let admin: Operator
    public let staf: Operator

    public static func with(parameters: Argon2Parameters = cheapArgon2, _ body: (AccountsFixture) async throws -> Void) async throws {
        try await TestDatabase.with(prefix: "acc", migratedBy: projectMigrations) { database in
            let fixture = try await AccountsFixture(database: database, parameters: parameters)
            do {
                try await body(fixture)
                await fixture.pool.shutdown()
            } catch {
                await fixture.pool.shutdown()
                throw error
            }
        }
    }

    public init(database: TestDatabase, parameters: Argon2Parameters) async throws {
        self.database = database
        admin = Operator(userID: try UserID("admin.ppe"), role: .adminPPE)
        staf = Operator(userID: try UserID("staf.adm"), role: .stafAdministrasi)
        pool = ConnectionPool(configuration: database.configuration, maxConnections: 6)
        try await pool.withConnection { try await projectMigrations.migrate(on: $0) }
        graph = try await ServiceGraph.make(testSettings(parameters), pool: pool, clock: clock.serviceClock, hashingPool: sharedPool)
    }

    /// Creates an account and gives it a temporary password, as SOP step 6 will.
    public func helpdesk(_ userID: String = "helpdesk01", name: String = "Sekar Ayu Wulandari", nip: String? = "196102251986031010",
                  email: String? = nil) async throws -> (Account, TemporaryPassword) {
        let account = try await directory.create(
            NewAccount(userID: try UserID(userID), role: .helpdesk, fullName: try FullName(name), nip: try nip.map { try NIP($0) },
                       email: try EmailAddress(email ?? "\(userID)@purbalinggakab.go.id"), agency: try Agency("Dinas Komunikasi dan Informatika")),
            by: admin)
        let temporary = try await reset(account)
        return (account, temporary)
    }

    public func reset(_ account: Account) async throws -> TemporaryPassword {
        let prepared = try await credentials.prepareTemporaryPassword()
        try await pool.withTransaction { connection in
            try await credentials.installTemporaryPassword(prepared, accountID: account.id, userID: account.userID.value, actor: admin.userID.value, requestID: "REQ-2026-000001", on: connection)
        }
        return prepared.password
    }

    /// Logs in with the temporary password and sets `password` as the user's own.
    public func firstLogin(_ userID: String, temporary: TemporaryPassword, password: String) async throws -> SessionToken {
        guard case .passwordChangeRequired(let token, _) = try await credentials.login(userID: userID, password: temporary.reveal) else {
            throw TestSetupError("expected password_change_required")
        }
        try await credentials.changePassword(token: token, current: temporary.reveal, new: password)
        return token
    }

    public func count(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> Int {
        try await pool.withConnection { try await $0.query(sql, parameters).first?.decode(Int.self, at: 0) ?? -1 }
    }
}
