import Foundation
import Accounts
import Audit
import Federation
import Gate
import PasswordHashing
import Postgres
import Provisioning
import ServiceLifecycle

/// The services of spse-accounts wired together once — pool → audit → directory → credentials →
/// gate → provisioner → operations — by the one constructor that `serve`, the CLI, the tests
/// and `spse-bench` share. Only what varies between them is a parameter: the settings, and for
/// tests the clock, a pool of their own and the gate's crash hooks.
public struct ServiceGraph: Sendable {
    public let settings: Settings
    public let pool: ConnectionPool
    public let hashingPool: HashingPool
    public let audit: AuditTrail
    public let clock: ServiceClock
    public let directory: AccountDirectory
    public let credentials: Credentials
    /// Seals TOTP secrets and the sealed half of a temporary password (key outside the database).
    public let secrets: SecretBox
    public let gate: GateService
    public let provisioner: Provisioner
    public let federation: Federation
    public let operations: Operations

    public static func make(
        _ settings: Settings, pool: ConnectionPool? = nil, clock: ServiceClock = .system, randomBytes: RandomBytes = .system,
        hashWait: (@Sendable (Duration) -> Void)? = nil, hashingPool: HashingPool? = nil, gateHooks: GateHooks = GateHooks()
    ) async throws -> ServiceGraph {
        let pool = pool ?? settings.servicePool()
        let hashingPool = hashingPool
            ?? HashingPool(queueLimit: settings.hashQueueLimit, admissionWait: settings.hashAdmissionWait, waitObserver: hashWait)
        let hasher = try PasswordHasher(parameters: settings.argon2, pool: hashingPool, randomBytes: randomBytes)
        let audit = AuditTrail()
        // A deployment (a key file configured) checks that its key and delivery mode are the
        // database's before anything is served; tests run with a key of their own and skip it.
        let secrets: SecretBox
        if let path = settings.secretsKeyFile {
            secrets = try await DeploymentFacts.secretsKey(at: path, pool: pool, now: clock.now)
            try await DeploymentFacts.agreeOnSealedDelivery(settings.sealedDelivery, pool: pool, now: clock.now)
        } else {
            secrets = .ephemeral()
        }
        let credentials = try await Credentials(
            pool: pool, hasher: hasher, policy: try PasswordPolicy.standard(minimumLength: settings.passwordMinimumLength),
            settings: settings.credentials, clock: clock, randomBytes: randomBytes, audit: audit,
            secrets: secrets)
        let directory = AccountDirectory(pool: pool, audit: audit, clock: clock)
        let gate = GateService(
            pool: pool, credentials: credentials, audit: audit, clock: clock, documentLimit: settings.documentMaxBytes, hooks: gateHooks,
            directory: directory, abandonAfter: TimeInterval(settings.abandonAfterDays) * 86_400,
            sealedDelivery: settings.sealedDelivery ? secrets : nil)
        let provisioner = Provisioner(pool: pool, directory: directory, credentials: credentials)
        let federation = Federation(pool: pool, clock: clock, secrets: secrets, audit: audit, randomBytes: randomBytes,
                                    settings: Federation.Settings(issuer: settings.issuer))
        return ServiceGraph(
            settings: settings, pool: pool, hashingPool: hashingPool, audit: audit, clock: clock, directory: directory,
            credentials: credentials, secrets: secrets, gate: gate, provisioner: provisioner, federation: federation,
            operations: Operations(
                pool: pool, directory: directory, credentials: credentials, gate: gate, provisioner: provisioner, federation: federation,
                audit: audit, clock: clock,
                loginBudget: AddressBudget(pool: pool, burst: settings.loginBurst, perMinute: settings.loginPerMinute),
                documentRetention: TimeInterval(settings.documentRetentionDays) * 86_400, publicLimits: settings.publicLimits))
    }

    /// The pools as services of a `ServiceGroup`: they close when the group shuts down, after
    /// the services that use them (a group stops its services in reverse order, so put these first).
    public var lifecycleServices: [any Service] {
        [PoolService(name: "database pool") { await pool.shutdown() }, PoolService(name: "hashing pool") { hashingPool.shutDown() }]
    }

    /// Closes both pools, for commands that run without a service group.
    public func shutdown() async {
        hashingPool.shutDown()
        await pool.shutdown()
    }
}

/// A pool as a lifecycle service: waits for graceful shutdown, then closes the pool.
struct PoolService: Service, CustomStringConvertible {
    let name: String
    let close: @Sendable () async -> Void

    func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    var description: String { name }
}
