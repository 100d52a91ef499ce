import Accounts
import ArgumentParser
import Foundation
import HTTPAPI
import Hummingbird
import Logging
import Migrations
import Operations
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
        do {
            var settings = try database.settings()
            if let host { settings.host = host }
            if let port {
                guard (1...65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
                settings.port = port
            }
            var logger = Logger(label: "spse-accounts")
            logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
            let migrator = try database.makeMigrator(settings)
            let pool = database.makePool(settings)
            do {
                try await pool.withConnection { try await migrator.requireCurrent(on: $0) }
            } catch {
                await pool.shutdown()
                throw error
            }
            let metrics = APIMetrics()
            let graph = try await ServiceGraph.make(settings, pool: pool, hashWait: metrics.hashWait)
            // The pools come first: a service group stops its services in reverse order, so they
            // close after the server and the notice delivery that use them.
            let application = Server.application(
                configuration: ServerConfiguration(host: settings.host, port: settings.port),
                services: APIServices(graph: graph, migrator: migrator, metrics: metrics),
                backgroundServices: graph.lifecycleServices + [NoticeDeliveryService.make(graph: graph, logger: logger)], logger: logger)
            try await application.runService()
        } catch {
            throw ExitStatus.fail(error)
        }
    }
}
