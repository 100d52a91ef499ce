import Accounts
import Foundation
import Audit
import Gate
import Hummingbird
import Logging
import Migrations
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

/// Everything the routes need, built by the executable (or a test) from the real parts.
public struct APIServices: Sendable {
    public let pool: ConnectionPool
    public let migrator: Migrator
    public let directory: AccountDirectory
    public let credentials: Credentials
    public let gate: GateService
    public let loginLimiter: ClientAddressLimiter
    public let metrics: APIMetrics
    public let jsonBodyLimit: Int
    public let provisioner: Provisioner
    /// The largest provisioning file `POST /v1/provisioning/batches` reads.
    public let batchBodyLimit: Int

    public init(pool: ConnectionPool, migrator: Migrator, directory: AccountDirectory, credentials: Credentials, gate: GateService,
                loginLimiter: ClientAddressLimiter = ClientAddressLimiter(), metrics: APIMetrics = APIMetrics(), jsonBodyLimit: Int = 64 * 1024,
                batchBodyLimit: Int = 16 * 1024 * 1024) {
        self.pool = pool
        self.migrator = migrator
        self.directory = directory
        self.credentials = credentials
        self.gate = gate
        self.loginLimiter = loginLimiter
        self.metrics = metrics
        self.jsonBodyLimit = jsonBodyLimit
        self.provisioner = Provisioner(pool: pool, directory: directory, credentials: credentials)
        self.batchBodyLimit = batchBodyLimit
    }
}

/// Builds the Hummingbird application from its parts; the executable runs it.
public enum Server {
    public static func router(_ services: APIServices) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: ProblemMiddleware(metrics: services.metrics))
        router.add(middleware: BodyLimitMiddleware(jsonBodyLimit: services.jsonBodyLimit))
        router.add(middleware: SessionMiddleware(credentials: services.credentials))
        HealthController(pool: services.pool, migrator: services.migrator).addRoutes(to: router)
        AuthController(credentials: services.credentials, gate: services.gate, limiter: services.loginLimiter, metrics: services.metrics)
            .addRoutes(to: router)
        router.get("metrics") { _, _ -> Response in
            let counts = try await services.gate.stepCounts(breachesSince: Date().addingTimeInterval(-86_400))
            let text = services.metrics.render(
                hashQueueDepth: services.credentials.hashQueueDepth, openByStep: counts.open, breachesByStep: counts.breaches)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        AccountsController(directory: services.directory, credentials: services.credentials, pool: services.pool).addRoutes(to: router)
        RequestsController(gate: services.gate).addRoutes(to: router)
        ReportsController(gate: services.gate, pool: services.pool).addRoutes(to: router)
        ProvisioningController(provisioner: services.provisioner, bodyLimit: services.batchBodyLimit).addRoutes(to: router)
        return router
    }

    public static func application(
        configuration: ServerConfiguration, services: APIServices, backgroundServices: [any Service] = [], logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(services),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "spse-accounts"),
            services: backgroundServices,
            logger: logger)
    }
}
