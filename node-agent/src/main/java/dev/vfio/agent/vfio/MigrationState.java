package dev.vfio.agent.vfio;

/**
 * {@code enum vfio_device_mig_state}: the device states of VFIO migration v2, with their uAPI
 * values.
 */
public enum MigrationState {
  ERROR(0),
  STOP(1),
  RUNNING(2),
  STOP_COPY(3),
  RESUMING(4),
  RUNNING_P2P(5),
  PRE_COPY(6),
  PRE_COPY_P2P(7);

  private final int value;

  MigrationState(int value) {
    this.value = value;
  }

  /** The number the kernel uses for this state. */
  public int value() {
    return value;
  }

  public static MigrationState of(int value) {
    for (MigrationState state : values()) {
      if (state.value == value) {
        return state;
      }
    }
    throw new IllegalArgumentException("unknown VFIO migration state " + value);
  }

  /** States in which the device produces state on its data_fd. */
  public boolean isSaving() {
    return this == PRE_COPY || this == PRE_COPY_P2P || this == STOP_COPY;
  }
}
