// Writes a DICOS Threat Detection Report with dcmtk, so value representations, padding and
// sequence encoding come from dcmtk's data dictionary rather than from Vigil.

#include "CDICOM.h"
#include "MemoryWriter.hpp"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcostrmb.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

const char *const kTDRClass = "1.2.840.10008.5.1.4.1.1.501.3";

// Collects the first failure of a chain of dcmtk calls, with the attribute it concerned.
struct Builder {
    OFCondition condition = EC_Normal;
    std::string failedAt;

    void check(OFCondition c, const DcmTagKey &key) {
        if (condition.good() && c.bad()) {
            condition = c;
            failedAt = DcmTag(key).getTagName();
        }
    }
    void put(DcmItem *item, const DcmTagKey &key, const char *value) {
        if (value != nullptr) check(item->putAndInsertString(key, value), key);
    }
    /// Type 2 attributes: present, possibly empty.
    void putEmpty(DcmItem *item, const DcmTagKey &key) { check(item->insertEmptyElement(key), key); }
    void putUint16(DcmItem *item, const DcmTagKey &key, Uint16 value) { check(item->putAndInsertUint16(key, value), key); }
    void putFloat32(DcmItem *item, const DcmTagKey &key, float value) { check(item->putAndInsertFloat32(key, value), key); }
    /// A new item appended to the sequence `key` of `item` (created if absent).
    DcmItem *newItem(DcmItem *item, const DcmTagKey &key) {
        DcmItem *child = nullptr;
        check(item->findOrCreateSequenceItem(key, child, -2 /* append */), key);
        return condition.good() ? child : nullptr;
    }
};

}  // namespace

