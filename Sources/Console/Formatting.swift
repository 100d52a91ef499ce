import Foundation
import Gate

/// Times as the LPSE reads them (WIB), and durations as minutes and seconds.
enum Formatting {
    static let jakarta = TimeZone(identifier: "Asia/Jakarta") ?? TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt

    static func time(_ date: Date?) -> String? {
        guard let date else { return nil }
        let formatter = DateFormatter()
        formatter.timeZone = jakarta
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'WIB'"
        return formatter.string(from: date)
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = jakarta
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }

    static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// `-3:05` for three minutes five seconds overdue.
    static func clock(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        let magnitude = abs(whole)
        return (whole < 0 ? "-" : "") + "\(magnitude / 60):" + String(format: "%02d", magnitude % 60)
    }

    static func minutes(_ seconds: Double) -> String { String(format: "%.1f", seconds / 60) }

    /// A temporary password in the groups its dashes make (`k7mq-`, `xh3d-`, …), each kept whole
    /// on one line, for reading it out.
    static func dictation(_ password: String) -> [String] {
        var groups: [String] = []
        var current = ""
        for character in password {
            current.append(character)
            if character == "-" { groups.append(current); current = "" }
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }
}
