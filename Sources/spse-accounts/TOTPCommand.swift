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
              spse-accounts totp enrol --operator admin.ppe   # the key and otpauth:// URI, then (on a terminal) the first code
            """,
        subcommands: [TOTPEnrolCommand.self, TOTPConfirmCommand.self]
    )
}

/// The session an enrolment runs in: the one `totp enrol` started (its token in
/// $SPSE_OPERATOR_TOKEN, as `totp enrol` prints it), or a new one from the password. Only the
/// session that was shown a key can confirm it.
struct EnrolmentSession {
    static func run(_ options: OperatorCommandOptions, keep: Bool = false, _ body: (Operations, SessionToken) async throws -> Void) async throws {
        do {
            try await options.database.withGraph { graph in
                let environment = options.database.environment
                if let presented = environment["SPSE_OPERATOR_TOKEN"], !presented.isEmpty {
                    try await body(graph.operations, SessionToken(presented: presented))
                    return
                }
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
                if !keep { try? await graph.operations.logout(token) }
            }
        } catch {
            throw ExitStatus.fail(error, json: options.output.json)
        }
    }
}

struct TOTPEnrolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol",
        abstract: "Show the key to put into an authenticator app; on a terminal, then ask for its first code.",
        discussion: """
            On a terminal the command asks for the app's first code and prints the recovery codes. \
            Otherwise it prints the key and an enrolment token: confirm from the same session with
              SPSE_OPERATOR_TOKEN=<token> spse-accounts totp confirm --code <6 digits>
            """)
    @OptionGroup var options: OperatorCommandOptions

    func run() async throws {
        let interactive = isatty(STDIN_FILENO) == 1 && !options.output.json
        try await EnrolmentSession.run(options, keep: !interactive) { operations, token in
            let enrolment = try await operations.beginTOTPEnrolment(token: token)
            if options.output.json {
                try OutputOptions.printJSON(["secret": enrolment.secret, "otpauth_uri": enrolment.uri, "enrolment_token": token.value])
                return
            }
            print("key: \(enrolment.secret)")
            print("uri: \(enrolment.uri)")
            guard interactive else {
                print("then: SPSE_OPERATOR_TOKEN=\(token.value) spse-accounts totp confirm --code <the 6 digits the app shows>")
                return
            }
            FileHandle.standardError.write(Data("Code the app shows now: ".utf8))
            let code = readLine() ?? ""
            let codes = try await operations.confirmTOTPEnrolment(token: token, code: code)
            TOTPConfirmCommand.show(codes)
        }
    }
}

struct TOTPConfirmCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm", abstract: "Confirm the authenticator with a first code, in the session `totp enrol` started; prints ten recovery codes, once.")
    @OptionGroup var options: OperatorCommandOptions
    @Option(help: "The 6-digit code the app shows now.") var code: String

    func run() async throws {
        guard ProcessInfo.processInfo.environment["SPSE_OPERATOR_TOKEN"].map({ !$0.isEmpty }) == true else {
            throw ValidationError("set SPSE_OPERATOR_TOKEN to the enrolment token `totp enrol` printed (only that session may confirm its key)")
        }
        try await EnrolmentSession.run(options) { operations, token in
            let codes = try await operations.confirmTOTPEnrolment(token: token, code: code)
            if options.output.json { try OutputOptions.printJSON(["recovery_codes": codes]) } else { Self.show(codes) }
        }
    }

    static func show(_ codes: [String]) {
        print("authenticator confirmed. Recovery codes (each works once; keep them safe, they are not shown again):")
        for code in codes { print("  \(code)") }
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
