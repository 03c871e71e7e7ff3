/**
 * The report stage: a self-contained HTML page with JFreeChart plots (headless) of evaluate's
 * output.
 */
package org.cohortfusion.evaluate.report;
