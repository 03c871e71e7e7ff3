/**
 * The unimodal modules stage: per-modality preprocessing ({@code batch}), encoders ({@code
 * encoder}), encoder pretraining ({@code pretrain}), embedding extraction ({@code extract}), GPU
 * binding of tasks ({@code device}) and a conversion benchmark ({@code bench}). Nothing here
 * depends on the train, evaluate, registry or cli packages.
 *
 * <p>The encoder used downstream is the pretrained network minus its softmax head: every encoder is
 * a {@code MultiLayerNetwork} whose last layer is the head and whose second-to-last layer is the
 * embedding layer; {@link org.cohortfusion.features.encoder.Encoders#embed} returns that layer's
 * activations. The fitted preprocessing travels in the encoder's provenance, so extract applies
 * exactly what the encoder was trained with.
 */
package org.cohortfusion.features;
