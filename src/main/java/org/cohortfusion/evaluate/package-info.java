/**
 * The evaluate stage: every trained model (fusion and baselines) on the held-out test split,
 * overall, per missingness pattern, under test-time modality removal and ablation, against the
 * Bayes-optimal AUROC when the cohort was generated — the evaluation of intermediate fusion under
 * missing modalities that the systematic review of intermediate fusion in biomedical deep learning
 * (arXiv 2408.02686) calls for. Metric sources: Hanley and McNeil (1982) for the AUROC as the
 * Mann–Whitney statistic; DeLong, DeLong and Clarke-Pearson (1988) for paired AUROC differences;
 * Brier (1950); Naeini, Cooper and Hauskrecht (2015) for the expected calibration error.
 */
package org.cohortfusion.evaluate;
