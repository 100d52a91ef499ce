import Accounts
import ArgumentParser
import Foundation
import Operations

/// The frame of every command that acts for an operator: wire the services on a migrated
/// database, authenticate, run one operation, end the session, and turn any error into its exit
/// code in the one place that does that.
enum OperatorCommand {
    static func run(
        database: DatabaseOptions, operator options: OperatorOptions, json: Bool,
        _ body: (Operations, Caller) async throws -> Void
    ) async throws {
        do {
            try await database.withGraph { graph in
                let authenticated = try await options.authenticate(with: graph.operations, environment: database.environment)
                do {
                    try await body(graph.operations, authenticated.caller)
                } catch {
                    if let token = authenticated.token { try? await graph.operations.logout(token) }
                    throw error
                }
                if let token = authenticated.token { try? await graph.operations.logout(token) }
            }
        } catch {
            throw ExitStatus.fail(error, json: json)
        }
    }
}

/// `--json` and the one JSON encoder every command prints with (snake_case keys come from the
/// views' coding keys; dates as ISO 8601, as in the HTTP API).
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print JSON for scripts (one object or array on stdout).") var json = false

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
