import Accounts
import ArgumentParser
import Console
import Foundation
import DoorKit
import HTTPAPI
import Hummingbird
import Federation
import Logging
import LogoutSender
import Migrations
import OpenIDDoor
import Operations
import Postgres
import ServiceLifecycle

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
            try settings.checkTransport()
            var logger = Logger(label: "spse-accounts")
            logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
            let migrator = try database.makeMigrator(settings)
            let pool = settings.servicePool()
            do {
                try await pool.withConnection { try await migrator.requireCurrent(on: $0) }
            } catch {
                await pool.shutdown()
                throw error
            }
            let metrics = APIMetrics()
            let state = ServerState()
            let graph = try await ServiceGraph.make(settings, pool: pool, hashWait: metrics.hashWait)
            let services = APIServices(graph: graph, migrator: migrator, metrics: metrics, state: state)
            let listen = ServerConfiguration(host: settings.host, port: settings.port)
            // The web console at /, a third door over the same operations.
            let console = try Console(operations: graph.operations, secureCookies: settings.secureCookies, batchLimit: settings.batchMaxBytes)
            // The OpenID provider's endpoints for relying parties (its browser part is the console's).
            let openID = OpenIDDoor(operations: graph.operations)
            let doors: [@Sendable (Router<DoorContext>) -> Void] = [{ openID.addRoutes(to: $0) }, { console.addRoutes(to: $0) }]
            let application: any Service
            if let certificate = settings.tlsCertificateFile, let key = settings.tlsKeyFile {
                application = try Server.httpsApplication(configuration: listen, services: services, doors: doors, certificateFile: certificate,
                                                          keyFile: key, logger: logger)
            } else {
                application = Server.application(configuration: listen, services: services, doors: doors, logger: logger)
            }
            // A group stops its services in reverse order, each after the one behind it has
            // returned: SIGTERM reaches the drain first (/readyz 503 for the drain period), then
            // the server (stops accepting, finishes in-flight requests), the notice delivery and the
            // database monitor, and last the pools they all use. Past the deadline, what is left is
            // cancelled.
            let checkpoints: [ServiceGroupConfiguration.ServiceConfiguration] = settings.auditKeyFile.flatMap { key in
                settings.auditCheckpointFile.map { file in
                    .init(service: AuditCheckpointService(pool: pool, keyFile: key, file: file, interval: settings.auditCheckpointInterval,
                                                          state: state, logger: logger),
                          successTerminationBehavior: .gracefullyShutdownGroup)
                }
            }.map { [$0] } ?? []
            var group = ServiceGroupConfiguration(
                services: graph.lifecycleServices.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) } + [
                    .init(service: NoticeDeliveryService.make(graph: graph, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: AbandonmentService(operations: graph.operations, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: AuditSealerService(pool: pool, interval: settings.auditSealInterval, logger: logger),
                          successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: DatabaseMonitor(pool: pool, state: state, logger: logger), successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(service: LogoutDeliveryService(federation: graph.federation, sender: HTTPLogoutSender(caFile: settings.logoutCAFile),
                                                         interval: settings.logoutInterval, logger: logger),
                          successTerminationBehavior: .gracefullyShutdownGroup),
                ] + checkpoints + [
                    .init(service: application),
                    .init(service: DrainService(state: state, period: settings.drainPeriod, logger: logger),
                          successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = settings.shutdownDeadline
            try await ServiceGroup(configuration: group).run()
        } catch {
            throw ExitStatus.fail(error)
        }
    }
}
