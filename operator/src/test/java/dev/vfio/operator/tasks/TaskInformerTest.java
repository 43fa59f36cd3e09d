package dev.vfio.operator.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioSnapshot;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.javaoperatorsdk.operator.api.reconciler.IndexedResourceCache;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskInformerTest {
  /** The reconciler's cache of its snapshots, indexed by UID as TaskInformer asks it to be. */
  @SuppressWarnings("unchecked")
  final IndexedResourceCache<VfioSnapshot> snapshots =
      (IndexedResourceCache<VfioSnapshot>)
          Proxy.newProxyInstance(
              IndexedResourceCache.class.getClassLoader(),
              new Class<?>[] {IndexedResourceCache.class},
              (proxy, method, args) -> {
                if (method.getName().equals("byIndex") && TaskInformer.BY_UID.equals(args[0])) {
                  return "uid-nightly".equals(args[1]) ? List.of(snapshot()) : List.of();
                }
                throw new UnsupportedOperationException(method.getName());
              });

  @Test
  void aTaskMapsToTheObjectWhoseUidItsLabelNames() {
    assertEquals(
        Set.of(new ResourceID("nightly", "default")),
        TaskInformer.parentsIn(snapshots)
            .toPrimaryResourceIDs(task(Map.of(VfioNodeTask.PARENT_UID_LABEL, "uid-nightly"))));
  }

  @Test
  void aTaskOfAnotherObjectOrWithoutTheLabelMapsToNone() {
    // Another kind's object, or a deleted snapshot whose successor has its name but not its UID.
    assertEquals(
        Set.of(),
        TaskInformer.parentsIn(snapshots)
            .toPrimaryResourceIDs(task(Map.of(VfioNodeTask.PARENT_UID_LABEL, "uid-other"))));
    assertEquals(Set.of(), TaskInformer.parentsIn(snapshots).toPrimaryResourceIDs(task(null)));
  }

  private static VfioNodeTask task(Map<String, String> labels) {
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(
        new ObjectMetaBuilder()
            .withName("nightly-save")
            .withNamespace("default")
            .withLabels(labels)
            .build());
    return task;
  }

  private static VfioSnapshot snapshot() {
    VfioSnapshot snapshot = new VfioSnapshot();
    snapshot.setMetadata(
        new ObjectMetaBuilder()
            .withName("nightly")
            .withNamespace("default")
            .withUid("uid-nightly")
            .build());
    return snapshot;
  }
}