extern "C" int vigil_tdr_encode(const vigil_tdr *tdr, vigil_dicom_buffer *out) {
    memset(out, 0, sizeof(*out));
    DcmFileFormat file;
    DcmDataset *ds = file.getDataset();
    Builder b;

    // SOP Common
    b.put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
    b.put(ds, DCM_SOPClassUID, kTDRClass);
    b.put(ds, DCM_SOPInstanceUID, tdr->sop_instance_uid);
    b.put(ds, DCM_InstanceCreationDate, tdr->date);
    b.put(ds, DCM_InstanceCreationTime, tdr->time);

    // Object of Inspection (DICOS's use of the Patient module)
    b.putEmpty(ds, DCM_PatientName);
    if (tdr->ooi_id != nullptr) b.put(ds, DCM_PatientID, tdr->ooi_id); else b.putEmpty(ds, DCM_PatientID);
    b.putEmpty(ds, DCM_PatientBirthDate);
    b.putEmpty(ds, DCM_PatientSex);

    // General Scan (DICOS's General Study): the TDR belongs to the scan of the image it reports on.
    b.put(ds, DCM_StudyInstanceUID, tdr->study_instance_uid);
    b.put(ds, DCM_StudyDate, tdr->date);
    b.put(ds, DCM_StudyTime, tdr->time);
    if (tdr->scan_id != nullptr) b.put(ds, DCM_StudyID, tdr->scan_id); else b.putEmpty(ds, DCM_StudyID);
    b.putEmpty(ds, DCM_ReferringPhysicianName);
    b.putEmpty(ds, DCM_AccessionNumber);

    // TDR Series
    b.put(ds, DCM_Modality, "TDR");
    b.put(ds, DCM_SeriesInstanceUID, tdr->series_instance_uid);
    b.put(ds, DCM_SeriesNumber, "1");
    b.put(ds, DCM_SeriesDate, tdr->date);
    b.put(ds, DCM_SeriesTime, tdr->time);

    // General Equipment
    b.put(ds, DCM_Manufacturer, tdr->manufacturer);
    b.put(ds, DCM_InstitutionName, tdr->institution_name);
    b.put(ds, DCM_StationName, tdr->station_name);
    b.put(ds, DCM_SoftwareVersions, tdr->software_versions);

    // Frame of Reference
    b.put(ds, DCM_FrameOfReferenceUID, tdr->frame_of_reference_uid);
    b.putEmpty(ds, DCM_PositionReferenceIndicator);

    // General Report
    b.put(ds, DCM_InstanceNumber, "1");
    b.put(ds, DCM_ContentDate, tdr->date);
    b.put(ds, DCM_ContentTime, tdr->time);

    // Common Instance Reference: the scanned image.
    if (DcmItem *series = b.newItem(ds, DCM_ReferencedSeriesSequence)) {
        b.put(series, DCM_SeriesInstanceUID, tdr->referenced_series_uid);
        if (DcmItem *instance = b.newItem(series, DCM_ReferencedInstanceSequence)) {
            b.put(instance, DCM_ReferencedSOPClassUID, tdr->referenced_sop_class_uid);
            b.put(instance, DCM_ReferencedSOPInstanceUID, tdr->referenced_sop_instance_uid);
        }
    }

    // Threat Detection Report
    b.put(ds, DCM_TDRType, "MACHINE");
    b.put(ds, DCM_AlarmDecision, tdr->alarm_decision);
    b.put(ds, DCM_AlarmDecisionTime, tdr->alarm_decision_time);
    b.put(ds, DCM_AbortFlag, tdr->abort_flag);
    b.put(ds, DCM_AbortReason, tdr->abort_reason);
    b.put(ds, DCM_ThreatDetectionAlgorithmAndVersion, tdr->algorithms);
    b.putUint16(ds, DCM_NumberOfTotalObjects, tdr->total_objects);
    b.putUint16(ds, DCM_NumberOfAlarmObjects, tdr->alarm_objects);
    if (tdr->total_processing_ms >= 0) b.putFloat32(ds, DCM_TotalProcessingTime, tdr->total_processing_ms);

    // Threat Sequence: one item per potential threat object. Written even when empty (a CLEAR
    // report has no PTO) so readers find the attribute.
    if (tdr->pto_count == 0) b.check(ds->insertEmptyElement(DCM_ThreatSequence), DCM_ThreatSequence);
    for (size_t i = 0; i < tdr->pto_count && b.condition.good(); ++i) {
        const vigil_tdr_pto &pto = tdr->ptos[i];
        DcmItem *threat = b.newItem(ds, DCM_ThreatSequence);
        if (threat == nullptr) break;
        b.putUint16(threat, DCM_PotentialThreatObjectID, pto.id);
        if (DcmItem *assessment = b.newItem(threat, DCM_ATDAssessmentSequence)) {
            b.put(assessment, DCM_ThreatCategory, pto.threat_category);
            b.put(assessment, DCM_ThreatCategoryDescription, pto.description);
            b.put(assessment, DCM_ATDAbilityAssessment, "NO_INTERFERENCE");
            b.put(assessment, DCM_ATDAssessmentFlag, pto.assessment_flag);
            if (pto.probability >= 0) b.putFloat32(assessment, DCM_ATDAssessmentProbability, pto.probability);
        }
        if (DcmItem *representation = b.newItem(threat, DCM_PTORepresentationSequence)) {
            b.check(representation->putAndInsertFloat32Array(DCM_BoundingPolygon, pto.polygon, 6), DCM_BoundingPolygon);
            if (DcmItem *instance = b.newItem(representation, DCM_ReferencedInstanceSequence)) {
                b.put(instance, DCM_ReferencedSOPClassUID, tdr->referenced_sop_class_uid);
                b.put(instance, DCM_ReferencedSOPInstanceUID, tdr->referenced_sop_instance_uid);
            }
        }
    }
    if (b.condition.bad()) {
        snprintf(out->error, sizeof(out->error), "cannot build the TDR (%s): %s", b.failedAt.c_str(), b.condition.text());
        return VIGIL_DICOM_CORRUPT;
    }

    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, kTDRClass);
    file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, tdr->sop_instance_uid);
    const Uint32 length = file.calcElementLength(EXS_LittleEndianExplicit, EET_ExplicitLength);
    // Preamble, prefix and a margin over dcmtk's estimate of the encoded size.
    return vigil::writeToMemory(file, static_cast<size_t>(length) + 4096, out, "the TDR");
}
