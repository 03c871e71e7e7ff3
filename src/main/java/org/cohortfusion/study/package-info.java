/**
 * Studies: the open questions of the review of intermediate fusion (arXiv 2408.02686) run as a grid
 * on one cohort — marginal representation size per modality, fusion operation, robustness to
 * modalities missing at test time. The grid ({@link org.cohortfusion.study.StudyGrid}) comes from
 * the config's {@code study} block; each cell is an ordinary pretrain → extract → train → evaluate
 * run (sharing the base cell's encoders of the modalities it does not vary) whose outputs {@link
 * org.cohortfusion.study.StudyTable} reads back into one table, written with a page by {@link
 * org.cohortfusion.study.StudyReport}. Above evaluate: it reads train's and evaluate's outputs and
 * is read by the cli only.
 */
package org.cohortfusion.study;
