import VigilCore

/// Settings of the learner, with defaults a new install can run on.
public struct LearnConfiguration: Sendable, Codable {
    /// Which addresses are the monitored network's own devices. Zeek's `local_orig` and
    /// `local_resp` columns, when a log carries them, win over this list.
    public var localNetworks: [CIDR] = CIDR.privateBlocks
    public var trustRecordLocality = true
    /// The learning period: models that judge novelty say nothing until the network, and the
    /// device in question, have been watched this long. Learning itself never stops.
    public var baseline: Duration = .seconds(86_400)
    /// The false-alarm budget: breaches scoring 50 or more per device-day, shared by the models.
    public var budgetPerDeviceDay = 0.1
    /// Breaches scoring below this are counted but not reported.
    public var reportScore = 25.0
    /// The same breach (model, device, subject) is reported again only after this long, or
    /// sooner when it scores 10 points higher.
    public var cooldown: Duration = .seconds(6 * 3600)
    /// Score a device against its peer group's own distribution of each model's surprise, once
    /// the group has enough history (a noisy group of laptops among laptops); off, every device
    /// is scored against the whole network.
    public var peerGroupCalibration = true
    /// Hours to add to UTC for the network's local time (workdays, nights).
    public var utcOffsetHours = 0
    /// Bounds on learned state.
    public var maxDevices = 50_000
    public var maxEndpoints = 400_000
    public var maxPairs = 200_000
    public var maxNames = 200_000

    public init() {}
}
