package org.cohortfusion.features.extract;

/**
 * Extraction of one modality.
 *
 * @param modality modality name (column of the embeddings table)
 * @param kind modality kind
 * @param dimension embedding size of its encoder
 * @param encoderSha256 SHA-256 of the encoder's model.zip
 * @param encoderDir where the encoder was loaded from
 * @param present subjects that have the modality
 * @param reused embeddings taken from the cache (same subject, encoder and payload hash)
 * @param encoded embeddings computed in this run
 */
public record ModalityExtraction(
    String modality,
    String kind,
    int dimension,
    String encoderSha256,
    String encoderDir,
    long present,
    long reused,
    long encoded) {}
