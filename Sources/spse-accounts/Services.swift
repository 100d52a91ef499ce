import Accounts
import Audit
import Foundation
import Gate
import PasswordHashing
import Postgres

/// The account services wired from the environment, for commands that act on accounts.
struct Services {
    let pool: ConnectionPool
    let directory: AccountDirectory
    let credentials: Credentials
    let gate: GateService

    static func make(pool: ConnectionPool, environment: [String: String], hashWait: (@Sendable (Duration) -> Void)? = nil) async throws -> Services {
        let parameters = try Argon2Parameters(environment: environment)
        // About a second of Argon2 work per core may queue; beyond that a login waits for room
        // (below) and then gets a 503, instead of queueing towards a client's timeout
        // (measured by `spse-bench login-flood`).
        let queueLimit = environment["SPSE_HASH_QUEUE_LIMIT"].flatMap { Int($0) } ?? 32 * ProcessInfo.processInfo.activeProcessorCount
        // A login that finds the queue full waits up to this long for room before its 503, so a
        // client that ignores Retry-After is paced instead of re-sending thousands of times a second.
        let admissionWaitText = environment["SPSE_HASH_ADMISSION_WAIT_MS"] ?? "1000"
        guard let admissionWait = Int(admissionWaitText), (0...60_000).contains(admissionWait) else {
            throw PasswordHashingError.invalidParameters("SPSE_HASH_ADMISSION_WAIT_MS must be 0 to 60000 milliseconds, not \(admissionWaitText)")
        }
        let hasher = try PasswordHasher(
            parameters: parameters,
            pool: HashingPool(queueLimit: queueLimit, admissionWait: .milliseconds(admissionWait), waitObserver: hashWait))
        let clock = ServiceClock.system
        let audit = AuditTrail()
        let credentials = try await Credentials(
            pool: pool, hasher: hasher, policy: try PasswordPolicy.standard(environment: environment),
            settings: try CredentialSettings(environment: environment), clock: clock, audit: audit)
        let documentLimit = environment["SPSE_DOCUMENT_MAX_BYTES"].flatMap { Int($0) } ?? 10 * 1024 * 1024
        return Services(
            pool: pool, directory: AccountDirectory(pool: pool, audit: audit, clock: clock), credentials: credentials,
            gate: GateService(pool: pool, credentials: credentials, audit: audit, clock: clock, documentLimit: documentLimit))
    }
}
