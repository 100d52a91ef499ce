/// Where and how to connect, in libpq's own terms so that URIs, `key=value` strings, `PG*`
/// variables, service files, `.pgpass`, `sslmode` and multi-host failover all work unchanged.
public struct ConnectionConfiguration: Sendable {
    /// A libpq connection string or URI; empty means "libpq's defaults and PG* variables".
    public var conninfo: String
    /// Keywords that override the conninfo (e.g. `dbname` for a test database).
    public var overrides: [(keyword: String, value: String)]

    public init(conninfo: String = "", overrides: [(keyword: String, value: String)] = []) {
        self.conninfo = conninfo
        self.overrides = overrides
    }

    /// `DATABASE_URL` when set, otherwise libpq's own `PG*` variables.
    public static func fromEnvironment(_ environment: [String: String]) -> ConnectionConfiguration {
        ConnectionConfiguration(conninfo: environment["DATABASE_URL"] ?? "")
    }

    /// The same server and database, another login role.
    public func with(user: String) -> ConnectionConfiguration {
        var copy = self
        copy.overrides.removeAll { $0.keyword == "user" }
        copy.overrides.append((keyword: "user", value: user))
        return copy
    }

    /// The same server, another database.
    public func database(_ name: String) -> ConnectionConfiguration {
        var copy = self
        copy.overrides.removeAll { $0.keyword == "dbname" }
        copy.overrides.append((keyword: "dbname", value: name))
        return copy
    }
}
