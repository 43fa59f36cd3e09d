package dev.vfio.operator.metrics;

import dev.vfio.api.v1alpha1.Reason;

/**
 * How a snapshot or migration ended, as the metrics count it.
 *
 * @param outcome its terminal phase
 * @param reason the reason constant of its Ready condition
 * @param downtimeMillis how long the devices were out of RUNNING, if measured
 * @param bytes the device state saved or moved, if any
 */
public record Ending(String outcome, Reason reason, Long downtimeMillis, Long bytes) {}
