import Foundation

/// Starts OpenBLAS the way the engine needs it: no worker threads of its own, and its AVX-512
/// kernels on CPUs it does not recognise.
///
/// The engine splits work across its own pool and calls single-threaded BLAS; OpenBLAS's idle
/// workers would otherwise spin on the same cores. Debian's OpenBLAS 0.3.21 also falls back to
/// Prescott (SSE3) kernels on CPUs newer than it knows, about a fifth of the speed. Both settings
/// are read by a library constructor, before `main`, so Vigil re-executes itself once with
/// OPENBLAS_NUM_THREADS=1 and, on AVX-512 CPUs, OPENBLAS_CORETYPE=SkylakeX. An OPENBLAS_CORETYPE
/// already in the environment is the operator's choice and is left alone.
enum BLASLauncher {
    static let marker = "VIGIL_BLAS_CONFIGURED"

    static func configure(arguments: [String]) {
        let env = ProcessInfo.processInfo.environment
        guard env[marker] == nil else { return }
        var changed = false
        if env["OPENBLAS_NUM_THREADS"] != "1" {
            setenv("OPENBLAS_NUM_THREADS", "1", 1)
            changed = true
        }
        if env["OPENBLAS_CORETYPE"] == nil, cpuHasAVX512() {
            setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
            changed = true
        }
        guard changed else { return }
        setenv(marker, "1", 1)
        let argv = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", argv)
        // execv returned: keep running with the library as it loaded.
    }

    static func cpuHasAVX512() -> Bool {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let set = Set(flags.split(separator: " "))
        return set.contains("avx512f") && set.contains("avx512bw") && set.contains("avx512vl") && set.contains("avx512dq")
    }
}
