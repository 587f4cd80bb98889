#!/usr/bin/env bash
# Builds a libFuzzer + AddressSanitizer binary for each pure-Swift parser target below (native
# protocol frames, DICOM upper-layer PDUs) and runs each
# for $1 seconds (default 60). Crashes land in .build/fuzz-swift/<target>/crash-*; the script exits
# non-zero on any finding or build failure.
#
# To add a target: add its name to `targets`, and give it a case in `sources` (the Swift files it
# compiles with its harness: no NIO, no Foundation-only APIs) and in `seed` (writes a seed corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=.build/fuzz-swift
mkdir -p "$out"

targets=(frame pdu)

sources() {
    case $1 in
        frame) echo Tests/Fuzz/fuzz_frame.swift Sources/Ingest/Native/Frame.swift ;;
        pdu) local d=Sources/DICOMNetwork
             echo Tests/Fuzz/fuzz_pdu.swift $d/ByteReader.swift $d/PDU.swift $d/PDUParser.swift $d/PDUSerializer.swift \
                  $d/DICOMUID.swift $d/DIMSECommand.swift $d/DIMSEAssembler.swift $d/Part10.swift \
                  $d/ImplicitVRTranscoder.swift $d/AssociationNegotiator.swift ;;
        *) echo "unknown fuzz target $1" >&2; return 1 ;;
    esac
}

# Seeds are written by a tiny Swift program compiled from the same parser sources, so they are
# exactly what Vigil's serializer emits.
seed() {
    local corpus=$2
    case $1 in
        frame) # HELLO, a SCAN and a PING, as a station sends them (docs/protocol.md).
             printf 'VIGL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10{"versions":[1]}' > "$corpus/hello"
             printf 'VIGL\x03\x00\x00\x00\x00\x00\x00\x07\x00\x00\x00\x16\x00\x00\x00\x0e{"scanId":"A"}\x89PNG' > "$corpus/scan"
             printf 'VIGL\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02hb' > "$corpus/ping" ;;
        pdu) cat > "$out/seed_pdu_main.swift" <<'SWIFT'
import Foundation
@main struct Seeds {
    static func main() throws {
        let dir = CommandLine.arguments[1]
        let user = UserInformation(maxPDULength: 16384, implementationClassUID: "1.2.3.4", implementationVersionName: "SEED")
        let rq = AssociateRequest(calledAETitle: "VIGIL", callingAETitle: "STORESCU", presentationContexts: [
            ProposedPresentationContext(id: 1, abstractSyntax: DICOMUID.verification, transferSyntaxes: [DICOMUID.implicitVRLittleEndian]),
            ProposedPresentationContext(id: 3, abstractSyntax: DICOMUID.dicosCT,
                                        transferSyntaxes: [DICOMUID.explicitVRLittleEndian, DICOMUID.implicitVRLittleEndian]),
        ], userInformation: user)
        let ac = AssociateAccept(calledAETitle: "VIGIL", callingAETitle: "STORESCU", presentationContexts: [
            PresentationContextResult(id: 1, outcome: .acceptance, transferSyntax: DICOMUID.implicitVRLittleEndian),
            PresentationContextResult(id: 3, outcome: .abstractSyntaxNotSupported, transferSyntax: DICOMUID.explicitVRLittleEndian),
        ], userInformation: user)
        let store = DIMSECommand(commandField: 1, affectedSOPClassUID: DICOMUID.dicosCT, messageID: 7, priority: 0,
                                 commandDataSetType: 0, affectedSOPInstanceUID: "1.2.3.4.5")
        // A tiny explicit VR LE data set with a sequence, as the transcoder reads.
        let dataSet: [UInt8] = [0x08, 0x00, 0x18, 0x00, 0x55, 0x49, 0x04, 0x00, 0x31, 0x2E, 0x32, 0x00,
                                0x08, 0x00, 0x40, 0x11, 0x53, 0x51, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
                                0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF,
                                0x08, 0x00, 0x50, 0x11, 0x55, 0x49, 0x02, 0x00, 0x31, 0x00,
                                0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]
        let seeds: [String: [UInt8]] = [
            "associate-rq": PDUSerializer.serialize(.associateRQ(rq)),
            "associate-ac": PDUSerializer.serialize(.associateAC(ac)),
            "associate-rj": PDUSerializer.serialize(.associateRJ(.calledAETitleNotRecognized)),
            "release-rq": PDUSerializer.serialize(.releaseRQ),
            "abort": PDUSerializer.serialize(.abort(source: 2, reason: 1)),
            "p-data-store": PDUSerializer.serialize(.dataTF([
                PresentationDataValue(contextID: 3, isCommand: true, isLast: true, data: store.serialize()[...]),
                PresentationDataValue(contextID: 3, isCommand: false, isLast: true, data: dataSet[...]),
            ])),
            "command": store.serialize(),
            "part10": Part10.wrap(dataSet: dataSet, sopClassUID: DICOMUID.dicosCT, sopInstanceUID: "1.2.3",
                                  transferSyntaxUID: DICOMUID.explicitVRLittleEndian, sourceAETitle: "SEED"),
        ]
        for (name, bytes) in seeds { try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name)")) }
    }
}
SWIFT
             # shellcheck disable=SC2046
             swiftc -parse-as-library -O $(sources pdu | cut -d' ' -f2-) "$out/seed_pdu_main.swift" -o "$out/seed-pdu"
             "$out/seed-pdu" "$corpus" ;;
    esac
}

status=0
for target in "${targets[@]}"; do
    dir="$out/$target"
    mkdir -p "$dir/corpus"
    seed "$target" "$dir/corpus"
    # shellcheck disable=SC2046
    if ! swiftc -parse-as-library -sanitize=fuzzer,address -g -O $(sources "$target") -o "$out/fuzz-$target" 2>"$out/build-$target.log"; then
        cat "$out/build-$target.log"; exit 2
    fi
    echo "== $target: ${seconds}s"
    (cd "$dir" && ../fuzz-$target -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 corpus 2>&1 \
        | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Fatal|Done" || true)
    if ls "$dir"/crash-* "$dir"/leak-* "$dir"/oom-* "$dir"/timeout-* >/dev/null 2>&1; then
        echo "$target: findings in $dir"; status=1
    fi
done
exit $status
