import Foundation

/// The one lateness rule of the SOP's time limits, for Swift and for SQL: a step is late when it
/// took, or has been open, longer than its limit. Every report, page, queue and deviation asks here.
public enum SLA {
    /// When a step that started at `startedAt` with a limit of `limitMinutes` is due.
    public static func deadline(startedAt: Date, limitMinutes: Int) -> Date {
        startedAt.addingTimeInterval(Double(limitMinutes) * 60)
    }

    /// Whether `seconds` taken (or open so far) are over `limitMinutes`.
    public static func isLate(seconds: TimeInterval, limitMinutes: Int?) -> Bool {
        guard let limitMinutes else { return false }
        return seconds > Double(limitMinutes) * 60
    }

    /// The deadline in SQL of the step row aliased `s` (NULL without a limit).
    static func sqlDeadline(_ s: String = "s") -> String { "\(s).started_at + make_interval(mins => \(s).limit_minutes)" }

    /// Whether the step row `s` ended (or, open, is at `now`) past its deadline, in SQL.
    static func sqlLate(_ s: String = "s", at now: String) -> String {
        "(\(s).limit_minutes IS NOT NULL AND coalesce(\(s).ended_at, \(now)) > \(sqlDeadline(s)))"
    }
}
