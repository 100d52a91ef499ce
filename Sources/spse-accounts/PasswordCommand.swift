import Accounts
import ArgumentParser
import ConsoleKitTerminal
import Foundation

struct PasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Change your own password, e.g. the temporary one from bootstrap-admin, under the password policy.",
        discussion: """
            The current password comes from $SPSE_OPERATOR_PASSWORD or a prompt, the new one from \
            $SPSE_NEW_PASSWORD or a prompt (asked twice); neither is echoed.

            Example:
              spse-accounts password --operator admin.ppe
            """
    )

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var operatorOptions: OperatorOptions

    func run() async throws {
        let environment = database.environment
        do {
            try await database.withGraph { graph in
                let operations = graph.operations
                guard let userID = operatorOptions.operatorID ?? environment["SPSE_OPERATOR"], !userID.isEmpty else {
                    throw OperatorAuthenticationError.noOperator
                }
                let current = try Self.secret(environment["SPSE_OPERATOR_PASSWORD"], prompt: "Current password for \(userID): ")
                let token: SessionToken
                switch try await operations.login(userID: userID, password: current) {
                case .ok(let issued, _), .passwordChangeRequired(let issued, _): token = issued
                case let outcome: throw OperatorAuthenticationError.refused(outcome.code)
                }
                let new = try Self.secret(environment["SPSE_NEW_PASSWORD"], prompt: "New password: ")
                if environment["SPSE_NEW_PASSWORD"] == nil, try Self.secret(nil, prompt: "New password again: ") != new {
                    throw ValidationError("the two new passwords differ")
                }
                try await operations.changePassword(token: token, current: current, new: new)
                try? await operations.logout(token)
                print("password changed for \(userID)")
            }
        } catch {
            throw ExitStatus.fail(error)
        }
    }

    static func secret(_ fromEnvironment: String?, prompt: String) throws -> String {
        if let fromEnvironment { return fromEnvironment }
        guard isatty(STDIN_FILENO) == 1 else { throw OperatorAuthenticationError.noPassword }
        FileHandle.standardError.write(Data(prompt.utf8))
        return Terminal().input(isSecure: true)
    }
}
