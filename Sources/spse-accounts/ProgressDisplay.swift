import ConsoleKitTerminal
import Foundation
import Provisioning
import Synchronization

/// Shows a batch's hashing progress: a ConsoleKit bar with rate and ETA on a terminal, otherwise a
/// plain line on stderr at most every two seconds (logs and CI stay readable).
final class ProgressDisplay: Sendable {
    private struct State {
        var started = Date()
        var lastLine = Date.distantPast
        var bar: ActivityIndicator<RateBar>?
    }
    private let state: Mutex<State>
    private let console: Terminal?

    init(useBar: Bool) {
        console = useBar ? Terminal() : nil
        state = Mutex(State())
    }

    func update(_ progress: ProvisioningProgress) {
        if progress.total == 0 { return }  // a re-run with nothing to create has nothing to show
        let now = Date()
        state.withLock { state in
            let elapsed = now.timeIntervalSince(state.started)
            let rate = elapsed > 0 ? Double(progress.done) / elapsed : 0
            let eta = rate > 0 ? Double(progress.total - progress.done) / rate : 0
            let text = progress.phase == .hashing
                ? String(format: "hashing %d/%d (%.1f/s, ETA %@)", progress.done, progress.total, rate, Self.duration(eta))
                : "writing \(progress.total) accounts"
            if let console {
                if state.bar == nil {
                    let bar = RateBar(title: text, fraction: 0).newActivity(for: console)
                    bar.start(refreshRate: 10)
                    state.bar = bar
                }
                state.bar?.activity = RateBar(title: text, fraction: progress.total > 0 ? Double(progress.done) / Double(progress.total) : 1)
            } else if now.timeIntervalSince(state.lastLine) >= 2 || progress.done == progress.total {
                state.lastLine = now
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
        }
    }

    func finish(succeeded: Bool) {
        state.withLock { state in
            if succeeded { state.bar?.succeed() } else { state.bar?.fail() }
            state.bar = nil
        }
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        return whole >= 60 ? "\(whole / 60)m\(String(format: "%02d", whole % 60))s" : "\(whole)s"
    }
}

/// ConsoleKit's progress bar with the rate and ETA in its title.
struct RateBar: ActivityBar {
    var title: String
    var fraction: Double

    func renderActiveBar(tick: UInt, width: Int) -> ConsoleText {
        let filled = Int(min(max(fraction, 0), 1) * Double(width))
        return ("[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "]").consoleText(.info)
    }
}
