// swift-tools-version:6.0
import PackageDescription

let release: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

/// The learner keeps its tables in class-held properties (the shared context, each model), and
/// every change to one took a dynamic exclusivity check: about 9% of its instructions. Debug
/// builds, which the tests run, keep the checks, so an overlapping access still traps there.
let learnRelease: [SwiftSetting] = release + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
    ],
    targets: [
        // C libraries from Debian packages (installed by scripts/setup).
        .systemLibrary(name: "CPcap", path: "Sources/CPcap"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CSodium", path: "Sources/CSodium"),
        .systemLibrary(name: "CJansson", path: "Sources/CJansson"),
        .systemLibrary(name: "CMicroHTTPD", path: "Sources/CMicroHTTPD"),
        .systemLibrary(name: "CGnuTLS", path: "Sources/CGnuTLS"),
        .systemLibrary(name: "CPCRE2", path: "Sources/CPCRE2"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        .systemLibrary(name: "CHints", path: "Sources/CHints"),

        // Pure modules.
        .target(name: "VigilCore", swiftSettings: release, linkerSettings: [.linkedLibrary("m")]),
        .target(name: "VigilWire", dependencies: ["VigilCore", "CSodium"], swiftSettings: release),
        .target(name: "VigilSim", dependencies: ["VigilCore"], swiftSettings: release),
        .target(name: "VigilLearn", dependencies: ["VigilCore"], swiftSettings: learnRelease),
        .target(name: "VigilAnalyst", dependencies: ["VigilCore"], swiftSettings: release),
        .target(name: "VigilMCP", dependencies: ["VigilCore", "CSodium", "CJansson", "CGnuTLS", "CPCRE2"], swiftSettings: release),

        // Adapters: one technology each.
        .target(name: "VigilCapture", dependencies: ["VigilCore", "VigilWire", "CPcap", "CZlib", "CHints"], swiftSettings: release),
        .target(name: "VigilHTTP", dependencies: ["VigilCore", "CMicroHTTPD", "CCurl"], swiftSettings: release),
        .target(name: "VigilMCPTransport", dependencies: ["VigilMCP", "VigilHTTP"], swiftSettings: release),
        .target(name: "VigilStore", dependencies: ["VigilCore", "CSQLite"], swiftSettings: release),
        .target(name: "VigilServe", dependencies: ["VigilCore", "VigilAnalyst", "VigilStore", "VigilHTTP"], swiftSettings: release),

        // The command line.
        .executableTarget(
            name: "vigil",
            dependencies: ["VigilCore", "VigilWire", "VigilSim", "VigilLearn", "VigilAnalyst", "VigilCapture", "VigilStore", "VigilMCP", "VigilMCPTransport", "VigilHTTP", "VigilServe"],
            swiftSettings: release),

        .testTarget(name: "VigilWireTests", dependencies: ["VigilCore", "VigilWire", "VigilSim"], exclude: ["Golden"]),
        .testTarget(name: "VigilCaptureTests", dependencies: ["VigilCore", "VigilWire", "VigilSim", "VigilCapture"]),
        .testTarget(name: "VigilLearnTests", dependencies: ["VigilCore", "VigilLearn", "VigilSim", "VigilWire", "VigilCapture"]),
        .testTarget(name: "VigilAnalystTests", dependencies: ["VigilCore", "VigilAnalyst", "VigilLearn", "VigilSim", "VigilWire", "VigilCapture", "VigilStore"]),
        .target(name: "VigilTestSupport", path: "Tests/VigilTestSupport"),
        .testTarget(name: "VigilMCPTests", dependencies: ["VigilMCP", "VigilMCPTransport", "VigilTestSupport"], exclude: ["Drivers"]),
        .testTarget(name: "VigilServeTests", dependencies: ["VigilCore", "VigilSim", "VigilWire", "VigilCapture", "VigilHTTP", "VigilTestSupport"], exclude: ["Drivers"]),
        .testTarget(name: "VigilStoreTests", dependencies: ["VigilCore", "VigilStore", "VigilSim", "VigilWire"]),
    ],
    swiftLanguageModes: [.v6]
)
