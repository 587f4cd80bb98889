// libFuzzer harness for the native protocol's frame parser (Sources/Ingest/Native/Frame.swift),
// compiled together with that file alone by Tests/Fuzz/run_swift.sh.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrames(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let limit = 4096
    var offset = 0
    // Walk the input as a stream of frames, as the server does, until it needs more or fails.
    while offset < bytes.count {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
        guard let header = try? FrameHeader.parse(rest, maxFrameBytes: limit) else { break }
        precondition(header.length + Frame.headerSize <= limit, "a frame over the limit was accepted")
        guard rest.count >= Frame.headerSize + header.length else { break }
        let payload = Array(rest[Frame.headerSize..<(Frame.headerSize + header.length)])
        if header.type == .scan, let split = try? ScanPayload(splitting: payload) {
            precondition(split.metadata.count + split.image.count + 4 == payload.count)
        }
        let frame = Frame(header.type, requestId: header.requestId, payload: payload)
        precondition(frame.encoded.count == Frame.headerSize + payload.count)
        offset += Frame.headerSize + header.length
    }
    return 0
}
