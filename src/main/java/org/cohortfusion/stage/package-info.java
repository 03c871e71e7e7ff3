/**
 * What the stages hand each other, named and typed once: the aligned cohort's manifest, modality
 * specs, QC report and columns ({@link org.cohortfusion.stage.CohortManifest}, {@link
 * org.cohortfusion.stage.ModalitySpec}, {@link org.cohortfusion.stage.QcReport}, {@link
 * org.cohortfusion.stage.Columns}), the embeddings descriptor ({@link
 * org.cohortfusion.stage.EmbeddingsSpec}) and the train stage's outputs ({@link
 * org.cohortfusion.stage.TrainOutputs}, {@link org.cohortfusion.stage.TrainState}). Every stage
 * reads and writes these files and columns through this package, which imports nothing of the
 * pipeline but {@code io}.
 */
package org.cohortfusion.stage;
