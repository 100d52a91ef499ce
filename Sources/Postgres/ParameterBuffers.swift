import Foundation

/// C copies of query parameters that live exactly as long as one `PQexecParams` call.
struct ParameterBuffers: ~Copyable {
    private var buffers: [UnsafeMutablePointer<CChar>?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    init(_ binds: [PostgresBind]) throws {
        // Checked before anything is allocated, so a refusal leaves nothing to free.
        for case .text(let text) in binds where text.utf8.contains(0) {
            throw PostgresError.invalidText("a text parameter")
        }
        for bind in binds {
            switch bind {
            case .null:
                buffers.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let text):
                let utf8 = Array(text.utf8)
                buffers.append(Self.copy(utf8, terminated: true))
                lengths.append(Int32(utf8.count))
                formats.append(0)
            case .binary(let bytes):
                buffers.append(Self.copy(bytes, terminated: false))
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
    }

    deinit {
        for buffer in buffers { buffer?.deallocate() }
    }

    private static func copy(_ bytes: [UInt8], terminated: Bool) -> UnsafeMutablePointer<CChar> {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        bytes.withUnsafeBufferPointer { source in
            source.withMemoryRebound(to: CChar.self) { buffer.initialize(from: $0.baseAddress!, count: bytes.count) }
        }
        buffer[bytes.count] = 0
        return buffer
    }

    func withPointers<R>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) throws -> R
    ) rethrows -> R {
        let values = buffers.map { UnsafePointer($0) }
        return try values.withUnsafeBufferPointer { values in
            try lengths.withUnsafeBufferPointer { lengths in
                try formats.withUnsafeBufferPointer { formats in
                    try body(values.baseAddress, lengths.baseAddress, formats.baseAddress)
                }
            }
        }
    }
}
