import Foundation
import Gate

/// One SVG chart per SOP step: for each actor a bar for the median and a lighter one to the p90,
/// the step's limit as a red line, and the breaches as a number — drawn on the server, no script.
enum SLAChart {
    /// The chart's words, in the page's language.
    struct Labels {
        let limit: String, breaches: String, minutes: String, median: String, p90: String
        /// The step's name, the chart's accessible title.
        let step: String
        let priority: (String) -> String
    }

    static func svg(step: Int, lines: [SLAReportLine], labels: Labels) -> String {
        let (limitLabel, breachesLabel, minutes) = (labels.limit, labels.breaches, labels.minutes)
        let rows = lines.filter { $0.status == "done" }
        let limit = Double(rows.compactMap(\.limitMinutes).max() ?? 0)
        let top = max(limit, rows.map { $0.p90Seconds / 60 }.max() ?? 0, 1) * 1.15
        // Narrow enough that at 360 px the 13 px labels stay about 10 px high.
        let (left, width, rowHeight) = (120.0, 250.0, 26.0)
        let legend = 22.0
        let height = Double(rows.count) * rowHeight + 34 + legend
        func x(_ minutes: Double) -> Double { left + minutes / top * width }
        let total = Int(left + width + 90)
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 \##(total) \##(Int(height))" style="width:100%;max-width:\##(total)px;height:auto">"##
        svg += "<title>\(escape(labels.step))</title>"
        // The legend: which bar is the median and which the p90.
        svg += ##"<rect x="4" y="4" width="12" height="12" fill="#12355b"/><text x="20" y="15" font-size="13" fill="#1a1a1a">\##(escape(labels.median))</text>"##
        svg += ##"<rect x="120" y="4" width="12" height="12" fill="#9db7d5"/><text x="136" y="15" font-size="13" fill="#1a1a1a">\##(escape(labels.p90))</text>"##
        for (index, line) in rows.enumerated() {
            let y = Double(index) * rowHeight + 6 + legend
            let label = "\(line.actor) (\(labels.priority(line.priority)))"
            svg += ##"<text x="4" y="\##(y + 15)" font-size="13" fill="#1a1a1a">\##(escape(String(label.prefix(16))))<title>\##(escape(label))</title></text>"##
            svg += ##"<rect x="\##(left)" y="\##(y + 2)" width="\##(max(1, x(line.p90Seconds / 60) - left))" height="16" fill="#9db7d5"><title>p90 \##(Formatting.minutes(line.p90Seconds)) \##(escape(minutes))</title></rect>"##
            svg += ##"<rect x="\##(left)" y="\##(y + 2)" width="\##(max(1, x(line.medianSeconds / 60) - left))" height="16" fill="#12355b"><title>\##(escape(labels.median)) \##(Formatting.minutes(line.medianSeconds)) \##(escape(minutes))</title></rect>"##
            let breachColor = line.breaches > 0 ? "#a30000" : "#1a1a1a"
            svg += ##"<text x="\##(left + width + 8)" y="\##(y + 15)" font-size="13" fill="\##(breachColor)">\##(line.breaches) \##(escape(breachesLabel))</text>"##
        }
        if limit > 0 {
            let lx = x(limit)
            svg += ##"<line x1="\##(lx)" y1="\##(legend + 2)" x2="\##(lx)" y2="\##(height - 26)" stroke="#a30000" stroke-width="2" stroke-dasharray="4 3"/>"##
            svg += ##"<text x="\##(lx + 3)" y="\##(height - 12)" font-size="12" fill="#a30000">\##(escape(limitLabel)) \##(Int(limit)) \##(escape(minutes))</text>"##
        }
        svg += ##"<text x="\##(left)" y="\##(height - 12)" font-size="11" fill="#4a4a4a">0</text></svg>"##
        return svg
    }

    /// XML text: the chart is inserted unescaped, so every value from the data is escaped here.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
