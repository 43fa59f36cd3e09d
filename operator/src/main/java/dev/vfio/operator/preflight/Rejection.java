package dev.vfio.operator.preflight;

/** Why an operation cannot start, with a message that tells the user what to do. Nothing was touched. */
public record Rejection(String reason, String message) {}
