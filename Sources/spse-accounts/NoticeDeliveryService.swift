import Accounts
import Audit
import Foundation
import Federation
import Gate
import LogoutSender
import Logging
import Operations
import Postgres
import SMTPSender
import ServiceLifecycle

/// Delivers the outbox's notices while the server runs: SMTP when `SPSE_SMTP_HOST` is set,
/// otherwise JSON lines appended to `SPSE_NOTICE_FILE` (default `.data/notices.jsonl`).
struct NoticeDeliveryService: Service {
    let dispatcher: OutboxDispatcher
    let interval: Duration
    let logger: Logger

    static func make(graph: ServiceGraph, logger: Logger) -> NoticeDeliveryService {
        let sender: any NoticeSender
        if let smtp = graph.settings.smtp {
            sender = SMTPNoticeSender(configuration: smtp)
            logger.info("notices by SMTP", metadata: ["host": "\(smtp.host)", "port": "\(smtp.port)"])
        } else {
            sender = FileNoticeSender(path: graph.settings.noticeFile)
            logger.info("notices to file", metadata: ["path": "\(graph.settings.noticeFile)"])
        }
        return NoticeDeliveryService(
            dispatcher: OutboxDispatcher(pool: graph.pool, sender: sender, clock: graph.clock, secrets: graph.secrets),
            interval: graph.settings.noticeInterval, logger: logger)
    }

    func run() async throws {
        // On SIGTERM the sleep is cancelled; that is the normal end of this loop, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let (delivered, failed) = try await dispatcher.deliverDue()
                    if delivered + failed > 0 {
                        logger.info("notices", metadata: ["delivered": "\(delivered)", "failed": "\(failed)"])
                    }
                } catch {
                    logger.warning("notice delivery paused", metadata: ["error": "\(error)", "owed_writes": "\(dispatcher.owedWrites)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

/// Rejects, as the service, the files left incomplete past SPSE_ABANDON_AFTER_DAYS, once a minute.
/// Several instances may run it: each rejection locks its request and the state machine refuses
/// the second one.
struct AbandonmentService: Service {
    let operations: Operations
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let numbers = try await operations.abandonExpiredRequests()
                    if !numbers.isEmpty { logger.notice("incomplete files rejected", metadata: ["requests": "\(numbers.joined(separator: ","))"]) }
                } catch {
                    logger.warning("abandonment sweep paused", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(60))
            }
        }
    }
}

/// Chains the audit rows committed since its last round, every `interval` (`SPSE_AUDIT_SEAL_INTERVAL_MS`).
/// Every instance runs one; the database lets one seal at a time and the others skip their round,
/// so a row is sealed within about one interval of its commit whichever instances are alive.
struct AuditSealerService: Service {
    let pool: ConnectionPool
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var paused = false
            while !Task.isCancelled {
                do {
                    try await pool.withConnection { try await AuditTrail().seal(on: $0) }
                    if paused { logger.notice("audit sealing resumed"); paused = false }
                } catch {
                    if !paused { logger.warning("audit sealing paused", metadata: ["error": "\(error)"]); paused = true }
                }
                try await Task.sleep(for: interval)
            }
        }
        // The rows of the last requests, sealed before the pools close.
        _ = try? await pool.withConnection { try await AuditTrail().seal(on: $0) }
    }
}

/// Delivers the back-channel logouts due, every `interval` (`SPSE_OIDC_LOGOUT_INTERVAL_MS`).
/// Every instance runs one; each logout is claimed by one of them at a time.
struct LogoutDeliveryService: Service {
    let federation: Federation
    let sender: any LogoutSender
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var paused = false
            while !Task.isCancelled {
                do {
                    let (delivered, failed) = try await federation.deliverLogouts(with: sender)
                    if delivered + failed > 0 { logger.info("back-channel logouts", metadata: ["delivered": "\(delivered)", "failed": "\(failed)"]) }
                    if paused { logger.notice("back-channel logout resumed"); paused = false }
                } catch FederationError.signingUnavailable {
                    if !paused { logger.warning("back-channel logout paused: no secrets key to sign with"); paused = true }
                } catch {
                    if !paused { logger.warning("back-channel logout paused", metadata: ["error": "\(error)"]); paused = true }
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
