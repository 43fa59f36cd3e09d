package dev.vfio.operator.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.vfio.api.v1alpha1.Conditions;
import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.PodAnnotations;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.VfioMigration;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.operator.config.OperatorConfig;
import dev.vfio.operator.metrics.OperatorMetrics;
import dev.vfio.operator.preflight.OperationsInFlight;
import dev.vfio.operator.preflight.PodOperations;
import dev.vfio.operator.tasks.TaskCache;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.io.InputStream;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher on the Fabric8 mock: what it sends to the API server and what it asks its cache.
 */
@EnableKubernetesMockClient(crud = true)
class VfioMigrationReconcilerTest {
  KubernetesClient client;
  final List<String> asked = new ArrayList<>();
  VfioMigrationReconciler reconciler;

  @BeforeEach
  void installCrds() throws Exception {
    for (String crd : List.of("vfiomigrations", "vfionodetasks")) {
      try (InputStream manifest =
          getClass().getResourceAsStream("/vfio-crds/" + crd + ".vfio.dev.yaml")) {
        client.resource(Serialization.unmarshal(manifest, CustomResourceDefinition.class)).create();
      }
    }
    TaskCache recording =
        new TaskCache() {
          @Override
          public Optional<VfioNodeTask> get(String namespace, String name) {
            asked.add(name);
            return Optional.empty();
          }

          @Override
          public void created(VfioNodeTask task) {}
        };
    reconciler =
        new VfioMigrationReconciler(
            client,
            OperatorConfig.fromEnvironment(Map.of()),
            Clock.systemUTC(),
            new OperatorMetrics(),
            new PodOperations(new OperationsInFlight(client)),
            recording,
            (context, written, over) -> {});
  }

  @Test
  void aMigrationWithoutSpecFailsAsInvalid() {
    VfioMigration created =
        client
            .resource(
                Serialization.unmarshal(
                    """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "mig", "namespace": "default"}}
        """,
                    VfioMigration.class))
            .create();

    reconciler.reconcile(created, context());

    VfioMigration stored = stored();
    assertEquals(MigrationPhase.Failed, stored.getStatus().getPhase());
    assertEquals(
        Reason.INVALID_SPEC.wire(),
        Conditions.find(stored.getStatus().getConditions(), Conditions.READY).getReason());
    assertEquals(List.of(), asked, "a migration without spec has no tasks to look for");
  }

  @Test
  void aPassLooksOnlyForTheTasksOfItsMode() {
    VfioMigration live =
        create("live", "{\"source\": {\"podName\": \"source\"}, \"targetPodName\": \"target\"}");
    VfioMigration storage =
        create(
            "through-storage",
            "{\"source\": {\"podName\": \"source\"}, \"targetPodName\": \"target\", \"transport\": \"Storage\"}");
    VfioMigration restore =
        create(
            "restore",
            "{\"source\": {\"snapshotName\": \"nightly\"}, \"targetPodName\": \"target\"}");

    for (VfioMigration migration : List.of(live, storage, restore)) {
      reconciler.reconcile(migration, context());
    }

    assertEquals(
        List.of(
            "live-receive",
            "live-send",
            "live-resume",
            "through-storage-storage-save",
            "through-storage-load",
            "through-storage-resume",
            "through-storage-cleanup",
            "restore-load"),
        asked);
  }

  @Test
  void aFailedMigrationMarksItsTargetOnlyIfItOptedIn() {
    Pod optedIn =
        client.resource(pod("target", Map.of(PodAnnotations.RESTORE_TARGET, "true"))).create();
    Pod other = client.resource(pod("other", Map.of())).create();

    // Neither migration finds its source: both fail in preflight.
    reconciler.reconcile(
        create(
            "into-target", "{\"source\": {\"podName\": \"gone\"}, \"targetPodName\": \"target\"}"),
        context());
    reconciler.reconcile(
        create("into-other", "{\"source\": {\"podName\": \"gone\"}, \"targetPodName\": \"other\"}"),
        context());

    assertEquals("Failed", annotation(optedIn, PodAnnotations.RESTORE_STATUS));
    assertNull(annotation(other, PodAnnotations.RESTORE_STATUS));
  }

  @Test
  void aFailedMigrationWhoseSourceIsItsTargetLeavesThatPodUnmarked() {
    Pod pod =
        client.resource(pod("workload", Map.of(PodAnnotations.RESTORE_TARGET, "true"))).create();

    reconciler.reconcile(
        create(
            "onto-itself",
            "{\"source\": {\"podName\": \"workload\"}, \"targetPodName\": \"workload\"}"),
        context());

    assertEquals(MigrationPhase.Failed, stored("onto-itself").getStatus().getPhase());
    assertNull(annotation(pod, PodAnnotations.RESTORE_STATUS));
  }

  private VfioMigration create(String name, String spec) {
    return client
        .resource(
            Serialization.unmarshal(
                """
        {"apiVersion": "vfio.dev/v1alpha1", "kind": "VfioMigration",
         "metadata": {"name": "%s", "namespace": "default"}, "spec": %s}
        """
                    .formatted(name, spec),
                VfioMigration.class))
        .create();
  }

  private static Pod pod(String name, Map<String, String> annotations) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .withAnnotations(annotations)
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-b")
        .endSpec()
        .withNewStatus()
        .withPhase("Running")
        .endStatus()
        .build();
  }

  private String annotation(Pod pod, String key) {
    Map<String, String> annotations = client.resource(pod).get().getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }

  private VfioMigration stored() {
    return stored("mig");
  }

  private VfioMigration stored(String name) {
    return client.resources(VfioMigration.class).inNamespace("default").withName(name).get();
  }

  /** None of these passes gets as far as admission, the one reader of the context. */
  @SuppressWarnings("unchecked")
  private Context<VfioMigration> context() {
    return (Context<VfioMigration>)
        Proxy.newProxyInstance(
            Context.class.getClassLoader(),
            new Class<?>[] {Context.class},
            (proxy, method, args) -> {
              throw new UnsupportedOperationException(method.getName());
            });
  }
}
