import Foundation

/// Where and how to send notices by e-mail, from `SPSE_SMTP_*`.
public struct SMTPConfiguration: Sendable {
    public enum Security: String, Sendable {
        /// Plain connection upgraded with STARTTLS before anything else is sent (the default).
        case startTLS = "starttls"
        /// A relay on the same host or network that speaks no TLS; credentials are then refused.
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: String?
    public var from: String
    /// PEM file of CA certificates to trust instead of the system's (a private relay).
    public var caFile: String?
    public var heloName: String
    public var timeout: TimeInterval

    public init(host: String, port: Int = 587, security: Security = .startTLS, username: String? = nil, password: String? = nil,
                from: String, caFile: String? = nil, heloName: String = "spse-accounts", timeout: TimeInterval = 30) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.from = from
        self.caFile = caFile
        self.heloName = heloName
        self.timeout = timeout
    }

    /// nil when `SPSE_SMTP_HOST` is not set (notices then go to the file sender).
    public static func fromEnvironment(_ environment: [String: String]) throws -> SMTPConfiguration? {
        guard let host = environment["SPSE_SMTP_HOST"], !host.isEmpty else { return nil }
        guard let from = environment["SPSE_SMTP_FROM"], from.contains("@") else {
            throw SMTPError.configuration("SPSE_SMTP_FROM must be the sender's e-mail address")
        }
        let port = try environment["SPSE_SMTP_PORT"].map {
            guard let port = Int($0), (1...65535).contains(port) else { throw SMTPError.configuration("SPSE_SMTP_PORT must be 1…65535") }
            return port
        } ?? 587
        let security = try environment["SPSE_SMTP_SECURITY"].map {
            guard let value = Security(rawValue: $0) else { throw SMTPError.configuration("SPSE_SMTP_SECURITY must be starttls or none") }
            return value
        } ?? .startTLS
        return SMTPConfiguration(
            host: host, port: port, security: security, username: environment["SPSE_SMTP_USERNAME"],
            password: environment["SPSE_SMTP_PASSWORD"], from: from, caFile: environment["SPSE_SMTP_CA_FILE"])
    }
}

/// What can go wrong talking to the relay. Never carries the password.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    case configuration(String)
    /// The server answered `code` where another was expected, to `command` (the verb only).
    case unexpectedReply(command: String, code: Int, text: String)
    case connectionClosed
    case timeout
    /// STARTTLS is required but the server does not offer it.
    case startTLSUnavailable
    /// Credentials would travel in clear; refused.
    case credentialsWithoutTLS

    public var description: String {
        switch self {
        case .configuration(let reason): return "SMTP configuration: \(reason)"
        case .unexpectedReply(let command, let code, let text): return "SMTP \(command) answered \(code) \(text)"
        case .connectionClosed: return "the SMTP server closed the connection"
        case .timeout: return "the SMTP server did not answer in time"
        case .startTLSUnavailable: return "the SMTP server does not offer STARTTLS"
        case .credentialsWithoutTLS: return "SMTP credentials are refused without TLS"
        }
    }
}
