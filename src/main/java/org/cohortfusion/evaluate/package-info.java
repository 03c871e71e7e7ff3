/**
 * The evaluate stage: every trained model (fusion and baselines) on the held-out test split,
 * overall, per missingness pattern, under test-time modality removal and ablation, against the
 * Bayes-optimal AUROC when the cohort was generated — the evaluation of intermediate fusion under
 * missing modalities that the review "Multimodal data integration for oncology in the era of deep
 * neural networks" (arXiv 2408.02686) calls for. Metric sources: ND4J's exact ROC; Brier (1950);
 * Naeini, Cooper and Hauskrecht (2015) for the expected calibration error.
 */
package org.cohortfusion.evaluate;
