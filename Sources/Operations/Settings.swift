import Accounts
import Foundation
import Gate
import PasswordHashing
import Postgres
import SMTPSender

/// A setting whose value the service refuses: startup stops with the variable's name and what it
/// accepts (never the value: it may be a secret).
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let variable: String
    public let accepts: String
    public var description: String { "\(variable) must be \(accepts)" }
}

/// Every setting of the service, read once from the environment and typed. Nothing else reads
/// `SPSE_*`; an unset variable takes its default, a bad one stops startup.
public struct Settings: Sendable {
    public var database: ConnectionConfiguration
    public var maxConnections = 8
    /// Longest a statement of the service may run (`SPSE_DB_STATEMENT_TIMEOUT_MS`); 0: no limit.
    public var statementTimeout = Duration.milliseconds(10_000)
    /// Longest a request waits for a free connection (`SPSE_DB_ACQUIRE_TIMEOUT_MS`).
    public var acquireTimeout = Duration.milliseconds(3_000)
    public var migrationsDirectory: String?
    public var host = "127.0.0.1"
    public var port = 8080
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (`SPSE_TRUSTED_PROXIES`,
    /// addresses or CIDR ranges, comma-separated); nobody else's are believed.
    public var trustedProxies: [AddressRange] = []
    /// PEM certificate chain and private key: `serve` speaks HTTPS itself (`SPSE_TLS_CERT_FILE`, `SPSE_TLS_KEY_FILE`).
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    /// Plain HTTP on an address other than loopback, for a proxy that terminates TLS on another
    /// host (`SPSE_ALLOW_PLAIN_HTTP=true`); refused otherwise, so passwords never cross a network in clear by accident.
    public var allowPlainHTTP = false
    /// `/readyz` answers within this, whatever the pool and the database are doing (not a variable:
    /// a probe's timeout is the orchestrator's; tests on a loaded machine give it more).
    public var readinessDeadline = Duration.seconds(1)
    /// trace … critical (swift-log's names).
    public var logLevel = "info"
    public var argon2 = Argon2Parameters.owasp
    /// About a fifth of a second of Argon2 work per core may queue (12 ms a hash with the AVX-512
    /// fill code at OWASP parameters): at N = 512 this halved the login p99 of a queue twice as
    /// long at the same logins/s (`spse-bench login`, docs/BENCHMARKS.md).
    public var hashQueueLimit = 16 * ProcessInfo.processInfo.activeProcessorCount
    /// How long a login that finds the queue full waits for room before its 503, so a client that
    /// ignores Retry-After is paced instead of re-sending thousands of times a second.
    public var hashAdmissionWait = Duration.milliseconds(1000)
    public var credentials = CredentialSettings()
    public var passwordMinimumLength = 12
    public var loginBurst = 20
    /// The public door's budgets (filings per address and e-mail a day, open online requests, tracking attempts an hour).
    public var publicLimits = PublicBudget.Limits()
    public var loginPerMinute = 30
    public var documentMaxBytes = 10 * 1024 * 1024
    public var jsonMaxBytes = 64 * 1024
    public var batchMaxBytes = 16 * 1024 * 1024
    /// After SIGTERM, how long `/readyz` answers 503 before the server stops accepting.
    public var drainPeriod = Duration.seconds(5)
    /// After the drain, how long in-flight work may take before it is cancelled.
    public var shutdownDeadline = Duration.seconds(30)
    public var noticeFile = ".data/notices.jsonl"
    /// `serve` signs a checkpoint of the audit chain's head every `auditCheckpointInterval` with
    /// the key in `auditKeyFile`, appended to `auditCheckpointFile` (all three: `SPSE_AUDIT_*`).
    public var auditKeyFile: String?
    public var auditCheckpointFile: String?
    public var auditCheckpointInterval = Duration.seconds(3600)
    public var noticeInterval = Duration.seconds(15)
    /// How often `serve` chains the audit rows committed since (`SPSE_AUDIT_SEAL_INTERVAL_MS`).
    public var auditSealInterval = Duration.milliseconds(200)
    /// How often serve delivers the back-channel logouts due (`SPSE_OIDC_LOGOUT_INTERVAL_MS`).
    public var logoutInterval = Duration.milliseconds(1000)
    /// The CA bundle back-channel logouts over https are verified with (`SPSE_OIDC_LOGOUT_CA_FILE`; default the system's).
    public var logoutCAFile: String?
    public var smtp: SMTPConfiguration?
    /// The console's cookies carry `Secure`: over TLS always; behind a TLS proxy when told
    /// (`SPSE_COOKIE_SECURE=true`).
    public var cookieSecure = false
    /// The 32-byte key that seals TOTP secrets (`SPSE_SECRETS_KEY_FILE`, made 0600 when missing
    /// and the database holds nothing sealed); by default in the service's state directory, never
    /// relative to the working directory. nil: a key for this process only (tests).
    public var secretsKeyFile: String?
    /// Step 6 splits a temporary password: the Admin PPE sees the first half, the second goes
    /// sealed to the e-mail address on file (`SPSE_SEALED_DELIVERY=true`; off: the SOP's hand-over).
    public var sealedDelivery = false
    public var secureCookies: Bool { cookieSecure || tlsCertificateFile != nil }
    /// A file left incomplete this many days is rejected by the service (SOP step 4 has no limit of its own).
    public var abandonAfterDays = 14
    /// Documents of a file archived this many days ago are purged by `request purge-documents`.
    public var documentRetentionDays = 1825
    /// The OpenID provider's issuer (`SPSE_OIDC_ISSUER`): the URL relying parties are configured
    /// with, exactly; by default this listener's own address.
    public var oidcIssuer: String?
    public var issuer: String { oidcIssuer ?? "http://\(host):\(port)" }

    /// The defaults, with the database from libpq's own variables.
    public init(database: ConnectionConfiguration = ConnectionConfiguration(conninfo: "")) {
        self.database = database
    }

    public init(environment: [String: String]) throws {
        let reader = Reader(environment: environment)
        self.init(database: .fromEnvironment(environment))
        maxConnections = try reader.int("SPSE_DB_MAX_CONNECTIONS", in: 1...1000) ?? maxConnections
        statementTimeout = .milliseconds(try reader.int("SPSE_DB_STATEMENT_TIMEOUT_MS", in: 0...3_600_000) ?? 10_000)
        acquireTimeout = .milliseconds(try reader.int("SPSE_DB_ACQUIRE_TIMEOUT_MS", in: 1...600_000) ?? 3_000)
        migrationsDirectory = reader.text("SPSE_MIGRATIONS_DIR")
        host = reader.text("SPSE_HOST") ?? host
        port = try reader.int("SPSE_PORT", in: 1...65535) ?? port
        trustedProxies = try reader.text("SPSE_TRUSTED_PROXIES").map { text in
            try text.split(separator: ",").map { item in
                guard let range = AddressRange(String(item)) else {
                    throw SettingsError(variable: "SPSE_TRUSTED_PROXIES", accepts: "IP addresses or CIDR ranges separated by commas")
                }
                return range
            }
        } ?? []
        tlsCertificateFile = reader.text("SPSE_TLS_CERT_FILE")
        tlsKeyFile = reader.text("SPSE_TLS_KEY_FILE")
        guard (tlsCertificateFile == nil) == (tlsKeyFile == nil) else {
            throw SettingsError(variable: tlsCertificateFile == nil ? "SPSE_TLS_CERT_FILE" : "SPSE_TLS_KEY_FILE",
                                accepts: "set together with \(tlsCertificateFile == nil ? "SPSE_TLS_KEY_FILE" : "SPSE_TLS_CERT_FILE")")
        }
        allowPlainHTTP = try reader.choice("SPSE_ALLOW_PLAIN_HTTP", ["true", "false"]).map { $0 == "true" } ?? false
        logLevel = try reader.choice("SPSE_LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"]) ?? logLevel
        argon2 = Argon2Parameters(
            memoryKiB: UInt32(try reader.int("SPSE_ARGON2_MEMORY_KIB", in: 8...4 * 1024 * 1024) ?? Int(argon2.memoryKiB)),
            iterations: UInt32(try reader.int("SPSE_ARGON2_ITERATIONS", in: 1...1000) ?? Int(argon2.iterations)),
            parallelism: UInt32(try reader.int("SPSE_ARGON2_PARALLELISM", in: 1...255) ?? Int(argon2.parallelism)))
        do { try argon2.validate() } catch {
            throw SettingsError(variable: "SPSE_ARGON2_MEMORY_KIB", accepts: "at least 8 KiB per lane (SPSE_ARGON2_PARALLELISM)")
        }
        hashQueueLimit = try reader.int("SPSE_HASH_QUEUE_LIMIT", in: 1...1_000_000) ?? hashQueueLimit
        hashAdmissionWait = .milliseconds(try reader.int("SPSE_HASH_ADMISSION_WAIT_MS", in: 0...60_000) ?? 1000)
        if let lifetime = try reader.duration("SPSE_TEMP_PASSWORD_TTL") { credentials.temporaryPasswordLifetime = lifetime }
        passwordMinimumLength = try reader.int("SPSE_PASSWORD_MIN_LENGTH", in: 8...128) ?? passwordMinimumLength
        loginBurst = try reader.int("SPSE_LOGIN_BURST", in: 1...100_000) ?? loginBurst
        loginPerMinute = try reader.int("SPSE_LOGIN_PER_MINUTE", in: 1...1_000_000) ?? loginPerMinute
        publicLimits.filingsPerAddress = try reader.int("SPSE_PUBLIC_FILINGS_PER_ADDRESS", in: 1...100_000) ?? publicLimits.filingsPerAddress
        publicLimits.filingsPerEmail = try reader.int("SPSE_PUBLIC_FILINGS_PER_EMAIL", in: 1...100_000) ?? publicLimits.filingsPerEmail
        publicLimits.openOnline = try reader.int("SPSE_PUBLIC_OPEN_REQUESTS", in: 1...1_000_000) ?? publicLimits.openOnline
        publicLimits.trackingPerRequest = try reader.int("SPSE_PUBLIC_TRACKING_PER_REQUEST", in: 1...100_000) ?? publicLimits.trackingPerRequest
        publicLimits.trackingPerAddress = try reader.int("SPSE_PUBLIC_TRACKING_PER_ADDRESS", in: 1...1_000_000) ?? publicLimits.trackingPerAddress
        documentMaxBytes = try reader.int("SPSE_DOCUMENT_MAX_BYTES", in: 1024...100 * 1024 * 1024) ?? documentMaxBytes
        jsonMaxBytes = try reader.int("SPSE_JSON_MAX_BYTES", in: 1024...10 * 1024 * 1024) ?? jsonMaxBytes
        batchMaxBytes = try reader.int("SPSE_BATCH_MAX_BYTES", in: 1024...1024 * 1024 * 1024) ?? batchMaxBytes
        drainPeriod = .seconds(try reader.int("SPSE_SHUTDOWN_DRAIN_SECONDS", in: 0...600) ?? 5)
        shutdownDeadline = .seconds(try reader.int("SPSE_SHUTDOWN_DEADLINE_SECONDS", in: 1...3600) ?? 30)
        noticeFile = reader.text("SPSE_NOTICE_FILE") ?? noticeFile
        auditKeyFile = reader.text("SPSE_AUDIT_KEY_FILE")
        auditCheckpointFile = reader.text("SPSE_AUDIT_CHECKPOINT_FILE")
        guard (auditKeyFile == nil) == (auditCheckpointFile == nil) else {
            throw SettingsError(variable: auditKeyFile == nil ? "SPSE_AUDIT_KEY_FILE" : "SPSE_AUDIT_CHECKPOINT_FILE",
                                accepts: "set together with \(auditKeyFile == nil ? "SPSE_AUDIT_CHECKPOINT_FILE" : "SPSE_AUDIT_KEY_FILE")")
        }
        auditCheckpointInterval = .seconds(try reader.int("SPSE_AUDIT_CHECKPOINT_INTERVAL", in: 1...86_400) ?? 3600)
        noticeInterval = .seconds(try reader.int("SPSE_NOTICE_INTERVAL", in: 1...86_400) ?? 15)
        auditSealInterval = .milliseconds(try reader.int("SPSE_AUDIT_SEAL_INTERVAL_MS", in: 10...60_000) ?? 200)
        logoutInterval = .milliseconds(try reader.int("SPSE_OIDC_LOGOUT_INTERVAL_MS", in: 50...600_000) ?? 1000)
        logoutCAFile = reader.text("SPSE_OIDC_LOGOUT_CA_FILE")
        smtp = try SMTPConfiguration.fromEnvironment(environment)
        abandonAfterDays = try reader.int("SPSE_ABANDON_AFTER_DAYS", in: 1...365) ?? abandonAfterDays
        cookieSecure = try reader.choice("SPSE_COOKIE_SECURE", ["true", "false"]).map { $0 == "true" } ?? false
        secretsKeyFile = reader.text("SPSE_SECRETS_KEY_FILE") ?? Self.stateDirectory(environment) + "/secrets.key"
        sealedDelivery = try reader.choice("SPSE_SEALED_DELIVERY", ["true", "false"]).map { $0 == "true" } ?? false
        // The notice file keeps what it is given, in clear: a sealed half goes only by SMTP.
        if sealedDelivery && smtp == nil {
            throw SettingsError(variable: "SPSE_SEALED_DELIVERY", accepts: "true only with SPSE_SMTP_HOST set (the notice file would hold the half in clear)")
        }
        // Operators prove a second factor unless a site says otherwise; managed roles may enrol one.
        if try reader.choice("SPSE_TOTP_OPERATORS", ["required", "optional"]) == "optional" { credentials.totpRequiredRoles = [] }
        credentials.stepUpWindow = TimeInterval(try reader.int("SPSE_STEP_UP_SECONDS", in: 30...3600) ?? 300)
        documentRetentionDays = try reader.int("SPSE_DOCUMENT_RETENTION_DAYS", in: 1...36_500) ?? documentRetentionDays
        if let issuer = reader.text("SPSE_OIDC_ISSUER") {
            // OpenID Connect Discovery §3: https, no query or fragment; http only on loopback, for a test bench.
            let parts = URLComponents(string: issuer)
            let loopback = ["127.0.0.1", "localhost", "[::1]"].contains(parts?.host ?? "")
            guard let parts, parts.query == nil, parts.fragment == nil, !issuer.hasSuffix("/"),
                  parts.scheme == "https" || (parts.scheme == "http" && loopback) else {
                throw SettingsError(variable: "SPSE_OIDC_ISSUER", accepts: "an https URL without query, fragment or trailing slash (http only on loopback)")
            }
            oidcIssuer = issuer
        }
    }

