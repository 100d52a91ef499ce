import Hummingbird
import Logging
import Migrations
import Postgres
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

/// Builds the Hummingbird application from its parts; the executable runs it.
public enum Server {
    public static func router(pool: ConnectionPool, migrator: Migrator) -> Router<BasicRequestContext> {
        let router = Router()
        HealthController(pool: pool, migrator: migrator).addRoutes(to: router)
        return router
    }

    public static func application(
        configuration: ServerConfiguration, pool: ConnectionPool, migrator: Migrator, services: [any Service] = [], logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(pool: pool, migrator: migrator),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "spse-accounts"),
            services: services,
            logger: logger)
    }
}
