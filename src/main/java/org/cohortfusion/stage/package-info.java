/**
 * What the stages hand each other, named and typed once: the aligned cohort's manifest, modality
 * specs, QC report and columns ({@link org.cohortfusion.stage.CohortManifest}, {@link
 * org.cohortfusion.stage.ModalitySpec}, {@link org.cohortfusion.stage.QcReport}, {@link
 * org.cohortfusion.stage.Columns}), the embeddings descriptor ({@link
 * org.cohortfusion.stage.EmbeddingsSpec}), pretrain's, train's and evaluate's outputs ({@link
 * org.cohortfusion.stage.PretrainOutputs}, {@link org.cohortfusion.stage.TrainOutputs}, {@link
 * org.cohortfusion.stage.TrainState}, {@link org.cohortfusion.stage.EvaluateOutputs}: metrics.json
 * and the predictions table's columns). Every stage reads and writes these files and columns
 * through this package, which imports nothing of the pipeline but {@code io}.
 */
package org.cohortfusion.stage;
