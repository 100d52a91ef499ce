/// Nomor Induk Pegawai: 18 digits — birth date YYYYMMDD, appointment YYYYMM, sex digit (1 male,
/// 2 female), 3-digit sequence — e.g. `19610225 198603 1 010`. Spaces are allowed on input.
public struct NIP: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(_ text: String) throws(AccountsError) {
        let digits = text.filter { $0 != " " }
        guard digits.count == 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .invalidField(.nip, "must be exactly 18 digits")
        }
        let d = digits.compactMap { $0.wholeNumberValue }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + d[$1] } }
        let (birthYear, birthMonth, birthDay) = (number(0..<4), number(4..<6), number(6..<8))
        let (appointedYear, appointedMonth) = (number(8..<12), number(12..<14))
        guard (1900...2100).contains(birthYear), (1...12).contains(birthMonth),
            (1...Self.days(inMonth: birthMonth, year: birthYear)).contains(birthDay)
        else { throw .invalidField(.nip, "digits 1–8 must be a real birth date (YYYYMMDD)") }
        guard (1...12).contains(appointedMonth), appointedYear <= 2100 else {
            throw .invalidField(.nip, "digits 9–14 must be an appointment month (YYYYMM)")
        }
        // Appointed no earlier than the month of the 18th birthday.
        guard appointedYear * 12 + appointedMonth >= (birthYear + 18) * 12 + birthMonth else {
            throw .invalidField(.nip, "the appointment (digits 9–14) is before the 18th birthday")
        }
        guard d[14] == 1 || d[14] == 2 else {
            throw .invalidField(.nip, "digit 15 (sex) must be 1 or 2")
        }
        guard number(15..<18) > 0 else { throw .invalidField(.nip, "digits 16–18 (sequence) must not be 000") }
        value = digits
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public var description: String { value }
}