    /// Whether the listen address is loopback only (plain HTTP there never leaves the machine).
    public var listensOnLoopback: Bool {
        host == "localhost" || AddressRange("127.0.0.0/8")!.contains(host) || host == "::1"
    }

    /// Refuses plain HTTP on a network address unless told so (as Keycloak's production mode does).
    /// Where the service keeps its own files by default, whatever the working directory:
    /// systemd's `STATE_DIRECTORY`, then `$XDG_STATE_HOME/spse-accounts`, `~/.local/state/spse-accounts`,
    /// and `/var/lib/spse-accounts` for a process without a home.
    static func stateDirectory(_ environment: [String: String]) -> String {
        func absolute(_ key: String) -> String? { environment[key].flatMap { $0.hasPrefix("/") ? $0 : nil } }
        if let state = absolute("STATE_DIRECTORY") { return state.split(separator: ":").first.map(String.init) ?? state }
        if let xdg = absolute("XDG_STATE_HOME") { return xdg + "/spse-accounts" }
        if let home = absolute("HOME") { return home + "/.local/state/spse-accounts" }
        return "/var/lib/spse-accounts"
    }

    public func checkTransport() throws {
        guard tlsCertificateFile == nil, !listensOnLoopback, !allowPlainHTTP else { return }
        throw SettingsError(variable: "SPSE_HOST",
                            accepts: "a loopback address for plain HTTP; to listen on \(host) set SPSE_TLS_CERT_FILE and SPSE_TLS_KEY_FILE, or SPSE_ALLOW_PLAIN_HTTP=true behind a TLS proxy")
    }

