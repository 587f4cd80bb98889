// swift-tools-version:6.0
import PackageDescription

// System libraries come from Debian's -dev packages (see Makefile `deps`).

// Pixel loops and kernels are built optimised in debug builds too: unoptimised they run a few
// hundred times slower, and the tests (which use the debug build) push whole scans through them.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "vigil", targets: ["vigil"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng16", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        // C shims over libpng, libjpeg and libtiff: their error paths use longjmp and
        // variadic calls, which Swift cannot drive safely.
        .target(name: "CCodecs", dependencies: ["CPNG", "CTIFF", "CJPEG"]),
        // A small C API over dcmtk (dcmdata plus its RLE, JPEG and JPEG-LS decoders).
        .target(
            name: "CDICOM",
            linkerSettings: [
                .linkedLibrary("dcmjpls"), .linkedLibrary("dcmtkcharls"),
                .linkedLibrary("dcmjpeg"), .linkedLibrary("ijg8"), .linkedLibrary("ijg12"), .linkedLibrary("ijg16"),
                .linkedLibrary("dcmimgle"), .linkedLibrary("dcmdata"),
                .linkedLibrary("oflog"), .linkedLibrary("ofstd"), .linkedLibrary("z"),
                .linkedLibrary("stdc++"),
            ]
        ),
        .target(name: "Compute", swiftSettings: optimized),
        .target(name: "NPYFormat"),
        .target(name: "ScanImage", dependencies: ["CCodecs", "CDICOM", "NPYFormat"], swiftSettings: optimized),
        .target(name: "Profiles", dependencies: ["ScanImage", "Compute", "CKernels"], swiftSettings: optimized),
        .target(name: "Simulator", dependencies: ["Profiles", "ScanImage", "Compute"], swiftSettings: optimized),
        .target(name: "Detection", dependencies: ["Profiles", "ScanImage", "Engine"], swiftSettings: optimized),
        // Paired scans of one vehicle registered and compared (the changes between two ports).
        .target(name: "CrossCheck", dependencies: ["Profiles", "ScanImage", "Compute"], swiftSettings: optimized),
        .target(name: "Pipeline", dependencies: ["Detection", "Engine", "Profiles", "ScanImage", "Compute"], swiftSettings: optimized),
        // Generated once from onnx.proto (see Sources/ONNXProto/README.md) and committed.
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md", "generate.sh", "onnx.proto"]),
        // Element-wise kernels compiled for AVX-512 / AVX2 / baseline, chosen at load time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Engine", dependencies: ["ONNXProto", "Compute", "CBLAS", "CKernels"], swiftSettings: optimized),
        // DICOM upper layer and DIMSE C-ECHO / C-STORE (SCP and SCU) on SwiftNIO; DICOS TDR writer.
        .target(
            name: "DICOMNetwork",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "DICOS", dependencies: ["Pipeline", "CDICOM"]),
        // Scans, results, findings and timings in SQLite (GRDB); scan bytes as files beside it.
        .target(name: "Store", dependencies: ["Pipeline", "Profiles", .product(name: "GRDB", package: "GRDB.swift"),
                                             .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto")]),
        // The native TCP protocol (docs/protocol.md), the DICOM port, and the durable queue in
        // front of the pipeline's workers.
        .target(
            name: "Ingest",
            dependencies: [
                "Pipeline", "Store", "ScanImage", "DICOMNetwork", "DICOS", "CrossCheck",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]),
        // HTTP API and metrics (Hummingbird) over the store.
        .target(
            name: "Web",
            dependencies: [
                "Store", "Pipeline", "ScanImage", "Profiles", "DICOS", "Detection",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")]),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "ScanImage", "Profiles", "Engine", "Simulator", "Compute", "NPYFormat", "CBLAS", "Pipeline", "Detection",
                "Store", "Ingest", "Web", "DICOMNetwork", "DICOS", "CrossCheck", "CKernels",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ScanImageTests", dependencies: ["ScanImage"]),
        .testTarget(name: "ProfilesTests", dependencies: ["Profiles", "ScanImage", "Compute", "CKernels"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Compute"]),
        .testTarget(name: "ComputeTests", dependencies: ["Compute"]),
        .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Profiles", "ScanImage"]),
        .testTarget(name: "CrossCheckTests", dependencies: ["CrossCheck", "Simulator", "Profiles", "ScanImage"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Profiles"]),
        .testTarget(name: "DICOMNetworkTests", dependencies: ["DICOMNetwork"]),
        .testTarget(name: "DICOSTests", dependencies: ["DICOS", "Pipeline", "DICOMNetwork"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Pipeline"]),
        .testTarget(name: "WebTests", dependencies: ["Web", "Store"]),
        .testTarget(
            name: "IngestTests",
            dependencies: ["Ingest", "Store", "Pipeline", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Detection", "Profiles", "ScanImage", "Simulator"]),
    ],
    cxxLanguageStandard: .cxx17
)
