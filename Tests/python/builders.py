"""Fixture files made at test time by other people's encoders (pydicom, dcmtk, tifffile, libtiff,
Pillow, zlib) and reference decodings made by other people's decoders (pydicom, dcmtk, tifffile,
imagecodecs). Nothing here is a binary written by hand, except the small PNG writer over zlib.
"""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pydicom
import tifffile
from pydicom import uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import convert_color_space, pixel_array

ROWS, COLS = 37, 53          # odd on purpose: padding, strides, chroma edges
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
# As in dcmtk 3.6.7's dcuid.h (see shared/notes/dicos.md).
DICOS_CT = "1.2.840.10008.5.1.4.1.1.501.1"
DICOS_DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.501.2.1"
DICOS_DX_PROCESSING = "1.2.840.10008.5.1.4.1.1.501.2.2"
DICOS_TDR = "1.2.840.10008.5.1.4.1.1.501.3"

DICOS_PITCH_MM = (0.4, 0.7)    # ImagerPixelSpacing (row, column)
DEFLATED = uid.DeflatedExplicitVRLittleEndian
TOOLS = ("img2dcm", "dcmcjpeg", "dcmdjpeg", "dcmcrle", "dcmdrle", "dcmcjpls", "dcmdjpls", "dcmconv", "dump2dcm",
         "tiffcp", "tiffinfo")


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def run_tool(*argv: str | Path, cwd: Path | None = None) -> None:
    """Runs a third-party encoder; a failure is a broken fixture and says why."""
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")


# --------------------------------------------------------------------------------------------
# Pixels
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PixelSpec:
    dtype: str                      # numpy name of the stored word: uint8, int8, uint16, int16
    bits_stored: int | None = None  # default: all allocated bits
    photometric: str = "MONOCHROME2"
    planar: int = 0
    frames: int = 1
    garbage: bool = False           # random bits above HighBit, which decoders must mask

    @property
    def samples(self) -> int:
        return 3 if self.photometric in ("RGB", "YBR_FULL") else 1

    @property
    def signed(self) -> bool:
        return np.dtype(self.dtype).kind == "i"

    @property
    def bits(self) -> int:
        return self.bits_stored or np.dtype(self.dtype).itemsize * 8

    @property
    def shape(self) -> tuple[int, ...]:
        return ((self.frames,) if self.frames > 1 else ()) + (ROWS, COLS) + ((3,) if self.samples == 3 else ())


def stored_pixels(spec: PixelSpec, seed: int = 1) -> np.ndarray:
    """Stored words in pydicom's layout: noise, a flat band (runs for RLE/PackBits) and a ramp."""
    rng = np.random.default_rng(seed)
    lo, hi = (-(1 << (spec.bits - 1)), 1 << (spec.bits - 1)) if spec.signed else (0, 1 << spec.bits)
    values = rng.integers(lo, hi, spec.shape, dtype=np.int64)
    rows = (slice(None),) * (1 if spec.frames > 1 else 0)
    values[rows + (slice(0, 4),)] = hi - 1                       # flat band at the brightest value
    values[rows + (slice(4, 6),)] = lo                           # and at the darkest
    ramp = np.linspace(lo, hi - 1, COLS).astype(np.int64)
    values[rows + (slice(6, 9),)] = ramp.reshape((1, COLS) + (1,) * (spec.samples > 1))
    words = values.astype(spec.dtype)
    if spec.garbage:
        unsigned = words.view(np.dtype(spec.dtype).str.replace("i", "u"))
        keep = (1 << spec.bits) - 1
        noise = rng.integers(0, 1 << (unsigned.itemsize * 8), spec.shape).astype(unsigned.dtype)
        unsigned[...] = (unsigned & keep) | (noise & ~np.array(keep, unsigned.dtype))
    return words


# --------------------------------------------------------------------------------------------
# DICOM with pydicom
# --------------------------------------------------------------------------------------------

def pixel_bytes(words: np.ndarray, spec: PixelSpec, little_endian: bool) -> bytes:
    """Native PixelData: planar configuration 1 stores each frame colour-by-plane."""
    arr = words if spec.frames > 1 else words[None]
    if spec.samples == 3 and spec.planar == 1:
        arr = np.moveaxis(arr, -1, 1)
    if not little_endian:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    return np.ascontiguousarray(arr).tobytes()


