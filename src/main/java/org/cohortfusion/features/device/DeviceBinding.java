package org.cohortfusion.features.device;

import java.io.Serializable;

/**
 * What a task was given and what it did with it.
 *
 * @param partition the task's partition id (-1 outside a Spark task)
 * @param taskAttemptId the task attempt id (-1 outside a Spark task)
 * @param address the GPU address Spark assigned to the task, or null when it assigned none
 * @param boundDevice the device the task's thread is on after binding; null when it did not bind
 *     (nd4j-native, or no GPU assigned)
 * @param backend the ND4J backend class name
 */
public record DeviceBinding(
    int partition, long taskAttemptId, String address, Integer boundDevice, String backend)
    implements Serializable {}
