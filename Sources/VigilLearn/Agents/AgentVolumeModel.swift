import Foundation

/// Far more calls in an hour than the agent makes: the Poisson tail of this hour's count under
/// the agent's mean per active hour.
struct AgentVolumeModel: AgentModel {
    let name = "agent-volume"
    func observe(_ c: inout AgentContext) {
        let h = c.countHour()
        guard !c.learning, h.hours >= 24, h.count >= 20, Double(h.count) > 5 * h.mean + 10 else { return }
        let lambda = max(h.mean, 0.5)
        let bits = Self.tailBits(k: h.count, lambda: lambda)
        guard bits >= 10, c.reportOncePerHour(h.hour) else { return }
        c.report(model: name, key: "hour-\(h.hour)", bits: bits,
                 reason: "\(c.call.agent) made \(h.count) calls within the hour, against \(String(format: "%.1f", h.mean)) in its usual active hour",
                 facts: ["calls": Double(h.count), "usual": h.mean], scale: 0.25)
    }

    /// -log2 P(X >= k) for X ~ Poisson(lambda), from the first term (a lower bound on the tail).
    static func tailBits(k: Int, lambda: Double) -> Double {
        let lnTerm = Double(k) * log(lambda) - lambda - lgamma(Double(k) + 1)
        return max(0, -lnTerm / log(2))
    }
}
