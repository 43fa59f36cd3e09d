package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The {@link TaskCache} of one reconciler: JOSDK's informer of VfioNodeTasks, which also triggers a
 * reconciliation of a task's parent when the task changes. The parent is the object whose UID the
 * task's {@link VfioNodeTask#PARENT_UID_LABEL} label names, looked up in the reconciler's own cache
 * of its resources: a task of another kind's object, or of a deleted object's successor of the same
 * name, concerns none of them.
 */
public final class TaskInformer<P extends HasMetadata> implements TaskCache {
  /** The index of the reconciler's own objects by UID. */
  static final String BY_UID = "vfio.dev/uid";

  /**
   * Null until JOSDK asks the reconciler for its event sources, which it does before any
   * reconciliation.
   */
  private InformerEventSource<VfioNodeTask, P> source;

  public InformerEventSource<VfioNodeTask, P> eventSource(
      EventSourceContext<P> context, String name) {
    var parents = context.getPrimaryCache();
    parents.addIndexer(BY_UID, parent -> List.of(parent.getMetadata().getUid()));
    var configuration =
        InformerEventSourceConfiguration.from(VfioNodeTask.class, context.getPrimaryResourceClass())
            .withName(name)
            .withSecondaryToPrimaryMapper(parentsIn(parents))
            .build();
    source = new InformerEventSource<>(configuration, context);
    return source;
  }

  /** Maps a task to the object of {@code parents} whose UID its label names, if there is one. */
  static SecondaryToPrimaryMapper<VfioNodeTask> parentsIn(
      IndexedResourceCache<? extends HasMetadata> parents) {
    return task -> {
      Map<String, String> labels = task.getMetadata().getLabels();
      String uid = labels == null ? null : labels.get(VfioNodeTask.PARENT_UID_LABEL);
      return uid == null
          ? Set.of()
          : parents.byIndex(BY_UID, uid).stream()
              .map(ResourceID::fromResource)
              .collect(Collectors.toSet());
    };
  }

  @Override
  public Optional<VfioNodeTask> get(String namespace, String name) {
    return source.get(new ResourceID(name, namespace));
  }

  @Override
  public void created(VfioNodeTask task) {
    source.handleRecentResourceCreate(ResourceID.fromResource(task), task);
  }
}
