import DoorKit
import Foundation
import Gate
import Hummingbird
import Prometheus

/// The service's metrics in a registry of its own (passed in, not a global), rendered at
/// `GET /metrics` in the Prometheus text format.
public final class APIMetrics: Sendable {
    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
    }

    func request(method: String, route: String, status: Int, seconds: Double) {
        let labels = [("method", method), ("route", route), ("status", String(status))]
        registry.makeCounter(name: "spse_http_requests_total", labels: labels).increment()
        registry.makeValueHistogram(name: "spse_http_request_duration_seconds", labels: [("route", route)],
                                    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]).record(seconds)
    }

    /// Time a password hash waited for a worker; pass to `HashingPool(waitObserver:)`.
    public func hashWait(_ duration: Duration) {
        registry.makeDurationHistogram(
            name: "spse_hash_wait_seconds",
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5)]
        ).record(duration)
    }

    func login(outcome: String) {
        registry.makeCounter(name: "spse_login_outcomes_total", labels: [("outcome", outcome)]).increment()
    }

    /// Samples the gauges that live elsewhere (hash queue, database) and renders everything.
    func render(hashQueueDepth: Int, openByStep: [Int: Int], breachesByStep: [Int: Int], pool: (inUse: Int, waiting: Int),
                databaseUp: Bool, outbox: (pending: Int, failed: Int), checkpointAge: TimeInterval? = nil) -> [UInt8] {
        // -1 before the first checkpoint (none configured, or not yet written).
        registry.makeGauge(name: "spse_audit_checkpoint_age_seconds").set(to: checkpointAge ?? -1)
        registry.makeGauge(name: "spse_hash_queue_depth").set(to: Double(hashQueueDepth))
        registry.makeGauge(name: "spse_db_connections_in_use").set(to: Double(pool.inUse))
        registry.makeGauge(name: "spse_db_connections_waiting").set(to: Double(pool.waiting))
        registry.makeGauge(name: "spse_database_up").set(to: databaseUp ? 1 : 0)
        registry.makeGauge(name: "spse_outbox_pending").set(to: Double(outbox.pending))
        registry.makeGauge(name: "spse_outbox_failed").set(to: Double(outbox.failed))
        for step in 1...9 {
            registry.makeGauge(name: "spse_requests_open", labels: [("step", String(step))]).set(to: Double(openByStep[step] ?? 0))
            registry.makeGauge(name: "spse_sla_breaches_24h", labels: [("step", String(step))]).set(to: Double(breachesByStep[step] ?? 0))
        }
        return registry.emitToBuffer()
    }
}
