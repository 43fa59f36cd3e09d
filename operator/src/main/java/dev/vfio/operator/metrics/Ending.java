package dev.vfio.operator.metrics;

/**
 * How a snapshot or migration ended, as the metrics count it.
 *
 * @param outcome its terminal phase
 * @param reason the reason constant of its Ready condition
 * @param downtimeMillis how long the devices were out of RUNNING, if measured
 * @param bytes the device state saved or moved, if any
 */
public record Ending(String outcome, String reason, Long downtimeMillis, Long bytes) {}
