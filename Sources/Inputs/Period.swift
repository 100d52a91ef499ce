import Foundation

/// A period [from, to) of a report or an audit listing, with `from ≤ to`, inside 1900-01-01 …
/// 9999-12-31: four-digit years, and after the Gregorian reform, where Foundation's parser (which
/// switches to the Julian calendar before 1582) and PostgreSQL's proleptic calendar agree on
/// every day. Nothing this service records is older than 1900.
public struct Period: Sendable, Equatable {
    public let from: Date
    public let to: Date

    /// 1900-01-01T00:00:00Z.
    public static let earliest = Date(timeIntervalSince1970: -2_208_988_800)
    /// 10000-01-01T00:00:00Z, exclusive.
    public static let latest = Date(timeIntervalSince1970: 253_402_300_800)
    /// The period when neither end is given: the 30 days before `to`.
    public static let defaultLength: TimeInterval = 30 * 86_400

    public init(from: Date, to: Date) throws(InputError) {
        for (field, date) in [("from", from), ("to", to)] where !(Self.earliest...Self.latest).contains(date) || (field == "from" && date == Self.latest) {
            throw InputError(field: field, reason: "must lie between 1900-01-01 and 9999-12-31")
        }
        guard from <= to else { throw InputError(field: "from", reason: "must not be after to") }
        self.from = from
        self.to = to
    }

    /// From the texts a door received: ISO 8601 instants (`2026-11-01T08:00:00Z`) or dates
    /// (`2026-11-01`, midnight UTC). A date as `to` is included whole (the period ends at the next
    /// midnight), so "from 1 to 30 November" means all of both days in every door. `to` defaults
    /// to `now`, `from` to 30 days before `to`.
    public init(parsingFrom from: String?, to: String?, now: Date) throws(InputError) {
        let end = try to.map { text throws(InputError) in
            let instant = try Self.instant(text, field: "to")
            return Self.isDay(text) ? instant.addingTimeInterval(86_400) : instant
        } ?? now
        let start = try from.map { text throws(InputError) in try Self.instant(text, field: "from") }
            ?? max(Self.earliest, end.addingTimeInterval(-Self.defaultLength))
        try self.init(from: start, to: end)
    }

    /// `2026-11-30`: a day, not an instant.
    static func isDay(_ text: String) -> Bool { text.utf8.count == 10 && !text.contains("T") }

    /// One ISO 8601 instant or date; anything else (or a year outside 1…9999) is refused.
    public static func instant(_ text: String, field: String) throws(InputError) -> Date {
        let refusal = InputError(field: field, reason: "must be an ISO 8601 date or instant between 1900-01-01 and 9999-12-31")
        guard text.utf8.count <= 40, text.allSatisfy(\.isASCII) else { throw refusal }
        let full = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        guard let date = full.date(from: text) ?? fractional.date(from: text) ?? dateOnly.date(from: text),
              (earliest..<latest).contains(date) else { throw refusal }
        return date
    }
}
