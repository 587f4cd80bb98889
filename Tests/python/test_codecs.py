"""Peer tests of Vigil's scan decoders against other people's encoders and decoders.

Fixtures are produced at test time by pydicom, dcmtk (img2dcm, dcmcjpeg, dcmcrle, dcmcjpls, dcmconv,
dump2dcm), tifffile + libtiff's tiffcp, Pillow and zlib. Expected pixels come from pydicom, dcmtk's
own decompressors (dcmdjpeg, dcmdjpls), tifffile and imagecodecs, never from Vigil.

Run from the repository root:  .venv/bin/python -m pytest -q Tests/python
"""
from __future__ import annotations

import struct
from pathlib import Path

import imagecodecs
import numpy as np
import pytest
from PIL import Image
from pydicom import uid

from builders import (COLS, DEFLATED, DICOS_CT, DICOS_DX_PRESENTATION, DICOS_DX_PROCESSING, DICOS_PITCH_MM,
                      DICOS_TDR, ROWS, Corpus, PixelSpec, TiffSource, encapsulated, image_dataset,
                      jpeg_dimension_offset, natural_image, pixel_data_offset, png_bytes, png_patch_ihdr,
                      pydicom_pixels, read_dicom, run_tool, stored_pixels, tiff_loop_ifd, tiff_patch_tag,
                      tiff_pixels, write_dataset, write_dicos)
from vigil_cli import (assert_info_matches, assert_pixels, check_error, convert, decode_npy, expect_error,
                       info, vigil)

EXPLICIT, IMPLICIT, BIG = uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian
TRUNCATED = ("truncated:", "corrupt:")
HOSTILE = ("truncated:", "corrupt:", "too large:")

# ============================================================================================
# 1. Uncompressed DICOM written by pydicom
# ============================================================================================

NATIVE = {
    "u8": PixelSpec("uint8"),
    "i8": PixelSpec("int8"),
    "u16": PixelSpec("uint16"),
    "i16": PixelSpec("int16"),
    "u12": PixelSpec("uint16", 12),
    "u12_garbage": PixelSpec("uint16", 12, garbage=True),
    "i12": PixelSpec("int16", 12),
    "i12_garbage": PixelSpec("int16", 12, garbage=True),
    "mono1": PixelSpec("uint16", 12, photometric="MONOCHROME1"),
    "u8_4frames": PixelSpec("uint8", frames=4),
    "u16_5frames": PixelSpec("uint16", frames=5),
    "rgb_planar0": PixelSpec("uint8", photometric="RGB"),
    "rgb_planar1": PixelSpec("uint8", photometric="RGB", planar=1),
    "rgb16_planar1": PixelSpec("uint16", photometric="RGB", planar=1),
    "rgb_3frames_planar1": PixelSpec("uint8", photometric="RGB", planar=1, frames=3),
    "ybr_full": PixelSpec("uint8", photometric="YBR_FULL"),
    "ybr_full_planar1": PixelSpec("uint8", photometric="YBR_FULL", planar=1),
}
TRANSFER_SYNTAXES = {"implicit": IMPLICIT, "explicit": EXPLICIT, "big": BIG, "deflated": DEFLATED}


def refused_or_exact(path: Path, out_dir: Path, causes: tuple[str, ...], expected: np.ndarray) -> None:
    """Damage a reader can see through (all pixels still there): a clean refusal or exact pixels."""
    if vigil("image", "info", path).returncode == 0:
        assert_pixels(decode_npy(path, out_dir), expected)
    else:
        expect_error(path, out_dir, causes)


def colour_tolerance(spec: PixelSpec) -> int:
    """YBR_FULL -> RGB is arithmetic: Vigil and pydicom may round differently, by 2 at most."""
    return 2 if spec.photometric.startswith("YBR") else 0


def decoded_photometric(spec: PixelSpec) -> str:
    return "RGB" if spec.samples == 3 else spec.photometric


def check_dicom(path: Path, out_dir: Path, expected: np.ndarray, tolerance: int = 0, **info_expected) -> dict:
    """Decodes with vigil, compares with the reference pixels and the reference header."""
    assert_pixels(decode_npy(path, out_dir), expected, tolerance)
    ds = read_dicom(path)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    doc = info(path)
    want = {"bitsStored": ds.BitsStored, "format": "dicom", "sopClassUID": ds.SOPClassUID,
            "sopInstanceUID": ds.SOPInstanceUID, "modality": getattr(ds, "Modality", None)}
    if "TransferSyntaxUID" in getattr(ds, "file_meta", {}):
        want["transferSyntax"] = ds.file_meta.TransferSyntaxUID
    want.update(info_expected)
    assert_info_matches(doc, expected, frames=frames, samples=ds.SamplesPerPixel, **want)
    return doc


@pytest.mark.parametrize("ts", TRANSFER_SYNTAXES.values(), ids=TRANSFER_SYNTAXES.keys())
@pytest.mark.parametrize("case", NATIVE)
def test_native_dicom(corpus: Corpus, tmp_path: Path, case: str, ts: str) -> None:
    spec = NATIVE[case]
    path = corpus.native(case, spec, ts)
    expected, _ = pydicom_pixels(path)
    assert expected.shape == spec.shape
    if spec.garbage:   # the fixture really carries bits above HighBit that must be masked off
        assert not np.array_equal(stored_pixels(spec), expected)
    check_dicom(path, tmp_path, expected, colour_tolerance(spec), photometric=decoded_photometric(spec))


