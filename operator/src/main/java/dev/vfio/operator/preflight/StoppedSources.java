package dev.vfio.operator.preflight;

import dev.vfio.api.v1alpha1.MigrationPhase;
import dev.vfio.api.v1alpha1.Reason;
import dev.vfio.api.v1alpha1.SourceState;
import dev.vfio.api.v1alpha1.VfioMigration;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * The pods that Live and Storage migrations left stopped: a migration's source, by UID, while it
 * runs and once its devices were stopped for good ({@code status.sourceState: Stopped}: it
 * succeeded, or failed after the commit point), when the state runs in its target. Touching such a
 * pod again — a Save resumes its devices — would run the same state twice. The migrations are read
 * from a watch, never with a request; a reconciler of migrations reads its own cache instead.
 */
public final class StoppedSources<P extends HasMetadata> {
  private final KubernetesClient client;

  /** Null until JOSDK asks the reconciler for its event sources; then every read comes from it. */
  private InformerEventSource<VfioMigration, P> source;

  public StoppedSources(KubernetesClient client) {
    this.client = client;
  }

  /** A watch of the migrations that never triggers a reconciliation of {@code P}. */
  public InformerEventSource<VfioMigration, P> eventSource(EventSourceContext<P> context) {
    var configuration =
        InformerEventSourceConfiguration.from(
                VfioMigration.class, context.getPrimaryResourceClass())
            .withName("stopped-sources")
            .withSecondaryToPrimaryMapper(migration -> Set.of())
            .build();
    source = new InformerEventSource<>(configuration, context);
    return source;
  }

  public List<VfioMigration> migrations() {
    return source == null
        ? client.resources(VfioMigration.class).inAnyNamespace().list().getItems()
        : source.list().toList();
  }

  /**
   * Null unless {@code pod} is the stopped source of one of {@code migrations}; then the refusal
   * naming it.
   */
  public static Rejection check(Pod pod, String role, Collection<VfioMigration> migrations) {
    String uid = pod.getMetadata().getUid();
    return migrations.stream()
        .filter(
            m ->
                m.getStatus() != null && uid != null && uid.equals(m.getStatus().getSourcePodUid()))
        .filter(StoppedSources::holdsItsSource)
        .findFirst()
        .map(
            m ->
                new Rejection(
                    Reason.SOURCE_STOPPED,
                    role
                        + " "
                        + pod.getMetadata().getName()
                        + " is the source of VfioMigration "
                        + m.getMetadata().getName()
                        + " ("
                        + m.getStatus().getPhase()
                        + "), which "
                        + switch (m.getStatus().getPhase()) {
                          case Running -> "is moving its device state";
                          case Failed ->
                              "failed after stopping its devices for good (sourceState Stopped):"
                                  + " the state runs in pod "
                                  + m.getSpec().getTargetPodName()
                                  + " once its agent is back. If it never is, delete that pod and"
                                  + " restart this one (a new pod is not refused); deleting the"
                                  + " migration lifts this refusal";
                          default ->
                              "moved its device state to pod " + m.getSpec().getTargetPodName();
                        }
                        + "; its devices are left stopped so that the state runs once: operate on"
                        + " the target instead"))
        .orElse(null);
  }

  /**
   * A migration holds its source while it runs, and for good once it stopped the source's devices
   * for good (a migration that succeeded before sourceState existed did, too).
   */
  private static boolean holdsItsSource(VfioMigration migration) {
    MigrationPhase phase = migration.getStatus().getPhase();
    return phase == MigrationPhase.Running
        || phase == MigrationPhase.Succeeded
        || migration.getStatus().getSourceState() == SourceState.Stopped;
  }
}
