import Foundation

/// Makes OpenBLAS use its AVX-512 kernels on CPUs it does not recognise.
///
/// Debian's OpenBLAS 0.3.21 falls back to Prescott (SSE3) kernels on CPUs newer than it knows,
/// about a fifth of the speed. It reads OPENBLAS_CORETYPE in a library constructor, before
/// `main`, so setting it here only helps a fresh process: Vigil re-executes itself once with the
/// variable set. An OPENBLAS_CORETYPE already in the environment is the operator's choice and is
/// left alone.
enum BLASLauncher {
    static let marker = "VIGIL_BLAS_CORETYPE_SET"

    static func ensureVectorKernels(arguments: [String]) {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env[marker] == nil, cpuHasAVX512() else { return }
        setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
        setenv(marker, "1", 1)
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        // execv returned: keep running on whatever kernels OpenBLAS chose.
    }

    static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " "))
        return set.contains("avx512f") && set.contains("avx512bw") && set.contains("avx512vl") && set.contains("avx512dq")
    }
}
