/// A source of random bytes, passed in so that what draws salts (and later temporary passwords
/// and tokens) is visible at the call site. `.system` is the operating system's CSPRNG
/// (`getrandom` on Linux, via `SystemRandomNumberGenerator`).
public struct RandomBytes: Sendable {
    private let generate: @Sendable (Int) -> [UInt8]

    public init(_ generate: @escaping @Sendable (Int) -> [UInt8]) {
        self.generate = generate
    }

    public func callAsFunction(_ count: Int) -> [UInt8] { generate(count) }

    public static let system = RandomBytes { count in
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }
}
