package org.cohortfusion.cohort.ingest;

import org.cohortfusion.stage.CohortManifest;
import org.cohortfusion.stage.QcReport;

/**
 * What an ingest run produced.
 *
 * @param cohortDir the published cohort directory
 * @param manifest cohort.json
 * @param qc qc.json
 * @param summary qc.txt, the readable QC summary
 */
public record IngestResult(
    String cohortDir, CohortManifest manifest, QcReport qc, String summary) {}
