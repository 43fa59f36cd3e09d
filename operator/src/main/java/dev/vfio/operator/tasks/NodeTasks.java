package dev.vfio.operator.tasks;

import dev.vfio.api.v1alpha1.TaskPhase;
import dev.vfio.api.v1alpha1.VfioNodeTask;
import dev.vfio.api.v1alpha1.VfioNodeTaskSpec;
import dev.vfio.operator.names.ObjectNames;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.net.HttpURLConnection;
import java.util.Map;
import java.util.Optional;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * How the operator hands work to agents: creates {@link VfioNodeTask}s with deterministic names,
 * so that an operator restarted at any moment finds the task it already created instead of
 * creating a second one, and cancels them through their spec.
 */
public final class NodeTasks {
  private static final int MAX_LABEL_VALUE = 63;

  private final KubernetesClient client;

  public NodeTasks(KubernetesClient client) {
    this.client = client;
  }

  /** The name of the task doing {@code role} for {@code parent}: {@code <parent>-<role>}, hashed if too long. */
  public static String name(HasMetadata parent, String role) {
    return ObjectNames.task(parent.getMetadata().getName(), role);
  }

  /**
   * The task doing {@code role} for {@code parent}: from the informer cache, or from the API
   * server when the informer has not seen a task created moments ago — never concluding from a
   * lagging cache that a task is gone.
   */
  public Optional<VfioNodeTask> find(HasMetadata parent, Context<?> context, String role) {
    Optional<VfioNodeTask> cached = cached(parent, context, role);
    return cached.isPresent() ? cached : Optional.ofNullable(get(parent.getMetadata().getNamespace(), name(parent, role)));
  }

  /** The task doing {@code role} for {@code parent} if the informer cache has it; no request. */
  public Optional<VfioNodeTask> cached(HasMetadata parent, Context<?> context, String role) {
    String name = name(parent, role);
    return context.getSecondaryResourcesAsStream(VfioNodeTask.class)
        .filter(t -> name.equals(t.getMetadata().getName()))
        .findFirst();
  }

  public VfioNodeTask get(String namespace, String name) {
    return client.resources(VfioNodeTask.class).inNamespace(namespace).withName(name).get();
  }

  /**
   * Creates the task, or returns the one that already exists under that name. With
   * {@code owned}, the parent owns it (garbage collected with it); tasks created while the parent
   * is being deleted are not owned and are deleted explicitly.
   */
  public VfioNodeTask create(HasMetadata parent, String role, VfioNodeTaskSpec spec, boolean owned) {
    return create(parent, role, spec, owned, Map.of());
  }

  /** As {@link #create(HasMetadata, String, VfioNodeTaskSpec, boolean)}, with annotations the operator reads back later. */
  public VfioNodeTask create(HasMetadata parent, String role, VfioNodeTaskSpec spec, boolean owned,
      Map<String, String> annotations) {
    Map<String, String> all = new java.util.HashMap<>(annotations);
    all.put(TaskParents.PARENT_ANNOTATION, TaskParents.annotationValue(parent));
    var metadata = new ObjectMetaBuilder()
        .withName(name(parent, role))
        .withNamespace(parent.getMetadata().getNamespace())
        .withLabels(labels(parent, spec))
        .withAnnotations(all);
    if (owned) {
      metadata.withOwnerReferences(new OwnerReferenceBuilder()
          .withApiVersion(parent.getApiVersion())
          .withKind(parent.getKind())
          .withName(parent.getMetadata().getName())
          .withUid(parent.getMetadata().getUid())
          .withController(true)
          .withBlockOwnerDeletion(true)
          .build());
    }
    VfioNodeTask task = new VfioNodeTask();
    task.setMetadata(metadata.build());
    task.setSpec(spec);
    try {
      return client.resource(task).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        return get(parent.getMetadata().getNamespace(), task.getMetadata().getName());
      }
      throw e;
    }
  }

  /**
   * The parent's UID, and the node for people filtering with kubectl. A node name may be 253
   * characters and a label value only 63: a longer one is left out rather than cut, since a cut
   * name would name another node; {@code --field-selector spec.nodeName=} finds those tasks.
   */
  static Map<String, String> labels(HasMetadata parent, VfioNodeTaskSpec spec) {
    Map<String, String> labels = new java.util.HashMap<>();
    labels.put(VfioNodeTask.PARENT_UID_LABEL, parent.getMetadata().getUid());
    if (spec.getNodeName().length() <= MAX_LABEL_VALUE) {
      labels.put(VfioNodeTask.NODE_LABEL, spec.getNodeName());
    }
    return labels;
  }

  /** Asks the agent to stop the task and roll its devices back. */
  public void cancel(VfioNodeTask task) {
    if (Boolean.TRUE.equals(task.getSpec().getCancelRequested()) || isTerminal(task)) {
      return;
    }
    // Through the task in hand: withName() would read it from the server first.
    client.resource(task).patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"cancelRequested\":true}}");
  }

  public void delete(String namespace, String name) {
    client.resources(VfioNodeTask.class).inNamespace(namespace).withName(name).delete();
  }

  public static boolean isTerminal(VfioNodeTask task) {
    TaskPhase phase = task.getStatus() == null ? null : task.getStatus().getPhase();
    return phase == TaskPhase.Succeeded || phase == TaskPhase.Failed || phase == TaskPhase.Cancelled;
  }

  public static TaskPhase phase(VfioNodeTask task) {
    return task.getStatus() == null || task.getStatus().getPhase() == null
        ? TaskPhase.Pending : task.getStatus().getPhase();
  }
}
