/**
 * Scheduled retraining on a new cohort snapshot: the champion/challenger comparison on the same
 * test subjects ({@link org.cohortfusion.evaluate.PairedAuroc}), the gate ({@link
 * org.cohortfusion.retrain.Gate}), lineage and drift of a registered version, and the retrain
 * report. It stands on the registry and on the evaluate stage's outputs; only the CLI, which runs
 * the stages before it, uses it.
 */
package org.cohortfusion.retrain;
