import DoorKit
import Accounts
import Foundation
import Audit
import Gate
import Hummingbird
import HummingbirdTLS
import NIOSSL
import Logging
import Migrations
import Operations
import Postgres
import Provisioning
import ServiceLifecycle

/// Where the server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Everything the routes need: the one service graph, plus what only the HTTP door has.
public struct APIServices: Sendable {
    public let graph: ServiceGraph
    public let migrator: Migrator
    public let metrics: APIMetrics
    public let state: ServerState

    public init(graph: ServiceGraph, migrator: Migrator, metrics: APIMetrics = APIMetrics(), state: ServerState = ServerState()) {
        self.graph = graph
        self.migrator = migrator
        self.metrics = metrics
        self.state = state
    }
}

/// Builds the Hummingbird application from its parts; the executable runs it.
public enum Server {
    /// The API's routes, then whatever `doors` add (the web console) on the same router, so every
    /// door shares the middleware that maps errors, finds the client's address and logs.
    public static func router(_ services: APIServices, doors: [@Sendable (Router<DoorContext>) -> Void] = []) -> Router<DoorContext> {
        let router = Router(context: DoorContext.self)
        router.add(middleware: ProblemMiddleware(metrics: services.metrics))
        let graph = services.graph
        let operations = graph.operations
        router.add(middleware: BodyLimitMiddleware(jsonBodyLimit: graph.settings.jsonMaxBytes))
        router.add(middleware: ClientAddressMiddleware(trusted: graph.settings.trustedProxies))
        router.add(middleware: SessionMiddleware(operations: operations))
        HealthController(pool: graph.pool, migrator: services.migrator, state: services.state,
                         readinessDeadline: graph.settings.readinessDeadline).addRoutes(to: router)
        AuthController(operations: operations, metrics: services.metrics).addRoutes(to: router)
        router.get("metrics") { _, _ -> Response in
            let gauges = try await operations.serviceGauges()
            let text = services.metrics.render(
                hashQueueDepth: gauges.hashQueueDepth, openByStep: gauges.openByStep, breachesByStep: gauges.breachesByStep,
                pool: (inUse: graph.pool.openConnections - graph.pool.idleConnections, waiting: graph.pool.waitingBorrowers),
                databaseUp: services.state.isDatabaseUp, outbox: gauges.outbox,
                checkpointAge: services.state.lastCheckpointAt.map { operations.now.timeIntervalSince($0) })
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        AccountsController(operations: operations).addRoutes(to: router)
        RequestsController(operations: operations).addRoutes(to: router)
        ReportsController(operations: operations).addRoutes(to: router)
        PublicController(operations: operations).addRoutes(to: router)
        StandardsController(operations: operations).addRoutes(to: router)
        ApplicationsController(operations: operations).addRoutes(to: router)
        ProvisioningController(operations: operations, bodyLimit: graph.settings.batchMaxBytes).addRoutes(to: router)
        for door in doors { door(router) }
        return router
    }

    public static func application(
        configuration: ServerConfiguration, services: APIServices, doors: [@Sendable (Router<DoorContext>) -> Void] = [],
        backgroundServices: [any Service] = [], logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(services, doors: doors),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "spse-accounts"),
            services: backgroundServices,
            logger: logger)
    }

    /// The same application speaking HTTPS with the PEM certificate chain and key in these files.
    public static func httpsApplication(
        configuration: ServerConfiguration, services: APIServices, doors: [@Sendable (Router<DoorContext>) -> Void] = [],
        certificateFile: String, keyFile: String, logger: Logger
    ) throws -> some ApplicationProtocol {
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem)))
        return Application(
            router: router(services, doors: doors),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "spse-accounts"),
            logger: logger)
    }
}
