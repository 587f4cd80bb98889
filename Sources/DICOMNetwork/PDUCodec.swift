import NIOCore

/// Frames the byte stream into PDUs. The header's length is checked against the limits before the
/// body is buffered, so a peer cannot make it wait for (or allocate) more than `maxPDULength`.
struct PDUDecoder: ByteToMessageDecoder {
    typealias InboundOut = PDU
    let limits: PDULimits

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: PDUParser.headerLength) else { return .needMoreData }
        guard case .pdu(let type, let length) = try PDUParser.frame(header[...], limits: limits) else { return .needMoreData }
        guard buffer.readableBytes >= PDUParser.headerLength + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: PDUParser.headerLength)
        let body = buffer.readBytes(length: length) ?? []
        let pdu = try PDUParser.parseBody(type: type, body[...], limits: limits)
        context.fireChannelRead(wrapInboundOut(pdu))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial PDU at EOF is simply dropped: the peer has gone, nobody is left to answer.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Serialises outbound PDUs.
struct PDUEncoder: MessageToByteEncoder {
    typealias OutboundIn = PDU

    func encode(data: PDU, out: inout ByteBuffer) throws {
        out.writeBytes(PDUSerializer.serialize(data))
    }
}
