import Accounts
import Foundation
import Gate
import Logging
import Postgres
import SMTPSender
import ServiceLifecycle

/// Delivers the outbox's notices while the server runs: SMTP when `SPSE_SMTP_HOST` is set,
/// otherwise JSON lines appended to `SPSE_NOTICE_FILE` (default `.data/notices.jsonl`).
struct NoticeDeliveryService: Service {
    let dispatcher: OutboxDispatcher
    let interval: Duration
    let logger: Logger

    static func make(pool: ConnectionPool, environment: [String: String], logger: Logger) throws -> NoticeDeliveryService {
        let sender: any NoticeSender
        if let smtp = try SMTPConfiguration.fromEnvironment(environment) {
            sender = SMTPNoticeSender(configuration: smtp)
            logger.info("notices by SMTP", metadata: ["host": "\(smtp.host)", "port": "\(smtp.port)"])
        } else {
            let path = environment["SPSE_NOTICE_FILE"] ?? ".data/notices.jsonl"
            sender = FileNoticeSender(path: path)
            logger.info("notices to file", metadata: ["path": "\(path)"])
        }
        let seconds = environment["SPSE_NOTICE_INTERVAL"].flatMap { Int($0) } ?? 15
        return NoticeDeliveryService(
            dispatcher: OutboxDispatcher(pool: pool, sender: sender, clock: .system), interval: .seconds(max(1, seconds)), logger: logger)
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
                    logger.warning("notice delivery paused", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
