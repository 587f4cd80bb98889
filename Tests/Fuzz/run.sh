#!/usr/bin/env bash
# Builds a libFuzzer + AddressSanitizer binary per decoder and runs each for $1 seconds (default 60)
# on a seed corpus made from the sample scans and from `vigil image convert`.
# Crashes are written to .build/fuzz/<decoder>/crash-*; the script exits non-zero on any.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
out=.build/fuzz
mkdir -p "$out"
vigil=.build/debug/vigil
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -ISources/CCodecs/include -ISources/CDICOM/include)
dcmtk_libs=(-ldcmjpls -ldcmtkcharls -ldcmjpeg -lijg8 -lijg12 -lijg16 -ldcmimgle -ldcmdata -loflog -lofstd -lz)
for cpp in Sources/CDICOM/*.cpp; do
    clang++ -std=c++17 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -ISources/CDICOM/include \
        -c "$cpp" -o "$out/$(basename "$cpp" .cpp).o"
done
for c in Sources/CCodecs/*.c; do
    clang -g -O1 -fsanitize=fuzzer-no-link,address,undefined -ISources/CCodecs/include -c "$c" -o "$out/$(basename "$c" .c).o"
done
status=0
for decoder in png jpeg tiff dicom; do
    corpus="$out/$decoder/corpus"
    mkdir -p "$corpus"
    case $decoder in
        png) "$vigil" image convert ScannerProfiles/samples/parcel-ct.dcm "$corpus/seed.png" 2>/dev/null || true
             "$vigil" image convert Tests/Fuzz/seeds/grey.jpg "$corpus/seed8.png" ;;
        jpeg) cp Tests/Fuzz/seeds/grey.jpg "$corpus/" ;;
        tiff) cp ScannerProfiles/samples/parcel-de-160kv.tiff "$corpus/" ;;
        dicom) cp ScannerProfiles/samples/vehicle-top.dcm "$corpus/"
               dcmcrle ScannerProfiles/samples/vehicle-top.dcm "$corpus/rle.dcm" 2>/dev/null || true
               dcmcjpls ScannerProfiles/samples/vehicle-top.dcm "$corpus/jls.dcm" 2>/dev/null || true ;;
    esac
    define=$(echo "FUZZ_$decoder" | tr a-z A-Z)
    clang "${flags[@]}" -D"$define" -c Tests/Fuzz/fuzz_decoder.c -o "$out/harness-$decoder.o"
    clang++ -fsanitize=fuzzer,address,undefined "$out/harness-$decoder.o" "$out"/{common,png,jpeg,tiff}.o "$out/DicomDecoder.o" "$out/ElementLengthCheck.o" \
        -lpng16 -ltiff -ljpeg "${dcmtk_libs[@]}" -o "$out/fuzz-$decoder" 2>"$out/link-$decoder.log" \
        || { cat "$out/link-$decoder.log"; exit 2; }
    echo "== $decoder: ${seconds}s"
    if ! (cd "$out/$decoder" && ASAN_OPTIONS=detect_leaks=1 ../fuzz-$decoder -max_total_time="$seconds" \
            -rss_limit_mb=1024 -max_len=1048576 -print_final_stats=1 corpus 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done"); then
        :
    fi
    if ls "$out/$decoder"/crash-* "$out/$decoder"/leak-* "$out/$decoder"/oom-* >/dev/null 2>&1; then
        echo "$decoder: findings in $out/$decoder"; status=1
    fi
done
exit $status
