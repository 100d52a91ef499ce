import Accounts
import ArgumentParser
import Foundation
import Operations

struct TOTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "totp",
        abstract: "Your authenticator (TOTP, RFC 6238): enrol it, confirm it with a first code, and receive ten recovery codes.",
        discussion: """
            Operators (admin_ppe, staf_administrasi) must enrol one before anything else, unless \
            SPSE_TOTP_OPERATORS=optional; other roles may. After that every operator login asks \
            for a code ($SPSE_OPERATOR_TOTP or a prompt), and SOP step 6 needs one given within \
            SPSE_STEP_UP_SECONDS (a CLI login with a code counts).

            Example:
              spse-accounts totp enrol --operator admin.ppe          # prints the key and the otpauth:// URI
              spse-accounts totp confirm --operator admin.ppe --code 123456   # prints ten recovery codes, once
            """,
        subcommands: [TOTPEnrolCommand.self, TOTPConfirmCommand.self]
    )
}

/// Signs in with the password only (the enrolment comes before any code exists).
struct EnrolmentSession {
    static func run(_ options: OperatorCommandOptions, _ body: (Operations, SessionToken) async throws -> Void) async throws {
        do {
            try await options.database.withGraph { graph in
                let environment = options.database.environment
                guard let userID = options.operatorOptions.operatorID ?? environment["SPSE_OPERATOR"],
                      let password = environment["SPSE_OPERATOR_PASSWORD"] else { throw OperatorAuthenticationError.noPassword }
                let token: SessionToken
                switch try await graph.operations.login(userID: userID, password: password) {
                case .ok(let t, _), .totpEnrolmentRequired(let t, _): token = t
                case let outcome: throw OperatorAuthenticationError.refused(outcome.code)
                }
                do {
                    try await body(graph.operations, token)
                } catch {
                    try? await graph.operations.logout(token)
                    throw error
                }
                try? await graph.operations.logout(token)
            }
        } catch {
            throw ExitStatus.fail(error, json: options.output.json)
        }
    }
}

struct TOTPEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol", abstract: "Show the key to put into an authenticator app (the same key until it is confirmed).")
    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        try await EnrolmentSession.run(options) { operations, token in
            let enrolment = try await operations.beginTOTPEnrolment(token: token)
            if options.output.json {
                try OutputOptions.printJSON(["secret": enrolment.secret, "otpauth_uri": enrolment.uri])
            } else {
                print("key: \(enrolment.secret)")
                print("uri: \(enrolment.uri)")
                print("then: spse-accounts totp confirm --code <the 6 digits the app shows>")
            }
        }
    }
}

struct TOTPConfirmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm", abstract: "Confirm the authenticator with a first code; prints ten recovery codes, once.")
    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "The 6-digit code the app shows now.") var code: String

    func run() async throws {
        try await EnrolmentSession.run(options) { operations, token in
            let codes = try await operations.confirmTOTPEnrolment(token: token, code: code)
            if options.output.json {
                try OutputOptions.printJSON(["recovery_codes": codes])
            } else {
                print("authenticator confirmed. Recovery codes (each works once; keep them safe, they are not shown again):")
                for code in codes { print("  \(code)") }
            }
        }
    }
}

struct AccountResetTOTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-totp",
        abstract: "Remove a lost authenticator of another account (admin_ppe; audited); its owner enrols a new one at the next login.",
        discussion: """
            Example:
              spse-accounts account reset-totp staf.adm --reason "ponsel hilang, laporan 3/2026" --operator admin.ppe
            """)
    @OptionGroup var options: OperatorCommandOptions
    @Argument(help: "The account's user ID.") var userId: String
    @Option(help: "Why (recorded in the audit trail).") var reason: String

    func run() async throws {
        try await options.run { operations, caller in
            try await operations.resetSecondFactor(userId, reason: reason, by: caller)
            if options.output.json { try OutputOptions.printJSON(["user_id": userId, "reset": "true"]) } else {
                print("authenticator of \(userId) removed; they enrol a new one at their next login")
            }
        }
    }
}
