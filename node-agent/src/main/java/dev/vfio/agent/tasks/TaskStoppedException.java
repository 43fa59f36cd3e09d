package dev.vfio.agent.tasks;

import java.io.IOException;

/** Carries a {@link TaskFailure} out of a data path whose callbacks may only throw IOException. */
final class TaskStoppedException extends IOException {
  private static final long serialVersionUID = 1L;
  private final transient TaskFailure failure;

  TaskStoppedException(TaskFailure failure) {
    super(failure.getMessage());
    this.failure = failure;
  }

  TaskFailure failure() {
    return failure;
  }
}
