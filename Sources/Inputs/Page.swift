/// One page of a listing. Bounded so that no arithmetic on it can overflow: `offset` is at most
/// `maximumNumber × maximumSize`, far inside `Int` (a `page` of 2^62 once trapped the server).
public struct Page: Sendable, Equatable {
    public static let maximumNumber = 10_000
    public static let maximumSize = 100

    /// 1-based.
    public let number: Int
    public let size: Int

    public init(number: Int = 1, size: Int = 20) throws(InputError) {
        guard (1...Self.maximumNumber).contains(number) else {
            throw InputError(field: "page", reason: "must be a whole number from 1 to \(Self.maximumNumber)")
        }
        guard (1...Self.maximumSize).contains(size) else {
            throw InputError(field: "page_size", reason: "must be a whole number from 1 to \(Self.maximumSize)")
        }
        self.number = number
        self.size = size
    }

    /// From the text a door received (`?page=`, `--page`); nil is the first page.
    public init(parsing text: String?, size: Int = 20) throws(InputError) {
        guard let text else { try self.init(number: 1, size: size); return }
        // Int(_:) returns nil on overflow, never traps; leading "+" and spaces are refused.
        guard text.utf8.count <= 12, text.allSatisfy(\.isASCII), let number = Int(text), text.first != "+" else {
            throw InputError(field: "page", reason: "must be a whole number from 1 to \(Self.maximumNumber)")
        }
        try self.init(number: number, size: size)
    }

    /// Rows to skip.
    public var offset: Int { (number - 1) * size }
}
