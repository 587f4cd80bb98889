"""Regenerates the sample scans in this folder (one per scanner profile, named after it).

Each sample is a calibration-style phantom (step wedges of steel, aluminium and polyethylene, a
lead block, organic blocks) imaged by the Beer-Lambert law with NIST SRD 126 mass attenuation
coefficients (../attenuation/), Poisson photon noise, and the profile's air, dark and bit depth.
Simplification, stated: each channel uses one effective photon energy instead of integrating a
spectrum; `vigil synth` (the full simulator) does the spectral integral. CT samples are CT
numbers (HU) of cylinders of the same materials.

    .venv/bin/python ScannerProfiles/samples/make_samples.py
"""

import csv
import json
import pathlib

import numpy as np
import pydicom
import tifffile
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

HERE = pathlib.Path(__file__).resolve().parent
PROFILES = HERE.parent / "vendors"

# Effective energies (MeV) of each channel: roughly a third to half of the endpoint for linac
# bremsstrahlung, and the mean of a filtered tube spectrum behind each detector layer.
EFFECTIVE_MEV = {
    "cargo-de-linac": [2.0, 1.5],
    "cargo-de-mobile": [2.0, 1.25],
    "vehicle-top": [0.15],
    "parcel-de-160kv": [0.08, 0.05],
}
PHOTONS_IN_AIR = {"cargo-de-linac": 2e5, "cargo-de-mobile": 1e5, "vehicle-top": 5e4, "parcel-de-160kv": 2e4}


def attenuation_table():
    table = {}
    with open(HERE.parent / "attenuation" / "mass_attenuation.csv") as f:
        for row in csv.DictReader(f):
            table.setdefault(row["material"], ([], [], float(row["density_g_cm3"])))
            table[row["material"]][0].append(float(row["energy_MeV"]))
            table[row["material"]][1].append(float(row["mu_over_rho_cm2_g"]))
    return table


def mu(table, material, mev):
    """Linear attenuation coefficient (1/mm), log-log interpolated on NIST's grid."""
    energies, values, density = table[material]
    value = np.exp(np.interp(np.log(mev), np.log(energies), np.log(values)))
    return value * density / 10.0


def phantom(height, width, pitch_mm):
    """Thickness maps (mm) per material: wedges along x, blocks below them."""
    t = {m: np.zeros((height, width)) for m in ("iron", "aluminium", "polyethylene", "lead", "cellulose")}
    step = max(1, width // 10)
    band = height // 5
    for i in range(8):
        x = slice(step + i * step, step + (i + 1) * step)
        t["iron"][band:2 * band, x] = 20.0 * (i + 1)
        t["aluminium"][2 * band:3 * band, x] = 40.0 * (i + 1)
        t["polyethylene"][3 * band:4 * band, x] = 100.0 * (i + 1)
    w = max(2, int(60 / pitch_mm))
    t["lead"][4 * band + 2:4 * band + 2 + w, step:step + w] = 50.0
    t["cellulose"][int(0.4 * band):int(0.9 * band), 2 * step:6 * step] = 300.0
    return t


def radiograph(profile, table, rng, height, width):
    thickness = phantom(height, width, profile["pixelPitch"]["acrossTravelMM"])
    full = (1 << profile["bitsStored"]) - 1
    planes = []
    for channel, mev in zip(profile["channels"], EFFECTIVE_MEV[profile["id"]]):
        line_integral = sum(mu(table, m, mev) * t for m, t in thickness.items())
        photons = rng.poisson(PHOTONS_IN_AIR[profile["id"]] * np.exp(-line_integral))
        gain = (channel["air"] - channel["dark"]) / PHOTONS_IN_AIR[profile["id"]]
        raw = channel["dark"] + photons * gain + rng.normal(0, 2.0, photons.shape)
        planes.append(np.clip(np.rint(raw), 0, full).astype(np.uint16))
    images = np.stack(planes)
    # Store as the scanner sends it: undo the profile's flips (Vigil applies them on receipt).
    if profile["flips"]["horizontal"]:
        images = images[:, :, ::-1]
    if profile["flips"]["vertical"]:
        images = images[:, ::-1, :]
    return np.ascontiguousarray(images)


def dicom(path, pixels, modality, sop_class, station, spacing, signed=False):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[str(path.name)])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.StationName, ds.Manufacturer = modality, station, "Vigil sample phantom"
    ds.Rows, ds.Columns = pixels.shape[-2], pixels.shape[-1]
    if pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelSpacing = [spacing, spacing]
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)


def main():
    table = attenuation_table()
    rng = np.random.default_rng(20261121)
    profiles = {p.stem: json.loads(p.read_text()) for p in PROFILES.glob("*.json")}
    sizes = {"cargo-de-linac": (1280, 640), "cargo-de-mobile": (960, 512), "vehicle-top": (1152, 800),
             "parcel-de-160kv": (704, 640)}
    for pid, (h, w) in sizes.items():
        images = radiograph(profiles[pid], table, rng, h, w)
        if pid == "vehicle-top":
            dicom(HERE / f"{pid}.dcm", images[0], "DX", "1.2.840.10008.5.1.4.1.1.501.2.1", "LANE-2", 2.5)
        else:
            tifffile.imwrite(HERE / f"{pid}.tiff", images, compression="zlib", predictor=True)
    # Parcel CT: 24 slices of 256 x 256 CT numbers; cylinders of water, aluminium and steel in air.
    z, y, x = np.mgrid[0:24, 0:256, 0:256]
    hu = np.full(z.shape, -1000.0)
    for cx, cy, r, value in ((128, 128, 100, -50), (90, 110, 25, 0), (160, 100, 20, 2200), (130, 170, 12, 3000)):
        hu[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = value
    hu += rng.normal(0, 8, hu.shape)
    dicom(HERE / "parcel-ct.dcm", np.rint(hu).astype(np.int16), "CT", "1.2.840.10008.5.1.4.1.1.501.1",
          "PARCEL-CT-1", 1.0, signed=True)


if __name__ == "__main__":
    main()
