import Accounts
import ArgumentParser
import Operations

struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Create, show, look up, disable, enable and unlock accounts (as an authenticated operator).",
        discussion: ExitStatus.documentation,
        subcommands: [
            AccountCreateCommand.self, AccountShowCommand.self, AccountLookupCommand.self,
            AccountDisableCommand.self, AccountEnableCommand.self, AccountUnlockCommand.self, AccountResetPasswordCommand.self,
            AccountResetTOTPCommand.self,
        ]
    )
}

/// The options every operator command shares.
struct OperatorCommandOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var operatorOptions: OperatorOptions
    @OptionGroup var output: OutputOptions

    func run(_ body: (Operations, Caller) async throws -> Void) async throws {
        try await OperatorCommand.run(database: database, operator: operatorOptions, json: output.json, body)
    }
}
