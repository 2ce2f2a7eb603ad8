import VigilCore

extension Learner {
    /// Every device seen since `since` (all when nil) as the API and console show it, with its
    /// learned hour-of-week normal from the volume model.
    public func deviceSummaries(since: Timestamp? = nil) -> [DeviceSummary] {
        let volume = models.lazy.compactMap { $0 as? VolumeModel }.first
        let roles = Dictionary(context.groups.describe(context.devices).map { ($0.id, $0.role) }, uniquingKeysWith: { a, _ in a })
        var out: [DeviceSummary] = []
        context.devices.forEach { ip, p in
            if let since, p.lastSeen < since { return }
            let usual = volume?.usual(ip)
            out.append(DeviceSummary(
                address: ip.description, name: p.name, mac: p.mac?.description, group: p.group, role: roles[p.group],
                firstSeen: p.firstSeen, lastSeen: p.lastSeen, servesOthers: p.servesOthers,
                connectionsOut: p.connsOut, connectionsIn: p.connsIn, bytesOut: p.bytesOut, bytesIn: p.bytesIn,
                usualSent: usual?.sent ?? [], usualReceived: usual?.received ?? [], learnedWeeks: usual?.weeks ?? []))
        }
        return out
    }
}
