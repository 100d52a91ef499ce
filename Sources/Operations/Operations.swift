import Accounts
import Foundation
import Audit
import Federation
import Gate
import Postgres
import Provisioning

/// The use-cases of spse-accounts, one method each, shared by every door (HTTP, CLI, console).
/// Each takes the authenticated `Caller` and the input as the door received it, and always works
/// in the same order: authorize (role, then ownership) → validate the input into typed values →
/// let the domain decide (the gate's pure state machine) → expensive work (Argon2) → effects in
/// one transaction with their audit row. A door only translates and maps errors.
public struct Operations: Sendable {
    let pool: ConnectionPool
    let directory: AccountDirectory
    let credentials: Credentials
    let gate: GateService
    let provisioner: Provisioner
    let federation: Federation
    let audit: AuditTrail
    let clock: ServiceClock
    let loginBudget: AddressBudget
    let documentRetention: TimeInterval
    /// What the public door's anonymous requesters may spend.
    let publicBudget: PublicBudget

    public init(pool: ConnectionPool, directory: AccountDirectory, credentials: Credentials, gate: GateService,
                provisioner: Provisioner, federation: Federation, audit: AuditTrail, clock: ServiceClock, loginBudget: AddressBudget,
                documentRetention: TimeInterval = 1825 * 86_400, publicLimits: PublicBudget.Limits = PublicBudget.Limits()) {
        self.documentRetention = documentRetention
        self.publicBudget = PublicBudget(pool: pool, limits: publicLimits)
        self.loginBudget = loginBudget
        self.pool = pool
        self.directory = directory
        self.credentials = credentials
        self.gate = gate
        self.provisioner = provisioner
        self.federation = federation
        self.audit = audit
        self.clock = clock
    }

    /// The largest document the gate stores (doors stop reading a body past it).
    public var documentLimit: Int { gate.documentLimit }

    /// The service's clock (injected): every door reads "now" here, never `Date()`.
    public var now: Date { clock.now }

    /// What `/metrics` shows of the service, on the same clock as every step: open steps and
    /// breaches of the last day by step, the outbox, and the hashing queue.
    public func serviceGauges() async throws -> ServiceGauges {
        let counts = try await gate.stepCounts(breachesSince: clock.now.addingTimeInterval(-86_400))
        let outbox = try await gate.outboxCounts()
        return ServiceGauges(openByStep: counts.open, breachesByStep: counts.breaches, outbox: outbox,
                             hashQueueDepth: credentials.hashQueueDepth)
    }
}

public struct ServiceGauges: Sendable {
    public let openByStep: [Int: Int]
    public let breachesByStep: [Int: Int]
    public let outbox: (pending: Int, failed: Int)
    public let hashQueueDepth: Int
}