@pytest.mark.parametrize("ts", [IMPLICIT, EXPLICIT], ids=["implicit", "explicit"])
@pytest.mark.parametrize("case", ["u16", "i12_garbage", "rgb_planar1", "u16_5frames"])
def test_bare_dataset_without_preamble_or_meta(corpus: Corpus, tmp_path: Path, case: str, ts: str) -> None:
    spec = NATIVE[case]
    path = corpus.native(case, spec, ts, meta=False)
    assert path.read_bytes()[:2] == b"\x08\x00"          # starts straight with group 0008
    expected, _ = pydicom_pixels(path, ts)
    assert_pixels(decode_npy(path, tmp_path), expected)
    doc = info(path)
    assert doc["transferSyntax"] in (ts, None), doc
    assert (doc["format"], doc["frames"], doc["width"], doc["height"]) == ("dicom", spec.frames, COLS, ROWS), doc


# ============================================================================================
# 2. Compressed and converted by dcmtk from the uncompressed sources above
# ============================================================================================

JPEG_FAMILY = {uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLosslessSV1, uid.JPEGLossless}
JPEGLS_FAMILY = {uid.JPEGLSLossless, uid.JPEGLSNearLossless}

# (source case, dcmtk command, transfer syntax it must produce, lossless?)
DCMTK_ENCODINGS = [
    ("u8", ("dcmcrle",), uid.RLELossless, True),
    ("u16", ("dcmcrle",), uid.RLELossless, True),
    ("i12", ("dcmcrle",), uid.RLELossless, True),
    ("rgb_planar0", ("dcmcrle",), uid.RLELossless, True),
    ("rgb16_planar1", ("dcmcrle",), uid.RLELossless, True),
    ("u16_5frames", ("dcmcrle",), uid.RLELossless, True),
    ("u8", ("dcmcjpeg", "+eb"), uid.JPEGBaseline8Bit, False),
    ("u8_4frames", ("dcmcjpeg", "+eb"), uid.JPEGBaseline8Bit, False),
    ("rgb_planar0", ("dcmcjpeg", "+eb"), uid.JPEGBaseline8Bit, False),            # YBR_FULL_422
    ("rgb_planar0", ("dcmcjpeg", "+eb", "+s4"), uid.JPEGBaseline8Bit, False),     # YBR_FULL 4:4:4
    ("rgb_planar0", ("dcmcjpeg", "+eb", "+cr"), uid.JPEGBaseline8Bit, False),     # RGB components
    ("u12", ("dcmcjpeg", "+ee"), uid.JPEGExtended12Bit, False),
    ("u8", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("u12", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("u16", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("i16", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("i12", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("rgb_planar0", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("u16_5frames", ("dcmcjpeg", "+e1"), uid.JPEGLosslessSV1, True),
    ("u16", ("dcmcjpeg", "+el"), uid.JPEGLossless, True),
    ("u12", ("dcmcjpeg", "+el", "+sv", "4"), uid.JPEGLossless, True),
    ("u8", ("dcmcjpls",), uid.JPEGLSLossless, True),
    ("u12", ("dcmcjpls",), uid.JPEGLSLossless, True),
    ("u16", ("dcmcjpls",), uid.JPEGLSLossless, True),
    ("i16", ("dcmcjpls",), uid.JPEGLSLossless, True),
    ("rgb_planar0", ("dcmcjpls",), uid.JPEGLSLossless, True),                     # line interleaved
    ("rgb_planar0", ("dcmcjpls", "+is"), uid.JPEGLSLossless, True),               # sample interleaved
    ("rgb_planar0", ("dcmcjpls", "+in"), uid.JPEGLSLossless, True),               # not interleaved
    ("u16_5frames", ("dcmcjpls",), uid.JPEGLSLossless, True),
    ("u8", ("dcmcjpls", "+en"), uid.JPEGLSNearLossless, False),
    ("u16", ("dcmcjpls", "+en", "+md", "3"), uid.JPEGLSNearLossless, False),
    ("rgb_planar0", ("dcmcjpls", "+en"), uid.JPEGLSNearLossless, False),
    ("u16_5frames", ("dcmcjpls", "+en"), uid.JPEGLSNearLossless, False),
    ("u16", ("dcmconv", "+tb"), BIG, True),
    ("rgb_planar1", ("dcmconv", "+tb"), BIG, True),
    ("i12_garbage", ("dcmconv", "+tb"), BIG, True),
    ("u16", ("dcmconv", "+ti"), IMPLICIT, True),
    ("u8_4frames", ("dcmconv", "+ti"), IMPLICIT, True),
    ("u16", ("dcmconv", "+td"), DEFLATED, True),
    ("rgb_planar0", ("dcmconv", "+td"), DEFLATED, True),
]


def dcmtk_reference(corpus: Corpus, path: Path, ts: str) -> np.ndarray:
    """dcmtk's own decoding (dcmdjpeg / dcmdjpls / dcmdrle) read back by pydicom."""
    tool = "dcmdjpeg" if ts in JPEG_FAMILY else "dcmdjpls" if ts in JPEGLS_FAMILY else "dcmdrle"
    pixels, _ = pydicom_pixels(corpus.dcmtk(path, tool))
    return pixels


@pytest.mark.parametrize("case,argv,ts,lossless", DCMTK_ENCODINGS,
                         ids=[f"{c}-{'_'.join(a)}" for c, a, _, _ in DCMTK_ENCODINGS])
def test_dcmtk_encoded(corpus: Corpus, tmp_path: Path, case: str, argv: tuple, ts: str, lossless: bool) -> None:
    spec = NATIVE[case]
    source = corpus.native(case, spec)
    path = corpus.dcmtk(source, *argv)
    assert read_dicom(path).file_meta.TransferSyntaxUID == ts, f"{argv} did not write {ts}"
    source_pixels, _ = pydicom_pixels(source)
    if ts in JPEG_FAMILY | JPEGLS_FAMILY | {uid.RLELossless}:
        expected = dcmtk_reference(corpus, path, ts)
        if lossless:   # the fixture is sound: dcmtk itself gives the source back
            assert_pixels(expected, source_pixels)
    else:
        expected, _ = pydicom_pixels(path)
        assert_pixels(expected, source_pixels)
    check_dicom(path, tmp_path, expected, photometric=decoded_photometric(spec), transferSyntax=ts)


@pytest.mark.parametrize("flag,ts", [("+te", EXPLICIT), ("+ti", IMPLICIT), ("+td", DEFLATED)])
def test_dcmconv_from_big_endian(corpus: Corpus, tmp_path: Path, flag: str, ts: str) -> None:
    spec = NATIVE["u12_garbage"]
    path = corpus.dcmtk(corpus.native("u12_garbage", spec, BIG), "dcmconv", flag)
    expected, _ = pydicom_pixels(path)
    check_dicom(path, tmp_path, expected, transferSyntax=ts)


# ============================================================================================
# 3. img2dcm: JPEG wrapped as-is, BMP unpacked
# ============================================================================================

JPEG_SOURCES = {
    "grey": (False, {}),
    "rgb420": (True, {"subsampling": 2}),
    "rgb422": (True, {"subsampling": 1}),
    "rgb444": (True, {"subsampling": 0}),
    "rgb_progressive": (True, {"progressive": True}),
}


def jpeg_source(corpus: Corpus, name: str) -> Path:
    rgb, options = JPEG_SOURCES[name]
    return corpus.file(f"pillow-{name}.jpg", lambda p: Image.fromarray(natural_image(rgb)).save(
        p, format="JPEG", quality=85, **options))


def img2dcm(corpus: Corpus, source: Path, kind: str) -> Path:
    return corpus.file(f"{source.name}.img2dcm.dcm", lambda p: run_tool("img2dcm", "-i", kind, source, p))


@pytest.mark.parametrize("name", JPEG_SOURCES)
def test_img2dcm_jpeg_matches_dcmdjpeg(corpus: Corpus, tmp_path: Path, name: str) -> None:
    path = img2dcm(corpus, jpeg_source(corpus, name), "JPEG")
    ts = read_dicom(path).file_meta.TransferSyntaxUID
    assert ts.startswith("1.2.840.10008.1.2.4.5"), ts
    expected, _ = pydicom_pixels(corpus.dcmtk(path, "dcmdjpeg"))
    check_dicom(path, tmp_path, expected, transferSyntax=ts,
                photometric="RGB" if JPEG_SOURCES[name][0] else "MONOCHROME2")


@pytest.mark.parametrize("name", JPEG_SOURCES)
def test_plain_jpeg_matches_dcmtk(corpus: Corpus, tmp_path: Path, name: str) -> None:
    """A .jpg straight from Pillow decodes as dcmtk decodes the same bitstream inside DICOM."""
    source = jpeg_source(corpus, name)
    expected, _ = pydicom_pixels(corpus.dcmtk(img2dcm(corpus, source, "JPEG"), "dcmdjpeg"))
    assert_pixels(decode_npy(source, tmp_path), expected)
    rgb = JPEG_SOURCES[name][0]
    assert_info_matches(info(source), expected, frames=1, samples=3 if rgb else 1, format="jpeg",
                        bitsStored=8, photometric="RGB" if rgb else "MONOCHROME2")


@pytest.mark.parametrize("rgb", [True, False], ids=["rgb24", "grey8"])
def test_img2dcm_bmp(corpus: Corpus, tmp_path: Path, rgb: bool) -> None:
    original = natural_image(rgb)
    bmp = corpus.file(f"pillow-{rgb}.bmp", lambda p: Image.fromarray(original).save(p, format="BMP"))
    path = img2dcm(corpus, bmp, "BMP")
    expected, _ = pydicom_pixels(path)
    assert_pixels(expected, original)      # uncompressed: dcmtk kept every BMP sample
    check_dicom(path, tmp_path, expected, photometric="RGB" if rgb else "MONOCHROME2")


# ============================================================================================
# 4. DICOS objects built by dump2dcm
# ============================================================================================

DICOS = {
    "dx_presentation_4frames": (DICOS_DX_PRESENTATION, "DX", PixelSpec("uint16", frames=4), ("+te",)),
    "dx_processing_dual_energy": (DICOS_DX_PROCESSING, "DX", PixelSpec("uint16", 14, frames=2), ("+ti",)),
    "dx_presentation_deflated": (DICOS_DX_PRESENTATION, "DX", PixelSpec("uint16", 12, frames=3), ("+td",)),
    "dx_presentation_big": (DICOS_DX_PRESENTATION, "DX", PixelSpec("uint16", frames=2), ("+tb",)),
    "ct_signed_6slices": (DICOS_CT, "CT", PixelSpec("int16", frames=6), ("+te",)),
}
STATION = "PORT-7-LANE-3"


def dicos(corpus: Corpus, name: str) -> tuple[Path, np.ndarray]:
    sop_class, modality, spec, options = DICOS[name]
    words = stored_pixels(spec, seed=3)
    path = corpus.file(f"{name}.dcs", lambda p: write_dicos(p, words, spec, sop_class, modality, STATION, options))
    return path, words


@pytest.mark.parametrize("compress", [(), ("dcmcjpls",), ("dcmcrle",), ("dcmcjpeg", "+e1")],
                         ids=["as-written", "jpegls", "rle", "jpeg-lossless"])
@pytest.mark.parametrize("name", DICOS)
def test_dicos(corpus: Corpus, tmp_path: Path, name: str, compress: tuple) -> None:
    sop_class, modality, spec, _ = DICOS[name]
    path, words = dicos(corpus, name)
    expected, ds = pydicom_pixels(path)
    assert_pixels(expected, words)     # clean words: pydicom reads back what dump2dcm was given
    assert ds.SOPClassUID == sop_class
    if compress:
        path = corpus.dcmtk(path, *compress)
        ts = read_dicom(path).file_meta.TransferSyntaxUID
        assert_pixels(dcmtk_reference(corpus, path, ts), words)
    doc = check_dicom(path, tmp_path, words, modality=modality, sopClassUID=sop_class, station=STATION,
                      photometric="MONOCHROME2")
    pitch = doc["pixelPitchMM"]   # which axis is "along travel" is the profile's business
    assert pitch and sorted(pitch.values()) == sorted(DICOS_PITCH_MM), doc


# ============================================================================================
# 5. DICOM Vigil must refuse: unsupported, no pixels, truncated, lying lengths, huge
# ============================================================================================

UNSUPPORTED_TS = {
    "1.2.840.10008.1.2.4.90": ("JPEG 2000", "JPEG2000"),
    "1.2.840.10008.1.2.4.91": ("JPEG 2000", "JPEG2000"),
    "1.2.840.10008.1.2.4.100": ("MPEG2", "MPEG-2"),
    "1.2.840.10008.1.2.4.201": ("JPEG 2000", "JPEG2000", "HTJ2K"),
}


@pytest.mark.parametrize("ts", UNSUPPORTED_TS)
def test_unsupported_transfer_syntax(corpus: Corpus, tmp_path: Path, ts: str) -> None:
    j2k = b"\xff\x4f\xff\x51" + np.random.default_rng(9).bytes(600) + b"\xff\xd9"
    path = corpus.file(f"unsupported-{ts}.dcm", lambda p: encapsulated(p, ts, [j2k]))
    cause = expect_error(path, tmp_path, ("unsupported:",))
    names = (ts, *UNSUPPORTED_TS[ts])
    assert any(n.lower() in cause.lower() for n in names), f"{cause!r} does not name {ts}"


def _no_pixels(path: Path, sop_class: str, modality: str) -> Path:
    ds = image_dataset(PixelSpec("uint16"), sop_class=sop_class, modality=modality)
    return write_dataset(path, ds)


@pytest.mark.parametrize("sop_class,modality", [(DICOS_DX_PRESENTATION, "DX"), (DICOS_TDR, "TDR")],
                         ids=["dx-without-pixeldata", "dicos-tdr"])
def test_no_pixel_data(corpus: Corpus, tmp_path: Path, sop_class: str, modality: str) -> None:
    path = corpus.file(f"nopixels-{modality}.dcm", lambda p: _no_pixels(p, sop_class, modality))
    expect_error(path, tmp_path, ("no pixel data",))


def test_empty_pixel_data(corpus: Corpus, tmp_path: Path) -> None:
    def build(p: Path) -> None:
        ds = image_dataset(PixelSpec("uint16"))
        ds.PixelData = b""
        ds["PixelData"].VR = "OW"
        write_dataset(p, ds)
    expect_error(corpus.file("empty-pixeldata.dcm", build), tmp_path, ("no pixel data", *TRUNCATED))


TRUNCATION_SOURCES = {
    "explicit_u16": ("u16", EXPLICIT, ()),
    "implicit_u8": ("u8", IMPLICIT, ()),
    "big_u16": ("u16", BIG, ()),
    "rgb_planar1": ("rgb_planar1", EXPLICIT, ()),
    "5frames": ("u16_5frames", EXPLICIT, ()),
    "rle": ("u16", EXPLICIT, ("dcmcrle",)),
    "jpeg_baseline": ("rgb_planar0", EXPLICIT, ("dcmcjpeg", "+eb")),
    "jpeg_lossless": ("u16", EXPLICIT, ("dcmcjpeg", "+e1")),
    "jpegls": ("u16_5frames", EXPLICIT, ("dcmcjpls",)),
    "deflated": ("u16", DEFLATED, ()),
}


def truncation_source(corpus: Corpus, name: str) -> Path:
    case, ts, argv = TRUNCATION_SOURCES[name]
    path = corpus.native(case, NATIVE[case], ts)
    return corpus.dcmtk(path, *argv) if argv else path


# Where to cut: a function of (file size, PixelData tag offset). Inside a deflated file everything
# past the meta header is deflate stream, so it is cut by size alone.
CUTS = {
    "meta": lambda size, px: 150,
    "last_element": lambda size, px: px - 3,     # inside the element before PixelData
    "pixel_header": lambda size, px: px + 6,
    "pixel_middle": lambda size, px: (px + size) // 2,
    "pixel_end": lambda size, px: size - 10,
}
DEFLATED_CUTS = {
    "meta": lambda size, px: 150,
    "deflate_middle": lambda size, px: (size + 400) // 2,
    "deflate_end": lambda size, px: size - 4,
}
TRUNCATIONS = [(name, cut) for name in TRUNCATION_SOURCES
               for cut in (DEFLATED_CUTS if TRUNCATION_SOURCES[name][1] == DEFLATED else CUTS)]


@pytest.mark.parametrize("name,cut", TRUNCATIONS, ids=[f"{n}-{c}" for n, c in TRUNCATIONS])
def test_truncated_dicom(corpus: Corpus, tmp_path: Path, name: str, cut: str) -> None:
    source = truncation_source(corpus, name)
    data = source.read_bytes()
    deflated = TRUNCATION_SOURCES[name][1] == DEFLATED
    offset = (DEFLATED_CUTS if deflated else CUTS)[cut](len(data), 0 if deflated else pixel_data_offset(source))
    path = tmp_path / f"{name}-cut-at-{offset}-of-{len(data)}.dcm"
    path.write_bytes(data[:offset])
    expect_error(path, tmp_path, TRUNCATED, exit_code=1)


def _patch_u32(data: bytes, offset: int, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into("<I", out, offset, value)
    return bytes(out)


def _tag_offset(data: bytes, group: int, element: int) -> int:
    """First occurrence of a little-endian tag, in the meta group or after it (data set)."""
    meta_end = 144 + struct.unpack_from("<I", data, 140)[0]    # (0002,0000) UL value
    at = data.find(struct.pack("<HH", group, element), 132 if group == 2 else meta_end)
    assert at >= 0, f"({group:04x},{element:04x}) not found"
    return at


def _first_fragment(data: bytes, px: int) -> int:
    """Offset of the first fragment item (after the basic offset table) of explicit-LE PixelData."""
    bot_length = struct.unpack_from("<I", data, px + 16)[0]
    return px + 20 + bot_length


# name: (truncation source, function of (data, pixel data offset) -> offset to patch, value).
# A reader may refuse these cleanly; only where it can still find every pixel (LIES_DECODABLE)
# may it also decode them, and then it must decode them right.
LIES_DECODABLE = {"meta_group_length_huge"}
LIES = {
    "pixeldata_len_huge_explicit": ("explicit_u16", lambda d, px: px + 8, 0xFFFFFFF0),
    "pixeldata_len_past_eof_explicit": ("explicit_u16", lambda d, px: px + 8, None),
    "pixeldata_len_undefined_native": ("explicit_u16", lambda d, px: px + 8, 0xFFFFFFFF),
    "pixeldata_len_huge_implicit": ("implicit_u8", lambda d, px: px + 4, 0xFFFFFFF0),
    "patientname_len_huge_implicit": ("implicit_u8", lambda d, px: _tag_offset(d, 0x10, 0x10) + 4,
                                      0xFFFFFFF0),
    "meta_version_ob_len_huge": ("explicit_u16", lambda d, px: _tag_offset(d, 2, 1) + 8, 0xFFFFFFF0),
    "meta_group_length_huge": ("explicit_u16", lambda d, px: _tag_offset(d, 2, 0) + 8, 0xFFFFFFF0),
    "rle_offset_table_len_huge": ("rle", lambda d, px: px + 16, 0xFFFFFFF0),
    "rle_fragment_len_huge": ("rle", lambda d, px: _first_fragment(d, px) + 4, 0xFFFFFFF0),
    "rle_segment_offset_huge": ("rle", lambda d, px: _first_fragment(d, px) + 12, 0xFFFFFFF0),
    "rle_segment_count_huge": ("rle", lambda d, px: _first_fragment(d, px) + 8, 0xFFFFFFF0),
    "jpegls_fragment_len_huge": ("jpegls", lambda d, px: _first_fragment(d, px) + 4, 0xFFFFFFF0),
    "jpeg_fragment_len_past_eof": ("jpeg_lossless", lambda d, px: _first_fragment(d, px) + 4, None),
}


@pytest.mark.parametrize("lie", LIES)
def test_lying_length(corpus: Corpus, tmp_path: Path, lie: str) -> None:
    source_name, where, value = LIES[lie]
    source = truncation_source(corpus, source_name)
    data = source.read_bytes()
    offset = where(data, pixel_data_offset(source))
    value = len(data) + 4096 if value is None else value
    path = tmp_path / f"{lie}.dcm"
    path.write_bytes(_patch_u32(data, offset, value))
    if lie in LIES_DECODABLE:
        refused_or_exact(path, tmp_path, HOSTILE, pydicom_pixels(source)[0])
    else:
        expect_error(path, tmp_path, HOSTILE)


# (rows, columns, frames, samples, bits allocated)
HUGE = {
    "65535x65535": (65535, 65535, 1, 1, 16),
    "65535x65535x4096frames": (65535, 65535, 4096, 1, 16),
    "65535x65535xint32max_frames": (65535, 65535, 2**31 - 1, 1, 8),
    "65535x65535_rgb16": (65535, 65535, 1, 3, 16),
    "4096x4096x65535frames": (4096, 4096, 65535, 1, 16),
}


@pytest.mark.parametrize("name", HUGE)
def test_huge_declared_dimensions(corpus: Corpus, tmp_path: Path, name: str) -> None:
    rows, cols, frames, samples, bits = HUGE[name]

    def build(p: Path) -> None:
        ds = image_dataset(PixelSpec(f"uint{bits}", photometric="RGB" if samples == 3 else "MONOCHROME2"))
        ds.Rows, ds.Columns, ds.NumberOfFrames = rows, cols, frames
        ds.PixelData = bytes(4096)
        ds["PixelData"].VR = "OB" if bits == 8 else "OW"
        write_dataset(p, ds)
    expect_error(corpus.file(f"huge-{name}.dcm", build), tmp_path, ("too large:",))


# ============================================================================================
# 6. TIFF: tifffile sources rewritten by libtiff's tiffcp, compared with tifffile's reading
# ============================================================================================

TIFF_SOURCES = {
    "u8": TiffSource("uint8"),
    "u16": TiffSource("uint16"),
    "i16": TiffSource("int16"),
    "f32": TiffSource("float32"),
    "dual_energy_2pages": TiffSource("uint16", pages=2),
    "rgb_contig": TiffSource("uint8", rgb=True),
    "rgb_planar_separate": TiffSource("uint8", rgb=True, planar="separate"),
    "rgb16_contig": TiffSource("uint16", rgb=True),
    "tiled_u16": TiffSource("uint16", tile=(16, 16)),
}
TIFFCP = {
    "tifffile": None,                      # as tifffile wrote it
    "none": ("-c", "none"),
    "lzw": ("-c", "lzw"),
    "lzw_predictor": ("-c", "lzw:2"),
    "zip": ("-c", "zip"),
    "zip_predictor": ("-c", "zip:2"),
    "zip_predictor_big_endian": ("-B", "-c", "zip:2"),
    "lzw_predictor_strips5": ("-c", "lzw:2", "-s", "-r", "5"),
    "packbits": ("-c", "packbits"),
    "tiles32": ("-t", "-w", "32", "-l", "32"),
    "strips7": ("-s", "-r", "7"),
    "tiles16_lzw": ("-c", "lzw", "-t", "-w", "16", "-l", "16"),
}


def tiff_source(corpus: Corpus, name: str) -> Path:
    return corpus.file(f"{name}.tif", TIFF_SOURCES[name].write)


def tiff_variant(corpus: Corpus, name: str, variant: str) -> Path:
    source = tiff_source(corpus, name)
    argv = TIFFCP[variant]
    if argv is None:
        return source
    return corpus.file(f"{name}-{variant}.tif", lambda p: run_tool("tiffcp", *argv, source, p))


@pytest.mark.parametrize("variant", TIFFCP)
@pytest.mark.parametrize("name", TIFF_SOURCES)
def test_tiff(corpus: Corpus, tmp_path: Path, name: str, variant: str) -> None:
    src = TIFF_SOURCES[name]
    path = tiff_variant(corpus, name, variant)
    expected = tiff_pixels(path)
    assert_pixels(expected, src.pixels() if src.pages > 1 else src.pixels()[0])   # sound fixture
    assert_pixels(decode_npy(path, tmp_path), expected)
    assert_info_matches(info(path), expected, frames=src.pages, samples=3 if src.rgb else 1, format="tiff",
                        bitsStored=expected.itemsize * 8, photometric="RGB" if src.rgb else "MONOCHROME2",
                        modality=None, transferSyntax=None)


def test_tiff_dual_energy_shape(corpus: Corpus, tmp_path: Path) -> None:
    got = decode_npy(tiff_variant(corpus, "dual_energy_2pages", "lzw"), tmp_path)
    assert (got.shape, got.dtype) == ((2, ROWS, COLS), np.dtype("uint16"))


def _tiff_bytes(transform):
    return lambda path, out: out.write_bytes(transform(path.read_bytes()))


def _tiff_cut(fraction: float):
    return _tiff_bytes(lambda data: data[:int(len(data) * fraction)])


def _tiff_tag(tag: int, value):
    return lambda path, out: tiff_patch_tag(path, tag, value(path) if callable(value) else value, out)


# name: (source, variant, patch(path, out) -> out, accepted causes). libtiff repairs a bogus
# StripByteCounts of an uncompressed strip from ImageLength, so that one may also decode exactly.
TIFF_DECODABLE = {"strip_bytecount_huge"}
TIFF_BROKEN = {
    "cut_header": ("u16", "tifffile", _tiff_cut(0.001), TRUNCATED),
    "cut_strip_middle": ("u16", "tifffile", _tiff_cut(0.6), TRUNCATED),
    "cut_last_bytes": ("u16", "tifffile", _tiff_bytes(lambda d: d[:-3]), TRUNCATED),
    "cut_lzw_half": ("u16", "lzw", _tiff_cut(0.5), TRUNCATED),
    "cut_tiles_half": ("tiled_u16", "tifffile", _tiff_cut(0.5), TRUNCATED),
    "cut_second_page": ("dual_energy_2pages", "none", _tiff_cut(0.8), TRUNCATED),
    "strip_offset_past_eof": ("u16", "tifffile", _tiff_tag(273, lambda p: p.stat().st_size + 4096), TRUNCATED),
    "strip_bytecount_huge": ("u16", "tifffile", _tiff_tag(279, 0x7FFFFFF0), HOSTILE),
    "strip_bytecount_huge_lzw": ("u16", "lzw", _tiff_tag(279, 0xFFFFFFF0), HOSTILE),
    "tile_offsets_past_eof": ("tiled_u16", "tifffile", _tiff_tag(324, 0x7FFFFFF0), HOSTILE),
    "width_2_31": ("u16", "tifffile", _tiff_tag(256, 2**31), ("too large:", "corrupt:")),
    "height_2_31": ("u16", "tifffile", _tiff_tag(257, 2**31), ("too large:", "corrupt:")),
    "width_65535": ("u16", "tifffile", _tiff_tag(256, 65535), HOSTILE),
    "samples_per_pixel_60000": ("u16", "tifffile", _tiff_tag(277, 60000), (*HOSTILE, "unsupported:")),
    "bits_per_sample_0": ("u16", "tifffile", _tiff_tag(258, 0), ("corrupt:", "unsupported:")),
    "ifd_offset_past_eof": ("u16", "tifffile",
                            _tiff_bytes(lambda d: d[:4] + struct.pack("<I", len(d) + 100) + d[8:]), TRUNCATED),
}


@pytest.mark.parametrize("name", TIFF_BROKEN)
def test_broken_tiff(corpus: Corpus, tmp_path: Path, name: str) -> None:
    source, variant, patch, causes = TIFF_BROKEN[name]
    path = tiff_variant(corpus, source, variant)
    out = tmp_path / f"broken-{name}.tif"
    patch(path, out)
    if name in TIFF_DECODABLE:
        refused_or_exact(out, tmp_path, causes, tiff_pixels(path))
    else:
        expect_error(out, tmp_path, causes)


def test_tiff_ifd_loop_terminates(corpus: Corpus, tmp_path: Path) -> None:
    """Next-IFD pointing back at the first: a clean error or the two real pages, never a hang."""
    path = tiff_loop_ifd(tiff_variant(corpus, "dual_energy_2pages", "none"), tmp_path / "loop.tif")
    run = vigil("image", "convert", path, tmp_path / "loop.npy")
    if run.returncode == 0:
        assert np.load(tmp_path / "loop.npy").shape == (2, ROWS, COLS), run.describe()
    else:
        check_error(run, path, HOSTILE)


# ============================================================================================
# 7. PNG and JPEG: decoding, round trips through Vigil's writers, broken files
# ============================================================================================

PNG_SOURCES = {
    "grey8": ("uint8", False),
    "grey16": ("uint16", False),
    "rgb8": ("uint8", True),
    "rgb16": ("uint16", True),
}


def png_source(corpus: Corpus, name: str) -> tuple[Path, np.ndarray]:
    dtype, rgb = PNG_SOURCES[name]
    spec = PixelSpec(dtype, photometric="RGB" if rgb else "MONOCHROME2")
    pixels = stored_pixels(spec, seed=11)
    return corpus.file(f"{name}.png", lambda p: p.write_bytes(png_bytes(pixels))), pixels


@pytest.mark.parametrize("name", PNG_SOURCES)
def test_png(corpus: Corpus, tmp_path: Path, name: str) -> None:
    path, pixels = png_source(corpus, name)
    assert_pixels(imagecodecs.png_decode(path.read_bytes()), pixels)     # sound fixture (libpng agrees)
    assert_pixels(decode_npy(path, tmp_path), pixels)
    rgb = PNG_SOURCES[name][1]
    assert_info_matches(info(path), pixels, frames=1, samples=3 if rgb else 1, format="png",
                        bitsStored=pixels.itemsize * 8, photometric="RGB" if rgb else "MONOCHROME2")


ROUND_TRIPS = [(case, fmt) for case in ("u8", "u16", "u12_garbage", "mono1", "rgb_planar0", "rgb_planar1",
                                        "rgb16_planar1", "ybr_full") for fmt in ("png", "tiff")]
ROUND_TRIPS += [(case, "tiff") for case in ("i8", "i16", "i12_garbage", "u16_5frames", "rgb_3frames_planar1")]


def read_back(path: Path) -> np.ndarray:
    return imagecodecs.png_decode(path.read_bytes()) if path.suffix == ".png" else tiff_pixels(path)


@pytest.mark.parametrize("case,fmt", ROUND_TRIPS, ids=[f"{c}-{f}" for c, f in ROUND_TRIPS])
def test_round_trip_dicom_to_png_tiff(corpus: Corpus, tmp_path: Path, case: str, fmt: str) -> None:
    spec = NATIVE[case]
    path = corpus.native(case, spec)
    expected, _ = pydicom_pixels(path)
    npy = decode_npy(path, tmp_path)
    out = tmp_path / f"out.{fmt}"
    convert(path, out)
    back = read_back(out)
    assert_pixels(back, npy)
    assert_pixels(back, expected, colour_tolerance(spec))
    if fmt == "tiff":
        run_tool("tiffinfo", out)      # libtiff accepts what Vigil wrote
    assert_info_matches(info(out), back, frames=spec.frames, samples=spec.samples, format=fmt)


@pytest.mark.parametrize("name", ["f32", "dual_energy_2pages", "rgb_planar_separate"])
def test_round_trip_tiff_to_tiff(corpus: Corpus, tmp_path: Path, name: str) -> None:
    path = tiff_variant(corpus, name, "lzw")
    out = tmp_path / "out.tiff"
    convert(path, out)
    assert_pixels(tiff_pixels(out), tiff_pixels(path))


def _cut_png_idat(data: bytes, keep: float) -> bytes:
    idat = data.index(b"IDAT") - 4
    length = struct.unpack_from(">I", data, idat)[0]
    return data[:idat + 8 + int(length * keep)]


def _flip_png_idat_byte(data: bytes) -> bytes:
    out = bytearray(data)
    out[data.index(b"IDAT") + 20] ^= 0x55
    return bytes(out)


# name: (source png, transform of its bytes, accepted causes)
PNG_BROKEN = {
    "cut_in_ihdr": ("grey16", lambda d: d[:20], TRUNCATED),
    "cut_idat_middle": ("rgb8", lambda d: _cut_png_idat(d, 0.5), TRUNCATED),
    "cut_idat_crc": ("grey8", lambda d: _cut_png_idat(d, 1.0) + b"\x00\x00", TRUNCATED),
    "idat_crc_mismatch": ("grey8", _flip_png_idat_byte, ("corrupt:",)),
    "ihdr_2_31": ("grey8", lambda d: png_patch_ihdr(d, 2**31 - 1, 2**31 - 1), ("too large:", "corrupt:")),
    "ihdr_65535": ("rgb16", lambda d: png_patch_ihdr(d, 65535, 65535), ("too large:",)),
}


@pytest.mark.parametrize("name", PNG_BROKEN)
def test_broken_png(corpus: Corpus, tmp_path: Path, name: str) -> None:
    source, transform, causes = PNG_BROKEN[name]
    path = tmp_path / f"{name}.png"
    path.write_bytes(transform(png_source(corpus, source)[0].read_bytes()))
    expect_error(path, tmp_path, causes)


def _jpeg_dims(data: bytes, height: int, width: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(">HH", out, jpeg_dimension_offset(data), height, width)
    return bytes(out)


JPEG_BROKEN = {
    "cut_in_header": ("rgb420", lambda d: d[:40], TRUNCATED),
    "cut_scan_middle": ("rgb420", lambda d: d[:len(d) // 2], TRUNCATED),
    "cut_scan_three_quarters": ("grey", lambda d: d[:len(d) * 3 // 4], TRUNCATED),
    "cut_progressive_middle": ("rgb_progressive", lambda d: d[:len(d) // 2], TRUNCATED),
    "sof_65500": ("grey", lambda d: _jpeg_dims(d, 65500, 65500), ("too large:",)),
    "sof_zero_height": ("grey", lambda d: _jpeg_dims(d, 0, COLS), ("corrupt:", "unsupported:")),
}


@pytest.mark.parametrize("name", JPEG_BROKEN)
def test_broken_jpeg(corpus: Corpus, tmp_path: Path, name: str) -> None:
    source, transform, causes = JPEG_BROKEN[name]
    path = tmp_path / f"{name}.jpg"
    path.write_bytes(transform(jpeg_source(corpus, source).read_bytes()))
    expect_error(path, tmp_path, causes)


# ============================================================================================
# 8. NPY and raw input; command-line errors
# ============================================================================================

NPY_INPUTS = {
    "uint8": np.arange(ROWS * COLS, dtype=np.uint8).reshape(ROWS, COLS),
    "int8": (np.arange(ROWS * COLS) % 256 - 128).astype(np.int8).reshape(ROWS, COLS),
    "uint16": stored_pixels(PixelSpec("uint16")),
    "int16": stored_pixels(PixelSpec("int16")),
    "uint32": np.random.default_rng(2).integers(0, 2**32, (ROWS, COLS), dtype=np.uint32),
    "int32": np.random.default_rng(2).integers(-2**31, 2**31, (ROWS, COLS), dtype=np.int32),
    "float32": TiffSource("float32").pixels()[0],
    "uint16_4frames": stored_pixels(PixelSpec("uint16", frames=4)),
    "uint16_big_endian": stored_pixels(PixelSpec("uint16")).astype(">u2"),
    "int16_fortran_order": np.asfortranarray(stored_pixels(PixelSpec("int16"))),
}


@pytest.mark.parametrize("name", NPY_INPUTS)
def test_npy_input(tmp_path: Path, name: str) -> None:
    arr = NPY_INPUTS[name]
    path = tmp_path / f"{name}.npy"
    np.save(path, arr)
    expected = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("=")))
    assert_pixels(decode_npy(path, tmp_path), expected)
    frames = arr.shape[0] if arr.ndim == 3 else 1
    assert_info_matches(info(path), expected, frames=frames, samples=1, format="npy")


@pytest.mark.parametrize("layout,dtype,frames", [("53x37:uint16le", "<u2", 1), ("53x37:uint16be", ">u2", 1),
                                                 ("53x37x1x4:uint16le", "<u2", 4)])
def test_raw_input(tmp_path: Path, layout: str, dtype: str, frames: int) -> None:
    arr = stored_pixels(PixelSpec("uint16", frames=frames))
    path = tmp_path / "scan.raw"
    path.write_bytes(arr.astype(dtype).tobytes())
    assert_pixels(decode_npy(path, tmp_path, "--raw", layout), arr)
    assert_info_matches(info(path, "--raw", layout), arr, frames=frames, samples=1, format="raw")


@pytest.mark.parametrize("layout,causes", [("53x38:uint16le", TRUNCATED),
                                           ("100000x100000:uint16le", ("too large:",))])
def test_raw_input_mismatch(tmp_path: Path, layout: str, causes: tuple) -> None:
    path = tmp_path / "scan.raw"
    path.write_bytes(stored_pixels(PixelSpec("uint16")).tobytes())
    expect_error(path, tmp_path, causes, "--raw", layout)


def test_npy_header_lies_about_shape(tmp_path: Path) -> None:
    """numpy's own header writer declaring 100000 x 100000, followed by 64 bytes of data."""
    path = tmp_path / "lie.npy"
    with open(path, "wb") as fp:
        np.lib.format.write_array_header_1_0(
            fp, {"descr": "<u2", "fortran_order": False, "shape": (100000, 100000)})
        fp.write(bytes(64))
    expect_error(path, tmp_path, ("too large:", "truncated:", "corrupt:"))


def _bytes_file(content: bytes):
    def make(tmp: Path) -> Path:
        p = tmp / "input.bin"
        p.write_bytes(content)
        return p
    return make


INPUT_ERRORS = {
    "missing_file": (lambda tmp: tmp / "does-not-exist.dcm", ("cannot read:",)),
    "directory": (lambda tmp: tmp, ("cannot read:",)),
    "empty_file": (_bytes_file(b""), ("unknown image format", *TRUNCATED)),
    "random_bytes": (_bytes_file(np.random.default_rng(4).bytes(4096)), ("unknown image format",)),
    "text": (_bytes_file(b"hello, this is not a scan\n" * 20), ("unknown image format",)),
    "dicm_magic_only": (_bytes_file(bytes(128) + b"DICM"), TRUNCATED),
}


@pytest.mark.parametrize("name", INPUT_ERRORS)
def test_input_errors(tmp_path: Path, name: str) -> None:
    make, causes = INPUT_ERRORS[name]
    expect_error(make(tmp_path), tmp_path, causes)


@pytest.mark.parametrize("target", ["missing-dir/out.npy", "missing-dir/out.png", "is-a-dir.tiff"])
def test_cannot_write_output(corpus: Corpus, tmp_path: Path, target: str) -> None:
    path = corpus.native("u16", NATIVE["u16"])
    out = tmp_path / target
    if target.startswith("is-a-dir"):
        out.mkdir()
    run = vigil("image", "convert", path, out)
    # A write failure names the output it could not write, not the input that decoded fine.
    check_error(run, out, ("cannot write:",))
    assert "NSCocoaErrorDomain" not in run.stderr and "operation could not be completed" not in run.stderr, run.describe()
    assert out.is_dir() if target.startswith("is-a-dir") else not out.exists(), run.describe()


def test_unknown_output_extension(corpus: Corpus, tmp_path: Path) -> None:
    path = corpus.native("u16", NATIVE["u16"])
    out = tmp_path / "out.bmp"
    run = vigil("image", "convert", path, out)
    check_error(run, out, ("cannot write:",))
    assert not out.exists(), run.describe()

