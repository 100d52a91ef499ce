import Accounts
import ArgumentParser
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import Migrations
import Postgres

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API. Refuses to start on a database that is behind its migrations.",
        discussion: """
            Shuts down gracefully on SIGTERM or SIGINT.

            Examples:
              spse-accounts serve
              spse-accounts serve --host 0.0.0.0 --port 9000
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on (default: $SPSE_HOST or 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default: $SPSE_PORT or 8080).")
    var port: Int?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var logger = Logger(label: "spse-accounts")
        logger.logLevel = environment["SPSE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration = ServerConfiguration(
            host: host ?? environment["SPSE_HOST"] ?? "127.0.0.1",
            port: port ?? environment["SPSE_PORT"].flatMap { Int($0) } ?? 8080)

        let migrator = try database.makeMigrator()
        let pool = try database.makePool()
        do {
            try await pool.withConnection { connection in
                try await migrator.requireCurrent(on: connection)
            }
            let notices = try NoticeDeliveryService.make(pool: pool, environment: environment, logger: logger)
            let metrics = APIMetrics()
            let services = try await Services.make(pool: pool, environment: environment, hashWait: metrics.hashWait)
            let api = APIServices(
                pool: pool, migrator: migrator, directory: services.directory, credentials: services.credentials, gate: services.gate,
                loginLimiter: ClientAddressLimiter(
                    burst: environment["SPSE_LOGIN_BURST"].flatMap { Int($0) } ?? 20,
                    perMinute: environment["SPSE_LOGIN_PER_MINUTE"].flatMap { Int($0) } ?? 30),
                metrics: metrics, jsonBodyLimit: environment["SPSE_JSON_MAX_BYTES"].flatMap { Int($0) } ?? 64 * 1024,
                batchBodyLimit: environment["SPSE_BATCH_MAX_BYTES"].flatMap { Int($0) } ?? 16 * 1024 * 1024)
            let application = Server.application(
                configuration: configuration, services: api, backgroundServices: [notices], logger: logger)
            try await application.runService()
            await pool.shutdown()
        } catch {
            await pool.shutdown()
            throw ExitStatus.fail(error)
        }
    }
}
