/**
 * The epoch loop every network of the project is trained in, written once: the unimodal encoders of
 * pretrain and the fusion networks of train fit an epoch ({@link EpochFitter}: one process, or
 * dl4j-spark parameter averaging over minibatch shards), are scored on their validation split,
 * checkpointed, and stopped early ({@link EarlyStopping}). The loop's state is train's {@code
 * checkpoints/state.json} contract ({@link org.cohortfusion.stage.TrainState}).
 */
package org.cohortfusion.fit;