    /// The service's pool: `statement_timeout` set on every connection (libpq's `options`, which
    /// replaces any `options` of `DATABASE_URL`), waits for a connection bounded. Migrations use
    /// `database` as it is: a long migration must not be cut off.
    public func servicePool() -> ConnectionPool {
        var database = self.database
        let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        if milliseconds > 0 { database.overrides.append((keyword: "options", value: "-c statement_timeout=\(milliseconds)")) }
        return ConnectionPool(configuration: database, maxConnections: maxConnections, acquireTimeout: acquireTimeout)
    }

    /// Typed reads of single variables; blank counts as unset.
    struct Reader {
        let environment: [String: String]

        func text(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }

        func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let text = text(name) else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw SettingsError(variable: name, accepts: "a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }

        func choice(_ name: String, _ choices: [String]) throws -> String? {
            guard let text = text(name) else { return nil }
            guard choices.contains(text) else { throw SettingsError(variable: name, accepts: "one of \(choices.joined(separator: ", "))") }
            return text
        }

        /// Seconds, or `90m`, `72h`, `3d`; more than zero and at most a year.
        func duration(_ name: String) throws -> TimeInterval? {
            guard let text = text(name) else { return nil }
            let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
            let (number, factor) = text.last.flatMap { units[$0] }.map { (String(text.dropLast()), $0) } ?? (text, 1)
            guard let value = Double(number), value.isFinite, value * factor > 0, value * factor <= 366 * 86400 else {
                throw SettingsError(variable: name, accepts: "a duration of seconds or like 90m, 72h, 3d (up to a year)")
            }
            return value * factor
        }
    }
}
