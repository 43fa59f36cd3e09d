package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link TaskCache} holding the tasks a test put there and those created through it, as the watch
 * would.
 */
public final class TaskMap implements TaskCache {
  private final Map<String, VfioNodeTask> tasks = new HashMap<>();

  @Override
  public Optional<VfioNodeTask> get(String namespace, String name) {
    return Optional.ofNullable(tasks.get(namespace + "/" + name));
  }

  @Override
  public void created(VfioNodeTask task) {
    tasks.put(task.getMetadata().getNamespace() + "/" + task.getMetadata().getName(), task);
  }
}
