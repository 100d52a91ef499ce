import Accounts
import ArgumentParser
import Foundation

/// The frame of every command that acts for an operator: open the pool, refuse a database that is
/// behind, wire the services, authenticate, run, end the session, and turn any error into its exit
/// code in the one place that does that.
enum OperatorCommand {
    static func run(
        database: DatabaseOptions, operator options: OperatorOptions, json: Bool,
        _ body: (Services, Operator) async throws -> Void
    ) async throws {
        let pool = try database.makePool()
        var ending: (Services, SessionToken)?
        do {
            try await pool.withConnection { try await database.makeMigrator().requireCurrent(on: $0) }
            let services = try await Services.make(pool: pool, environment: database.environment)
            let authenticated = try await options.authenticate(with: services.credentials, environment: database.environment)
            if let token = authenticated.token { ending = (services, token) }
            try await body(services, authenticated.actor)
            if let (services, token) = ending { try? await services.credentials.logout(token) }
            await pool.shutdown()
        } catch {
            if let (services, token) = ending { try? await services.credentials.logout(token) }
            await pool.shutdown()
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
