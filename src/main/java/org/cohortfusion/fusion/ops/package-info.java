/**
 * Masked intermediate-fusion operations as hand-written DL4J graph vertices.
 *
 * <p>Every vertex takes the modality representations (inputs {@code 0..M-1}, {@code [batch, d_m]})
 * followed by the presence mask (input {@code M}, {@code [batch, M]}, 1 = present). Masked
 * semantics throughout: an absent modality contributes nothing (it never enters a mean, softmax or
 * gate as a zero vector), changing its input values changes neither the output nor any gradient,
 * and it receives a zero gradient; the presence input receives a zero epsilon; a subject with no
 * modality present fuses to zeros. Forward and backward passes are written by hand (SameDiff
 * vertices are avoided on DL4J 1.0.0-M2) and trainable parameters are views of the graph's flat
 * parameter and gradient arrays, so they are saved, restored and updated like layer parameters.
 *
 * <p>{@link org.cohortfusion.fusion.ops.FusionOp} maps configuration names to vertices; {@link
 * org.cohortfusion.fusion.ops.ModalityDropout} hides modalities (presence and input) during
 * training.
 */
package org.cohortfusion.fusion.ops;
