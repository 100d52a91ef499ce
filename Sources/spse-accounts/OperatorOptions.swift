import Accounts
import ArgumentParser
import ConsoleKitTerminal
import Foundation
import Operations

/// Who a command acts for. The CLI is no back door: it authenticates the operator like the API
/// does (and `login` audits the attempt), and every change is audited under their user ID.
struct OperatorOptions: ParsableArguments {
    @Option(name: .customLong("operator"), help: ArgumentHelp(
        "Your user ID (default: $SPSE_OPERATOR). The password comes from $SPSE_OPERATOR_PASSWORD or a prompt without echo; "
            + "$SPSE_OPERATOR_TOKEN (an API session token) replaces both.", valueName: "user-id"))
    var operatorID: String?

    /// An authenticated operator and the session opened for this command, ended with it.
    struct Authenticated {
        let caller: Caller
        let token: SessionToken?
    }

    func authenticate(with operations: Operations, environment: [String: String]) async throws -> Authenticated {
        if let presented = environment["SPSE_OPERATOR_TOKEN"], !presented.isEmpty {
            do {
                return Authenticated(caller: try await operations.caller(for: SessionToken(presented: presented)), token: nil)
            } catch let error as AccountsError where error == .sessionInvalid || error == .sessionScope {
                throw OperatorAuthenticationError.refused(error == .sessionScope ? "password_change_required" : "session_invalid")
            }
        }
        guard let userID = operatorID ?? environment["SPSE_OPERATOR"], !userID.isEmpty else {
            throw OperatorAuthenticationError.noOperator
        }
        let password: String
        if let fromEnvironment = environment["SPSE_OPERATOR_PASSWORD"] {
            password = fromEnvironment
        } else if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data("Password for \(userID): ".utf8))
            password = Terminal().input(isSecure: true)
        } else {
            throw OperatorAuthenticationError.noPassword
        }
        var outcome = try await operations.login(userID: userID, password: password)
        if case .totpRequired(let challenge) = outcome {
            // The second factor: $SPSE_OPERATOR_TOTP, or asked on the terminal.
            let code: String
            if let fromEnvironment = environment["SPSE_OPERATOR_TOTP"], !fromEnvironment.isEmpty {
                code = fromEnvironment
            } else if isatty(STDIN_FILENO) == 1 {
                FileHandle.standardError.write(Data("Authenticator code for \(userID): ".utf8))
                code = Terminal().input(isSecure: false)
            } else {
                throw OperatorAuthenticationError.noCode
            }
            outcome = try await operations.completeLogin(challenge: challenge.token, code: code)
        }
        switch outcome {
        case .ok(let token, let session):
            return Authenticated(caller: try Caller(session: session), token: token)
        case .passwordChangeRequired(let token, _), .totpEnrolmentRequired(let token, _):
            try? await operations.logout(token)
            throw OperatorAuthenticationError.refused(outcome.code)
        default:
            throw OperatorAuthenticationError.refused(outcome.code)
        }
    }
}

/// Why the CLI would not act for the operator. Never says whether the user ID exists.
enum OperatorAuthenticationError: Error, CustomStringConvertible {
    case noOperator
    case noPassword
    case noCode
    /// `reason` is the login outcome: invalid_credentials, locked, disabled, …
    case refused(String)

    var description: String {
        switch self {
        case .noOperator: return "who is acting? give --operator USER-ID or set SPSE_OPERATOR (or SPSE_OPERATOR_TOKEN)"
        case .noPassword: return "no operator password: set SPSE_OPERATOR_PASSWORD or run on a terminal to be asked"
        case .noCode: return "the operator's authenticator code is due: set SPSE_OPERATOR_TOTP or run on a terminal to be asked"
        case .refused(let reason): return "operator authentication failed (\(reason))"
        }
    }
}
