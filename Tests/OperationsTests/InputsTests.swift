import Foundation
import Inputs
import Testing

@Suite("Typed, bounded inputs (no database)")
struct InputsTests {
    @Test("free text refuses NUL, control and bidi-override characters, naming the field")
    func freeTextRefusals() throws {
        for bad in ["a\u{0}b", "line\nbreak", "bell\u{7}", "\u{202E}evil", "c1\u{85}x"] {
            #expect(throws: InputError.self) { try FreeText(bad, field: "requester_name") }
            do { _ = try FreeText(bad, field: "requester_name") } catch { #expect(error.field == "requester_name") }
        }
        #expect(try FreeText("  Sekar Ayu  ", field: "x").value == "Sekar Ayu")
        #expect(try FreeText("baris satu\nbaris dua", field: "note", multiline: true).value == "baris satu\nbaris dua")
        #expect(throws: InputError(field: "x", reason: "may be at most 5 characters")) { try FreeText("enam!!", field: "x", maxLength: 5) }
        #expect(throws: InputError(field: "x", reason: "is required")) { try FreeText("   ", field: "x") }
    }

    @Test("hex is lowercase, two digits a byte, leading zeros kept: the digests stored and compared (throttle keys, migration checksums) stay what they were")
    func hex() {
        #expect(Hex.encode([0x00, 0x0F, 0xA5, 0xFF, 0x10]) == "000fa5ff10")
        #expect(Hex.encode([UInt8]()) == "")
        let bytes = (0...255).map { UInt8($0) }
        #expect(Hex.encode(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
    }

    @Test("a page is a whole number from 1 to 10000, and its offset cannot overflow")
    func pages() throws {
        for bad in ["0", "-1", "10001", "9223372036854775807", "99999999999999999999", "1e3", "+2", " 2", "dua", ""] {
            #expect(throws: InputError.self) { try Page(parsing: bad) }
        }
        let last = try Page(parsing: "10000", size: 100)
        #expect(last.offset == 999_900)
        #expect(try Page(parsing: nil).number == 1)
    }

    @Test("a period lies within years 1900 to 9999 and does not end before it starts")
    func periods() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        for (from, to) in [("0000-12-31", nil), ("-0001-01-01", nil), ("0001-01-01", nil), ("1899-12-31T23:59:59Z", nil), (nil, "10000-01-01"), ("2026-12-01", "2026-11-01"), ("kemarin", nil)] as [(String?, String?)] {
            #expect(throws: InputError.self) { try Period(parsingFrom: from, to: to, now: now) }
        }
        let period = try Period(parsingFrom: "2026-11-01", to: "2026-11-02T08:00:00Z", now: now)
        #expect(period.to.timeIntervalSince(period.from) == 32 * 3600)
        let fallback = try Period(parsingFrom: nil, to: nil, now: now)
        #expect(fallback.to == now && fallback.from == now.addingTimeInterval(-30 * 86_400))
        #expect(try Period(parsingFrom: "1900-01-01", to: "1900-01-01", now: now).from == Period.earliest)
    }

    @Test("a day as the end of a period is included whole, in every door; an instant is not")
    func periodEndDayInclusive() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let november = try Period(parsingFrom: "2026-11-01", to: "2026-11-30", now: now)
        #expect(november.to.timeIntervalSince(november.from) == 30 * 86_400)
        let oneDay = try Period(parsingFrom: "2026-11-01", to: "2026-11-01", now: now)
        #expect(oneDay.to.timeIntervalSince(oneDay.from) == 86_400)
        let instant = try Period(parsingFrom: "2026-11-01", to: "2026-11-01T00:00:00Z", now: now)
        #expect(instant.to == instant.from)
        #expect(try Period(parsingFrom: "9999-12-31", to: "9999-12-31", now: now).to == Period.latest)
        #expect(throws: InputError.self) { try Period(parsingFrom: "10000-01-01", to: nil, now: now) }
    }
}
