import Foundation
import Synchronization

/// A token bucket per client address, for the HTTP layer to put in front of login: `burst`
/// attempts at once, refilled at `perMinute`. Memory is bounded: at most `maxAddresses` buckets,
/// the idlest dropped first.
public final class ClientAddressLimiter: Sendable {
    public let burst: Double
    public let perMinute: Double
    public let maxAddresses: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    public init(burst: Int = 20, perMinute: Int = 30, maxAddresses: Int = 100_000) {
        self.burst = Double(burst)
        self.perMinute = Double(perMinute)
        self.maxAddresses = maxAddresses
    }

    /// nil when the attempt may go ahead (and is counted), else the seconds until it may.
    public func admit(_ address: String, at now: Date) -> TimeInterval? {
        buckets.withLock { buckets in
            var bucket = buckets[address] ?? Bucket(tokens: burst, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(burst, bucket.tokens + elapsed * perMinute / 60)
            bucket.updated = now
            defer {
                buckets[address] = bucket
                if buckets.count > maxAddresses {
                    // Drop the idlest tenth at once, so the sort is paid once per many new addresses.
                    let excess = buckets.count - maxAddresses * 9 / 10
                    let idlest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(excess)
                    for (key, _) in idlest { buckets.removeValue(forKey: key) }
                }
            }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) * 60 / perMinute }
            bucket.tokens -= 1
            return nil
        }
    }
}
