import NIOCore

/// Cuts the byte stream into frames; a stream that is not frames fails the channel with `FrameError`.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    let maxFrameBytes: Int

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let header = try buffer.withUnsafeReadableBytes { bytes throws(FrameError) in
            try FrameHeader.parse(bytes, maxFrameBytes: maxFrameBytes)
        }
        guard let header else { return .needMoreData }
        guard buffer.readableBytes >= Frame.headerSize + header.length else {
            // Room for the whole frame at once (it is within the limit): a 20 MB scan then arrives
            // without the buffer being regrown and copied a dozen times.
            buffer.reserveCapacity(minimumWritableBytes: Frame.headerSize + header.length - buffer.readableBytes)
            return .needMoreData
        }
        buffer.moveReaderIndex(forwardBy: Frame.headerSize)
        let payload = buffer.readBytes(length: header.length) ?? []
        context.fireChannelRead(wrapInboundOut(Frame(header.type, requestId: header.requestId, payload: payload)))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A half frame at EOF is dropped: the station will re-send what it has no ACK for.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Writes frames.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    public init() {}

    public func encode(data: Frame, out: inout ByteBuffer) throws {
        out.reserveCapacity(Frame.headerSize + data.payload.count)
        out.writeBytes(Frame.magic)
        out.writeBytes([data.type.rawValue, 0, 0, 0])
        out.writeInteger(data.requestId, endianness: .big)
        out.writeInteger(UInt32(data.payload.count), endianness: .big)
        out.writeBytes(data.payload)
    }
}