def image_dataset(spec: PixelSpec, *, sop_class: str = SECONDARY_CAPTURE, modality: str | None = "OT",
                  **attrs) -> Dataset:
    """The image attributes (without PixelData) that describe `spec`."""
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = uid.generate_uid()
    if modality:
        ds.Modality = modality
    ds.PatientName = "Vigil^Test"
    ds.Rows, ds.Columns = ROWS, COLS
    ds.SamplesPerPixel = spec.samples
    ds.PhotometricInterpretation = spec.photometric
    if spec.samples == 3:
        ds.PlanarConfiguration = spec.planar
    if spec.frames > 1:
        ds.NumberOfFrames = spec.frames
    bits_allocated = np.dtype(spec.dtype).itemsize * 8
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = spec.bits
    ds.HighBit = spec.bits - 1
    ds.PixelRepresentation = int(spec.signed)
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def file_meta(ds: Dataset, transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    return meta


def write_native(path: Path, spec: PixelSpec, transfer_syntax: str, *, meta: bool = True, seed: int = 1,
                 **attrs) -> Path:
    """Uncompressed DICOM through pydicom; without `meta`, a bare data set (no preamble, no group 2)."""
    ts = uid.UID(transfer_syntax)
    ds = image_dataset(spec, **attrs)
    ds.PixelData = pixel_bytes(stored_pixels(spec, seed), spec, ts.is_little_endian)
    ds["PixelData"].VR = "OB" if ds.BitsAllocated == 8 else "OW"
    if meta:
        ds.file_meta = file_meta(ds, ts)
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.save_as(path, implicit_vr=ts.is_implicit_VR, little_endian=ts.is_little_endian)
    return path


def write_dataset(path: Path, ds: Dataset, transfer_syntax: str = uid.ExplicitVRLittleEndian) -> Path:
    ds.file_meta = file_meta(ds, transfer_syntax)
    ds.save_as(path, enforce_file_format=True)
    return path


def encapsulated(path: Path, transfer_syntax: str, fragments: list[bytes], spec: PixelSpec = PixelSpec("uint8"),
                 **attrs) -> Path:
    """A data set whose PixelData is an encapsulated sequence of the given bytes."""
    ds = image_dataset(spec, **attrs)
    ds.PixelData = encapsulate(fragments)
    ds["PixelData"].VR = "OB"
    return write_dataset(path, ds, transfer_syntax)


def read_dicom(path: Path, transfer_syntax: str | None = None) -> Dataset:
    ds = pydicom.dcmread(path, force=True)
    if transfer_syntax and "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = transfer_syntax
    return ds


def pydicom_pixels(path: Path, transfer_syntax: str | None = None) -> tuple[np.ndarray, Dataset]:
    """pydicom's decoding: masked and sign-extended stored values; YBR_FULL converted to RGB."""
    ds = read_dicom(path, transfer_syntax)
    arr = pixel_array(ds, as_rgb=False)
    if ds.PhotometricInterpretation == "YBR_FULL":
        arr = convert_color_space(arr, "YBR_FULL", "RGB")
    return arr.astype(arr.dtype.newbyteorder("=")), ds    # big endian files: compare values


def pixel_data_offset(path: Path) -> int:
    """File offset of the top-level PixelData tag (pydicom stops right before it)."""
    with open(path, "rb") as fp:
        pydicom.dcmread(fp, stop_before_pixels=True, force=True)
        return fp.tell()


# --------------------------------------------------------------------------------------------
# DICOS through dcmtk's dump2dcm
# --------------------------------------------------------------------------------------------

def write_dicos(path: Path, words: np.ndarray, spec: PixelSpec, sop_class: str, modality: str, station: str,
                dump2dcm_options: tuple[str, ...] = ("+te",)) -> None:
    """A DICOS image from a text dump, the way dicos.md builds test objects."""
    raw = path.with_suffix(".pixels.raw")
    raw.write_bytes(pixel_bytes(words, spec, little_endian=True))
    bits_allocated = words.itemsize * 8
    lines = [
        f"(0008,0016) UI [{sop_class}]",
        f"(0008,0018) UI [{uid.generate_uid()}]",
        "(0008,0020) DA [20240517]",
        "(0008,0030) TM [101500]",
        f"(0008,0060) CS [{modality}]",
        "(0008,0070) LO [Vigil test rig]",
        f"(0008,1010) SH [{station}]",
        "(0010,0010) PN [OOI^Container]",
        f"(0018,1164) DS [{DICOS_PITCH_MM[0]}\\{DICOS_PITCH_MM[1]}]",
        f"(0028,0002) US {spec.samples}",
        f"(0028,0004) CS [{spec.photometric}]",
        f"(0028,0008) IS [{spec.frames}]",
        f"(0028,0010) US {ROWS}",
        f"(0028,0011) US {COLS}",
        f"(0028,0100) US {bits_allocated}",
        f"(0028,0101) US {spec.bits}",
        f"(0028,0102) US {spec.bits - 1}",
        f"(0028,0103) US {int(spec.signed)}",
        f"(7fe0,0010) {'OB' if bits_allocated == 8 else 'OW'} ={raw.name}",
    ]
    if modality == "CT":
        lines += ["(0028,1052) DS [-1024]", "(0028,1053) DS [1]"]
    dump = path.with_suffix(".dump")
    dump.write_text("\n".join(lines) + "\n")
    run_tool("dump2dcm", *dump2dcm_options, dump.name, path.name, cwd=path.parent)


# --------------------------------------------------------------------------------------------
# TIFF: tifffile writes, libtiff's tiffcp rewrites, tifffile reads back
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TiffSource:
    dtype: str
    pages: int = 1
    rgb: bool = False
    planar: str = "contig"
    tile: tuple[int, int] | None = None

    def pixels(self, seed: int = 5) -> np.ndarray:
        rng = np.random.default_rng(seed)
        shape = (self.pages, ROWS, COLS) + ((3,) if self.rgb else ())
        dt = np.dtype(self.dtype)
        if dt.kind == "f":
            data = (rng.standard_normal(shape) * 1000).astype(dt)
            data[:, 0, :4] = [np.nan, np.inf, -0.0, np.float32(1e-40)]   # special values survive
        else:
            info = np.iinfo(dt)
            data = rng.integers(info.min, info.max, shape, endpoint=True).astype(dt)
            data[:, :4] = info.max
        return data

    def write(self, path: Path) -> None:
        data = self.pixels()
        with tifffile.TiffWriter(path) as tif:
            for page in data:   # one IFD per energy / frame; tifffile wants separate planes first
                if self.rgb and self.planar == "separate":
                    page = np.moveaxis(page, -1, 0)
                tif.write(page, photometric="rgb" if self.rgb else "minisblack",
                          planarconfig=self.planar if self.rgb else None, tile=self.tile,
                          metadata=None)


def tiff_pixels(path: Path) -> np.ndarray:
    """tifffile's decoding, page by page, colour samples last, pages stacked as frames."""
    with tifffile.TiffFile(path) as tif:
        pages = []
        for page in tif.pages:
            arr = page.asarray()
            if page.axes.startswith("S"):      # planar separate: samples first in tifffile
                arr = np.moveaxis(arr, 0, -1)
            pages.append(arr)
    return np.stack(pages) if len(pages) > 1 else pages[0]


def tiff_first_ifd(data: bytes) -> tuple[str, int]:
    order = "<" if data[:2] == b"II" else ">"
    assert struct.unpack_from(order + "H", data, 2)[0] == 42, "classic TIFF expected"
    return order, struct.unpack_from(order + "I", data, 4)[0]


def tiff_patch_tag(path: Path, tag: int, value: int, out: Path) -> Path:
    """Copies a classic TIFF with one tag of the first IFD set to a LONG value (inline)."""
    data = bytearray(path.read_bytes())
    order, ifd = tiff_first_ifd(data)
    count = struct.unpack_from(order + "H", data, ifd)[0]
    for i in range(count):
        entry = ifd + 2 + 12 * i
        if struct.unpack_from(order + "H", data, entry)[0] == tag:
            struct.pack_into(order + "HHII", data, entry, tag, 4, 1, value)
            out.write_bytes(bytes(data))
            return out
    raise KeyError(f"tag {tag} not in first IFD of {path}")


def tiff_loop_ifd(path: Path, out: Path) -> Path:
    """Copies a TIFF with the last IFD's next-IFD offset pointing back at the first IFD."""
    data = bytearray(path.read_bytes())
    order, ifd = tiff_first_ifd(data)
    first = ifd
    while True:
        count = struct.unpack_from(order + "H", data, ifd)[0]
        next_at = ifd + 2 + 12 * count
        nxt = struct.unpack_from(order + "I", data, next_at)[0]
        if nxt == 0:
            struct.pack_into(order + "I", data, next_at, first)
            out.write_bytes(bytes(data))
            return out
        ifd = nxt


# --------------------------------------------------------------------------------------------
# PNG (zlib by hand, every filter type) and JPEG/BMP (Pillow)
# --------------------------------------------------------------------------------------------

def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_filter(raw: np.ndarray, prev: np.ndarray, bpp: int, kind: int) -> np.ndarray:
    """Filters one scan line (bytes as int16) against the previous raw line."""
    left = np.concatenate([np.zeros(bpp, np.int16), raw[:-bpp]])
    upleft = np.concatenate([np.zeros(bpp, np.int16), prev[:-bpp]])
    if kind == 0:
        pred = np.zeros_like(raw)
    elif kind == 1:
        pred = left
    elif kind == 2:
        pred = prev
    elif kind == 3:
        pred = (left + prev) // 2
    else:   # Paeth
        p = left + prev - upleft
        pa, pb, pc = np.abs(p - left), np.abs(p - prev), np.abs(p - upleft)
        pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
    return ((raw - pred) & 0xFF).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG (grey or RGB, 8 or 16 bit) cycling the five filter types line by line."""
    rgb = pixels.ndim == 3
    depth = pixels.itemsize * 8
    rows, cols = pixels.shape[:2]
    lines = pixels.astype(pixels.dtype.newbyteorder(">")).reshape(rows, -1).view(np.uint8).astype(np.int16)
    bpp = (3 if rgb else 1) * pixels.itemsize
    prev = np.zeros(lines.shape[1], np.int16)
    body = bytearray()
    for y, line in enumerate(lines):
        kind = y % 5
        body.append(kind)
        body += _png_filter(line, prev, bpp, kind).tobytes()
        prev = line
    ihdr = struct.pack(">IIBBBBB", cols, rows, depth, 2 if rgb else 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(bytes(body), 9)) + _png_chunk(b"IEND", b""))


def png_patch_ihdr(data: bytes, width: int, height: int) -> bytes:
    """Same PNG with IHDR's width/height replaced and its CRC recomputed (a well-formed liar)."""
    out = bytearray(data)
    struct.pack_into(">II", out, 16, width, height)
    struct.pack_into(">I", out, 29, zlib.crc32(bytes(out[12:29])))
    return bytes(out)


def jpeg_dimension_offset(data: bytes) -> int:
    """Offset of the height field of the first SOFn segment."""
    at = 2
    while at < len(data):
        marker, length = data[at + 1], struct.unpack_from(">H", data, at + 2)[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return at + 5
        at += 2 + length
    raise ValueError("no SOF marker")


def natural_image(rgb: bool, seed: int = 7) -> np.ndarray:
    """Smooth structure plus noise, 8-bit, so lossy codecs behave as on real radiographs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:ROWS, 0:COLS]
    base = 128 + 90 * np.sin(x / 7.0) * np.cos(y / 5.0)
    chans = [base, 255 - base, (x * 4 + y * 3) % 256] if rgb else [base]
    img = np.stack(chans, -1) + rng.normal(0, 12, (ROWS, COLS, len(chans)))
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img if rgb else img[..., 0]


# --------------------------------------------------------------------------------------------
# Memoised corpus of fixture files in one session directory
# --------------------------------------------------------------------------------------------

class Corpus:
    """Builds each fixture once per session; tests ask for it by name."""

    def __init__(self, root: Path):
        self.root = root

    def file(self, name: str, build: Callable[[Path], object]) -> Path:
        path = self.root / re.sub(r"[^A-Za-z0-9._-]+", "_", name)
        if not path.exists():
            tmp = path.with_name(path.name + ".building")
            build(tmp)
            tmp.rename(path)
        return path

    def native(self, case: str, spec: PixelSpec, transfer_syntax: str = uid.ExplicitVRLittleEndian,
               meta: bool = True) -> Path:
        return self.file(f"{case}-{transfer_syntax}-{'meta' if meta else 'bare'}.dcm",
                         lambda p: write_native(p, spec, transfer_syntax, meta=meta))

    def dcmtk(self, source: Path, *argv: str) -> Path:
        """`tool [options] source out`, e.g. ("dcmcjpeg", "+e1")."""
        return self.file(f"{source.stem}-{'-'.join(argv)}.dcm", lambda p: run_tool(*argv, source, p))
